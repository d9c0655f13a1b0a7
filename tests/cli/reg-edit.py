#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""reg-edit.py IN OUT OP PATH [ARG...] — rewrite one record of a
registration in the `nix-store --dump-db` format (full layout only):

  hash PATH HEX          set PATH's narHash
  drop PATH              remove PATH's record
  refs PATH -R +R ...    remove (-) or add (+) references of PATH
  deriver PATH DRV       set PATH's deriver
"""
import sys


def parse(text):
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    recs, i = [], 0
    while i < len(lines):
        n = int(lines[i + 4])
        recs.append({"path": lines[i], "hash": lines[i + 1],
                     "size": lines[i + 2], "deriver": lines[i + 3],
                     "refs": lines[i + 5:i + 5 + n]})
        i += 5 + n
    return recs


def dump(recs):
    out = []
    for r in recs:
        out += [r["path"], r["hash"], r["size"], r["deriver"],
                str(len(r["refs"]))] + sorted(r["refs"])
    return "\n".join(out) + "\n"


def main():
    src, dst, op, path = sys.argv[1:5]
    args = sys.argv[5:]
    recs = parse(open(src).read())
    [rec] = [r for r in recs if r["path"] == path]
    if op == "hash":
        rec["hash"] = args[0]
    elif op == "drop":
        recs.remove(rec)
    elif op == "refs":
        for a in args:
            if a[0] == "-":
                rec["refs"].remove(a[1:])
            else:
                rec["refs"].append(a[1:])
    elif op == "deriver":
        rec["deriver"] = args[0]
    else:
        sys.exit("unknown operation " + op)
    open(dst, "w").write(dump(recs))


main()
