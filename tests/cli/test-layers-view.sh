#!/bin/sh
# SPDX-License-Identifier: MIT
# Looking at a layered union without mounting it: ls, cat, extract, diff
# and why --image with --base see what the guest sees through overlayfs
# (lowerdir=LAYER:BASE).  A base holds the closure of root A, a layer over
# it closure(B) minus closure(A); squashfs and EROFS, mixed too.
. "$SRCDIR/tests/cli/lib.sh"

. "$SRCDIR/tests/cli/layers-lib.sh"

"$SD" closure --store "$S" "$B" | sed 's|.*/||' | sort >"$WORK/clB"
zlib=$(grep demo-zlib "$WORK/clA")
tool=$(grep 'demo-tool-1.0$' "$WORK/clB")
app=$(grep demo-app "$WORK/clB")

# A rebuild of the layer: demo-tool's script changed (same name: only its
# contents differ), packed over the same base.
cp -a "$WORK/s" "$WORK/s2"
chmod -R u+w "$WORK/s2"
printf '# rebuilt\n' >>"$WORK/s2/nix/store/$tool/bin/tool"

# The full closure(B) in one image: the union must show what it shows.
"$SD" pack -q --mtime $M -o "$WORK/full.sqfs" --store "$S" "$B"

can_overlay=yes
if ! can_mount; then
	can_overlay="loop mounts are not permitted here"
elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
	can_overlay="no overlayfs in this kernel"
fi

# view_checks FMT_BASE FMT_LAYER
view_checks() {
	fb=$1 fl=$2 t="$1 base, $2 layer"
	base=$WORK/base.$fb
	layer=$WORK/layer-$fb.$fl
	layer2=$WORK/layer2-$fb.$fl
	"$SD" pack -q --format "$fb" --mtime $M --embed-registration -o "$base" --store "$S" "$A"
	"$SD" pack -q --format "$fl" --mtime $M --base "$base" -o "$layer" --store "$S" "$B"
	"$SD" pack -q --format "$fl" --mtime $M --base "$base" -o "$layer2" \
		--store "$WORK/s2/nix/store" "$B"

	# ls: the union's top level is closure(B) and the base's root files
	expect_rc 0 "$t: ls --base" "$SD" ls --base "$base" "$layer"
	(cat "$WORK/clB" "$WORK/root-files") | sort >"$WORK/want-root"
	check "$t: ls --base lists exactly the union's top level" \
		cmp -s "$WORK/out" "$WORK/want-root"
	"$SD" ls "$layer" >"$WORK/layer-only"
	check "$t: ... which ls of the layer alone does not" \
		[ "$(wc -l <"$WORK/layer-only")" -lt "$(wc -l <"$WORK/out")" ]
	expect_rc 0 "$t: ls --base --json" "$SD" ls --json --base "$base" "$layer"
	check "$t: ls --base --json has the same entries" python3 -c "
import json
d = json.load(open('$WORK/out'))
want = open('$WORK/want-root').read().split()
assert [e['path'].rsplit('/', 1)[1] for e in d] == want, d
"
	# a base path inside the union: as the base shows it
	"$SD" ls -l "$base" "$zlib/lib" >"$WORK/base-l"
	expect_rc 0 "$t: ls -l --base of a base path" "$SD" ls -l --base "$base" "$layer" "/nix/store/$zlib/lib"
	check "$t: ... is the base's listing of it" cmp -s "$WORK/out" "$WORK/base-l"
	"$SD" ls -R -l "$WORK/full.sqfs" >"$WORK/full-R"
	"$SD" ls -R -l --base "$base" "$layer" | grep -v -e nix-path-registration \
		-e storedisk-manifest >"$WORK/union-R"
	check "$t: ls -R -l of the union equals the full image's" cmp -s "$WORK/union-R" "$WORK/full-R"
	expect_rc 0 "$t: cat --base of a base file" \
		"$SD" cat --base "$base" "$layer" "$zlib/lib/libz.so.1"
	check "$t: ... gives the store's bytes" cmp -s "$WORK/out" "$S/$zlib/lib/libz.so.1"
	expect_rc 1 "$t: cat of the layer alone has no base file" \
		"$SD" cat "$layer" "$zlib/lib/libz.so.1"
	rm -rf "$WORK/x"
	expect_rc 0 "$t: extract --base" "$SD" extract --base "$base" "$layer" "$WORK/x"
	check "$t: ... writes closure(B) as in the store" python3 "$SRCDIR/tests/cli/compare-tree.py" \
		--no-owner --root-extra=nix-path-registration --root-extra=storedisk-manifest \
		"$S" "$WORK/x" $M $(cat "$WORK/clB")
	chmod -R u+w "$WORK/x"
	rm -rf "$WORK/x"

	if [ "$can_overlay" = yes ]; then
		mb=$WORK/mnt-base ml=$WORK/mnt-layer u=$WORK/union
		mount_image "$base" "$mb" && mount_image "$layer" "$ml" && mkdir -p "$u" &&
			mount -t overlay overlay -o "ro,lowerdir=$ml:$mb" "$u" && MOUNTS="$u $MOUNTS"
		ls "$u" >"$WORK/mounted-root"
		"$SD" ls --base "$base" "$layer" >"$WORK/union-root"
		check "$t: ls --base equals ls of the overlayfs mount" \
			cmp -s "$WORK/union-root" "$WORK/mounted-root"
		(cd "$u" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >"$WORK/mounted-R"
		"$SD" ls -R --base "$base" "$layer" | LC_ALL=C sort >"$WORK/union-R"
		check "$t: ls -R --base equals find in the overlayfs mount" \
			cmp -s "$WORK/union-R" "$WORK/mounted-R"
		umount "$u"
		umount "$ml"
		umount "$mb"
	else
		skip "$t: overlay mount: $can_overlay"
	fi

	# diff: two builds of the layer over one base
	expect_rc 1 "$t: diff --base of two layer builds differs" \
		"$SD" diff --base "$base" "$layer" "$layer2"
	check "$t: ... in exactly the rebuilt path" \
		contains "$WORK/out" "store paths: 0 added, 0 removed, 1 changed"
	check "$t: ... naming only entries of it" \
		sh -c "! grep -v '^changed /nix/store/$tool/' '$WORK/out' | grep -qv -e '^store paths' -e '^  demo-tool' -e '^store paths by name'"
	check "$t: ... its script" contains "$WORK/out" "changed /nix/store/$tool/bin/tool: size"
	expect_rc 1 "$t: diff --base --json" "$SD" diff --json --base "$base" "$layer" "$layer2"
	check "$t: ... store_paths.changed is the rebuilt path alone" python3 -c "
import json
d = json.load(open('$WORK/out'))
sp = d['store_paths']
assert sp == {'added': [], 'removed': [], 'changed': ['$tool']}, sp
assert d['image_files'] == [], d
"
	expect_rc 0 "$t: diff --base of a layer with itself: identical" \
		"$SD" diff --base "$base" "$layer" "$layer"
	expect_rc 0 "$t: diff of the union against the full image: identical but the root files" \
		sh -c "'$SD' diff --base-a '$base' '$layer' '$WORK/full.sqfs' >'$WORK/d' 2>&1; [ \$? -eq 1 ] &&
			grep -q 'store paths: 0 added, 0 removed, 0 changed; image files changed: 2' '$WORK/d'"
	expect_rc 1 "$t: diff --base-a: the base's paths are on one side only" \
		"$SD" diff --base-a "$base" "$layer" "$layer2"
	check "$t: ... removed, with the rebuilt path changed" \
		contains "$WORK/out" "store paths: 0 added, 3 removed, 1 changed"

	# why --image --base: chains cross from the layer into the base
	for pair in "demo-app-1.0 demo-zlib-1.3" "demo-app-1.0 demo-libc-2.40" \
		"demo-openssl-3.0 demo-libc-2.40" "demo-tool-1.0-man demo-tool-1.0"; do
		set -- $pair
		"$SD" why --json --image "$WORK/full.sqfs" "$1" "$2" >"$WORK/why-full"
		expect_rc 0 "$t: why --image --base $1 $2 finds a chain" \
			"$SD" why --json --image "$layer" --base "$base" "$1" "$2"
		check "$t: ... the full image's chain" cmp -s "$WORK/out" "$WORK/why-full"
	done
	expect_rc 0 "$t: why --base: a chain from a layer path into the base" \
		"$SD" why --image "$layer" --base "$base" demo-app-1.0 demo-openssl-3.0
	check "$t: ... names the base path" contains "$WORK/out" "-> /nix/store/$(grep demo-openssl "$WORK/clA")"
	expect_rc 1 "$t: why --base: no chain where there is none" \
		"$SD" why --image "$layer" --base "$base" demo-libc-2.40 demo-app-1.0
	check "$t: ... said so" contains "$WORK/err" "is not in the closure of"
	expect_rc 1 "$t: why without --base: a base path is not in the layer" \
		"$SD" why --image "$layer" demo-app-1.0 demo-zlib-1.3
}

# The root files of the base (packed with --embed-registration).
printf 'nix-path-registration\nstoredisk-manifest\n' >"$WORK/root-files"

view_checks squashfs squashfs
view_checks erofs erofs
view_checks squashfs erofs

# A chain of two hops, the second into the base: x -> y (layer) -> z (base).
S3=$WORK/s3/nix/store
hx=0000000000000000000000000000000x hy=1111111111111111111111111111111y
hz=2222222222222222222222222222222z
mkdir -p "$S3/$hx-x" "$S3/$hy-y" "$S3/$hz-z"
printf 'see /nix/store/%s-y/\n' "$hy" >"$S3/$hx-x/f"
printf 'see /nix/store/%s-z/\n' "$hz" >"$S3/$hy-y/f"
printf 'the end\n' >"$S3/$hz-z/f"
"$SD" pack -q --mtime $M -o "$WORK/b3.erofs" --format erofs --store "$S3" "/nix/store/$hz-z"
"$SD" pack -q --mtime $M --base "$WORK/b3.erofs" -o "$WORK/l3.sqfs" --store "$S3" "/nix/store/$hx-x"
check "the three-path layer holds x and y" \
	[ "$("$SD" ls "$WORK/l3.sqfs" | tr '\n' ' ')" = "$hx-x $hy-y " ]
expect_rc 0 "why --base: a two-hop chain whose second hop is into the base" \
	"$SD" why --json --image "$WORK/l3.sqfs" --base "$WORK/b3.erofs" x z
check "... x -> y -> z" python3 -c "
import json
d = json.load(open('$WORK/out'))
c = d['chain']
assert [h['to'].rsplit('/', 1)[1] for h in c] == ['$hy-y', '$hz-z'], c
assert c[1]['file'] == '/nix/store/$hy-y/f' and c[1]['where'] == 'content', c
"

# Bad bases and --base without the image it applies to.
L=$WORK/layer-squashfs.squashfs
head -c 5000 /dev/urandom >"$WORK/random.img"
for cmd in "ls" "cat" "extract" "diff" "why"; do
	case $cmd in
	ls) args="$L" ;;
	cat) args="$L $zlib/lib/libz.so.1" ;;
	extract) args="$L $WORK/xx" ;;
	diff) args="$L $L" ;;
	why) args="--image $L demo-app-1.0 demo-zlib-1.3" ;;
	esac
	# shellcheck disable=SC2086
	expect_rc 2 "$cmd --base: not an image gives 2" "$SD" $cmd --base "$WORK/random.img" $args
	check "... naming it" contains "$WORK/err" "$WORK/random.img"
	# shellcheck disable=SC2086
	expect_rc 2 "$cmd --base: a missing file gives 2" "$SD" $cmd --base "$WORK/nope.img" $args
	check "... naming it" contains "$WORK/err" "$WORK/nope.img"
done
check "extract --base with a bad base wrote nothing" [ ! -e "$WORK/xx" ]
expect_rc 2 "ls --base without IMAGE is a usage error" "$SD" ls --base "$WORK/base.squashfs"
check "... saying so" contains "$WORK/err" "--base needs the IMAGE"
expect_rc 2 "why --base without --image is a usage error" \
	"$SD" why --base "$WORK/base.squashfs" demo-app-1.0 demo-zlib-1.3
check "... saying so" contains "$WORK/err" "--base goes with --image"
expect_rc 2 "diff --base with one image is a usage error" "$SD" diff --base "$WORK/base.squashfs" "$L"
expect_rc 2 "diff --base-b alone with no images is a usage error" "$SD" diff --base-b "$WORK/base.squashfs"

# Messages about what was searched name the union, not "the image".
Bs=$WORK/base.squashfs
expect_rc 1 "ls --base: no such path" "$SD" ls --base "$Bs" "$L" /nix/store/nope
check "... is said to be in neither the layer nor its base" \
	contains "$WORK/err" "/nix/store/nope: no such entry in $L or its base"
expect_rc 1 "ls with two bases: no such path" "$SD" ls --base "$Bs" --base "$Bs" "$L" nope
check "... names the number of bases" contains "$WORK/err" "nope: no such entry in $L or its 2 bases"
expect_rc 1 "cat --base: no such path" "$SD" cat --base "$Bs" "$L" /nix/store/nope
check "... is said to be in neither the layer nor its base" \
	contains "$WORK/err" "/nix/store/nope: no such entry in $L or its base"
expect_rc 1 "extract --base --path: no such path" \
	"$SD" extract --base "$Bs" --path /nix/store/nope "$L" "$WORK/xx"
check "... is said to be in neither the layer nor its base" \
	contains "$WORK/err" "/nix/store/nope: no such entry in $L or its base"
expect_rc 1 "ls without --base: no such path" "$SD" ls "$L" /nix/store/nope
check "... in the image, as before" contains "$WORK/err" "/nix/store/nope: no such entry in the image"
expect_rc 0 "diff --base of a layer with itself" "$SD" diff --base "$Bs" "$L" "$L"
check "... says the unions have the same contents" \
	contains "$WORK/out" "$L over its base and $L over its base have the same contents"
expect_rc 0 "diff without --base" "$SD" diff "$L" "$L"
check "... says the images have the same contents" contains "$WORK/out" "$L and $L have the same contents"
expect_rc 1 "why --base: a name the union lacks" \
	"$SD" why --image "$L" --base "$Bs" demo-app-1.0 nope
check "... is not a store path of the union, which it names" \
	contains "$WORK/err" "nope: not a store path of the union $L + $Bs"

for cmd in ls cat extract diff why; do
	check "$cmd --help lists --base" sh -c "'$SD' $cmd --help | grep -q -- '--base BASE'"
done

finish
