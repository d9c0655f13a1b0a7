#!/bin/sh
# SPDX-License-Identifier: MIT
# verify against a registration: real NAR hashes (computed by
# tests/cli/nar-reg.py, cross-checked with nix-store --dump when it is
# installed) verify (0); a wrong narHash, a registered path missing from
# the image and an unregistered path are violations (1); reference
# differences are information (0); a malformed registration gives 2; the
# embedded nix-path-registration is used by default and is not a
# violation; --raw-refs lists the hashes stored verbatim in the image file.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
libc=$(ls "$S" | grep demo-libc)
zlib=$(ls "$S" | grep demo-zlib)
man=$(ls "$S" | grep demo-tool-1.0-man)
unused=$(ls "$S" | grep demo-unused)

"$SD" closure --json --store "$S" "$root" >"$WORK/closure.json"
python3 "$SRCDIR/tests/cli/nar-reg.py" "$S" "$WORK/closure.json" >"$WORK/reg"
if command -v nix-store >/dev/null; then
	check "the test's NAR serialiser agrees with nix-store --dump" \
		[ "$(nix-store --dump "$S/$app" | sha256sum | cut -d' ' -f1)" = \
		"$(grep -A1 "^/nix/store/$app\$" "$WORK/reg" | tail -1)" ]
else
	skip "nix-store --dump cross-check: nix-store is not installed"
fi

"$SD" pack -q -o "$WORK/img" --store "$S" "$root"
expect_rc 0 "a correct registration verifies" "$SD" verify --registration "$WORK/reg" "$WORK/img"
check "the report names the registration used" contains "$WORK/out" "registration: $WORK/reg, 6 paths"
check "every narHash was checked" contains "$WORK/out" "narHash checked for 6 paths, 0 mismatches"

# A wrong narHash for one path.
edit() { python3 "$SRCDIR/tests/cli/reg-edit.py" "$@"; }
edit "$WORK/reg" "$WORK/reg.badhash" hash "/nix/store/$libc" "$(printf '%064d' 0)"
expect_rc 1 "a wrong narHash is a violation" "$SD" verify --registration "$WORK/reg.badhash" "$WORK/img"
check "the violation names the path" grep -q "violation: /nix/store/$libc.*narHash" "$WORK/out"
check "with the registered hash as sha256:nix32" contains "$WORK/out" \
	"registered sha256:0000000000000000000000000000000000000000000000000000"
check "headed as a registration mismatch, not as NOT self-contained" sh -c "
	grep -q '^$WORK/img: does not match its registration ($WORK/reg.badhash): 1 narHash/narSize mismatch' '$WORK/out' &&
	! grep -q 'NOT self-contained' '$WORK/out'"
expect_rc 1 "verify -q: a mismatch is still exit 1" "$SD" verify -q --registration "$WORK/reg.badhash" "$WORK/img"
check "verify -q: nothing on stdout" [ ! -s "$WORK/out" ]
check "verify -q: the violation and the summary on stderr, nothing else" sh -c "
	[ \$(wc -l <'$WORK/err') -eq 2 ] &&
	grep -q '^violation: /nix/store/$libc.*narHash' '$WORK/err' &&
	grep -q 'does not match its registration' '$WORK/err'"
expect_rc 0 "verify -q: a correct image" "$SD" verify -q --registration "$WORK/reg" "$WORK/img"
check "verify -q: prints nothing at all on success" sh -c "[ ! -s '$WORK/out' ] && [ ! -s '$WORK/err' ]"
expect_rc 2 "verify: a repeated --registration is refused" "$SD" verify --registration "$WORK/reg" --registration "$WORK/reg.badhash" "$WORK/img"
check "the refusal names both files" contains "$WORK/err" "--registration given twice ($WORK/reg, $WORK/reg.badhash)"
expect_rc 1 "a wrong narHash in --json" "$SD" verify --json --registration "$WORK/reg.badhash" "$WORK/img"
check "--json lists the mismatch with both hashes and sizes" python3 -c "
import json
r = json.load(open('$WORK/out'))['registration']
assert r['source'] == '$WORK/reg.badhash' and r['paths'] == 6, r
assert r['nar_checked'] == 6, r
[m] = r['nar_mismatches']
assert m['path'] == '/nix/store/$libc', m
assert m['expected_nar_hash'] == 'sha256:' + '0' * 52, m
assert m['actual_nar_hash'].startswith('sha256:') and len(m['actual_nar_hash']) == 59, m
assert m['expected_nar_size'] == m['actual_nar_size'] > 0, m
"

# A registered path that is not in the image.
cat "$WORK/reg" >"$WORK/reg.extra"
printf '/nix/store/%s\n%s\n8\n\n0\n' "$unused" "$(printf '%064d' 1)" >>"$WORK/reg.extra"
expect_rc 1 "a registered path missing from the image is a violation" "$SD" verify --registration "$WORK/reg.extra" "$WORK/img"
check "a missing path is not headed as a registration mismatch" contains "$WORK/out" "$WORK/img: NOT self-contained: 1 violation,"
check "the violation names it and the registration's line" \
	grep -q "violation: $WORK/reg.extra:[0-9]* (registration): /nix/store/$unused: registered, but not in the image" "$WORK/out"

# A top-level path that is not registered (zlib's record removed).
edit "$WORK/reg" "$WORK/reg.nozlib" drop "/nix/store/$zlib"
expect_rc 1 "an unregistered top-level path is a violation" "$SD" verify --registration "$WORK/reg.nozlib" "$WORK/img"
check "the violation names it" grep -q "/nix/store/$zlib: store path is not registered" "$WORK/out"

# Registered references differing from the scanned ones: information only.
edit "$WORK/reg" "$WORK/reg.refs" refs "/nix/store/$app" "-/nix/store/$libc" "+/nix/store/$man"
expect_rc 0 "registered references that differ from the scan are not violations" \
	"$SD" verify --registration "$WORK/reg.refs" "$WORK/img"
check "the difference is reported for that path" contains "$WORK/out" \
	"reference difference: /nix/store/$app: scanned only: /nix/store/$libc; registered only: /nix/store/$man"
expect_rc 0 "reference differences in --json" "$SD" verify --json --registration "$WORK/reg.refs" "$WORK/img"
check "--json reference_differences has both sides" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['self_contained'] is True
[x] = d['registration']['reference_differences']
assert x == {'path': '/nix/store/$app', 'scanned_only': ['/nix/store/$libc'],
             'registered_only': ['/nix/store/$man']}, x
"

# The closureInfo form has no narHash: "not checked".
awk 'BEGIN { s = 0 } {
	if (s == 0) { print; s = 1 }
	else if (s == 1) { s = 2 }
	else if (s == 2) { s = 3 }
	else if (s == 3) { print; s = 4 }
	else if (s == 4) { print; n = $0; s = (n > 0) ? 5 : 0 }
	else { print; if (--n == 0) s = 0 }
}' "$WORK/reg" >"$WORK/reg.short"
expect_rc 0 "a registration without hashes verifies" "$SD" verify --registration "$WORK/reg.short" "$WORK/img"
check "narHash is reported as not checked" contains "$WORK/out" "narHash not checked"

# The registration is a candidate set: a bare hash of a registered path
# that is not in the image is a violation (without it, it is not seen).
printf 'hash only: %s\n' "$(echo "$unused" | cut -c1-32)" >"$S/$app/share/foreign"
"$SD" closure --store "$S" "$root" | grep -v demo-unused >"$WORK/paths"
"$SD" pack -q -o "$WORK/bare.img" --allow-missing --paths "$WORK/paths" --store "$S" "$root"
"$SD" closure --json --paths "$WORK/paths" --store "$S" "$root" >"$WORK/closure2.json"
python3 "$SRCDIR/tests/cli/nar-reg.py" "$S" "$WORK/closure2.json" >"$WORK/reg2"
printf '/nix/store/%s\n\n0\n' "$unused" >>"$WORK/reg2"
expect_rc 1 "registered paths are candidates: their bare hashes are found" \
	"$SD" verify --registration "$WORK/reg2" "$WORK/bare.img"
check "the bare hash is named as a reference" grep -q "$app/share/foreign:.*/nix/store/$unused" "$WORK/out"
rm "$S/$app/share/foreign"

# Malformed registrations: 2.
printf 'not a store path\n' >"$WORK/reg.bad"
expect_rc 2 "a malformed registration gives 2" "$SD" verify --registration "$WORK/reg.bad" "$WORK/img"
check "with a reason naming the file and line" contains "$WORK/err" "reg.bad:1"
expect_rc 2 "a missing registration file gives 2" "$SD" verify --registration "$WORK/nope" "$WORK/img"

# --raw-refs: the store hashes that occur in the image file's bytes.
"$SD" closure --store "$S" "$root" | sort >"$WORK/all"
"$SD" pack -q -o "$WORK/raw.sqfs" --compress none --store "$S" "$root"
expect_rc 0 "--raw-refs on an uncompressed squashfs image" "$SD" verify --raw-refs "$WORK/raw.sqfs"
check "lists every path (names and contents are stored raw)" cmp -s "$WORK/out" "$WORK/all"
check "the report goes to stderr" contains "$WORK/err" "self-contained"
"$SD" pack -q -o "$WORK/raw.erofs" --format erofs --store "$S" "$root"
expect_rc 0 "--raw-refs on an uncompressed EROFS image" "$SD" verify --raw-refs "$WORK/raw.erofs"
check "lists every path" cmp -s "$WORK/out" "$WORK/all"
expect_rc 0 "--raw-refs on a zstd squashfs image" "$SD" verify --raw-refs "$WORK/img"
check "lists a sorted subset of the paths" sh -c "sort -c '$WORK/out' && [ -z \"\$(comm -23 '$WORK/out' '$WORK/all')\" ]"
echo "  compressed squashfs: $(wc -l <"$WORK/out") of $(wc -l <"$WORK/all") paths raw"
expect_rc 0 "--raw-refs with --json" "$SD" verify --raw-refs --json "$WORK/raw.sqfs"
check "--json raw_refs is the sorted list" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['raw_refs'] == open('$WORK/all').read().split(), d['raw_refs']
"
expect_rc 0 "--json without --raw-refs" "$SD" verify --json "$WORK/img"
check "--json has raw_refs null and registration source null" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['raw_refs'] is None, d
assert d['registration'] == {'source': None, 'paths': 0, 'nar_checked': 0,
    'nar_mismatches': [], 'reference_differences': []}, d['registration']
"

# The embedded registration (pack --embed-registration).
if "$SD" pack --help | grep -q -- --embed-registration; then
	for fmt in squashfs erofs; do
		"$SD" pack -q -o "$WORK/emb.$fmt" --format "$fmt" --embed-registration --store "$S" "$root"
		expect_rc 0 "$fmt: an embedded registration verifies" "$SD" verify "$WORK/emb.$fmt"
		check "$fmt: the report says it is the embedded one" contains "$WORK/out" "registration: embedded, 6 paths; narHash checked for 6 paths, 0 mismatches"
		check "$fmt: nix-path-registration is not counted as a store path" contains "$WORK/out" "self-contained: 6 store paths"
		expect_rc 0 "$fmt: --json" "$SD" verify --json "$WORK/emb.$fmt"
		check "$fmt: --json registration source is \"embedded\"" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['registration']['source'] == 'embedded' and d['registration']['paths'] == 6, d
assert d['violations'] == [], d
"
		expect_rc 1 "$fmt: --registration FILE replaces the embedded one" \
			"$SD" verify --registration "$WORK/reg.badhash" "$WORK/emb.$fmt"
		check "$fmt: and is named in the report" contains "$WORK/out" "registration: $WORK/reg.badhash"
	done
	expect_rc 0 "--raw-refs on an uncompressed EROFS image with a registration" \
		"$SD" verify --raw-refs "$WORK/emb.erofs"
	check "lists every path" cmp -s "$WORK/out" "$WORK/all"
else
	skip "embedded registration: pack --embed-registration not implemented yet"
fi

# Images made by mksquashfs: a corrupt embedded registration gives 2; any
# other non-store entry at the root stays a violation.
if command -v mksquashfs >/dev/null; then
	mkdir -p "$WORK/tree"
	for p in $(cat "$WORK/all"); do cp -a "$S/$(basename "$p")" "$WORK/tree/"; done
	mk() { mksquashfs "$WORK/tree" "$1" -noappend -quiet -all-root -no-progress >/dev/null; }
	cp "$WORK/reg" "$WORK/tree/nix-path-registration"
	mk "$WORK/m-good.sqfs"
	expect_rc 0 "mksquashfs image with a registration file at the root verifies" "$SD" verify "$WORK/m-good.sqfs"
	check "the embedded registration was used" contains "$WORK/out" "registration: embedded, 6 paths"
	cp "$WORK/reg.badhash" "$WORK/tree/nix-path-registration"
	mk "$WORK/m-badhash.sqfs"
	expect_rc 1 "an embedded registration with a wrong narHash is a violation" "$SD" verify "$WORK/m-badhash.sqfs"
	printf '/nix/store/%s\nnot-a-hash\n' "$libc" >"$WORK/tree/nix-path-registration"
	mk "$WORK/m-corrupt.sqfs"
	expect_rc 2 "an unparsable embedded registration gives 2" "$SD" verify "$WORK/m-corrupt.sqfs"
	check "with a reason naming it" contains "$WORK/err" "/nix/store/nix-path-registration:2"
	expect_rc 0 "... unless --registration FILE replaces it" "$SD" verify --registration "$WORK/reg" "$WORK/m-corrupt.sqfs"
	cp "$WORK/reg" "$WORK/tree/nix-path-registration"
	echo hello >"$WORK/tree/README"
	mk "$WORK/m-readme.sqfs"
	expect_rc 1 "another non-store entry at the root stays a violation" "$SD" verify "$WORK/m-readme.sqfs"
	check "naming it" grep -q "violation: /nix/store/README:0 (entry)" "$WORK/out"
	rm "$WORK/tree/README" "$WORK/tree/nix-path-registration"
	mkdir "$WORK/tree/nix-path-registration"
	mk "$WORK/m-dir.sqfs"
	expect_rc 1 "a directory named nix-path-registration is a violation" "$SD" verify "$WORK/m-dir.sqfs"
	check "saying it must be a regular file" contains "$WORK/out" "must be a regular file"
else
	skip "mksquashfs images with a root registration: mksquashfs is not installed"
fi

finish
