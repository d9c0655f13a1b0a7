#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make-bench-store.py DIR [SOURCE...] — build a benchmark store under
DIR/nix/store from real host directories (default: /usr/lib/python3.11,
/usr/lib/gcc, /usr/share/perl, /usr/share/doc): each top-level entry of a
source directory becomes a store path "<hash>-<name>" (a copy, symlinks
kept), and one root path references all of them.  Prints the root."""
import hashlib
import os
import shutil
import sys

dst = os.path.join(sys.argv[1], "nix", "store")
sources = sys.argv[2:] or ["/usr/lib/python3.11", "/usr/lib/gcc", "/usr/share/perl",
                           "/usr/share/doc"]
ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"


def store_hash(seed):
    d = hashlib.sha256(seed.encode()).digest()
    return "".join(ALPHABET[b % 32] for b in d[:32])


def clean(name):
    ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=")
    n = "".join(c if c in ok else "_" for c in name)
    return n.lstrip(".") or "x"


if os.path.exists(sys.argv[1]):
    shutil.rmtree(sys.argv[1])
os.makedirs(dst)
paths = []
for src in sources:
    if not os.path.isdir(src):
        continue
    for entry in sorted(os.listdir(src)):
        s = os.path.join(src, entry)
        if not os.path.isdir(s) or os.path.islink(s):
            continue
        base = "%s-%s" % (store_hash(s), clean(entry)[:100])
        try:
            shutil.copytree(s, os.path.join(dst, base), symlinks=True,
                            ignore_dangling_symlinks=True)
        except shutil.Error:
            pass  # unreadable or special files are skipped
        paths.append(base)
root = "%s-bench-root" % store_hash("root")
os.makedirs(os.path.join(dst, root))
with open(os.path.join(dst, root, "deps"), "w") as f:
    for p in paths:
        f.write("/nix/store/%s\n" % p)
print("/nix/store/" + root)
