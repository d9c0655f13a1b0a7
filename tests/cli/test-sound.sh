#!/bin/sh
# SPDX-License-Identifier: MIT
# pack and verify agree on what a reference is (Nix's rule: the hash of a
# store path that exists), and verify is sound: an image missing one
# dependency fails whatever registration, candidates or manifest come with
# it; a documentation example (a full path that never existed) is a warning
# only where something says it did not exist (the manifest, --candidates).
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
libc=$(ls "$S" | grep demo-libc)
"$SD" closure --store "$S" "$root" >"$WORK/all"
grep -v demo-libc "$WORK/all" >"$WORK/nolibc"
ls "$S" | sed 's|^|/nix/store/|' >"$WORK/candidates"
q="-q --no-digest"

# ---- pack refuses a given closure that leaves a dependency out --------
for fmt in squashfs erofs; do
	expect_rc 1 "$fmt: pack --paths without libc --embed-registration fails" \
		"$SD" pack $q --format $fmt -o "$WORK/x.img" --store "$S" \
		--paths "$WORK/nolibc" --embed-registration
	check "$fmt: nothing at IMAGE" [ ! -e "$WORK/x.img" ]
	check "$fmt: the error names the file" contains "$WORK/err" "-demo-zlib-1.3/lib/libz.so.1: content at offset 23"
	check "$fmt: ... and the path" contains "$WORK/err" "refers to /nix/store/$libc, which is"
done
"$SD" registration --store "$S" --paths "$WORK/nolibc" >"$WORK/reg-nolibc" 2>/dev/null
expect_rc 1 "pack --registration without libc fails" \
	"$SD" pack $q -o "$WORK/x.img" --store "$S" --registration "$WORK/reg-nolibc" "$root"
check "nothing at IMAGE" [ ! -e "$WORK/x.img" ]
echo "/nix/store/$libc" >"$WORK/allow"
expect_rc 0 "--allow FILE accepts it" \
	"$SD" pack $q -o "$WORK/x.img" --store "$S" --paths "$WORK/nolibc" --allow "$WORK/allow"
check "the accepted reference is reported" contains "$WORK/err" "which is not in the closure (accepted)"
expect_rc 0 "pack --paths of the whole closure succeeds" \
	"$SD" pack $q -o "$WORK/full.img" --store "$S" --paths "$WORK/all"
"$SD" pack $q -o "$WORK/full-scan.img" --store "$S" "$root"
check "the same bytes as a pack of the scanned closure" cmp -s "$WORK/full.img" "$WORK/full-scan.img"
# The check rides the writer's read on any number of threads.
"$SD" pack $q --format erofs --compress lz4 --jobs 1 -o "$WORK/j1.img" --store "$S" --paths "$WORK/all"
"$SD" pack $q --format erofs --compress lz4 --jobs 3 -o "$WORK/j3.img" --store "$S" --paths "$WORK/all"
check "erofs lz4: same bytes for --jobs 1 and 3" cmp -s "$WORK/j1.img" "$WORK/j3.img"

# ---- image M: one dependency (libc) left out, accepted at pack time ---
"$SD" pack $q -o "$WORK/M-reg.img" --store "$S" --paths "$WORK/nolibc" \
	--allow-missing --embed-registration 2>/dev/null
"$SD" pack $q -o "$WORK/M.img" --store "$S" --paths "$WORK/nolibc" --allow-missing 2>/dev/null
"$SD" cat "$WORK/M-reg.img" storedisk-manifest >"$WORK/man"
check "the manifest records libc as accepted" contains "$WORK/man" "accepted /nix/store/$libc"

# ---- image D: the whole closure; one file mentions a doc example ------
doc=/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-example-1.0
printf 'see %s/bin/x\n' "$doc" >"$S/$app/README"
"$SD" closure --store "$S" "$root" >/dev/null 2>"$WORK/err"
check "closure reports the doc example" contains "$WORK/err" "README: content at offset 15 mentions /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-..."
for src in scan paths; do
	if [ $src = scan ]; then a="$root"; else a="--paths $WORK/all"; fi
	expect_rc 0 "--$src: pack with a doc example succeeds" \
		"$SD" pack $q -o "$WORK/D-reg-$src.img" --store "$S" $a --embed-registration
	check "--$src: the doc example is reported" contains "$WORK/err" "which is not in the store: not a reference"
	"$SD" cat "$WORK/D-reg-$src.img" storedisk-manifest >"$WORK/man-$src"
	check "--$src: the manifest records it as absent" contains "$WORK/man-$src" "absent /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
done
check "the manifest says the roots" contains "$WORK/man-scan" "root /nix/store/$app"
"$SD" pack $q -o "$WORK/D.img" --store "$S" "$root" 2>/dev/null
"$SD" registration --store "$S" "$root" >"$WORK/reg-D" 2>/dev/null
rm "$S/$app/README"
"$SD" registration --store "$S" --paths "$WORK/nolibc" >"$WORK/reg-M" 2>/dev/null

# verify IMAGE ARGS... -> exit, category of the finding about the path
vcat() {
	python3 -c "
import json, sys
d = json.load(open('$WORK/out'))
for f in d['violations'] + d['warnings']:
    if '$2' in f['path']:
        print(('violation' if f in d['violations'] else 'warning') + ':' + f['category'])
        break
" >"$WORK/cat"
	check "$1: $(cat "$WORK/cat")" grep -qx "$3" "$WORK/cat"
}

# The missing dependency: exit 1 in every combination.
expect_rc 1 "M, embedded registration + manifest: exit 1" "$SD" verify --json "$WORK/M-reg.img"
vcat "M, embedded" "$libc" "violation:accepted-missing"
check "M: the violation names file and offset" python3 -c "
import json
v = [f for f in json.load(open('$WORK/out'))['violations'] if '$libc' in f['path']]
assert any(f['file'].endswith('lib/libz.so.1') and f['offset'] == 23 for f in v), v
"
expect_rc 1 "M, --registration: exit 1" "$SD" verify --json --registration "$WORK/reg-M" "$WORK/M.img"
vcat "M, --registration" "$libc" "violation:unknown-path"
expect_rc 1 "M, --candidates: exit 1" "$SD" verify --json --candidates "$WORK/candidates" "$WORK/M.img"
vcat "M, --candidates" "$libc" "violation:missing"
expect_rc 1 "M, none: exit 1" "$SD" verify --json "$WORK/M.img"
vcat "M, none" "$libc" "violation:unknown-path"
expect_rc 1 "M, embedded + --candidates: exit 1" "$SD" verify --json --candidates "$WORK/candidates" "$WORK/M-reg.img"
vcat "M, embedded + --candidates" "$libc" "violation:accepted-missing"
expect_rc 1 "M, text report" "$SD" verify "$WORK/M-reg.img"
check "M: the text names file, offset and path" grep -q "violation: /nix/store/.*-demo-zlib-1.3/lib/libz.so.1:23 (content): /nix/store/$libc" "$WORK/out"

# The documentation example: a warning where something says it did not exist.
d=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
for src in scan paths; do
	expect_rc 0 "D ($src), embedded registration + manifest: exit 0" "$SD" verify --json "$WORK/D-reg-$src.img"
	vcat "D ($src), embedded" "$d" "warning:absent-when-packed"
done
check "D: --json shows the manifest" python3 -c "
import json
m = json.load(open('$WORK/out'))['manifest']
assert m['absent'] == ['/nix/store/$d'], m
"
expect_rc 1 "D, embedded + --strict: exit 1" "$SD" verify --json --strict "$WORK/D-reg-scan.img"
vcat "D, --strict" "$d" "violation:unknown-path"
expect_rc 0 "D, --candidates: exit 0" "$SD" verify --json --candidates "$WORK/candidates" "$WORK/D.img"
vcat "D, --candidates" "$d" "warning:not-a-candidate"
expect_rc 1 "D, --registration (never downgrades): exit 1" "$SD" verify --json --registration "$WORK/reg-D" "$WORK/D.img"
vcat "D, --registration" "$d" "violation:unknown-path"
expect_rc 1 "D, none: exit 1" "$SD" verify --json "$WORK/D.img"
vcat "D, none" "$d" "violation:unknown-path"
echo "$doc" >"$WORK/allow-doc"
expect_rc 0 "D, --allow names it: exit 0" "$SD" verify --allow "$WORK/allow-doc" "$WORK/D.img"
expect_rc 0 "D, embedded + --registration: exit 0" "$SD" verify --registration "$WORK/reg-D" "$WORK/D-reg-scan.img"
check "the text report says the manifest was read" contains "$WORK/out" "manifest: embedded, 1 root, 1 path that did not exist"

# A manifest that cannot be parsed: exit 2 (made with mksquashfs, a tool
# that knows nothing of manifests).
if command -v mksquashfs >/dev/null; then
	mkdir -p "$WORK/bad"
	cp -r "$S/$libc" "$WORK/bad/"
	printf 'not a manifest\n' >"$WORK/bad/storedisk-manifest"
	mksquashfs "$WORK/bad" "$WORK/bad.img" -quiet -no-progress >/dev/null 2>&1
	expect_rc 2 "a corrupt manifest is exit 2" "$SD" verify "$WORK/bad.img"
	check "the error names the manifest and the line" contains "$WORK/err" "storedisk-manifest:1"
else
	skip "mksquashfs is not installed: no foreign image with a bad manifest"
fi
finish
