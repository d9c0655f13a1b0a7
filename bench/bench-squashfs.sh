#!/bin/sh
# bench-squashfs.sh [BUILDDIR] — storedisk pack vs mksquashfs on the same
# store, same compressor and block size, in one run; prints wall times,
# image sizes and the ratios (storedisk / mksquashfs).  Each tool runs
# REPS times (default 3); the best time counts.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
sd="$build/src/storedisk"
work=${BENCH_DIR:-/tmp/storedisk-bench}
reps=${REPS:-3}
jobs=$(nproc)
[ -x "$sd" ] || { echo "build storedisk first ($sd)" >&2; exit 2; }
command -v mksquashfs >/dev/null || { echo "mksquashfs is not installed" >&2; exit 2; }

root=$(python3 "$top/bench/make-bench-store.py" "$work/src")
store="$work/src/nix/store"
"$sd" closure --store "$store" "$root" | sed 's|^/nix/store/||' >"$work/closure"
# mksquashfs packs a directory: give it exactly the closure, as a tree of
# hard links (no data copied), so both tools read the same files.
rm -rf "$work/tree"
mkdir -p "$work/tree"
while read -r p; do cp -al "$store/$p" "$work/tree/$p"; done <"$work/closure"
bytes=$(du -sb "$work/tree" | cut -f1)
# The peers are given the closure as a directory; storedisk is given it as a
# path list (closureInfo's store-paths), so neither computes a closure.
sed 's|^|/nix/store/|' "$work/closure" >"$work/paths"
sync
echo "input: $(wc -l <"$work/closure") store paths, $bytes bytes; $jobs CPUs"

best() { # best CMD...: the smallest wall time of REPS runs, in seconds
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

printf '%-6s %12s %12s %8s %14s %14s %8s\n' comp storedisk_s mksquashfs_s time_x \
	storedisk_B mksquashfs_B size_x
for comp in gzip xz lz4 zstd; do
	t1=$(best "$sd" pack -q -o "$work/sd.img" --compress "$comp" --block-size 128K \
		--jobs "$jobs" --paths "$work/paths" --store "$store" "$root")
	s1=$(stat -c %s "$work/sd.img")
	t2=$(best mksquashfs "$work/tree" "$work/mk.img" -noappend -quiet -no-progress \
		-comp "$comp" -b 131072 -processors "$jobs" -all-root -no-xattrs \
		-mkfs-time 1 -all-time 1)
	s2=$(stat -c %s "$work/mk.img")
	printf '%-6s %12.3f %12.3f %8.2f %14d %14d %8.3f\n' "$comp" "$t1" "$t2" \
		"$(echo "$t1 / $t2" | bc -l)" "$s1" "$s2" "$(echo "$s1 / $s2" | bc -l)"
done
