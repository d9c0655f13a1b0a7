#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""flip-verify.py STOREDISK IMAGE START COUNT — run `storedisk verify` on
COUNT copies of IMAGE, each with one bit flipped: offsets from START, the
first half spread over the first 64 KiB (metadata), the rest over the
whole file.  Every run must exit 0, 1 or 2 within 20 s; prints each
crash or hang and exits 1 if there was any."""
import os
import subprocess
import sys
import tempfile

sd, image, start, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = bytearray(open(image, "rb").read())
size = len(data)
meta_end = min(size, 65536)
offsets = []
for i in range(count // 2):
    offsets.append(start + (meta_end - start) * i // max(1, count // 2))
for i in range(count - count // 2):
    offsets.append(start + (size - start) * i // max(1, count - count // 2))
bad = 0
fd, path = tempfile.mkstemp(suffix=".img")
os.close(fd)
try:
    for n, off in enumerate(offsets):
        bit = 1 << (n % 8)
        data[off] ^= bit
        with open(path, "wb") as f:
            f.write(data)
        data[off] ^= bit
        try:
            rc = subprocess.run([sd, "verify", path], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=20).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        if rc not in (0, 1, 2):
            bad += 1
            print("    flip at %d bit %d: %s" % (off, n % 8, rc))
finally:
    os.unlink(path)
sys.exit(1 if bad else 0)
