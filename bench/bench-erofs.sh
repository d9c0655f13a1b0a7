#!/bin/sh
# bench-erofs.sh [BUILDDIR] — storedisk pack --format erofs vs mkfs.erofs on
# the same store in one run: lz4hc (same pcluster size, all CPUs for us;
# mkfs.erofs 1.5 compresses on one thread) and uncompressed, the latter
# also against reading every input file once (cat to /dev/null).  Prints
# wall times, image sizes and ratios (storedisk / peer).  Each command runs
# REPS times (default 3); the best time counts.  Warm page cache.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
pcluster=${PCLUSTER:-4096}
command -v mkfs.erofs >/dev/null || { echo "mkfs.erofs is not installed" >&2; exit 2; }
. "$top/bench/lib.sh"
echo "input: $(wc -l <"$work/closure") store paths, $bytes bytes; $jobs CPUs; pcluster $pcluster"
catall() { find "$work/tree" -type f -exec cat {} + >/dev/null; }
row() { # row NAME T1 T2 S1 S2
	printf '%-22s %10.3f %10.3f %7.2f %12s %12s %7s\n' "$1" "$2" "$3" \
		"$(echo "$2 / $3" | bc -l)" "$4" "$5" \
		"$( [ -n "$5" ] && printf '%.4f' "$(echo "$4 / $5" | bc -l)")"
}

printf '%-22s %10s %10s %7s %12s %12s %7s\n' case storedisk_s peer_s time_x \
	storedisk_B peer_B size_x
catall
t1=$(best "$sd" pack -q --no-digest -o "$work/sd.erofs" --format erofs --compress lz4hc \
	--pcluster-size "$pcluster" --jobs "$jobs" --paths "$work/paths" --store "$store" "$root")
s1=$(stat -c %s "$work/sd.erofs")
t2=$(best mkfs.erofs -zlz4hc -C"$pcluster" -T1 --all-root \
	-U 00000000-0000-0000-0000-000000000001 "$work/mk.erofs" "$work/tree")
row "lz4hc vs mkfs.erofs" "$t1" "$t2" "$s1" "$(stat -c %s "$work/mk.erofs")"
t1=$(best "$sd" pack -q --no-digest -o "$work/sd.erofs" --format erofs --compress none \
	--paths "$work/paths" --store "$store" "$root")
s1=$(stat -c %s "$work/sd.erofs")
t2=$(best mkfs.erofs -T1 --all-root -U 00000000-0000-0000-0000-000000000001 \
	"$work/mk.erofs" "$work/tree")
row "none vs mkfs.erofs" "$t1" "$t2" "$s1" "$(stat -c %s "$work/mk.erofs")"
t3=$(best catall)
row "none vs cat all files" "$t1" "$t3" "" ""
t4=$(best "$sd" closure --store "$store" "$root")
printf '%-22s %10.3f   (closure --scan of the same store, for reference)\n' "scan closure" "$t4"
