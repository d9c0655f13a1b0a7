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
sd="$build/src/storedisk"
work=${BENCH_DIR:-/tmp/storedisk-bench}
reps=${REPS:-3}
jobs=$(nproc)
pcluster=${PCLUSTER:-4096}
[ -x "$sd" ] || { echo "build storedisk first ($sd)" >&2; exit 2; }
command -v mkfs.erofs >/dev/null || { echo "mkfs.erofs is not installed" >&2; exit 2; }

if [ ! -f "$work/root" ] || [ -n "${REBUILD:-}" ]; then
	root=$(python3 "$top/bench/make-bench-store.py" "$work/src")
	echo "$root" >"$work/root"
	"$sd" closure --store "$work/src/nix/store" "$root" | sed 's|^/nix/store/||' >"$work/closure"
	rm -rf "$work/tree"
	mkdir -p "$work/tree"
	while read -r p; do cp -al "$work/src/nix/store/$p" "$work/tree/$p"; done <"$work/closure"
fi
root=$(cat "$work/root")
store="$work/src/nix/store"
bytes=$(du -sb "$work/tree" | cut -f1)
# The peers are given the closure as a directory; storedisk is given it as a
# path list (closureInfo's store-paths), so neither computes a closure.
sed 's|^|/nix/store/|' "$work/closure" >"$work/paths"
echo "input: $(wc -l <"$work/closure") store paths, $bytes bytes; $jobs CPUs; pcluster $pcluster"

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
catall() { find "$work/tree" -type f -exec cat {} + >/dev/null; }
row() { # row NAME T1 T2 S1 S2
	printf '%-22s %10.3f %10.3f %7.2f %12s %12s %7s\n' "$1" "$2" "$3" \
		"$(echo "$2 / $3" | bc -l)" "$4" "$5" \
		"$( [ -n "$5" ] && printf '%.4f' "$(echo "$4 / $5" | bc -l)")"
}

printf '%-22s %10s %10s %7s %12s %12s %7s\n' case storedisk_s peer_s time_x \
	storedisk_B peer_B size_x
catall
t1=$(best "$sd" pack -q -o "$work/sd.erofs" --format erofs --compress lz4hc \
	--pcluster-size "$pcluster" --jobs "$jobs" --paths "$work/paths" --store "$store" "$root")
s1=$(stat -c %s "$work/sd.erofs")
t2=$(best mkfs.erofs -zlz4hc -C"$pcluster" -T1 --all-root \
	-U 00000000-0000-0000-0000-000000000001 "$work/mk.erofs" "$work/tree")
row "lz4hc vs mkfs.erofs" "$t1" "$t2" "$s1" "$(stat -c %s "$work/mk.erofs")"
t1=$(best "$sd" pack -q -o "$work/sd.erofs" --format erofs --compress none \
	--paths "$work/paths" --store "$store" "$root")
s1=$(stat -c %s "$work/sd.erofs")
t2=$(best mkfs.erofs -T1 --all-root -U 00000000-0000-0000-0000-000000000001 \
	"$work/mk.erofs" "$work/tree")
row "none vs mkfs.erofs" "$t1" "$t2" "$s1" "$(stat -c %s "$work/mk.erofs")"
t3=$(best catall)
row "none vs cat all files" "$t1" "$t3" "" ""
t4=$(best "$sd" closure --store "$store" "$root")
printf '%-22s %10.3f   (closure --scan of the same store, for reference)\n' "scan closure" "$t4"
