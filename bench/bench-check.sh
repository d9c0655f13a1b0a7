#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-check.sh — the cost of pack's reference check of a given closure
# (issue 8: it rides the read that packs, and must cost at most 10% of an
# lz4 pack).  Packs the benchmark store's closure given as a path list
# (--paths: the check runs) with this build and with BASE_SD, a storedisk
# built from a commit before the check existed (e.g. ff316ad:
#   git worktree add --detach /tmp/base ff316ad &&
#   meson setup /tmp/base/b /tmp/base && meson compile -C /tmp/base/b src/storedisk
# then BASE_SD=/tmp/base/b/src/storedisk), alternating A B A B, and prints
# the median wall times and their ratio for squashfs lz4 and EROFS lz4.
# Usage: BASE_SD=... bench/bench-check.sh [BUILDDIR]   (REPS=5 by default)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
REPS=${REPS:-5}
. "$top/bench/lib.sh"
base=${BASE_SD:?set BASE_SD to a storedisk without the check (see the header)}

run() {  # run BIN FMT -> wall seconds
	rm -f "$work/check.img"
	sync
	s=$(date +%s.%N)
	"$1" pack -q --no-digest --format "$2" --compress lz4 -o "$work/check.img" \
		--store "$store" --paths "$work/paths" >/dev/null 2>&1
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "closure: $(wc -l <"$work/paths") paths, $bytes bytes; $jobs CPUs; $REPS runs each, alternating"
for fmt in squashfs erofs; do
	: >"$work/a"; : >"$work/b"
	i=0
	while [ "$i" -lt "$REPS" ]; do
		run "$sd" "$fmt" >>"$work/a"
		run "$base" "$fmt" >>"$work/b"
		i=$((i + 1))
	done
	a=$(median <"$work/a"); b=$(median <"$work/b")
	printf '%s lz4: checked %.2f s, unchecked %.2f s, ratio %.3f\n' "$fmt" "$a" "$b" "$(echo "$a / $b" | bc -l)"
done
