#!/bin/sh
# bench-squashfs.sh [BUILDDIR] — storedisk pack vs mksquashfs on the same
# store, same compressor and block size, in one run; prints wall times,
# image sizes and the ratios (storedisk / mksquashfs).  Each tool runs
# REPS times (default 3); the best time counts.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
command -v mksquashfs >/dev/null || { echo "mksquashfs is not installed" >&2; exit 2; }
. "$top/bench/lib.sh"
echo "input: $(wc -l <"$work/closure") store paths, $bytes bytes; $jobs CPUs"

printf '%-6s %12s %12s %8s %14s %14s %8s\n' comp storedisk_s mksquashfs_s time_x \
	storedisk_B mksquashfs_B size_x
for comp in gzip xz lz4 zstd; do
	t1=$(best "$sd" pack -q --no-digest -o "$work/sd.img" --compress "$comp" --block-size 128K \
		--jobs "$jobs" --paths "$work/paths" --store "$store" "$root")
	s1=$(stat -c %s "$work/sd.img")
	t2=$(best mksquashfs "$work/tree" "$work/mk.img" -noappend -quiet -no-progress \
		-comp "$comp" -b 131072 -processors "$jobs" -all-root -no-xattrs \
		-mkfs-time 1 -all-time 1)
	s2=$(stat -c %s "$work/mk.img")
	printf '%-6s %12.3f %12.3f %8.2f %14d %14d %8.3f\n' "$comp" "$t1" "$t2" \
		"$(echo "$t1 / $t2" | bc -l)" "$s1" "$s2" "$(echo "$s1 / $s2" | bc -l)"
done
