#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkdeep.py TOP LEVELS: a chain of LEVELS directories named "d" below TOP
(created), a file "f<i>" holding "level <i>\\n" every 1000 levels and a file
"bottom" holding "bottom\\n" in the deepest one.  Works one component at a
time (dir_fd), so the chain may be longer than PATH_MAX.

mkdeep.py --check TOP LEVELS: exit 0 when TOP holds exactly that chain
(as an extract of it must)."""
import os
import sys


def files_at(i, levels):
    names = {}
    if i % 1000 == 0:
        names["f%d" % i] = b"level %d\n" % i
    if i == levels:
        names["bottom"] = b"bottom\n"
    return names


def make(top, levels):
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(levels + 1):
        for name, data in files_at(i, levels).items():
            f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644,
                        dir_fd=fd)
            os.write(f, data)
            os.close(f)
        if i == levels:
            break
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)


def check(top, levels):
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(levels + 1):
        want = files_at(i, levels)
        if i < levels:
            want_names = set(want) | {"d"}
        else:
            want_names = set(want)
        names = set(os.listdir(fd))
        if names != want_names:
            print("level %d: %s, wanted %s" % (i, sorted(names),
                                              sorted(want_names)))
            return 1
        for name, data in want.items():
            f = os.open(name, os.O_RDONLY, dir_fd=fd)
            got = os.read(f, 100)
            os.close(f)
            if got != data:
                print("level %d: %s holds %r" % (i, name, got))
                return 1
        if i < levels:
            nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
    os.close(fd)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2], int(sys.argv[3])))
    make(sys.argv[1], int(sys.argv[2]))
