#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py META RAW — the Markdown results of bench/run.sh on stdout.

META holds key=value lines (date, machine, versions, corpus= and cmd= lines,
sub= for --rss); RAW one tab-separated measurement a line: corpus, group,
tool, run, wall s, user s, sys s, peak RSS KiB, output bytes (or -).
Medians over runs; ratios are storedisk / peer (below 1: storedisk is
faster or smaller)."""
import statistics
import sys


def load(meta_path, raw_path):
    meta, corpora, cmds = {}, [], []
    for line in open(meta_path):
        k, _, v = line.rstrip("\n").partition("=")
        if k == "corpus":
            corpora.append(v)
        elif k == "cmd":
            cmds.append(v)
        else:
            meta[k] = v
    rows = {}
    for line in open(raw_path):
        f = line.rstrip("\n").split("\t")
        if len(f) != 9:
            continue
        key = (f[0], f[1], f[2])
        rows.setdefault(key, [])
        if f[4] == "FAIL":
            rows[key].append(None)
        else:
            rows[key].append((float(f[4]), float(f[5]) + float(f[6]), int(f[7]),
                              None if f[8] == "-" else int(f[8])))
    return meta, corpora, cmds, rows


def med(runs):
    ok = [r for r in runs if r]
    if not ok or len(ok) < len(runs):
        return None
    return (statistics.median(r[0] for r in ok), statistics.median(r[1] for r in ok),
            max(r[2] for r in ok), ok[-1][3])


def order(rows, corpus, prefix=""):
    """Groups and tools of CORPUS in the order they were first measured."""
    groups = {}
    for (c, g, t) in rows:
        if c == corpus and g.startswith(prefix):
            groups.setdefault(g, [])
            if t not in groups[g]:
                groups[g].append(t)
    return groups


def mb(n):
    return "%.1f" % (n / 1e6)


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "—"


def header(meta, corpora, title):
    print("# %s\n" % title)
    print("- date: %s; runs per case: %s (alternating tools, medians)%s" % (
        meta.get("date"), meta.get("runs"),
        "; **quick mode: a try-out, not a result**" if meta.get("quick") == "1" else ""))
    print("- machine: %s, %s, Linux %s; load average %s at the start, %s at the end" % (
        meta.get("cpu"), meta.get("mem"), meta.get("kernel"), meta.get("load"),
        meta.get("load_end")))
    for k in ("storedisk", "mksquashfs", "gensquashfs", "mkfs.erofs"):
        if k in meta:
            print("- %s: %s" % (k, meta[k]))
    for c in corpora:
        print("- corpus %s" % c)
    print()


def pack_tables(meta, corpora, cmds, rows):
    for c in ("main", "microvm"):
        groups = {g: t for g, t in order(rows, c).items() if ":" not in g and g != "scan"}
        if not groups:
            continue
        print("## Pack, corpus %s\n" % c)
        print("Warm page cache, a fresh output file every run.  Ratios are "
              "storedisk / that row (wall, image size); for `storedisk-j1` "
              "the wall ratio is --jobs 1 / --jobs N: the speed-up of using "
              "every core; for `storedisk-verity` both ratios are --verity / "
              "the plain pack: the cost of the dm-verity tree.\n")
        print("| case | tool | wall s | user+sys s | CPU/wall | peak RSS MB | image MB "
              "| wall ratio | size ratio |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for g, tools in groups.items():
            ours = med(rows[(c, g, "storedisk")]) if (c, g, "storedisk") in rows else None
            for t in tools:
                m = med(rows[(c, g, t)])
                if m is None:
                    print("| %s | %s | failed | | | | | | |" % (g, t))
                    continue
                wr = sr = "—"
                if ours and t == "storedisk-j1":
                    wr = ratio(m[0], ours[0])
                elif ours and t == "storedisk-verity":
                    wr, sr = ratio(m[0], ours[0]), "%.4f" % (m[3] / ours[3])
                elif ours and t != "storedisk":
                    wr, sr = ratio(ours[0], m[0]), "%.3f" % (ours[3] / m[3])
                print("| %s | %s | %.2f | %.2f | %.2f | %.0f | %s | %s | %s |" % (
                    g, t, m[0], m[1], m[1] / m[0] if m[0] else 0, m[2] / 1024,
                    mb(m[3]), wr, sr))
        print()
        scan_table(c, rows)
        read_table(c, rows)


def scan_table(c, rows):
    keys = [("scan", "storedisk", "cat inputs", "closure --scan vs reading every input file")]
    for g in ("sqfs-zstd3", "erofs-lz4"):
        keys.append(("verify:" + g, "storedisk", "cat mounted",
                     "verify (%s image) vs reading the mounted image's files" % g))
    lines = []
    for g, a, b, what in keys:
        if (c, g, a) not in rows or (c, g, b) not in rows:
            continue
        x, y = med(rows[(c, g, a)]), med(rows[(c, g, b)])
        if not x or not y:
            lines.append("| %s | failed | | | | |" % what)
            continue
        lines.append("| %s | %.2f | %.2f | %.0f | %.2f | %s |" % (
            what, x[0], x[1], x[2] / 1024, y[0], ratio(x[0], y[0])))
    if lines:
        print("### closure --scan and verify against the read floor, corpus %s\n" % c)
        print("Warm page cache (the image file too; the mount is fresh, so the floor "
              "decompresses every file once).\n")
        print("| case | storedisk wall s | user+sys s | peak RSS MB | floor wall s | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(lines))
        print()


def read_table(c, rows):
    walks = order(rows, c, "walk:")
    if not walks:
        return
    print("### Read side, corpus %s: cold metadata walk and cold read of every file\n" % c)
    print("Each image loop-mounted read-only afresh after its pages were dropped "
          "(posix_fadvise DONTNEED); walk = `find -printf %s` (an lstat of every entry), "
          "read = `cat` of every file.  Ratios are storedisk / that image.\n")
    print("| case | image of | walk s | read s | walk ratio | read ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for wg, tools in walks.items():
        g = wg[5:]
        ow = med(rows.get((c, wg, "storedisk"), [None]))
        orr = med(rows.get((c, "read:" + g, "storedisk"), [None]))
        for t in tools:
            w = med(rows[(c, wg, t)])
            r = med(rows.get((c, "read:" + g, t), [None]))
            if not w or not r:
                print("| %s | %s | failed | | | |" % (g, t))
                continue
            same = t == "storedisk"
            print("| %s | %s | %.2f | %.2f | %s | %s |" % (
                g, t, w[0], r[0], "—" if same else ratio(ow and ow[0], w[0]),
                "—" if same else ratio(orr and orr[0], r[0])))
    print()


def commands(cmds):
    print("## Command lines (matched settings)\n")
    print("OUT is a fresh file, DIR/nix/store the corpus store (the image root); "
          "storedisk is given the closure as a path list (`--paths`), the peers the "
          "store directory, so neither computes a closure.  `sdpack` = `storedisk pack -q "
          "--no-digest -o OUT --jobs N --paths DIR/paths --store DIR/nix/store`; "
          "`mksq` = `mksquashfs DIR/nix/store OUT -noappend -quiet -no-progress -b 131072 "
          "-processors N -all-root -no-xattrs -mkfs-time 1 -all-time 1`; `gensq` = "
          "`gensquashfs -q -f -D DIR/nix/store -b 131072 -j N --all-root --exportable` (an export table as storedisk and mksquashfs write by default; no xattrs, "
          "times 0 by default); `mkerofs` = `mkfs.erofs --quiet -x-1 -T1 --all-root -U "
          "<fixed uuid>` (mkfs.erofs 1.5 compresses on one thread and has no option "
          "for more).\n")
    for c in cmds:
        g, tool, _, cmd = c.split("|", 3)
        print("- %s, %s: `%s`" % (g, tool, cmd))
    print()


def rss_report(meta, corpora, rows):
    header(meta, corpora, "storedisk peak RSS against the number of files")
    sub = int(meta.get("sub", "0"))
    nall = sub * 10
    print("The store has %d paths of 1000 files (1..256 bytes); `--paths` gives the "
          "first %d paths (%d files) or all of them (%d files).  RSS per file = "
          "(RSS all - RSS first) / %d files.\n" % (nall, sub, sub * 1000, nall * 1000,
                                                   (nall - sub) * 1000))
    print("| case | wall s, %dk files | peak RSS MB | wall s, %dk files | peak RSS MB "
          "| bytes per file |" % (sub, nall))
    print("|---|---:|---:|---:|---:|---:|")
    for g in order(rows, "files-all"):
        a = med(rows.get(("files-sub", g, "storedisk"), [None]))
        b = med(rows.get(("files-all", g, "storedisk"), [None]))
        if not b:
            print("| %s | failed | | | | |" % g)
            continue
        per = "%.0f" % ((b[2] - a[2]) * 1024 / ((nall - sub) * 1000)) if a else "—"
        print("| %s | %s | %s | %.2f | %.0f | %s |" % (
            g, "%.2f" % a[0] if a else "—", "%.0f" % (a[2] / 1024) if a else "—",
            b[0], b[2] / 1024, per))
    print()


def main():
    meta, corpora, cmds, rows = load(sys.argv[1], sys.argv[2])
    if "sub" in meta:
        return rss_report(meta, corpora, rows)
    header(meta, corpora, "storedisk against its peers")
    pack_tables(meta, corpora, cmds, rows)
    commands(cmds)


if __name__ == "__main__":
    main()
