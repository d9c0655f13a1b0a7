#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mkbig.py STOREDIR NAME — add one store path STOREDIR/<hash>-NAME whose
# files exercise more of an image's encoding than the demo store does:
# multi-block files (compressible and not), a sparse run of zeros, many
# small files (fragments, tail packing), a directory large enough to span
# several metadata blocks and need a directory index, long names, names
# with bytes >= 0x80 (signed/unsigned char), symlinks, a hard link,
# executables, empty files and an empty directory.  Deterministic: the same
# bytes every run.  Prints the path's basename.
import hashlib
import os
import random
import sys

store, name = sys.argv[1], sys.argv[2]
alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
digest = hashlib.sha256(name.encode()).digest()
base = "".join(alphabet[b % 32] for b in digest[:32]) + "-" + name
top = os.path.join(store, base)
rng = random.Random(13)


def write(rel, data, mode=0o644):
    path = os.path.join(top, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(500)]
text = b" ".join(rng.choice(words) for _ in range(70000))
write("share/text.txt", text)                               # ~400 KB, compressible
write("share/random.bin", rng.randbytes(300 * 1024 + 17))   # incompressible
write("share/zeros.bin", b"\0" * (512 * 1024) + b"end")     # sparse blocks
write("share/mixed.bin", rng.randbytes(70000) + text[:90000] + b"\0" * 140000)
write("bin/tool", b"#!/bin/sh\nexec true\n" + text[:5000], 0o755)
write("empty", b"")
os.makedirs(os.path.join(top, "emptydir"), exist_ok=True)
for i in range(400):
    n = rng.randint(0, 6000)
    data = text[i * 7:i * 7 + n] if i % 3 else rng.randbytes(n)
    write("many/f%04d-%s" % (i, "x" * (i % 40)), data, 0o755 if i % 11 == 0 else 0o644)
for i in range(40):
    write("names/" + "long" * 60 + "%02d" % i, b"%d\n" % i)
for i, ch in enumerate(["\u00e9t\u00e9", "\u00fcber", "\u65e5\u672c", "\u00ff\u00fe", "na\u00efve"]):
    write("names/" + ch + str(i), ch.encode() * 3)
os.symlink("../share/text.txt", os.path.join(top, "bin/text-link"))
os.symlink("x" * 200, os.path.join(top, "bin/dangling-long"))
os.link(os.path.join(top, "share/text.txt"), os.path.join(top, "share/text-hard.txt"))
print(base)
