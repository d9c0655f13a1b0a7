#!/bin/sh
# SPDX-License-Identifier: MIT
# closure sources through the CLI: registration files (dump-db form with
# every hash encoding, closureInfo/exportReferencesGraph form), path lists,
# scan; --json and --graph outputs; invalid store entries are reported.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store

expect_rc 0 "scan closure as JSON" "$SD" closure --json --store "$S" "$root"
cp "$WORK/out" "$WORK/scan.json"
check "JSON parses and has paths, references and sizes" python3 -c "
import json
d = json.load(open('$WORK/scan.json'))
assert d['store_dir'] == '/nix/store'
assert d['roots'] == ['$root']
assert len(d['paths']) == 6
for p in d['paths']:
    assert p['path'].startswith('/nix/store/') and isinstance(p['bytes'], int)
    assert isinstance(p['references'], list)
app = [p for p in d['paths'] if p['path'] == '$root'][0]
assert len(app['references']) == 4, app
"
"$SD" closure --store "$S" "$root" >"$WORK/scan.txt"

# Registration in the dump-db form, built from the scan result, with the
# edge app -> tool removed: the closure must follow the file, not a scan.
python3 - "$WORK/scan.json" "$WORK" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
out = sys.argv[2]
h = bytes(range(32))
encodings = ["0" * 64, "sha256:" + "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
             "sha256-" + base64.b64encode(h).decode()]
with open(out + "/reg.dumpdb", "w") as f, open(out + "/reg.closureinfo", "w") as g:
    for i, p in enumerate(d["paths"]):
        refs = [r for r in p["references"]
                if not (p["path"].endswith("demo-app-1.0") and "demo-tool-1.0" in r)]
        f.write("%s\n%s\n%d\n\n%d\n" % (p["path"], encodings[i % 3], p["bytes"], len(refs)))
        g.write("%s\n\n%d\n" % (p["path"], len(refs)))
        for r in refs:
            f.write(r + "\n")
            g.write(r + "\n")
PY
for form in dumpdb closureinfo; do
	expect_rc 0 "closure from a registration ($form)" "$SD" closure --registration "$WORK/reg.$form" --store "$S" "$root"
	check "registration ($form) is followed: 4 paths" [ "$(wc -l <"$WORK/out")" -eq 4 ]
	check "registration ($form): the dropped edge's targets are gone" sh -c "! grep -q demo-tool '$WORK/out'"
done

# A malformed registration: error with file and line number, exit 1.
printf '%s\nnot-a-hash-or-number\nxyz\n' "$root" >"$WORK/bad.reg"
expect_rc 1 "a malformed registration is refused" "$SD" closure --registration "$WORK/bad.reg" --store "$S" "$root"
check "the error names file and line" contains "$WORK/err" "bad.reg:"

# --paths: the closure as a list.
cp "$WORK/scan.txt" "$WORK/paths"
expect_rc 0 "closure from --paths" "$SD" closure --paths "$WORK/paths" --store "$S" "$root"
check "--paths gives the listed closure" cmp -s "$WORK/out" "$WORK/scan.txt"

# Repeated source options: --paths and --registration take the union (a
# path in both files is fine), a repeated --db is refused.
head -n 4 "$WORK/scan.txt" >"$WORK/paths.a"
tail -n 3 "$WORK/scan.txt" >"$WORK/paths.b"
expect_rc 0 "--paths A --paths B" "$SD" closure --paths "$WORK/paths.a" --paths "$WORK/paths.b" --store "$S" "$root"
check "--paths A --paths B is the union of the lists" cmp -s "$WORK/out" "$WORK/scan.txt"
expect_rc 1 "a root listed in neither --paths file" "$SD" closure --paths "$WORK/paths.b" --paths "$WORK/paths.b" --store "$S" "$(head -n 1 "$WORK/scan.txt")"
check "the error names both files" contains "$WORK/err" "paths.b, $WORK/paths.b"
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
lines = open(w + "/reg.dumpdb").read().split("\n")[:-1]
recs, i = [], 0
while i < len(lines):
    n = int(lines[i + 4])
    recs.append(lines[i:i + 5 + n])
    i += 5 + n
def write(name, rs):
    open(w + "/" + name, "w").write("".join(l + "\n" for r in rs for l in r))
# The last record in both files; in B in the short layout (no narHash).
last = recs[-1]
write("reg.a", recs[:3] + [last])
write("reg.b", [[last[0], last[3]] + last[4:]] + recs[3:-1])
# Conflicts: the same path with another narHash, or other references.
bad = list(last)
bad[1] = "sha256:" + "0" * 52
write("reg.badhash", [bad])
write("reg.badrefs", [last[:4] + ["0"]])
PY
expect_rc 0 "--registration A --registration B" "$SD" closure --registration "$WORK/reg.a" --registration "$WORK/reg.b" --store "$S" "$root"
check "their union is followed: the same 4 paths as one file" sh -c "
	'$SD' closure --registration '$WORK/reg.dumpdb' --store '$S' '$root' | cmp -s - '$WORK/out'"
expect_rc 1 "one path registered with two narHashes" "$SD" closure --registration "$WORK/reg.a" --registration "$WORK/reg.badhash" --store "$S" "$root"
check "the conflict names both files and lines" sh -c "
	grep -q 'conflicting records for .*: narHash differs ($WORK/reg.a:[0-9]*: sha256:.*, $WORK/reg.badhash:1: sha256:0*)' '$WORK/err'"
expect_rc 1 "one path registered with two reference lists" "$SD" closure --registration "$WORK/reg.badrefs" --registration "$WORK/reg.b" --store "$S" "$root"
check "the conflict says references differ, with both places" sh -c "
	grep -q 'conflicting records for .*: references differ ($WORK/reg.badrefs:1, $WORK/reg.b:1)' '$WORK/err'"
check "a mistake in the second file is reported at its own line" sh -c "
	printf 'garbage\n' >'$WORK/reg.garbage'
	'$SD' closure --registration '$WORK/reg.a' --registration '$WORK/reg.garbage' --store '$S' '$root' 2>&1 |
		grep -q 'reg.garbage:1'"
expect_rc 2 "a repeated --db is refused" "$SD" closure --db "$WORK/x.sqlite" --db "$WORK/y.sqlite" --store "$S" "$root"
check "the refusal says why" contains "$WORK/err" "two databases are two stores"
expect_rc 2 "mixed sources stay refused" "$SD" closure --paths "$WORK/paths.a" --registration "$WORK/reg.a" --store "$S" "$root"

# --graph: edges between paths of the closure.
expect_rc 0 "closure --graph" "$SD" closure --graph --store "$S" "$root"
check "--graph lists the cycle both ways" sh -c "
	grep -q 'demo-tool-1.0 .*demo-tool-1.0-man\$' '$WORK/out' &&
	grep -q 'demo-tool-1.0-man .*demo-tool-1.0\$' '$WORK/out'"

# Invalid entries in the store directory are reported, not taken as paths.
mkdir "$S/.links" "$S/not-a-store-path"
touch "$S/00000000000000000000000000000ooo-bad-hash"
expect_rc 0 "closure with junk in the store directory" "$SD" closure --store "$S" "$root"
check "junk is reported" contains "$WORK/err" "not-a-store-path"
check "bad hash characters are reported" contains "$WORK/err" "bad-hash"
check "junk does not change the closure" cmp -s "$WORK/out" "$WORK/scan.txt"
check "Nix's own .links is not warned about" sh -c "! grep -q '/\.links' '$WORK/err'"
"$SD" closure --json --store "$S" "$root" >"$WORK/junk.json" 2>/dev/null
check "but it is listed among the invalid entries in --json" python3 -c "
import json
d = json.load(open('$WORK/junk.json'))
assert '.links' in [e['entry'] for e in d['invalid_entries']], d['invalid_entries']
"

# --store-dir other than /nix/store.
mkdir -p "$WORK/o"
python3 - "$S" "$WORK/o/gnu/store" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1:]
shutil.copytree(src, dst, symlinks=True)
for dirpath, dirs, files in os.walk(dst):
    for n in files:
        p = os.path.join(dirpath, n)
        if os.path.islink(p):
            t = os.readlink(p).replace("/nix/store", "/gnu/store")
            os.unlink(p)
            os.symlink(t, p)
        else:
            data = open(p, "rb").read().replace(b"/nix/store", b"/gnu/store")
            open(p, "wb").write(data)
PY
groot=$(echo "$root" | sed 's|/nix/store|/gnu/store|')
expect_rc 0 "closure with --store-dir /gnu/store" "$SD" closure --store-dir /gnu/store --store "$WORK/o/gnu/store" "$groot"
check "same closure under /gnu/store" sh -c "sed 's|/gnu/store|/nix/store|' '$WORK/out' | cmp -s - '$WORK/scan.txt'"

finish
