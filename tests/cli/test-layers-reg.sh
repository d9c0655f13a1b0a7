#!/bin/sh
# SPDX-License-Identifier: MIT
# A layer's registration covers the union (pack --base with
# --embed-registration / --registration-out): every path of the closure,
# the base's paths with the narHash, narSize and references of the base's
# embedded registration — the same bytes as the registration of a full
# image of the closure.  A base without a registration is refused unless
# the closure's source declares the narHashes.  verify --base checks the
# base paths of a layer's registration against the base that holds them,
# and a registration that lies fails.  Real Nix (when installed) loads the
# union registration with --load-db and checks the contents.
. "$SRCDIR/tests/cli/lib.sh"

. "$SRCDIR/tests/cli/layers-lib.sh"

"$SD" closure --store "$S" "$B" | sort >"$WORK/clB"
zlib=/nix/store/$(grep demo-zlib "$WORK/clA")
libc=/nix/store/$(grep demo-libc "$WORK/clA")

# The store paths a registration lists, sorted.
reg_paths() {
	python3 -c "
import sys
lines = open(sys.argv[1]).read().rstrip('\n').split('\n')
i, out = 0, []
while i < len(lines):
    out.append(lines[i])
    i += 5 + int(lines[i + 4])
print('\n'.join(sorted(out)))
" "$1"
}

# reg_checks FMT_BASE FMT_LAYER
reg_checks() {
	fb=$1 fl=$2 t="$1 base, $2 layer"
	base=$WORK/base.$fb
	layer=$WORK/layer-$fb.$fl
	full=$WORK/full.$fl
	expect_rc 0 "$t: pack the base with --embed-registration" "$SD" pack -q --format "$fb" \
		--mtime $M --embed-registration -o "$base" --store "$S" "$A"
	expect_rc 0 "$t: pack the full image of the closure" "$SD" pack -q --format "$fl" \
		--mtime $M --embed-registration --registration-out "$WORK/full.reg" -o "$full" \
		--store "$S" "$B"
	expect_rc 0 "$t: pack the layer with --base --embed-registration --registration-out" \
		"$SD" pack --format "$fl" --mtime $M --jobs 1 --base "$base" --embed-registration \
		--registration-out "$WORK/layer.reg" -o "$layer" --store "$S" "$B"
	check "$t: the layer holds 3 paths, the base 3" \
		contains "$WORK/out" "store paths: 3 in the layer, 3 from the bases (6 in the closure)"
	check "$t: the layer's registration = the full image's, byte for byte" \
		cmp -s "$WORK/layer.reg" "$WORK/full.reg"
	"$SD" cat "$layer" nix-path-registration >"$WORK/layer-emb.reg"
	"$SD" cat "$full" nix-path-registration >"$WORK/full-emb.reg"
	check "$t: the embedded registrations are equal too" cmp -s "$WORK/layer-emb.reg" "$WORK/full-emb.reg"
	check "$t: ... and equal to --registration-out" cmp -s "$WORK/layer-emb.reg" "$WORK/layer.reg"
	reg_paths "$WORK/layer-emb.reg" >"$WORK/listed"
	check "$t: the layer's registration lists every path of the closure" \
		cmp -s "$WORK/listed" "$WORK/clB"
	"$SD" pack -q --format "$fl" --mtime $M --jobs 2 --base "$base" --embed-registration \
		-o "$WORK/again.$fl" --store "$S" "$B"
	check "$t: the layer is reproducible (jobs 1 and 2)" [ "$(sha "$layer")" = "$(sha "$WORK/again.$fl")" ]

	expect_rc 0 "$t: verify --base passes" "$SD" verify --base "$base" "$layer"
	check "$t: ... checking the narHash of all 6 registered paths" \
		contains "$WORK/out" "registration: embedded, 6 paths; narHash checked for 6 paths, 0 mismatches"
	check "$t: ... and the union is self-contained" contains "$WORK/out" "the union is self-contained"
	expect_rc 1 "$t: verify without --base fails" "$SD" verify "$layer"
	check "$t: ... the base's paths registered but not in the image" \
		grep -q "violation: .*(registration): $zlib: registered, but not in the image" "$WORK/out"

	# A registration that lies about a base path fails verify --base.
	python3 "$SRCDIR/tests/cli/reg-edit.py" "$WORK/layer.reg" "$WORK/lie.reg" hash "$zlib" \
		"$(printf 'x' | sha256sum | cut -d' ' -f1)"
	expect_rc 1 "$t: a wrong narHash for a base path fails verify --base" \
		"$SD" verify --registration "$WORK/lie.reg" --base "$base" "$layer"
	check "$t: ... naming the path and the base" \
		grep -q "violation: .*$zlib: registered with narHash .*, but $base, which holds it, registers it" "$WORK/out"
	python3 "$SRCDIR/tests/cli/reg-edit.py" "$WORK/layer.reg" "$WORK/lie-refs.reg" refs "$zlib" +"$zlib"
	expect_rc 1 "$t: wrong references of a base path fail verify --base" \
		"$SD" verify --registration "$WORK/lie-refs.reg" --base "$base" "$layer"
	check "$t: ... naming the path" grep -q "violation: .*$zlib: its registered references differ" "$WORK/out"
}

for f in squashfs erofs; do
	reg_checks $f $f
done
reg_checks erofs squashfs

# Mounted through overlayfs (layer first), the union's root shows the
# layer's registration, which covers the union, not the base's.
if ! can_mount; then
	skip "overlay of base and layer: loop mounts are not permitted here"
elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
	skip "overlay of base and layer: no overlayfs in this kernel"
else
	mb=$WORK/mnt-base ml=$WORK/mnt-layer u=$WORK/union
	mount_image "$WORK/base.squashfs" "$mb" && mount_image "$WORK/layer-squashfs.squashfs" "$ml" &&
		mkdir -p "$u" && mount -t overlay overlay -o "ro,lowerdir=$ml:$mb" "$u" && MOUNTS="$u $MOUNTS"
	check "the overlay's nix-path-registration is the layer's, the full image's" \
		cmp -s "$u/nix-path-registration" "$WORK/full.reg"
	umount "$u"
	umount "$ml"
	umount "$mb"
fi

# A base without a registration: the layer's registration cannot give the
# narHash of the paths it holds (exit 2, nothing written) ...
"$SD" pack -q --mtime $M -o "$WORK/base-noreg.sqfs" --store "$S" "$A"
expect_rc 2 "a base without a registration is refused with --embed-registration" \
	"$SD" pack -q --mtime $M --base "$WORK/base-noreg.sqfs" --embed-registration \
	-o "$WORK/lnr.sqfs" --store "$S" "$B"
check "... naming the base and a path it holds" \
	grep -q "base $WORK/base-noreg.sqfs holds /nix/store/.*it has no embedded registration" "$WORK/err"
check "... saying to pack it with --embed-registration" contains "$WORK/err" "pack that base with --embed-registration"
check "... and nothing is left at the output" [ ! -e "$WORK/lnr.sqfs" ]
expect_rc 2 "... and with --registration-out" "$SD" pack -q --mtime $M --base "$WORK/base-noreg.sqfs" \
	--registration-out "$WORK/lnr.reg" -o "$WORK/lnr.sqfs" --store "$S" "$B"
check "... which writes no registration" [ ! -e "$WORK/lnr.reg" ]
# ... unless the closure's source declares the narHashes (dump-db form).
"$SD" closure --json --store "$S" "$B" >"$WORK/clB.json"
python3 "$SRCDIR/tests/cli/nar-reg.py" "$S" "$WORK/clB.json" >"$WORK/src.reg"
expect_rc 0 "a base without a registration: narHashes from --registration" \
	"$SD" pack -q --mtime $M --base "$WORK/base-noreg.sqfs" --embed-registration \
	--registration-out "$WORK/lnr.reg" -o "$WORK/lnr.sqfs" --registration "$WORK/src.reg" \
	--store "$S" "$B"
check "... giving the full image's registration" cmp -s "$WORK/lnr.reg" "$WORK/full.reg"
expect_rc 0 "... and verify --base computes the base paths' narHashes from the base" \
	"$SD" verify --base "$WORK/base-noreg.sqfs" "$WORK/lnr.sqfs"
check "... all 6 checked" contains "$WORK/out" "narHash checked for 6 paths, 0 mismatches"
python3 "$SRCDIR/tests/cli/reg-edit.py" "$WORK/lnr.reg" "$WORK/lie2.reg" hash "$zlib" \
	"$(printf 'y' | sha256sum | cut -d' ' -f1)"
expect_rc 1 "... where a wrong narHash for a base path fails" \
	"$SD" verify --registration "$WORK/lie2.reg" --base "$WORK/base-noreg.sqfs" "$WORK/lnr.sqfs"
check "... naming the path and the base" \
	grep -q "violation: .*$zlib: registered with narHash .*, but $WORK/base-noreg.sqfs, which holds it, has narHash" "$WORK/out"

# Two bases: the first holding a path without a record for it, the second
# with one: the record comes from the second.
"$SD" pack -q --mtime $M -o "$WORK/libc-noreg.sqfs" --store "$S" "$libc"
expect_rc 0 "two bases: the record of the first base that has one" \
	"$SD" pack -q --mtime $M --base "$WORK/libc-noreg.sqfs" --base "$WORK/base.squashfs" \
	--registration-out "$WORK/l2.reg" -o "$WORK/l2.sqfs" --store "$S" "$B"
check "... giving the full image's registration" cmp -s "$WORK/l2.reg" "$WORK/full.reg"

# Still refused with --base: a stream input.
"$SD" export "$WORK/full.squashfs" --tar "$WORK/full.tar"
expect_rc 2 "--tar with --base is still refused" "$SD" pack -q -o "$WORK/x.sqfs" \
	--tar "$WORK/full.tar" --base "$WORK/base.squashfs" --embed-registration
check "... nothing written" [ ! -e "$WORK/x.sqfs" ]

# Real Nix loads the union registration of an acyclic closure (the demo
# closure of B has a reference cycle, which Nix refuses): base libc, layer
# openssl + zlib; a scratch store holding copies of the files.
if command -v nix-store >/dev/null 2>&1; then
	mkdir -p "$WORK/nix-conf"
	printf 'sandbox = false\nsubstituters =\nbuild-users-group =\n' >"$WORK/nix-conf/nix.conf"
	export NIX_CONF_DIR="$WORK/nix-conf" NIX_USER_CONF_FILES="$WORK/nix-conf/nix.conf" NIX_REMOTE=
	"$SD" pack -q --mtime $M --embed-registration -o "$WORK/blibc.sqfs" --store "$S" "$libc"
	"$SD" pack -q --mtime $M --base "$WORK/blibc.sqfs" --embed-registration \
		--registration-out "$WORK/la.reg" -o "$WORK/la.erofs" --format erofs --store "$S" "$A"
	"$SD" closure --store "$S" "$A" | sort >"$WORK/clA-full"
	nix_load() { # REG DIR
		mkdir -p "$2/nix" && cp -a "$S" "$2/nix/store" && chmod -R u+w "$2/nix/store" &&
			nix-store --store "$2" --load-db <"$1"
	}
	expect_rc 0 "nix-store --load-db accepts the union registration" nix_load "$WORK/la.reg" "$WORK/nixr"
	nix-store --store "$WORK/nixr" -qR "$A" 2>/dev/null | sort >"$WORK/nix-qR"
	check "... nix-store -qR gives the closure" cmp -s "$WORK/nix-qR" "$WORK/clA-full"
	expect_rc 0 "... nix-store --verify --check-contents passes" \
		nix-store --store "$WORK/nixr" --verify --check-contents
	python3 "$SRCDIR/tests/cli/reg-edit.py" "$WORK/la.reg" "$WORK/la-bad.reg" hash "$libc" \
		"$(printf 'z' | sha256sum | cut -d' ' -f1)"
	nix_load "$WORK/la-bad.reg" "$WORK/nixbad" >/dev/null 2>&1
	nix-store --store "$WORK/nixbad" --verify --check-contents >"$WORK/out" 2>&1
	check "... and fails on a registration with a wrong narHash for the base's path" [ $? -ne 0 ]
else
	skip "real Nix: nix-store is not installed (scripts/nix-setup.sh installs Debian's nix-bin)"
fi

finish
