#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare-tree.py [--root-extra=NAME...] SRC_STORE IMAGE_ROOT MTIME PATH...

Compare an image's contents (mounted or extracted at IMAGE_ROOT) with the
source store SRC_STORE for the listed store path basenames: the image root
holds exactly those paths; every entry has the same type, the same bytes,
the same symlink target; metadata is normalised (owner 0:0 unless
--no-owner, dirs 0555, files 0444 or 0555 by the source's owner-exec bit,
mtime MTIME unless --no-mtime); --root-extra=NAME: an entry NAME at the
image root that is not one of the paths is not compared.  Prints each difference; exits 1 if any.
"""
import os
import stat
import sys

args = sys.argv[1:]
check_owner = "--no-owner" not in args
check_mtime = "--no-mtime" not in args
root_extra = [a.split("=", 1)[1] for a in args if a.startswith("--root-extra=")]
args = [a for a in args if not a.startswith("--")]
src, img, mtime, paths = args[0], args[1], int(args[2]), args[3:]
problems = []
# walk() recurses once a level: trees 1,000 deep are compared too
sys.setrecursionlimit(20000)


def problem(msg):
    problems.append(msg)
    print("DIFF:", msg)


top = sorted(t for t in os.listdir(img) if t not in root_extra)
if top != sorted(paths):
    problem("image root holds %s, expected %s" % (top, sorted(paths)))


def check_meta(rel, s_img, want_mode):
    if stat.S_IMODE(s_img.st_mode) != want_mode and not stat.S_ISLNK(s_img.st_mode):
        problem("%s: mode %o, expected %o" % (rel, stat.S_IMODE(s_img.st_mode), want_mode))
    if check_owner and (s_img.st_uid, s_img.st_gid) != (0, 0):
        problem("%s: owner %d:%d" % (rel, s_img.st_uid, s_img.st_gid))
    if check_mtime and int(s_img.st_mtime) != mtime:
        problem("%s: mtime %d, expected %d" % (rel, s_img.st_mtime, mtime))


def walk(rel):
    s_src = os.lstat(os.path.join(src, rel))
    i_path = os.path.join(img, rel)
    try:
        s_img = os.lstat(i_path)
    except FileNotFoundError:
        problem("%s: missing in image" % rel)
        return
    if stat.S_IFMT(s_src.st_mode) != stat.S_IFMT(s_img.st_mode):
        problem("%s: type differs" % rel)
        return
    if stat.S_ISDIR(s_src.st_mode):
        check_meta(rel, s_img, 0o555)
        a = sorted(os.listdir(os.path.join(src, rel)))
        b = sorted(os.listdir(i_path))
        if a != b:
            problem("%s: entries %s vs %s" % (rel, a, b))
        for name in a:
            if name in b:
                walk(os.path.join(rel, name))
    elif stat.S_ISLNK(s_src.st_mode):
        check_meta(rel, s_img, 0o777)
        if os.readlink(os.path.join(src, rel)) != os.readlink(i_path):
            problem("%s: symlink target differs" % rel)
    else:
        check_meta(rel, s_img, 0o555 if s_src.st_mode & 0o100 else 0o444)
        with open(os.path.join(src, rel), "rb") as f1, open(i_path, "rb") as f2:
            while True:
                a = f1.read(1 << 20)
                b = f2.read(1 << 20)
                if a != b:
                    problem("%s: content differs" % rel)
                    break
                if not a:
                    break


for p in paths:
    walk(p)
sys.exit(1 if problems else 0)
