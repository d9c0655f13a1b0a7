#!/bin/sh
# SPDX-License-Identifier: MIT
# Looking inside images without mounting them: ls, cat, extract, diff and
# export on squashfs and EROFS images of the demo store, checked against the
# source store; extract of hostile images never writes outside its DIR.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
"$SD" closure --store "$S" "$root" | sed 's|^/nix/store/||' >"$WORK/closure"
paths=$(cat "$WORK/closure")
printf '#!/bin/sh\necho exec\n' >"$S/$app/bin/run" && chmod 755 "$S/$app/bin/run"
# A path longer than ustar's 100-byte name field (tar needs a pax header).
long=$(printf 'long%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
mkdir -p "$S/$app/share/$long" && echo long >"$S/$app/share/$long/$long.txt"
"$SD" pack -o "$WORK/a.sqfs" --mtime 77 --store "$S" "$root" >/dev/null 2>&1 ||
	fail "pack squashfs"
"$SD" pack -o "$WORK/a.erofs" --format erofs --mtime 77 --store "$S" "$root" \
	>/dev/null 2>&1 || fail "pack erofs"

for fmt in sqfs erofs; do
	img=$WORK/a.$fmt
	# ls: the root lists the closure; a store path lists its entries.
	expect_rc 0 "ls $fmt root" "$SD" ls "$img"
	check "ls $fmt root lists the closure" cmp -s "$WORK/out" "$WORK/closure"
	(cd "$S/$app" && LC_ALL=C ls -A) >"$WORK/want"
	expect_rc 0 "ls $fmt PATH under /nix/store" "$SD" ls "$img" "/nix/store/$app"
	check "ls $fmt PATH lists the store path" cmp -s "$WORK/out" "$WORK/want"
	expect_rc 0 "ls $fmt relative PATH" "$SD" ls "$img" "$app"
	check "ls $fmt relative PATH is the same" cmp -s "$WORK/out" "$WORK/want"
	(cd "$S" && find $paths | LC_ALL=C sort) >"$WORK/want"
	expect_rc 0 "ls -R $fmt" "$SD" ls -R "$img"
	LC_ALL=C sort "$WORK/out" >"$WORK/got"
	check "ls -R $fmt lists every entry" cmp -s "$WORK/got" "$WORK/want"
	expect_rc 0 "ls -l $fmt bin" "$SD" ls -l "$img" "$app/bin"
	check "ls -l $fmt shows an executable" \
		grep -q '^-r-xr-xr-x 0 0 *[0-9]* 77 run$' "$WORK/out"
	expect_rc 0 "ls -lR $fmt" "$SD" ls -lR "$img"
	check "ls -l $fmt shows directories" grep -q '^dr-xr-xr-x 0 0 *0 77 ' "$WORK/out"
	lnk=$(cd "$S" && find $paths -type l | head -1)
	if [ -n "$lnk" ]; then
		check "ls -l $fmt shows a symlink's target" \
			grep -qF "lrwxrwxrwx 0 0 $(printf '%10d' "$(readlink "$S/$lnk" | tr -d '\n' | wc -c)") 77 $lnk -> $(readlink "$S/$lnk")" "$WORK/out"
	else
		skip "the demo store has no symlink"
	fi
	expect_rc 0 "ls --json -R $fmt" "$SD" ls --json -R "$img"
	check "ls --json $fmt agrees with the source" python3 - "$WORK/out" "$S" $paths <<'PY'
import json, os, stat, sys
entries = json.load(open(sys.argv[1]))
src = sys.argv[2]
want = set(sys.argv[3:])
for p in sys.argv[3:]:
    for d, dirs, files in os.walk(os.path.join(src, p)):
        for n in dirs + files:
            want.add(os.path.relpath(os.path.join(d, n), src))
got = {e["path"][len("/nix/store/"):]: e for e in entries}
assert set(got) == want, (set(got) ^ want)
for rel, e in got.items():
    st = os.lstat(os.path.join(src, rel))
    t = {"dir": stat.S_ISDIR, "file": stat.S_ISREG, "symlink": stat.S_ISLNK}[e["type"]]
    assert t(st.st_mode), rel
    assert e["uid"] == 0 and e["gid"] == 0 and e["mtime"] == 77, e
    if e["type"] == "file":
        assert e["size"] == st.st_size, e
        assert e["mode"] == ("0555" if st.st_mode & 0o100 else "0444"), e
    if e["type"] == "symlink":
        assert e["target"] == os.readlink(os.path.join(src, rel)), e
PY
	expect_rc 0 "ls on a file lists it" "$SD" ls "$img" "$app/bin/run"
	check "ls on a file prints its name" [ "$(cat "$WORK/out")" = run ]
	expect_rc 1 "ls of a missing PATH fails" "$SD" ls "$img" "$app/nope"
	# cat: the bytes of the source file, whichever way PATH is written.
	expect_rc 0 "cat $fmt" "$SD" cat "$img" "/nix/store/$app/bin/run"
	check "cat $fmt gives the source bytes" cmp -s "$WORK/out" "$S/$app/bin/run"
	for f in $(cd "$S" && find $paths -type f); do
		"$SD" cat "$img" "$f" >"$WORK/cat" 2>"$WORK/err" && cmp -s "$WORK/cat" "$S/$f" ||
			fail "cat $fmt $f"
	done
	ok "cat $fmt: every file equals the source"
	expect_rc 1 "cat of a directory fails" "$SD" cat "$img" "$app"
	expect_rc 1 "cat of a missing file fails" "$SD" cat "$img" "$app/nope"
	if [ -n "$lnk" ]; then
		expect_rc 1 "cat of a symlink fails" "$SD" cat "$img" "$lnk"
	fi
done
expect_rc 2 "ls of a non-image fails with 2" "$SD" ls "$WORK/closure"
expect_rc 2 "cat without PATH is a usage error" "$SD" cat "$WORK/a.sqfs"

# extract: the source tree, read-only, mtimes restored; only into an empty DIR.
for fmt in sqfs erofs; do
	x=$WORK/x-$fmt
	expect_rc 0 "extract $fmt" "$SD" extract "$WORK/a.$fmt" "$x"
	# shellcheck disable=SC2086
	check "extract $fmt equals the source" \
		python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner "$S" "$x" 77 $paths
	expect_rc 1 "extract $fmt into a non-empty DIR is refused" \
		"$SD" extract "$WORK/a.$fmt" "$x"
	expect_rc 0 "extract --path --writable $fmt" "$SD" extract --writable \
		--path "/nix/store/$app" "$WORK/a.$fmt" "$x-one"
	check "extract --path $fmt gives the store path's contents" \
		cmp -s "$x-one/bin/run" "$S/$app/bin/run"
	check "extract --writable leaves files writable" [ -w "$x-one/bin/run" ]
	expect_rc 0 "extract --path of one file $fmt" "$SD" extract \
		--path "/nix/store/$app/bin/run" "$WORK/a.$fmt" "$x-file"
	check "... says 1 file, in the singular" \
		grep -q "^extracted 0 directories, 1 file ([0-9]* bytes), 0 symlinks$" "$WORK/err"
done

# Hostile images: symlinks pointing outside DIR, entries that would go
# through them, "../" names.  Nothing may appear outside DIR.
if command -v mksquashfs >/dev/null; then
	out=$(mktemp -d /tmp/sd-outside.XXXXXX)
	h=$WORK/hostile
	mkdir -p "$h/p"
	ln -s "$out" "$h/p/evil"
	ln -s ../../../../../../.. "$h/p/up"
	echo data >"$h/p/~~"
	mksquashfs "$h" "$WORK/h1.sqfs" -quiet -noappend -all-root >/dev/null 2>&1
	expect_rc 0 "extract of an image with outward symlinks" \
		"$SD" extract "$WORK/h1.sqfs" "$WORK/hx1"
	check "the symlinks are created, not followed" \
		[ "$(readlink "$WORK/hx1/p/evil")" = "$out" ]
	# A directory and a file trying to go through the symlink "evil".
	mksquashfs "$h" "$WORK/h2.sqfs" -quiet -noappend -all-root \
		-p "p/evil d 755 0 0" -p "p/evil/pwned f 644 0 0 echo pwned" \
		>/dev/null 2>&1
	if [ -f "$WORK/h2.sqfs" ]; then
		"$SD" extract "$WORK/h2.sqfs" "$WORK/hx2" >"$WORK/out" 2>"$WORK/err"
		rc=$?
		check "extract through a symlink: clean exit ($rc)" [ "$rc" -le 2 ]
	fi
	# A name ".." (patched into an uncompressed image) is refused.
	mksquashfs "$h" "$WORK/h3.sqfs" -quiet -noappend -all-root -noI -noD -noF \
		>/dev/null 2>&1
	if python3 "$SRCDIR/tests/cli/rename-entry.py" "$WORK/h3.sqfs" '~~' '..'; then
		expect_rc 2 "extract of an image with a '..' name fails cleanly" \
			"$SD" extract "$WORK/h3.sqfs" "$WORK/hx3"
	else
		skip "could not patch a '..' name into a squashfs image"
	fi
	# The same '..' name in an EROFS image.
	H=$WORK/hs/nix/store
	mkdir -p "$H/00000000000000000000000000000000-x"
	echo data >"$H/00000000000000000000000000000000-x/~~"
	"$SD" pack --format erofs -o "$WORK/h4.erofs" --store "$H" \
		/nix/store/00000000000000000000000000000000-x >/dev/null 2>&1
	if python3 "$SRCDIR/tests/cli/rename-entry.py" "$WORK/h4.erofs" '~~' '..'; then
		expect_rc 2 "extract of an EROFS image with a '..' name fails cleanly" \
			"$SD" extract "$WORK/h4.erofs" "$WORK/hx4"
		check "nothing was extracted beside DIR" test ! -e "$WORK/data" -a ! -e "$H/~~"
	else
		skip "could not patch a '..' name into an EROFS image"
	fi
	check "nothing was written outside DIR" [ -z "$(ls -A "$out")" ]
	check "nothing was written beside the image dirs" \
		test ! -e "$WORK/pwned" -a ! -e /pwned
	rmdir "$out"
else
	skip "hostile images: mksquashfs is missing"
fi

# diff: squashfs and EROFS of the same closure have the same contents; one
# changed byte and one mode change are found; a smaller closure shows
# removed store paths.
expect_rc 0 "diff squashfs vs EROFS of the same closure: identical" \
	"$SD" diff "$WORK/a.sqfs" "$WORK/a.erofs"
cp -r "$WORK/s" "$WORK/s2" && chmod -R u+w "$WORK/s2"
S2=$WORK/s2/nix/store
zlib=$(cd "$S" && ls -d ./*-demo-zlib-* | cut -c3-)
libc=$(cd "$S" && ls -d ./*-demo-libc-* | cut -c3-)
zf=$(cd "$S2" && find "$zlib" -type f | head -1)
lf=$(cd "$S2" && find "$libc" -type f | head -1)
printf 'Z' | dd of="$S2/$zf" bs=1 seek=5 conv=notrunc 2>/dev/null
chmod 755 "$S2/$lf"
"$SD" pack -o "$WORK/b.erofs" --format erofs --mtime 77 --store "$S2" "$root" \
	>/dev/null 2>&1 || fail "pack the changed store"
expect_rc 1 "diff of a changed closure exits 1" "$SD" diff "$WORK/a.sqfs" "$WORK/b.erofs"
check "diff reports the changed byte's offset" \
	grep -qF "changed /nix/store/$zf: content differs from byte 5" "$WORK/out"
check "diff reports the mode change" \
	grep -qF "changed /nix/store/$lf: mode 0444 -> 0555" "$WORK/out"
check "diff reports exactly two changes" [ "$(grep -c '^changed ' "$WORK/out")" -eq 2 ]
expect_rc 1 "diff --json" "$SD" diff --json "$WORK/a.sqfs" "$WORK/b.erofs"
check "diff --json parses and names both store paths" python3 - "$WORK/out" "$zlib" "$libc" "$zf" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["identical"] is False
assert sorted(d["store_paths"]["changed"]) == sorted(sys.argv[2:4]), d
e = [e for e in d["entries"] if e["path"] == "/nix/store/" + sys.argv[4]][0]
assert e["change"] == "changed" and e["fields"] == ["content"] and e["first_difference"] == 5, e
PY
"$SD" pack -o "$WORK/c.sqfs" --mtime 77 --store "$S" "/nix/store/$libc" >/dev/null 2>&1
expect_rc 1 "diff against a smaller closure" "$SD" diff --json "$WORK/a.sqfs" "$WORK/c.sqfs"
check "diff lists the removed store paths" python3 - "$WORK/out" "$libc" $paths <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d["store_paths"]["removed"]) == sorted(set(sys.argv[3:]) - {sys.argv[2]}), d
assert d["store_paths"]["added"] == [] and d["store_paths"]["changed"] == [], d
PY
expect_rc 0 "diff --json of identical images" "$SD" diff --json "$WORK/a.erofs" "$WORK/a.sqfs"
check "diff --json says identical" python3 -c \
	'import json,sys; assert json.load(open(sys.argv[1]))["identical"] is True' "$WORK/out"
expect_rc 2 "diff with an unreadable image exits 2" "$SD" diff "$WORK/a.sqfs" "$WORK/closure"
# diff pairs store paths by name as `nix store diff-closures` does; the
# embedded registration is an image file, not a store path.
h() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
mkpath() { # STORE SEED NAME BYTES
	mkdir -p "$1/$(h "$2")-$3" && head -c "$4" /dev/zero >"$1/$(h "$2")-$3/data"
	echo "/nix/store/$(h "$2")-$3" >>"$1.list"
}
VA=$WORK/va/nix/store VB=$WORK/vb/nix/store
mkpath "$VA" h1 hello-2.12 1000
mkpath "$VB" h2 hello-2.12.1 13600
mkpath "$VA" g glibc-2.37-8 500
mkpath "$VB" g glibc-2.37-8 500
mkpath "$VA" gb glibc-2.37-8-bin 70
mkpath "$VB" gb glibc-2.37-8-bin 70
mkpath "$VA" t1 tool-1.0 100
mkpath "$VB" t2 tool-1.0 140
mkpath "$VA" o oldpkg-3 2048
mkpath "$VB" n newpkg-0.1 5
for v in a b; do
	d=$WORK/v$v/nix/store
	"$SD" pack -q --no-digest --embed-registration -o "$WORK/v$v.img" --paths "$d.list" --store "$d" ||
		fail "pack the versioned store $v"
done
expect_rc 1 "diff of two versions of a closure" "$SD" diff "$WORK/va.img" "$WORK/vb.img"
sed -n '/^store paths by name:$/,$p' "$WORK/out" >"$WORK/byname"
cat >"$WORK/want" <<'EOF2'
store paths by name:
  hello: 2.12 → 2.12.1, +12.3 KiB
  newpkg: ∅ → 0.1, +5 B
  oldpkg: 3 → ∅, -2.0 KiB
  tool: 1.0, other hash, +40 B
store paths: 3 added, 3 removed, 0 changed; image files changed: 1
EOF2
check "diff pairs store paths by name (Nix's name/version split)" cmp -s "$WORK/byname" "$WORK/want"
check "the embedded registration is shown as a changed file of the image" \
	grep -qF "changed /nix/store/nix-path-registration: " "$WORK/out"
expect_rc 1 "diff --json of two versions" "$SD" diff --json "$WORK/va.img" "$WORK/vb.img"
check "diff --json: closure_changes, and the registration is no store path" python3 - "$WORK/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = {x["name"]: x for x in d["closure_changes"]}
assert sorted(c) == ["hello", "newpkg", "oldpkg", "tool"], c
assert c["hello"] == {"name": "hello", "versions_a": ["2.12"], "versions_b": ["2.12.1"], "size_delta": 12600}, c
assert c["oldpkg"]["versions_b"] == [] and c["oldpkg"]["size_delta"] == -2048, c
assert c["tool"]["versions_a"] == c["tool"]["versions_b"] == ["1.0"], c
assert d["image_files"] == ["nix-path-registration"], d
sp = d["store_paths"]
assert "nix-path-registration" not in sp["changed"] + sp["added"] + sp["removed"], sp
assert len(sp["added"]) == 3 and len(sp["removed"]) == 3 and sp["changed"] == [], sp
PY

# export --tar: deterministic (same bytes from a file and a pipe, from
# squashfs and EROFS), entries named nix/store/..., owner 0:0 without names.
expect_rc 0 "export squashfs to a file" "$SD" export "$WORK/a.sqfs" --tar "$WORK/t1.tar"
"$SD" export "$WORK/a.erofs" --tar - >"$WORK/t2.tar" 2>"$WORK/err" || fail "export erofs to stdout"
check "two exports are byte-identical" cmp -s "$WORK/t1.tar" "$WORK/t2.tar"
check "tar -tvf lists the entries" tar -tvf "$WORK/t1.tar" >"$WORK/tv"
check "tar -tvf shows the executable" grep -qF "r-xr-xr-x 0/0" "$WORK/tv"
(cd "$S" && find $paths | sed 's|^|nix/store/|' | LC_ALL=C sort) >"$WORK/want"
tar -tf "$WORK/t1.tar" | sed 's|/$||' | LC_ALL=C sort >"$WORK/got"
check "the tar holds every entry under nix/store/" cmp -s "$WORK/got" "$WORK/want"
check "tar entries: owner 0:0, no names, mtime 77, no atime/ctime" python3 - "$WORK/t1.tar" <<'PY'
import sys, tarfile
for m in tarfile.open(sys.argv[1]).getmembers():
    assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "", "", 77), m
    assert not {"atime", "ctime"} & set(m.pax_headers), m.pax_headers
PY
mkdir "$WORK/tx" && tar -xf "$WORK/t1.tar" -C "$WORK/tx" 2>"$WORK/err"
# shellcheck disable=SC2086
check "the tar extracts to the source" python3 "$SRCDIR/tests/cli/compare-tree.py" \
	--no-owner "$S" "$WORK/tx/nix/store" 77 $paths
"$SD" export --prefix '' "$WORK/a.sqfs" --tar - 2>/dev/null | tar -tf - | head -1 >"$WORK/first"
check "export --prefix '' names store paths at the top" grep -q '^[0-9a-z]\{32\}-' "$WORK/first"
expect_rc 2 "export of a non-image exits 2" "$SD" export "$WORK/closure" --tar "$WORK/t3.tar"
check "a failed export leaves no file" [ ! -e "$WORK/t3.tar" ]
finish
