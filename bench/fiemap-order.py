#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench/fiemap-order.py MOUNTPOINT — how sequential is reading every regular
# file of a mounted image in `find` order?  Gets each file's physical extents
# (FIEMAP ioctl) and counts extents that start where the previous one ended,
# small and far forward gaps, and backward jumps (with their total distance).
# Used for the read-side notes of bench/results/2026-12-01-merged.md.
import os, sys, struct, fcntl, subprocess
FIEMAP = 0xC020660B
def extents(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        n = 64
        hdr = struct.pack('=QQIIII', 0, 2**64-1, 0, 0, n, 0)
        buf = bytearray(hdr + b'\0' * (56 * n))
        fcntl.ioctl(fd, FIEMAP, buf)
        cnt = struct.unpack_from('=I', buf, 20)[0]
        out = []
        for i in range(cnt):
            lo, ph, ln = struct.unpack_from('=QQQ', buf, 32 + 56 * i)
            fl = struct.unpack_from('=I', buf, 32 + 56 * i + 40)[0]
            out.append((ph, ln, fl))
        return out
    finally:
        os.close(fd)
root = sys.argv[1]
files = subprocess.run(['find', root, '-type', 'f', '-print0'], capture_output=True).stdout.split(b'\0')[:-1]
pos = None; seq = fwd_small = fwd_far = back = 0; backdist = fwddist = 0; inline = 0
for f in files:
    try: ex = extents(f)
    except OSError: continue
    for ph, ln, fl in ex:
        if fl & 0x200 or ln == 0:  # FIEMAP_EXTENT_DATA_INLINE
            inline += 1; continue
        if pos is not None:
            d = ph - pos
            if d == 0 or (0 <= d < 4096): seq += 1
            elif 0 < d <= 128 * 1024: fwd_small += 1; fwddist += d
            elif d > 0: fwd_far += 1; fwddist += d
            else: back += 1; backdist += -d
        pos = ph + ln
print(f"{root}: files {len(files)} inline-extents {inline} sequential {seq} fwd<=128K {fwd_small} fwd-far {fwd_far} backward {back} (back MB {backdist/1e6:.0f}, fwd MB {fwddist/1e6:.0f})")
