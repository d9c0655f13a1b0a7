#!/bin/sh
# SPDX-License-Identifier: MIT
# pack --root-symlink NAME=TARGET: a symlink at the image root (such as
# `system` -> the toplevel) for every input (store, --tar, --nix-export)
# and both formats; it resolves under a real kernel mount; the same bytes
# whatever the order of the options and whichever form TARGET takes; bad
# NAMEs and repeated NAMEs are usage errors (exit 2), TARGETs outside the
# image failures (exit 1) with nothing left at IMAGE.  verify accepts a
# root symlink that resolves inside the image and reports it, and calls
# one that does not (images made by mksquashfs / mkfs.erofs) a violation;
# registration ignores it; ls, diff and export show it (diff as files of
# the image, never among store paths).
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
libc=$(ls "$S" | grep demo-libc)
unused=$(ls "$S" | grep demo-unused)
ln -s "$root" "$WORK/result"
ln -s "s/nix/store/$app" "$WORK/result-rel"
ln -s "$S/$app/share/libc-link" "$WORK/libc-link"
# The closure alone (without $unused), as a directory, a tar and an
# export stream.
closure=$("$SD" closure --store "$S" --scan "$root")
C=$WORK/c/nix/store
mkdir -p "$C"
for p in $closure; do cp -a "$S/${p#/nix/store/}" "$C/"; done
(cd "$WORK/c" && tar --create -f "$WORK/closure.tar" nix/store/*)
python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/closure.exp" "$C"

pk() { "$SD" pack -q --store "$S" --scan "$@"; }

for fmt in squashfs erofs; do
	img=$WORK/sys-$fmt.img
	expect_rc 0 "$fmt: pack with --root-symlink system=./result" \
		pk --format "$fmt" -o "$img" "$root" \
		--root-symlink "system=$WORK/result" \
		--root-symlink "bin=$root/bin" \
		--root-symlink "libc=$app/share/libc-link"
	"$SD" ls -l "$img" >"$WORK/ls"
	check "$fmt: ls shows system -> $app (relative)" \
		contains "$WORK/ls" "system -> $app"
	check "$fmt: ls shows bin -> $app/bin" \
		contains "$WORK/ls" "bin -> $app/bin"

	# Same bytes: option order reversed, TARGET as a logical path, a
	# basename and a physical path.
	pk --format "$fmt" -o "$WORK/rev-$fmt.img" "$root" \
		--root-symlink "libc=$S/$app/share/libc-link" \
		--root-symlink "bin=$S/$app/bin" \
		--root-symlink "system=$app"
	check "$fmt: same bytes whatever the option order and TARGET form" \
		[ "$(sha "$img")" = "$(sha "$WORK/rev-$fmt.img")" ]
	# Host paths: a relative link into the physical store, a physical
	# path (with --store given with a trailing slash), a link to a link.
	(cd "$WORK" && "$SD" pack -q --store "$S/" --scan --format "$fmt" \
		-o "phys-$fmt.img" "$root" --root-symlink "system=result-rel" \
		--root-symlink "bin=s/nix/store/$app/bin" \
		--root-symlink "libc=$WORK/libc-link")
	check "$fmt: same bytes from host paths into the physical store" \
		[ "$(sha "$img")" = "$(sha "$WORK/phys-$fmt.img")" ]
	# The stream inputs.
	"$SD" pack -q --format "$fmt" -o "$WORK/tar-$fmt.img" \
		--tar "$WORK/closure.tar" --root-symlink "system=$root" \
		--root-symlink "bin=$app/bin" \
		--root-symlink "libc=$app/share/libc-link"
	check "$fmt: --tar with the links = store input" \
		[ "$(sha "$img")" = "$(sha "$WORK/tar-$fmt.img")" ]
	"$SD" pack -q --format "$fmt" -o "$WORK/exp-$fmt.img" \
		--nix-export - --root-symlink "libc=$app/share/libc-link" \
		--root-symlink "bin=$app/bin" --root-symlink "system=$root" \
		<"$WORK/closure.exp"
	check "$fmt: --nix-export with the links = store input" \
		[ "$(sha "$img")" = "$(sha "$WORK/exp-$fmt.img")" ]

	# verify: accepted, counted and reported.
	expect_rc 0 "$fmt: verify accepts root symlinks that resolve" \
		"$SD" verify "$img"
	check "$fmt: verify reports the link" \
		contains "$WORK/out" "root symlink: system -> $app (resolves"
	check "$fmt: links are not counted as store paths" \
		contains "$WORK/out" "self-contained: 6 store paths"
	"$SD" verify --json "$img" >"$WORK/v.json"
	check "$fmt: verify --json lists root_symlinks" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
want = [{'name': 'bin', 'target': sys.argv[2] + '/bin', 'resolves': True},
        {'name': 'libc', 'target': sys.argv[2] + '/share/libc-link',
         'resolves': True},
        {'name': 'system', 'target': sys.argv[2], 'resolves': True}]
assert d['root_symlinks'] == want, d['root_symlinks']
assert d['self_contained'] and d['paths'] == 6 and not d['violations']
" "$WORK/v.json" "$app"

	# The kernel resolves the links wherever the image is mounted.
	if can_mount; then
		mnt=$WORK/mnt-$fmt
		if mount_image "$img" "$mnt"; then
			check "$fmt: mounted: system/bin/app reads the app" \
				cmp "$mnt/system/bin/app" "$S/$app/bin/app"
			check "$fmt: mounted: bin/app through the link" \
				cmp "$mnt/bin/app" "$S/$app/bin/app"
			check "$fmt: mounted: readlink system is relative" \
				[ "$(readlink "$mnt/system")" = "$app" ]
			umount_image "$mnt"
		else
			fail "$fmt: mount -o loop,ro $img"
		fi
	else
		skip "$fmt: kernel mount (loop mounts not permitted here)"
	fi

	# export and diff show the links.
	"$SD" export "$img" --tar - | tar tvf - >"$WORK/tar.lst"
	check "$fmt: export --tar has nix/store/system -> $app" \
		contains "$WORK/tar.lst" "nix/store/system -> $app"
	pk --format "$fmt" -o "$WORK/plain-$fmt.img" "$root"
	expect_rc 1 "$fmt: diff against the image without links differs" \
		"$SD" diff "$WORK/plain-$fmt.img" "$img"
	check "$fmt: diff names the added link" \
		contains "$WORK/out" "added   /nix/store/system (symlink)"
	check "$fmt: diff counts the links as image files, not store paths" \
		contains "$WORK/out" \
		"store paths: 0 added, 0 removed, 0 changed; image files changed: 3"
	check "$fmt: diff lists no link among store paths by name" \
		sh -c "! grep -q '^store paths by name:' '$WORK/out'"

	# Registration ignores the links.
	expect_rc 0 "$fmt: pack --embed-registration with a link" \
		pk --format "$fmt" -o "$WORK/reg-$fmt.img" "$root" \
		--embed-registration --root-symlink "system=$app"
	expect_rc 0 "$fmt: verify: embedded registration, link ignored" \
		"$SD" verify "$WORK/reg-$fmt.img"
	check "$fmt: verify checked the embedded registration" \
		contains "$WORK/out" "registration: embedded, 6 paths"
	"$SD" registration --image "$WORK/reg-$fmt.img" >"$WORK/r1"
	"$SD" registration --image "$WORK/plain-$fmt.img" >"$WORK/r2"
	check "$fmt: registration --image ignores the link" \
		cmp "$WORK/r1" "$WORK/r2"
	check "$fmt: registration does not name the link" \
		sh -c "! grep -q system '$WORK/r1'"

	# Against the image of a smaller closure with a registration: the
	# store-path lists hold valid store path names only; the links and
	# nix-path-registration are image files.
	pk --format "$fmt" -o "$WORK/small-$fmt.img" "$S/$libc"
	expect_rc 1 "$fmt: diff --json against a smaller closure" \
		"$SD" diff --json "$WORK/small-$fmt.img" "$WORK/reg-$fmt.img"
	check "$fmt: diff --json: store paths are store paths, links image files" \
		python3 - "$WORK/out" "$app" "$libc" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
app, libc = sys.argv[2], sys.argv[3]
sp = d["store_paths"]
name = re.compile(r"^[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+$")
for k in ("added", "removed", "changed"):
    for n in sp[k]:
        assert name.match(n), (k, n)
assert app in sp["added"], sp
assert libc not in sp["added"] and sp["removed"] == [], sp
assert d["image_files"] == ["nix-path-registration", "storedisk-manifest", "system"], d["image_files"]
assert all(c["name"] not in ("system", "nix-path-registration")
           for c in d["closure_changes"]), d["closure_changes"]
PY
done

# Bad NAMEs and repeated NAMEs: exit 2; bad TARGETs: exit 1; never an
# image left behind.
out=$WORK/bad.img
bad() {
	want=$1
	desc=$2
	shift 2
	expect_rc "$want" "$desc" pk -o "$out" "$root" "$@"
	check "$desc: nothing at IMAGE" [ ! -e "$out" ]
	check "$desc: one-line error naming the option" \
		sh -c "[ \$(wc -l <'$WORK/err') -eq 1 ] &&
			grep -q -- '--root-symlink' '$WORK/err'"
}
bad 2 "no '='" --root-symlink system
bad 2 "empty NAME" --root-symlink "=$app"
bad 2 "NAME with '/'" --root-symlink "a/b=$app"
bad 2 "NAME '..'" --root-symlink "..=$app"
bad 2 "NAME shaped like a store path" --root-symlink "$app=$app"
bad 2 "NAME a bare hash" --root-symlink "$(echo "$app" | cut -c1-32)=$app"
bad 2 "NAME nix-path-registration" \
	--root-symlink "nix-path-registration=$app"
bad 2 "NAME storedisk-manifest" --root-symlink "storedisk-manifest=$app"
bad 2 "NAME given twice" --root-symlink "system=$app" \
	--root-symlink "system=$app/bin"
bad 1 "TARGET outside the store" --root-symlink "system=/etc"
bad 1 "TARGET not in the closure" --root-symlink "system=$unused"
bad 1 "TARGET not in the store" \
	--root-symlink "system=/nix/store/00000000000000000000000000000000-x"
bad 1 "TARGET sub path missing" --root-symlink "system=$app/bin/nope"
bad 1 "TARGET with '..'" --root-symlink "system=$app/../$libc"
bad 1 "TARGET host path missing" --root-symlink "system=$WORK/nope"
bad 1 "TARGET invalid store path name" \
	--root-symlink "system=/nix/store/not-a-store-path"
expect_rc 1 "--tar: TARGET not in the stream" "$SD" pack -q -o "$out" \
	--tar "$WORK/closure.tar" --root-symlink "system=$unused"
check "--tar: nothing at IMAGE" [ ! -e "$out" ]
check "the error names the target" contains "$WORK/err" "$unused"

# Images from other tools: mksquashfs and mkfs.erofs of a directory whose
# root holds symlinks; the ones pointing outside are violations.
tree=$C
ln -s "$app" "$tree/system"
ln -s "/nix/store/$app/bin" "$tree/bin"
mk_image() { # FORMAT DIR IMAGE
	rm -f "$3"
	if [ "$1" = squashfs ]; then
		mksquashfs "$2" "$3" -quiet -noappend -all-root >/dev/null
	else
		mkfs.erofs --quiet --all-root "$3" "$2" >/dev/null
	fi
}
for fmt in squashfs erofs; do
	if ! command -v mksquashfs >/dev/null || ! command -v mkfs.erofs >/dev/null; then
		skip "$fmt: foreign images (mksquashfs or mkfs.erofs missing)"
		continue
	fi
	mk_image "$fmt" "$tree" "$WORK/good-$fmt.img"
	expect_rc 0 "$fmt (foreign): relative and <store-dir> links resolve" \
		"$SD" verify "$WORK/good-$fmt.img"
	for t in /etc/passwd "../$app" "$unused" system "$app/nope" \
		"/nix/store/$app/share/libc-link/x"; do
		rm -f "$tree/escape"
		ln -s "$t" "$tree/escape"
		mk_image "$fmt" "$tree" "$WORK/bad-$fmt.img"
		expect_rc 1 "$fmt (foreign): root symlink to $t is a violation" \
			"$SD" verify "$WORK/bad-$fmt.img"
		check "$fmt (foreign): the violation names the link" \
			contains "$WORK/out" "violation: /nix/store/escape:0 (symlink target): $t: root symlink whose target does not resolve"
		"$SD" verify --json "$WORK/bad-$fmt.img" >"$WORK/b.json"
		check "$fmt (foreign): --json resolves false for $t" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
l = {x['name']: x for x in d['root_symlinks']}
assert l['escape'] == {'name': 'escape', 'target': sys.argv[2],
                       'resolves': False}, l
assert l['system']['resolves'] and l['bin']['resolves']
assert [v['file'] for v in d['violations']] == ['/nix/store/escape']
" "$WORK/b.json" "$t"
	done
	rm -f "$tree/escape"
done

finish
