#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/read-profile.sh [CORPUS [COMPRESSOR]] — where a cold read of a mounted
# EROFS image spends its time, storedisk's image beside mkfs.erofs's at the
# same compressor and 4 KiB pclusters (default: the main corpus, lz4hc).
# For each image and run: drop the image file's pages, mount it afresh on a
# loop device, read every file in find order (cat) under a system-wide
# `perf record -g -e cpu-clock`, and count the I/O the read caused on the
# loop device and on the disk under it (/sys/block/*/stat: requests and
# bytes).  Prints per run: wall, loop requests and MiB, disk requests and
# MiB; then for each image the top kernel and user symbols (self time) of
# its last run, with idle (the CPU waiting for the disk) shown apart.
# CORPUS names a corpus bench/run.sh built under $BENCH_DIR (default
# /var/tmp/storedisk-bench): main-2000 or microvm-160.  Environment: RUNS
# (default 3), ORDER="mk sd" (read mkfs.erofs's image first in each run),
# SD (the storedisk binary, default build/src/storedisk).
# Needs root, perf, mkfs.erofs and a quiet machine; writes to
# /var/tmp/read-profile: images (made afresh on every run, so a rebuilt
# storedisk is what gets measured) and perf data.
set -eu
sd=${SD:-$(cd "$(dirname "$0")/.." && pwd)/build/src/storedisk}
c=${BENCH_DIR:-/var/tmp/storedisk-bench}/corpus-${1:-main-2000}
z=${2:-lz4hc}
runs=${RUNS:-3}
order=${ORDER:-sd mk}
w=/var/tmp/read-profile; mkdir -p $w/mnt
mz=$z; [ "$z" = lz4hc ] && mz=lz4hc,9
$sd pack -q --no-digest -o $w/sd-$z.img --paths $c/paths \
	--store $c/nix/store --format erofs --compress $z --pcluster-size 4K
rm -f $w/mk-$z.img; mkfs.erofs --quiet -x-1 -T1 --all-root \
	-U 00000000-0000-0000-0000-000000000001 -z$mz -C4096 $w/mk-$z.img $c/nix/store >/dev/null
disk=$(lsblk -no PKNAME "$(df --output=source $w | tail -1)" 2>/dev/null || true)
[ -n "$disk" ] || disk=$(basename "$(df --output=source $w | tail -1)")
drop() { python3 "$(dirname "$0")/drop-pages.py" "$1"; }
# reads completed and sectors read of a block device
st() { awk '{print $1, $3}' /sys/block/$1/stat; }
for r in $(seq 1 $runs); do
	for i in $order; do
		img=$w/$i-$z.img
		drop $img; echo 3 > /proc/sys/vm/drop_caches
		loop=$(losetup -f --show -r $img); mount -t erofs -o ro $loop $w/mnt
		l0=$(st ${loop#/dev/}); d0=$(st $disk); s=$(date +%s.%N)
		perf record -q -a -g -e cpu-clock -o $w/$i.data -- \
			bash -c 'find "$1" -type f -print0 | xargs -0 -r cat >/dev/null' _ $w/mnt 2>/dev/null
		e=$(date +%s.%N); l1=$(st ${loop#/dev/}); d1=$(st $disk)
		umount $w/mnt; losetup -d $loop
		echo "$r $i $l0 $l1 $d0 $d1 $s $e" | awk '{printf "run %s %s wall %.2f s  loop %d reqs %.0f MiB  disk %d reqs %.0f MiB\n",
			$1, $2, $12-$11, $5-$3, ($6-$4)/2048, $9-$7, ($10-$8)/2048}'
	done
done
ls -l $w/*-$z.img
for i in sd mk; do
	echo "== $i: top symbols, self time, last run"
	perf report -q -i $w/$i.data --no-children --sort sym --stdio -g none 2>/dev/null |
		grep -v '^$' | head -25
done
