#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkexport.py OUT STORE [MUTATION] — write a `nix-store --export` stream
of every store path in the directory STORE (logical /nix/store), with no
references, as Nix would for paths without references.

MUTATION makes it malformed in one way: pad (a non-zero padding byte),
magic (a bad "NIXE" magic), outside (a path outside the store dir),
dotdot (a NAR entry named ".."), slash (a NAR entry name with '/'),
unsorted (directory entries out of order), duplicate (an entry twice),
missing (a reference to a path not in the stream), deriver (a deriver
that is not a store path), longlen / shortlen (a file's declared contents
length 8 more / 1 less than its data).

Or MUTATION is reg=FILE: the stream holds exactly the paths of FILE, a
registration in the `nix-store --dump-db` / `--load-db` format, with the
references and derivers FILE gives them (a well-formed stream).
"""
import os
import stat
import struct
import sys

MUT = sys.argv[3] if len(sys.argv) > 3 else ""
done = set()  # mutations applied once


def once(kind):
    if MUT == kind and kind not in done:
        done.add(kind)
        return True
    return False


def u64(n):
    return struct.pack("<Q", n)


def string(b):
    if isinstance(b, str):
        b = b.encode()
    pad = (8 - len(b) % 8) % 8
    padding = b"\x00" * pad
    if pad and once("pad"):
        padding = b"\x01" + padding[1:]
    return u64(len(b)) + b + padding


def nar_node(path):
    st = os.lstat(path)
    out = [string("("), string("type")]
    if stat.S_ISLNK(st.st_mode):
        out += [string("symlink"), string("target"),
                string(os.fsencode(os.readlink(path)))]
    elif stat.S_ISREG(st.st_mode):
        out.append(string("regular"))
        if st.st_mode & 0o100:
            out += [string("executable"), string("")]
        with open(path, "rb") as f:
            data = f.read()
        contents = string(data)
        if data and once("longlen"):
            contents = u64(len(data) + 8) + contents[8:]
        elif len(data) > 1 and once("shortlen"):
            contents = u64(len(data) - 1) + contents[8:]
        out += [string("contents"), contents]
    else:
        out.append(string("directory"))
        names = sorted(os.listdir(os.fsencode(path)))
        entries = [(n, nar_node(os.path.join(os.fsencode(path), n)))
                   for n in names]
        if entries and once("dotdot"):
            entries.insert(0, (b"..", entries[0][1]))
        if entries and once("slash"):
            entries.insert(0, (b"a/b", entries[0][1]))
        if entries and once("duplicate"):
            entries.insert(0, entries[0])
        if len(entries) > 1 and once("unsorted"):
            entries.reverse()
        for n, node in entries:
            out += [string("entry"), string("("), string("name"),
                    string(n), string("node"), node, string(")")]
    out.append(string(")"))
    return b"".join(out)


def load_reg(path):
    """{store path: (references, deriver)} of a --load-db registration."""
    lines = open(path).read().rstrip("\n").split("\n")
    recs, i = {}, 0
    while i < len(lines):
        n = int(lines[i + 4])
        recs[lines[i]] = (lines[i + 5:i + 5 + n], lines[i + 3])
        i += 5 + n
    return recs


def main():
    out, store = sys.argv[1:3]
    reg = load_reg(MUT[4:]) if MUT.startswith("reg=") else None
    bases = sorted(os.listdir(store))
    if reg is not None:
        bases = sorted(os.path.basename(p) for p in reg)
    parts = []
    for base in bases:
        parts.append(u64(1))
        parts.append(string("nix-archive-1") + nar_node(os.path.join(store, base)))
        parts.append(u64(0x4558494F if once("magic") else 0x4558494E))
        top = "/tmp/store" if once("outside") else "/nix/store"
        parts.append(string(top + "/" + base))
        refs, deriver = [], ""
        if reg is not None:
            refs, deriver = reg["/nix/store/" + base]
        if once("missing"):
            refs.append("/nix/store/" + "0" * 32 + "-absent")
        parts.append(u64(len(refs)) + b"".join(string(r) for r in refs))
        if once("deriver"):
            deriver = "/nix/store/not-a-derivation"
        parts.append(string(deriver) + u64(0))
    parts.append(u64(0))
    with open(out, "wb") as f:
        f.write(b"".join(parts))


main()
