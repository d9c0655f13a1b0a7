#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nar-reg.py STORE CLOSURE_JSON — print a registration in the format of
`nix-store --dump-db` (path, base16 narHash, narSize, deriver, reference
count, references) for the paths of CLOSURE_JSON (`storedisk closure
--json`), their store objects physically under STORE.  The narHash is
computed here by a small NAR serialiser, independent of storedisk's."""
import hashlib
import json
import os
import stat
import sys


def nar_str(out, data):
    out.update(len(data).to_bytes(8, "little"))
    out.update(data)
    out.update(b"\0" * (-len(data) % 8))


def nar_node(out, path):
    st = os.lstat(path)
    nar_str(out, b"(")
    nar_str(out, b"type")
    if stat.S_ISLNK(st.st_mode):
        nar_str(out, b"symlink")
        nar_str(out, b"target")
        nar_str(out, os.readlink(path))
    elif stat.S_ISDIR(st.st_mode):
        nar_str(out, b"directory")
        for name in sorted(os.listdir(path)):
            nar_str(out, b"entry")
            nar_str(out, b"(")
            nar_str(out, b"name")
            nar_str(out, name)
            nar_str(out, b"node")
            nar_node(out, os.path.join(path, name))
            nar_str(out, b")")
    else:
        nar_str(out, b"regular")
        if st.st_mode & 0o100:
            nar_str(out, b"executable")
            nar_str(out, b"")
        nar_str(out, b"contents")
        with open(path, "rb") as f:
            nar_str(out, f.read())
    nar_str(out, b")")


class Sink:
    """Hashes and counts what the serialiser writes."""

    def __init__(self):
        self.h = hashlib.sha256()
        self.n = 0

    def update(self, b):
        self.h.update(b)
        self.n += len(b)


def main():
    store, closure = os.fsencode(sys.argv[1]), sys.argv[2]
    with open(closure) as f:
        doc = json.load(f)
    for p in doc["paths"]:
        sink = Sink()
        nar_str(sink, b"nix-archive-1")
        nar_node(sink, os.path.join(store, os.fsencode(os.path.basename(p["path"]))))
        refs = p["references"]
        lines = [p["path"], sink.h.hexdigest(), str(sink.n), "",
                 str(len(refs))] + refs
        sys.stdout.write("\n".join(lines) + "\n")


main()
