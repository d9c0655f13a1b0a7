#!/bin/sh
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

# Usage errors and unreadable images: exit 2.
expect_rc 2 "no arguments" "$SD" why
expect_rc 2 "--store with --image" "$SD" why --image "$WORK/demo.squashfs" --store "$S" "$root" "$N/$libc"
expect_rc 2 "--registration is refused" "$SD" why --registration /dev/null "$root" "$N/$libc"
expect_rc 2 "not an image" "$SD" why --image /etc/passwd "$root" "$N/$libc"
head -c 100 "$WORK/demo.squashfs" >"$WORK/trunc.img"
expect_rc 2 "a truncated image" "$SD" why --image "$WORK/trunc.img" "$root" "$N/$libc"
expect_rc 0 "--help" "$SD" why --help
check "the help names --image" contains "$WORK/out" "--image IMAGE"

finish
