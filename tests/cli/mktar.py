#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mktar.py OUT KIND BASE — a small hand-made tar for the input tests.

KIND: dotdot (an entry with '..'), outside (/etc/passwd), device (a
character device), through-symlink (an entry below an absolute symlink),
badname (an invalid store path name).  BASE is a valid "<hash>-<name>".
"""
import io
import sys
import tarfile


def add(tf, name, kind=tarfile.REGTYPE, data=b"x\n", target=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = 0o644
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        ti.linkname = target
        tf.addfile(ti)


def main():
    out, kind, base = sys.argv[1:4]
    top = "nix/store/" + base
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tf:
        add(tf, top, tarfile.DIRTYPE)
        add(tf, top + "/ok")
        if kind == "dotdot":
            add(tf, top + "/../../../etc/evil")
        elif kind == "outside":
            add(tf, "/etc/passwd")
        elif kind == "device":
            add(tf, top + "/tty", tarfile.CHRTYPE)
        elif kind == "through-symlink":
            add(tf, top + "/etc", tarfile.SYMTYPE, target="/etc")
            add(tf, top + "/etc/passwd")
        elif kind == "badname":
            add(tf, "nix/store/not-a-store-path/x")
        else:
            sys.exit("unknown kind " + kind)


main()
