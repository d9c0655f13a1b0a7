#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rename-entry.py IMAGE OLD NEW — rename the one entry called OLD to NEW
(same length) in an uncompressed squashfs or EROFS image, in place, to build
hostile images no writer produces (e.g. a name ".."); for EROFS the
superblock checksum is recomputed so the reader gets as far as the name."""
import struct
import sys


def crc32c(crc, data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


path, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
assert len(old) == len(new)
b = bytearray(open(path, "rb").read())
if b.count(old) != 1:
    sys.exit("%s: %r occurs %d times" % (path, old, b.count(old)))
i = b.index(old)
b[i:i + len(old)] = new
if b[1024:1028] == struct.pack("<I", 0xE0F5E1E2):  # EROFS
    sb = bytearray(b[1024:4096])
    sb[4:8] = bytes(4)
    b[1028:1032] = struct.pack("<I", crc32c(0xFFFFFFFF, sb))
open(path, "wb").write(b)
