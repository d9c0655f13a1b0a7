#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mknixdb.py REG OUT — write a Nix database OUT (SQLite, the ValidPaths
and Refs tables of Nix's schema) holding the registration REG (the
`nix-store --dump-db` format: path, base16 narHash, narSize, deriver,
reference count, references), derivers included, as `nix-store --load-db`
would."""
import sqlite3
import sys

SCHEMA = """
CREATE TABLE ValidPaths (id integer primary key autoincrement not null,
  path text unique not null, hash text not null,
  registrationTime integer not null, deriver text, narSize integer,
  ultimate integer, sigs text, ca text);
CREATE TABLE Refs (referrer integer not null, reference integer not null,
  primary key (referrer, reference));
CREATE TABLE DerivationOutputs (drv integer not null, id text not null,
  path text not null, primary key (drv, id));
"""


def main():
    src, out = sys.argv[1:3]
    lines = open(src).read().rstrip("\n").split("\n")
    recs, i = [], 0
    while i < len(lines):
        n = int(lines[i + 4])
        recs.append((lines[i], lines[i + 1], int(lines[i + 2]),
                     lines[i + 3], lines[i + 5:i + 5 + n]))
        i += 5 + n
    db = sqlite3.connect(out)
    db.executescript(SCHEMA)
    ids = {}
    for path, h, size, deriver, _ in recs:
        if not h.startswith("sha256:"):
            h = "sha256:" + h
        cur = db.execute(
            "INSERT INTO ValidPaths (path, hash, registrationTime, deriver,"
            " narSize) VALUES (?, ?, 1, ?, ?)",
            (path, h, deriver or None, size))
        ids[path] = cur.lastrowid
    for path, _, _, _, refs in recs:
        for r in refs:
            db.execute("INSERT INTO Refs VALUES (?, ?)", (ids[path], ids[r]))
    db.commit()
    db.close()


main()
