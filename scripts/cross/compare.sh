#!/bin/sh
# SPDX-License-Identifier: MIT
# compare.sh NATIVE CROSS [WORKDIR] — pack the same store with two
# storedisk binaries (the native one and a cross-build wrapper from
# scripts/cross-build.sh) for squashfs and EROFS with every compressor
# `pack --help` lists, and print one line per case: "same SHA" or
# "DIFF native-SHA cross-SHA", with both pack times; then each binary
# verifies the other's image.  The store: scripts/make-demo-store.sh's demo
# store plus one path of scripts/cross/mkbig.py (larger, varied files).
# Exit status 1 when any image differs or a verify fails.  A quick check
# for scripts/cross-build.sh, not a test suite.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2034 # both are read through eval
native=${1:?usage: compare.sh NATIVE CROSS [WORKDIR]}
# shellcheck disable=SC2034
cross=${2:?usage: compare.sh NATIVE CROSS [WORKDIR]}
work=${3:-$(mktemp -d /tmp/sdcross.XXXXXX)}
mkdir -p "$work"
demo=$work/demo
root=$("$top/scripts/make-demo-store.sh" "$demo")
store=$demo/nix/store
big=/nix/store/$(python3 "$top/scripts/cross/mkbig.py" "$store" cross-big-1.0)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
status=0
cases="squashfs:none squashfs:gzip squashfs:xz squashfs:lz4 squashfs:zstd
squashfs:zstd:19/--block-size=4096 squashfs:xz/--block-size=1048576
erofs:none erofs:lz4 erofs:lz4hc erofs:lzma erofs:zstd
erofs:lz4hc/--ztailpacking erofs:lzma/--pcluster-size=65536
erofs:zstd/--ztailpacking/--pcluster-size=16384 erofs:none/--embed-registration"
printf '%-48s %-8s %8s %8s\n' case result native-s cross-s
for c in $cases; do
	fmtcomp=${c%%/*}
	extra=
	[ "$fmtcomp" = "$c" ] || extra=$(echo "${c#*/}" | tr '/' ' ')
	fmt=${fmtcomp%%:*}
	comp=${fmtcomp#*:}
	tag=$(echo "$c" | tr -d -- '-' | tr '/:=' '_.e')
	for who in native cross; do
		eval "bin=\$$who"
		t0=$(now)
		# shellcheck disable=SC2086,SC2154
		if ! "$bin" pack -q --no-digest --format "$fmt" --compress "$comp" $extra \
			-o "$work/$tag.$who" --store "$store" "$root" "$big" 2>"$work/$tag.$who.err"; then
			echo "$c: $who pack failed: $(cat "$work/$tag.$who.err")"
			status=1
		fi
		eval "t_$who=$(secs "$t0" "$(now)")"
	done
	a=$(sha256sum <"$work/$tag.native" | cut -c1-16)
	b=$(sha256sum <"$work/$tag.cross" | cut -c1-16)
	# shellcheck disable=SC2154
	if [ "$a" = "$b" ]; then
		printf '%-48s %-8s %8s %8s  %s\n' "$c" same "$t_native" "$t_cross" "$a"
	else
		printf '%-48s %-8s %8s %8s  %s %s\n' "$c" DIFF "$t_native" "$t_cross" "$a" "$b"
		status=1
	fi
	for pair in "native cross" "cross native"; do
		# shellcheck disable=SC2086
		set -- $pair
		eval "bin=\$$1"
		if ! "$bin" verify "$work/$tag.$2" >"$work/$tag.verify-$1" 2>&1; then
			echo "    $1 verify of the $2 image failed: $(tail -3 "$work/$tag.verify-$1")"
			status=1
		fi
	done
done
echo "work directory: $work"
exit $status
