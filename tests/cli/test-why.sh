#!/bin/sh
# SPDX-License-Identifier: MIT
# why: the shortest reference chain between two store paths, with the file,
# offset and excerpt of every hop, on the demo store and on images packed
# from it (squashfs and EROFS give the same chains as the store).
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
N=/nix/store
app=$(basename "$root")
libc=$(ls "$S" | grep demo-libc)
zlib=$(ls "$S" | grep demo-zlib)
ssl=$(ls "$S" | grep demo-openssl)
tool=$(ls "$S" | grep 'demo-tool-1.0$')
man=$(ls "$S" | grep demo-tool-1.0-man)
unused=$(ls "$S" | grep demo-unused)

# check_hops JSON FROM>TO...: the chain in JSON file is exactly these hops,
# each file (mapped to the physical store) really holds TO's hash at the
# offset, and the excerpt marks that hash.
check_hops() {
	python3 - "$S" "$@" <<'PY'
import json, os, sys
store, doc, hops = sys.argv[1], sys.argv[2], sys.argv[3:]
d = json.load(open(doc))
assert d["found"] is True, d
chain = d["chain"]
assert [(h["from"], h["to"]) for h in chain] == \
    [tuple("/nix/store/" + p for p in h.split(">")) for h in hops], chain
for h in chain:
    assert h["file"].startswith(h["from"]), h
    phys = store + h["file"][len("/nix/store"):]
    want = os.path.basename(h["to"])[:32]
    if h["where"] == "content":
        with open(phys, "rb") as f:
            f.seek(h["offset"])
            got = f.read(32).decode()
    elif h["where"] == "symlink target":
        got = os.readlink(phys)[h["offset"]:h["offset"] + 32]
    else:
        got = os.path.basename(phys)[h["offset"]:h["offset"] + 32]
    assert got == want, (h, got)
    assert "[" + want + "]" in h["excerpt"], h
PY
}

expect_rc 0 "why app libc" "$SD" why --store "$S" "$root" "$N/$libc"
check "text output names root, target and file:offset" sh -c "
	head -1 '$WORK/out' | grep -qx '$root' &&
	grep -q '^-> $N/$libc\$' '$WORK/out' &&
	grep -q '$N/$app/share/build-id:9 (content)' '$WORK/out'"
check "the excerpt marks the hash" contains "$WORK/out" "build-id [$(echo "$libc" | cut -c1-32)]"

expect_rc 0 "why app libc --json" "$SD" why --json --store "$S" "$root" "$N/$libc"
cp "$WORK/out" "$WORK/app-libc.json"
check "app refers to libc directly (1 hop, offset really holds the hash)" \
	check_hops "$WORK/app-libc.json" "$app>$libc"

expect_rc 0 "why openssl libc --json" "$SD" why --json --store "$S" "$S/$ssl" "$N/$libc"
cp "$WORK/out" "$WORK/ssl-libc.json"
check "openssl refers to libc directly" check_hops "$WORK/ssl-libc.json" "$ssl>$libc"

expect_rc 0 "why app tool-man --json (2 hops)" "$SD" why --json --store "$S" "$root" "$N/$man"
cp "$WORK/out" "$WORK/app-man.json"
check "app -> tool -> tool-man" check_hops "$WORK/app-man.json" "$app>$tool" "$tool>$man"
check "the search stops early (not the whole closure scanned)" python3 -c "
import json; d = json.load(open('$WORK/app-man.json')); assert d['paths_scanned'] < 6, d"

expect_rc 0 "why tool-man tool (a cycle)" "$SD" why --json --store "$S" "$S/$man" "$N/$tool"
cp "$WORK/out" "$WORK/man-tool.json"
check "tool-man refers to tool" check_hops "$WORK/man-tool.json" "$man>$tool"

expect_rc 1 "why zlib app: no chain" "$SD" why --store "$S" "$S/$zlib" "$root"
check "the message says so" contains "$WORK/err" "$N/$app is not in the closure of $N/$zlib"
expect_rc 1 "why app unused: no chain" "$SD" why --store "$S" "$root" "$N/$unused"
expect_rc 1 "why zlib app --json: no chain" "$SD" why --json --store "$S" "$S/$zlib" "$root"
check "--json says not found" python3 -c "
import json; d = json.load(open('$WORK/out')); assert d['found'] is False and d['chain'] == [], d"
expect_rc 0 "why app app: an empty chain" "$SD" why --json --store "$S" "$root" "$root"
check "the empty chain" python3 -c "
import json; d = json.load(open('$WORK/out')); assert d['found'] and d['chain'] == [], d"
expect_rc 1 "a PATH not in the store is a failure" "$SD" why --store "$S" "$root" "$N/00000000000000000000000000000000-x"

# Evidence from a symlink target and from an entry name (a copy of the store).
cp -a "$WORK/s" "$WORK/t"
T=$WORK/t/nix/store
chmod -R u+w "$T"
rm "$T/$app/share/build-id"
expect_rc 0 "evidence from a symlink target" "$SD" why --json --store "$T" "$T/$app" "$N/$libc"
check "the hop is the symlink target at offset 11" python3 -c "
import json; h = json.load(open('$WORK/out'))['chain'][0]
assert h['where'] == 'symlink target' and h['offset'] == 11, h
assert h['file'].endswith('/share/libc-link'), h"
rm "$T/$app/share/libc-link"
mkdir "$T/$app/share/debug"
: >"$T/$app/share/debug/$(echo "$libc" | cut -c1-32).debug"
expect_rc 0 "evidence from an entry name" "$SD" why --json --store "$T" "$T/$app" "$N/$libc"
check "the hop is the name at offset 0" python3 -c "
import json; h = json.load(open('$WORK/out'))['chain'][0]
assert h['where'] == 'name' and h['offset'] == 0, h
assert h['excerpt'].startswith('[') and h['excerpt'].endswith('].debug'), h"

# On images: the same chains as on the store.
for fmt in squashfs erofs; do
	img=$WORK/demo.$fmt
	"$SD" pack -q --format "$fmt" -o "$img" --store "$S" "$root"
	for pair in "$root $N/$libc app-libc" "$N/$ssl $libc ssl-libc" \
		"$app $N/$man app-man" "$(echo "$man" | cut -c1-32) $N/$tool man-tool"; do
		set -- $pair
		expect_rc 0 "$fmt: why $3" "$SD" why --json --image "$img" "$1" "$2"
		check "$fmt: why $3 gives the store's chain" cmp -s "$WORK/out" "$WORK/$3.json"
	done
	expect_rc 1 "$fmt: why zlib app: no chain" "$SD" why --image "$img" "$N/$zlib" "$root"
	check "$fmt: the message says so" contains "$WORK/err" "is not in the closure of"
	expect_rc 1 "$fmt: a path not in the image" "$SD" why --image "$img" "$root" "$N/$unused"
done

# The closure sources of `closure`: --paths, --registration, --db.
"$SD" closure --store "$S" "$root" >"$WORK/list.all" 2>/dev/null
expect_rc 0 "why --paths (the closure list)" "$SD" why --json --store "$S" --paths "$WORK/list.all" "$root" "$N/$libc"
check "why --paths: the scan's chain" cmp -s "$WORK/out" "$WORK/app-libc.json"
grep -v "$tool\$" "$WORK/list.all" >"$WORK/list.notool"
expect_rc 1 "why --paths without tool: app does not reach tool-man" \
	"$SD" why --store "$S" --paths "$WORK/list.notool" "$root" "$N/$man"
check "the message says tool-man is not in the closure" contains "$WORK/err" "$N/$man is not in the closure of $root"
expect_rc 1 "why --paths: a ROOT not listed" "$SD" why --store "$S" --paths "$WORK/list.notool" "$N/$tool" "$N/$man"
check "the message says ROOT is not listed" contains "$WORK/err" "is not listed in $WORK/list.notool"

"$SD" registration --store "$S" "$root" >"$WORK/why.reg" 2>/dev/null
expect_rc 0 "why --registration (2 hops)" "$SD" why --json --store "$S" --registration "$WORK/why.reg" "$root" "$N/$man"
check "why --registration: the scan's chain" cmp -s "$WORK/out" "$WORK/app-man.json"

# A Nix database made from that registration, with one edge left out
# (app -> libc: app still reaches libc through openssl or zlib) and one
# added that no scan can see (zlib -> unused).
python3 - "$WORK/why.reg" "$WORK/why.sqlite" "$N/$app" "$N/$libc" "$N/$zlib" "$N/$unused" <<'PY'
import sqlite3, sys
reg, db, app, libc, zlib, unused = sys.argv[1:]
lines = open(reg).read().split("\n")
recs, i = {}, 0
while i < len(lines) and lines[i]:
    path, n = lines[i], int(lines[i + 4])
    recs[path] = lines[i + 5:i + 5 + n]
    i += 5 + n
recs[app] = [r for r in recs[app] if r != libc]
recs[unused] = []
recs[zlib] = recs[zlib] + [unused]
c = sqlite3.connect(db)
c.executescript("""
CREATE TABLE ValidPaths (id integer primary key autoincrement not null,
  path text unique not null, hash text not null, registrationTime integer
  not null, deriver text, narSize integer, ultimate integer, sigs text,
  ca text);
CREATE TABLE Refs (referrer integer not null, reference integer not null,
  primary key (referrer, reference));
""")
ids = {}
for p in sorted(recs):
    ids[p] = c.execute("INSERT INTO ValidPaths (path, hash, registrationTime,"
                       " narSize) VALUES (?, ?, 1, 1)",
                       (p, "sha256:" + "0" * 64)).lastrowid
for p, refs in recs.items():
    for r in refs:
        c.execute("INSERT INTO Refs VALUES (?, ?)", (ids[p], ids[r]))
c.commit()
PY
expect_rc 0 "why --db: a registered reference the scan cannot see" \
	"$SD" why --json --store "$S" --db "$WORK/why.sqlite" "$N/$zlib" "$N/$unused"
check "the hop has no evidence: where registration, file, offset and excerpt null" python3 -c "
import json; d = json.load(open('$WORK/out'))
assert d['found'] and len(d['chain']) == 1, d
h = d['chain'][0]
assert h['from'] == '$N/$zlib' and h['to'] == '$N/$unused', h
assert h['where'] == 'registration' and h['file'] is None, h
assert h['offset'] is None and h['excerpt'] is None, h"
expect_rc 0 "why --db (text)" "$SD" why --store "$S" --db "$WORK/why.sqlite" "$N/$zlib" "$N/$unused"
check "the text says the hop is registered, not found by a scan" \
	grep -qx '   (registered reference, not found by a scan)' "$WORK/out"
expect_rc 0 "why --db: only registered references are followed" \
	"$SD" why --json --store "$S" --db "$WORK/why.sqlite" "$root" "$N/$libc"
check "app -> libc is not registered: the chain goes through openssl (2 hops, with evidence)" \
	check_hops "$WORK/out" "$app>$ssl" "$ssl>$libc"
expect_rc 1 "why --scan finds no chain zlib -> unused" "$SD" why --store "$S" --scan "$N/$zlib" "$N/$unused"
expect_rc 1 "why --db: a ROOT not registered" "$SD" why --store "$S" --db "$WORK/why.sqlite" "$N/$zlib" "$N/$man"
check "the message says it is not registered" contains "$WORK/err" "$N/$man"

# The store's .links (nix store optimise) is never warned about; another
# bad entry is.
cp -a "$WORK/s" "$WORK/l"
L=$WORK/l/nix/store
mkdir "$L/.links"
expect_rc 0 "why on a store with .links" "$SD" why --store "$L" "$root" "$N/$libc"
check "no warning about .links" sh -c "! grep -q 'links' '$WORK/err' && [ ! -s '$WORK/err' ]"
mkdir "$L/not-a-store-path"
expect_rc 0 "why on a store with another bad entry" "$SD" why --store "$L" "$root" "$N/$libc"
check "that entry is warned about" contains "$WORK/err" "not-a-store-path: not a store path"
check "still nothing about .links" sh -c "! grep -q '\.links' '$WORK/err'"

# --image: bare names ("<name>" without "<hash>-"), and an ambiguous one.
img=$WORK/demo.erofs
name() { echo "$1" | cut -c34-; }
expect_rc 0 "--image, bare names" "$SD" why --json --image "$img" "$(name "$app")" "$(name "$libc")"
check "bare names: the same chain" cmp -s "$WORK/out" "$WORK/app-libc.json"
expect_rc 0 "--image, a bare name with a path inside" "$SD" why --json --image "$img" "$(name "$app")/bin/app" "$N/$man"
check "bare name with a path inside: the same chain" cmp -s "$WORK/out" "$WORK/app-man.json"
expect_rc 1 "--image, a bare name no entry has" "$SD" why --image "$img" "$(name "$app")" demo-libc-9.99
check "the message names it" contains "$WORK/err" "demo-libc-9.99: not a store path of the image"
cp -a "$WORK/s" "$WORK/d"
D=$WORK/d/nix/store
dup=00000000000000000000000000000001-$(name "$libc")
cp -a "$D/$libc" "$D/$dup"
"$SD" pack -q -o "$WORK/dup.img" --store "$D" "$root" "$N/$dup" 2>/dev/null
expect_rc 2 "--image, an ambiguous bare name" "$SD" why --image "$WORK/dup.img" "$(name "$app")" "$(name "$libc")"
check "the error lists both paths" sh -c "grep -qF '$(name "$libc"): ambiguous, 2 store paths' '$WORK/err' &&
	grep -qF '$N/$dup' '$WORK/err' && grep -qF '$N/$libc' '$WORK/err'"
expect_rc 1 "--image, the hash part still picks one of them" "$SD" why --image "$WORK/dup.img" "$(name "$app")" "$(echo "$dup" | cut -c1-32)"
check "that one, not in the closure of app" contains "$WORK/err" "$N/$dup is not in the closure of $N/$app"

# Usage errors and unreadable images: exit 2.
expect_rc 2 "no arguments" "$SD" why
expect_rc 2 "--store with --image" "$SD" why --image "$WORK/demo.squashfs" --store "$S" "$root" "$N/$libc"
expect_rc 2 "two sources of references" "$SD" why --store "$S" --scan --paths /dev/null "$root" "$N/$libc"
check "the message names the sources" contains "$WORK/err" "give only one of --db, --registration, --paths and --scan"
for opt in "--db $WORK/why.sqlite" "--registration $WORK/why.reg" "--paths $WORK/list.all" "--allow-missing"; do
	# shellcheck disable=SC2086
	expect_rc 2 "${opt%% *} with --image" "$SD" why --image "$WORK/demo.squashfs" $opt "$root" "$N/$libc"
	check "${opt%% *} with --image: the message says so" contains "$WORK/err" "${opt%% *} does not go with --image"
done
expect_rc 2 "not an image" "$SD" why --image /etc/passwd "$root" "$N/$libc"
head -c 100 "$WORK/demo.squashfs" >"$WORK/trunc.img"
expect_rc 2 "a truncated image" "$SD" why --image "$WORK/trunc.img" "$root" "$N/$libc"
expect_rc 0 "--help" "$SD" why --help
check "the help names --image" contains "$WORK/out" "--image IMAGE"

finish
