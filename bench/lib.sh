# SPDX-License-Identifier: MIT
# lib.sh — shared set-up of the side-by-side benchmarks, sourced by
# bench-check.sh with `top` (the source tree) and `build` set.  Provides:
#   sd, work, reps, jobs      the binary, the work dir, repetitions, CPUs
#   root, store, bytes        the benchmark store (built once under
#                             $work/src by make-bench-store.py; REBUILD=1
#                             rebuilds it), its root path and input bytes
#   $work/tree                the closure as a tree of hard links (what the
#                             peers pack: no data copied, same files)
#   $work/paths               the closure as a path list (what storedisk is
#                             given), so that neither side computes a closure
#   best CMD...               the smallest wall time of REPS runs, seconds
sd="$build/src/storedisk"
work=${BENCH_DIR:-/tmp/storedisk-bench}
reps=${REPS:-3}
jobs=$(nproc)
[ -x "$sd" ] || { echo "build storedisk first ($sd)" >&2; exit 2; }

if [ ! -f "$work/root" ] || [ -n "${REBUILD:-}" ]; then
	mkdir -p "$work"
	python3 "$top/bench/make-bench-store.py" "$work/src" >"$work/root"
	"$sd" closure --store "$work/src/nix/store" "$(cat "$work/root")" |
		sed 's|^/nix/store/||' >"$work/closure"
	rm -rf "$work/tree"
	mkdir -p "$work/tree"
	while read -r p; do cp -al "$work/src/nix/store/$p" "$work/tree/$p"; done <"$work/closure"
fi
root=$(cat "$work/root")
store="$work/src/nix/store"
bytes=$(du -sb "$work/tree" | cut -f1)
sed 's|^|/nix/store/|' "$work/closure" >"$work/paths"
sync

best() {
	b=
	i=0
	while [ "$i" -lt "$reps" ]; do
		# Both tools write a fresh file: replacing an old image costs a
		# write-back of it on ext4, whichever tool does it.
		rm -f "$work"/*.img "$work"/*.erofs
		sync
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" -eq 1 ]; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}
