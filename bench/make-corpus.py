#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make-corpus.py KIND DIR [BUDGET_MB] — build a deterministic Nix-like
benchmark store under DIR/nix/store from this machine's own files.

KIND is one of
  main     about BUDGET_MB (default 2000) of store paths taken from /usr:
           every directory below a source directory (/usr/share, /usr/lib/...)
           becomes a store path, and the files lying directly in one (such as
           /usr/lib/x86_64-linux-gnu/libfoo.so.1) are grouped by their stem
           into one path each ("libfoo").  The paths holding a file over
           50 MB are taken first (at most three, one under 1 GB), the rest in an order fixed
           by a hash of their source until the budget is spent.
  microvm  a microVM-like closure of about PATHS (default 160) paths of many
           small files: tzdata (/usr/share/zoneinfo), locale definitions,
           man pages, Python and Perl modules, icons, MIME data, then package
           docs, small libraries and headers up to PATHS.
  files    a store of BUDGET_MB thousand files (default 1000, i.e. 1,000,000)
           of 1..256 bytes in 1000 store paths: memory against file count.

Every kind plants what a Nix store has: references (a nix-support file
naming earlier paths, a symlink into another path, a path appended to a
binary as an RPATH would be), duplicated files (license texts, and three
paths copied again as a second "version"), symlinks (kept as they are in
the source), and one root path that refers to every path, so the closure of
the root is the whole store.  Names are "<32 nix32 chars>-<name>".

The same machine gives the same store: sources are read in sorted order and
every choice is a function of names.  Unreadable and special files are
skipped.  Writes DIR/root (the root, a logical /nix/store path), DIR/paths
(every store path, one a line, sorted) and DIR/summary (counts); prints the
root.
"""
import hashlib
import os
import re
import shutil
import stat
import sys

ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=")
BIG = 50 * 1024 * 1024
MAIN_SOURCES = ["/usr/share", "/usr/include", "/usr/lib/python3", "/usr/lib/python3.11",
                "/usr/lib/gcc", "/usr/lib/llvm-14", "/usr/lib/x86_64-linux-gnu",
                "/usr/bin", "/usr/libexec", "/usr/lib/jvm"]
EXCLUDE = {"/usr/share/package-lists"}


def h(seed):
    return hashlib.sha256(seed.encode()).digest()


def nix32(seed):
    return "".join(ALPHABET[b % 32] for b in h(seed)[:32])


def clean(name):
    n = "".join(c if c in NAME_OK else "_" for c in name).lstrip(".")
    return (n or "x")[:100]


class Cand:
    """One store path to be: a directory copied whole (files=None) or a
    list of files of one source directory put under SUB."""

    def __init__(self, src, name, files=None, sub="lib"):
        self.src, self.name, self.files, self.sub = src, clean(name), files, sub
        self.bytes, self.nfiles, self.biggest = 0, 0, 0
        for p in self.walk_files():
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                self.bytes += st.st_size
                self.nfiles += 1
                self.biggest = max(self.biggest, st.st_size)

    def walk_files(self):
        if self.files is not None:
            for f in self.files:
                yield os.path.join(self.src, f)
            return
        for d, dirs, files in os.walk(self.src):
            dirs.sort()
            for f in sorted(files):
                yield os.path.join(d, f)

    def key(self):
        return h("order:" + self.src + ":" + self.name)


def stem(fname):
    m = re.match(r"[A-Za-z_+]+", fname)
    return m.group(0).lower() if m else "misc"


def candidates(sources):
    out = []
    for src in sources:
        if not os.path.isdir(src):
            continue
        groups = {}
        for e in sorted(os.listdir(src)):
            p = os.path.join(src, e)
            if p in EXCLUDE:
                continue
            if os.path.isdir(p) and not os.path.islink(p):
                out.append(Cand(p, e))
            else:
                groups.setdefault(stem(e), []).append(e)
        sub = "bin" if src.endswith("bin") or src.endswith("libexec") else "lib"
        for g in sorted(groups):
            out.append(Cand(src, "%s-%s" % (os.path.basename(src), g), groups[g], sub))
    return [c for c in out if c.nfiles > 0]


def copy_file(s, d):
    try:
        st = os.lstat(s)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s), d)
        elif stat.S_ISREG(st.st_mode):
            shutil.copyfile(s, d, follow_symlinks=False)
            os.chmod(d, 0o755 if st.st_mode & 0o100 else 0o644)
    except OSError:
        pass  # unreadable: skipped


def materialise(c, dest):
    os.makedirs(dest)
    if c.files is not None:
        os.makedirs(os.path.join(dest, c.sub))
        for f in c.files:
            copy_file(os.path.join(c.src, f), os.path.join(dest, c.sub, f))
        return
    for d, dirs, files in os.walk(c.src):
        dirs.sort()
        rel = os.path.relpath(d, c.src)
        out = os.path.join(dest, rel) if rel != "." else dest
        for x in sorted(dirs):
            s = os.path.join(d, x)
            if os.path.islink(s):
                copy_file(s, os.path.join(out, x))
            else:
                os.makedirs(os.path.join(out, x), exist_ok=True)
        dirs[:] = [x for x in dirs if not os.path.islink(os.path.join(d, x))
                   and os.access(os.path.join(d, x), os.R_OK | os.X_OK)]
        for f in sorted(files):
            copy_file(os.path.join(d, f), os.path.join(out, f))


def select_main(budget):
    cands = candidates(MAIN_SOURCES)
    nbig = 3 if budget >= 1 << 30 else 1
    big = sorted((c for c in cands if c.biggest > BIG), key=lambda c: (c.bytes, c.src))[:nbig]
    chosen, total = list(big), sum(c.bytes for c in big)
    rest = sorted((c for c in cands if c not in big and c.bytes < budget // 4),
                  key=Cand.key)
    for c in rest:
        if total >= budget:
            break
        chosen.append(c)
        total += c.bytes
    return chosen


def select_microvm(npaths):
    fixed = [Cand(s, n) for s, n in [
        ("/usr/share/zoneinfo", "tzdata"), ("/usr/share/i18n", "glibc-locales"),
        ("/usr/share/man", "man-pages"), ("/usr/lib/python3.11", "python3-3.11"),
        ("/usr/share/perl", "perl"), ("/usr/share/vim", "vim"),
        ("/usr/share/mime", "shared-mime-info"), ("/usr/share/icons", "icon-theme"),
        ("/usr/lib/systemd", "systemd"), ("/usr/share/X11", "xkeyboard-config"),
        ("/usr/share/bash-completion", "bash-completion"), ("/usr/share/perl5", "perl5")]
             if os.path.isdir(s)]
    pool = []
    for src in ["/usr/share/doc", "/usr/lib/x86_64-linux-gnu", "/usr/include"]:
        pool += [c for c in candidates([src]) if c.bytes < 4 * 1024 * 1024]
    pool.sort(key=Cand.key)
    return [c for c in fixed if c.nfiles] + pool[:max(0, npaths - len(fixed) - 3)]


def main():
    kind, top = sys.argv[1], sys.argv[2]
    arg = int(sys.argv[3]) if len(sys.argv) > 3 else None
    store = os.path.join(top, "nix", "store")
    if os.path.exists(top):
        shutil.rmtree(top)
    os.makedirs(store)
    if kind == "files":
        return make_files(top, store, arg or 1000)
    if kind == "main":
        chosen = select_main((arg or 2000) * 1024 * 1024)
    elif kind == "microvm":
        chosen = select_microvm(arg or 160)
    else:
        sys.exit("make-corpus.py: unknown kind %s (main, microvm, files)" % kind)

    names = []
    for c in chosen:
        base = "%s-%s" % (nix32(kind + ":" + c.src + ":" + c.name), c.name)
        materialise(c, os.path.join(store, base))
        names.append(base)
    # A second "version" of three mid-size paths: whole duplicated contents.
    mids = sorted((c for c in chosen if 1 << 20 <= c.bytes <= 30 << 20), key=Cand.key)[:3]
    for c in mids:
        base = "%s-%s-2" % (nix32("v2:" + kind + ":" + c.src + ":" + c.name), c.name)
        materialise(c, os.path.join(store, base))
        names.append(base)
    names.sort()
    plant(store, names)
    finish(top, store, names, kind)


def plant(store, names):
    """References, symlinks into other paths and duplicated license files."""
    licdir = "/usr/share/common-licenses"
    lics = sorted(os.listdir(licdir)) if os.path.isdir(licdir) else []
    for i, n in enumerate(names):
        p = os.path.join(store, n)
        d = h("deps:" + n)
        # 0..4 references to earlier paths (a DAG; the root closes it).
        deps = sorted({names[(d[2 * k] * 256 + d[2 * k + 1]) % i]
                       for k in range(d[31] % 5)}) if i > 0 else []
        ns = os.path.join(p, "nix-support")
        os.makedirs(ns, exist_ok=True)
        if deps:
            with open(os.path.join(ns, "propagated-build-inputs"), "w") as f:
                f.write(" ".join("/nix/store/" + x for x in deps) + "\n")
            if i % 3 == 0:
                os.symlink("/nix/store/%s/nix-support" % deps[0], os.path.join(ns, "dep-link"))
            if i % 2 == 0:
                rpath_append(p, "/nix/store/%s/lib" % deps[-1])
        if lics and i % 4 == 0:
            lic = lics[d[30] % len(lics)]
            dst = os.path.join(p, "share", "licenses", n[33:])
            os.makedirs(dst, exist_ok=True)
            copy_file(os.path.join(licdir, lic), os.path.join(dst, "COPYING"))


def rpath_append(p, ref):
    """Append REF, NUL-framed, to the first (sorted) regular file over 64 KiB."""
    for d, dirs, files in os.walk(p):
        dirs.sort()
        for f in sorted(files):
            q = os.path.join(d, f)
            if os.path.islink(q) or not os.path.isfile(q) or os.path.getsize(q) <= 65536:
                continue
            with open(q, "ab") as fh:
                fh.write(b"\0" + ref.encode() + b"\0")
            return


def make_files(top, store, nthousand):
    """NTHOUSAND store paths of 1000 small files each (10 directories of 100)."""
    names = []
    for i in range(nthousand):
        n = "%s-small-%04d" % (nix32("files:%d" % i), i)
        p = os.path.join(store, n)
        for dnum in range(10):
            d = os.path.join(p, "d%d" % dnum)
            os.makedirs(d)
            for k in range(100):
                seed = h("%d/%d/%d" % (i, dnum, k))
                size = 1 + seed[0]
                with open(os.path.join(d, "f%03d" % k), "wb") as f:
                    f.write((seed.hex() * 8).encode()[:size])
        names.append(n)
    names.sort()
    finish(top, store, names, "files")


def finish(top, store, names, kind):
    root = "%s-%s-bench-root" % (nix32("root:" + kind), kind)
    os.makedirs(os.path.join(store, root, "nix-support"))
    with open(os.path.join(store, root, "nix-support", "closure"), "w") as f:
        for n in names:
            f.write("/nix/store/%s\n" % n)
    allp = sorted(names + [root])
    with open(os.path.join(top, "paths"), "w") as f:
        f.write("".join("/nix/store/%s\n" % n for n in allp))
    nf = nsmall = nlink = nbig = nbytes = 0
    for d, dirs, files in os.walk(store):
        for x in files + dirs:
            st = os.lstat(os.path.join(d, x))
            if stat.S_ISLNK(st.st_mode):
                nlink += 1
            elif stat.S_ISREG(st.st_mode):
                nf += 1
                nbytes += st.st_size
                nsmall += st.st_size < 4096
                nbig += st.st_size > BIG
    with open(os.path.join(top, "summary"), "w") as f:
        f.write("%d store paths, %d files (%d under 4 KiB, %d over 50 MB), %d symlinks, "
                "%d bytes\n" % (len(allp), nf, nsmall, nbig, nlink, nbytes))
    with open(os.path.join(top, "root"), "w") as f:
        f.write("/nix/store/%s\n" % root)
    print("/nix/store/" + root)


if __name__ == "__main__":
    main()
