#!/bin/sh
# SPDX-License-Identifier: MIT
# Layered images: a base holds the closure of root A, a layer packed with
# --base holds closure(B) minus closure(A); verify --base proves the union
# self-contained and verify alone names the references into the base; a
# base whose embedded registration contradicts the closure's narHash is
# refused; the layer is reproducible; base and layer mounted through
# overlayfs equal the source store.  Squashfs and EROFS, mixed too.
. "$SRCDIR/tests/cli/lib.sh"

. "$SRCDIR/tests/cli/layers-lib.sh"

"$SD" closure --store "$S" "$B" | sed 's|.*/||' | sort >"$WORK/clB"
comm -23 "$WORK/clB" "$WORK/clA" >"$WORK/want-layer"
check "the demo closures overlap and the layer is not empty" \
	[ "$(wc -l <"$WORK/clA")" -eq 3 ] && [ "$(wc -l <"$WORK/want-layer")" -eq 3 ]

# layer_checks FMT_BASE FMT_LAYER
layer_checks() {
	fb=$1 fl=$2 t="$1 base, $2 layer"
	base=$WORK/base.$fb
	layer=$WORK/layer-$fb.$fl
	expect_rc 0 "$t: pack the base" "$SD" pack -q --format "$fb" --mtime $M \
		--embed-registration -o "$base" --store "$S" "$A"
	expect_rc 0 "$t: pack the layer with --base" "$SD" pack --format "$fl" --mtime $M \
		--jobs 1 --base "$base" -o "$layer" --store "$S" "$B"
	check "$t: the summary counts the layer's and the base's paths" \
		contains "$WORK/out" "store paths: 3 in the layer, 3 from the bases (6 in the closure)"
	check "$t: the summary names the base" contains "$WORK/out" "from base $base ($fb, 3 store paths): 3"
	"$SD" ls "$layer" | sort >"$WORK/got-layer"
	check "$t: the layer holds exactly closure(B) minus closure(A)" \
		cmp -s "$WORK/got-layer" "$WORK/want-layer"
	"$SD" pack -q --format "$fl" --mtime $M --jobs 2 --base "$base" \
		-o "$WORK/again.$fl" --store "$S" "$B"
	check "$t: the layer is reproducible (jobs 1 and 2)" \
		[ "$(sha "$layer")" = "$(sha "$WORK/again.$fl")" ]

	expect_rc 0 "$t: verify --base proves the union self-contained" \
		"$SD" verify --base "$base" "$layer"
	check "$t: verify --base reports the references the base resolved" \
		contains "$WORK/out" "resolved by $base:"
	check "$t: verify --base says the union is self-contained" \
		contains "$WORK/out" "the union is self-contained"
	expect_rc 0 "$t: verify --base --json" "$SD" verify --json --base "$base" "$layer"
	check "$t: --json counts the references resolved by the base" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['union_self_contained'] is True, d
assert d['self_contained'] is True, d
r = d['resolved_by']
assert len(r) == 1 and r[0]['image'] == '$base', r
assert r[0]['references'] > 0 and r[0]['paths'] == 3, r
assert d['references_resolved_by_bases'] == r[0]['references'], d
b = d['bases'][0]
assert b['image'] == '$base' and b['self_contained'] is True, b
assert b['paths'] == 3, b
"
	expect_rc 1 "$t: verify without --base fails" "$SD" verify "$layer"
	check "$t: ... naming a reference into the base" \
		grep -q "violation: .*$(sed -n 1p "$WORK/clA")" "$WORK/out"
	expect_rc 1 "$t: a layer over a wrong base fails verify" \
		"$SD" verify --base "$WORK/wrong.$fb" "$layer"

	if [ "$can_overlay" = yes ]; then
		mb=$WORK/mnt-base ml=$WORK/mnt-layer u=$WORK/union
		mount_image "$base" "$mb" && mount_image "$layer" "$ml" && mkdir -p "$u" &&
			mount -t overlay overlay -o "ro,lowerdir=$ml:$mb" "$u" && MOUNTS="$u $MOUNTS"
		ls "$u" >"$WORK/union-root"
		(cat "$WORK/clB"; echo nix-path-registration; echo storedisk-manifest) | sort >"$WORK/want-root"
		check "$t: the overlay's root is closure(B) and the base's registration" \
			cmp -s "$WORK/union-root" "$WORK/want-root"
		check "$t: overlay of layer and base equals closure(B) byte for byte" \
			python3 "$SRCDIR/tests/cli/compare-tree.py" --root-extra=nix-path-registration \
			--root-extra=storedisk-manifest "$S" "$u" $M $(cat "$WORK/clB")
		umount "$u"
		umount "$ml"
		umount "$mb"
	else
		skip "$t: overlay mount: $can_overlay"
	fi
}

# A wrong base: only the libc of closure(A).
libc=$(grep demo-libc "$WORK/clA")
"$SD" pack -q --mtime $M -o "$WORK/wrong.squashfs" --store "$S" "/nix/store/$libc"
"$SD" pack -q --format erofs --mtime $M -o "$WORK/wrong.erofs" --store "$S" "/nix/store/$libc"

# Can this machine mount images and overlays?  Probe with a throwaway image.
can_overlay=yes
if ! can_mount; then
	can_overlay="loop mounts are not permitted here"
elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
	can_overlay="no overlayfs in this kernel"
fi

for fb in squashfs erofs; do
	for fl in squashfs erofs; do
		layer_checks $fb $fl
	done
done

# The reference check of a given closure treats references into a base as
# resolved, and the paths of a --paths list that a base holds are left out.
"$SD" closure --store "$S" "$B" >"$WORK/paths"
expect_rc 0 "--paths: a layer over a base packs" "$SD" pack -q --mtime $M \
	--base "$WORK/base.squashfs" -o "$WORK/lp.sqfs" --paths "$WORK/paths" --store "$S" "$B"
"$SD" ls "$WORK/lp.sqfs" | sort >"$WORK/got-layer"
check "--paths: the layer holds closure(B) minus closure(A)" cmp -s "$WORK/got-layer" "$WORK/want-layer"
check "--paths: the same bytes as from a scan" [ "$(sha "$WORK/lp.sqfs")" = "$(sha "$WORK/layer-squashfs.squashfs")" ]

expect_rc 0 "pack --json with a base" "$SD" pack --json --mtime $M --base "$WORK/base.erofs" \
	-o "$WORK/lj.sqfs" --store "$S" "$B"
check "pack --json counts the layer's and the base's paths" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['store_paths'] == 3 and d['store_paths_from_bases'] == 3, d
b = d['bases']
assert len(b) == 1 and b[0]['image'] == '$WORK/base.erofs', b
assert b[0]['format'] == 'erofs' and b[0]['store_paths'] == 3 and b[0]['store_paths_used'] == 3, b
assert d['sha256'] == '$(sha "$WORK/layer-squashfs.squashfs")', d
"

# narHash: the closure's source against the base's embedded registration.
"$SD" closure --json --store "$S" "$B" >"$WORK/clB.json"
python3 "$SRCDIR/tests/cli/nar-reg.py" "$S" "$WORK/clB.json" >"$WORK/reg"
expect_rc 0 "--registration agreeing with the base's registration packs" \
	"$SD" pack -q --mtime $M --base "$WORK/base.squashfs" -o "$WORK/lr.sqfs" \
	--registration "$WORK/reg" --store "$S" "$B"
zlib=$(grep demo-zlib "$WORK/clA")
python3 "$SRCDIR/tests/cli/reg-edit.py" "$WORK/reg" "$WORK/reg-bad" hash "/nix/store/$zlib" \
	"$(printf 'x' | sha256sum | cut -d' ' -f1)"
for fb in squashfs erofs; do
	expect_rc 2 "$fb: a base contradicting the closure's narHash is refused" \
		"$SD" pack -q --mtime $M --base "$WORK/base.$fb" -o "$WORK/lbad.sqfs" \
		--registration "$WORK/reg-bad" --store "$S" "$B"
	check "$fb: ... naming the path" contains "$WORK/err" "/nix/store/$zlib"
	check "$fb: ... and both narHashes" [ "$(grep -o 'sha256:[0-9a-z]*' "$WORK/err" | sort -u | wc -l)" -eq 2 ]
	check "$fb: ... and nothing is left at the output" [ ! -e "$WORK/lbad.sqfs" ]
done
# Without a registration in the base only the names are compared.
"$SD" pack -q --mtime $M -o "$WORK/base-noreg.sqfs" --store "$S" "$A"
expect_rc 0 "a base without a registration: only names are checked" \
	"$SD" pack -q --mtime $M --base "$WORK/base-noreg.sqfs" -o "$WORK/lnr.sqfs" \
	--registration "$WORK/reg-bad" --store "$S" "$B"

# Two bases, in order: libc alone, then closure(A).
expect_rc 0 "two bases: pack" "$SD" pack --mtime $M --base "$WORK/wrong.squashfs" \
	--base "$WORK/base.erofs" -o "$WORK/l2.sqfs" --store "$S" "$B"
check "two bases: each counted" contains "$WORK/out" "from base $WORK/wrong.squashfs (squashfs, 1 store path): 1"
check "two bases: a path held by both counts for the first" \
	contains "$WORK/out" "from base $WORK/base.erofs (erofs, 3 store paths): 2"
expect_rc 0 "two bases: the union verifies" "$SD" verify --base "$WORK/wrong.squashfs" \
	--base "$WORK/base.erofs" "$WORK/l2.sqfs"
check "two bases: no order warning in the right order" sh -c "! grep -q swapped '$WORK/err'"

# A layer and its base swapped: the union is the same and verifies, but
# the base given (the layer) refers to paths only the image above it holds.
L=$WORK/layer-squashfs.squashfs
expect_rc 0 "verify --base: the layer and its base swapped still verify the union" \
	"$SD" verify --base "$L" "$WORK/base.squashfs"
check "... with a warning naming the base, a path and the image holding it" \
	grep -q "warning: --base $L refers to /nix/store/.*-demo-.*, which only $WORK/base.squashfs holds, .*the order looks swapped" "$WORK/err"
check "... that says what the order is" contains "$WORK/err" "lowerdir=IMAGE:BASE1:BASE2"
expect_rc 0 "verify --base --json: the swapped order" \
	"$SD" verify --json --base "$L" "$WORK/base.squashfs"
check "... lists an order warning" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['union_self_contained'] is True, d
w = d['order_warnings']
assert len(w) == 1 and w[0]['image'] == '$L', w
assert w[0]['held_by'] == '$WORK/base.squashfs' and w[0]['paths'] >= 1, w
assert w[0]['path'].startswith('/nix/store/'), w
"
expect_rc 0 "verify --base --json: the right order" \
	"$SD" verify --json --base "$WORK/base.squashfs" "$L"
check "... has no order warning, and no warning on stderr" sh -c "
	python3 -c \"import json; assert json.load(open('$WORK/out'))['order_warnings'] == []\" &&
	! grep -q swapped '$WORK/err'"
expect_rc 0 "verify -q --base: the swapped order is quiet" \
	"$SD" verify -q --base "$L" "$WORK/base.squashfs"
check "... (-q prints no warning)" [ ! -s "$WORK/err" ]

# Without the base that holds openssl the union is not self-contained; and
# a base's own references are checked against the union too: here the
# "base" is the demo-app layer, whose openssl and zlib nothing holds.
expect_rc 1 "verify --base: a missing base fails" "$SD" verify --base "$WORK/wrong.squashfs" "$WORK/l2.sqfs"
check "... each violation says the path is in no image of the union" \
	grep -q "violation: .*: reference to a store path that is in no image of the union" "$WORK/out"
check "... and none says 'not in the image' (the union was searched)" \
	sh -c '! grep -q "not in the image" "$1"' - "$WORK/out"
expect_rc 1 "verify --base: the bases' references are checked as well" \
	"$SD" verify --base "$WORK/layer-squashfs.squashfs" "$WORK/wrong.squashfs"
check "... naming the base's reference outside the union" \
	grep -q "violation: /nix/store/$(grep demo-app "$WORK/clB")/.*$zlib" "$WORK/out"

# A closure the base holds whole: an empty layer, and a union that verifies.
expect_rc 0 "a closure the base holds whole packs an empty layer" "$SD" pack -q --format erofs \
	--base "$WORK/base.squashfs" -o "$WORK/empty.erofs" --store "$S" "$A"
check "... with no store path" [ -z "$("$SD" ls "$WORK/empty.erofs")" ]
expect_rc 0 "... and its union verifies" "$SD" verify --base "$WORK/base.squashfs" "$WORK/empty.erofs"

# A union whose images overlap counts each store path once.
"$SD" pack -q -o "$WORK/fullB.sqfs" --store "$S" "$B"
nB=$(wc -l <"$WORK/clB")
nA=$(wc -l <"$WORK/clA")
expect_rc 0 "verify --base under an image that holds the base's paths too" \
	"$SD" verify --base "$WORK/base.squashfs" "$WORK/fullB.sqfs"
check "... counts each store path of the union once, and says how many overlap" \
	sh -c "cat '$WORK/out' '$WORK/err' | grep -qF 'the union is self-contained: $nB store paths, $nB in the layer ($nA in more than one image)'"

# Bases that are not images, and refused combinations.
head -c 5000 /dev/urandom >"$WORK/random.img"
expect_rc 2 "pack --base: not an image gives 2" "$SD" pack -q -o "$WORK/x.sqfs" \
	--base "$WORK/random.img" --store "$S" "$B"
check "... naming it" contains "$WORK/err" "$WORK/random.img"
expect_rc 2 "pack --base: a missing file gives 2" "$SD" pack -q -o "$WORK/x.sqfs" \
	--base "$WORK/nope.img" --store "$S" "$B"
check "... naming it" contains "$WORK/err" "$WORK/nope.img"
check "... and nothing is written" [ ! -e "$WORK/x.sqfs" ]
expect_rc 2 "verify --base: not an image gives 2" "$SD" verify --base "$WORK/random.img" "$WORK/l2.sqfs"
check "... naming it" contains "$WORK/err" "$WORK/random.img"
cp "$WORK/base.squashfs" "$WORK/own.img"
sha_before=$(sha "$WORK/own.img")
expect_rc 2 "pack --base B -o B (the layer would replace its base) is refused" "$SD" pack -q \
	--base "$WORK/own.img" -o "$WORK/own.img" --store "$S" "$B"
check "... saying so" contains "$WORK/err" "is the base $WORK/own.img"
check "... and the base is untouched" [ "$(sha "$WORK/own.img")" = "$sha_before" ]
"$SD" export "$WORK/layer-squashfs.squashfs" --tar "$WORK/clB.tar"
expect_rc 2 "pack --base with --tar is refused" \
	"$SD" pack -q -o "$WORK/x.sqfs" --tar "$WORK/clB.tar" --base "$WORK/base.squashfs"
check "... saying --base needs a store" contains "$WORK/err" "--base needs a store"

finish
