#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/read-probe.sh [CORPUS] — read-side experiment: is storedisk's EROFS cold read bound by metadata and
# data being in two regions (two interleaved streams for the loop device's
# backing-file readahead)?  For each image: cold read alone, and on one fresh
# mount a cold metadata walk followed by the read (the walk pulls every inode,
# directory and cluster index first, so the read is data only).
set -eu
sd=${SD:-$(cd "$(dirname "$0")/.." && pwd)/build/src/storedisk}
c=${BENCH_DIR:-/var/tmp/storedisk-bench}/corpus-${1:-microvm-160}
w=/var/tmp/ra-exp; rm -rf $w; mkdir -p $w/mnt
$sd pack -q --no-digest -o $w/sd.img --paths $c/paths --store $c/nix/store --format erofs --compress lz4 --pcluster-size 4K
mkfs.erofs --quiet -x-1 -T1 --all-root -U 6f3d5a1c-0b1e-4c44-9b8e-2d7f0a9c1e55 -zlz4 -C4096 $w/mk.img $c/nix/store >/dev/null
drop() { python3 "$(dirname "$0")/drop-pages.py" "$1"; }
t() { local s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
for r in 1 2 3; do
  for i in sd mk; do
    drop $w/$i.img; mount -t erofs -o ro,loop $w/$i.img $w/mnt
    a=$(t bash -c 'find "$1" -type f -print0 | xargs -0 -r cat' _ $w/mnt); umount $w/mnt
    drop $w/$i.img; mount -t erofs -o ro,loop $w/$i.img $w/mnt
    b=$(t find $w/mnt -printf '%s\n'); c2=$(t bash -c 'find "$1" -type f -print0 | xargs -0 -r cat' _ $w/mnt); umount $w/mnt
    echo "run $r $i read-cold $a walk $b read-after-walk $c2"
  done
done
ls -l $w/*.img
