#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""perturb.py MODE SRC DST — copy store SRC to DST, perturbing one thing
that must not change the image.

MODES: reverse-order (create entries in reverse sorted order, so readdir
order differs), mtimes (random-looking mtimes), owners (chown to 4321:8765),
write-bits (add group/other write bits, drop owner write on files),
umask077 (modes as a 077 umask would leave them: no group/other bits),
hardlinks (identical files hard-linked to each other, as nix store optimise
does)."""
import hashlib
import os
import shutil
import sys

mode, src, dst = sys.argv[1:4]


def copy_entry(s, d):
    st = os.lstat(s)
    if os.path.islink(s):
        os.symlink(os.readlink(s), d)
    elif os.path.isdir(s):
        os.mkdir(d)
        names = sorted(os.listdir(s))
        if mode == "reverse-order":
            names.reverse()
        for n in names:
            copy_entry(os.path.join(s, n), os.path.join(d, n))
        os.chmod(d, st.st_mode & 0o7777)
    else:
        shutil.copyfile(s, d)
        os.chmod(d, st.st_mode & 0o7777)


os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
copy_entry(src, dst)

all_entries = []
for dirpath, dirnames, filenames in os.walk(dst):
    for n in dirnames + filenames:
        all_entries.append(os.path.join(dirpath, n))
all_entries.sort()

if mode == "mtimes":
    for i, p in enumerate(all_entries):
        t = 1000000000 + i * 7919
        os.utime(p, (t, t), follow_symlinks=False)
elif mode == "owners":
    for p in all_entries:
        os.lchown(p, 4321, 8765)
elif mode == "write-bits":
    for p in all_entries:
        if os.path.islink(p):
            continue
        m = os.lstat(p).st_mode & 0o7777
        m |= 0o022
        if os.path.isfile(p):
            m &= ~0o200
        os.chmod(p, m)
elif mode == "umask077":
    for p in all_entries:
        if not os.path.islink(p):
            os.chmod(p, os.lstat(p).st_mode & 0o700)
elif mode == "hardlinks":
    seen = {}
    for p in all_entries:
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        if h in seen:
            os.unlink(p)
            os.link(seen[h], p)
        else:
            seen[h] = p
elif mode != "reverse-order":
    sys.exit("unknown mode " + mode)
