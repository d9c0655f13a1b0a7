#!/bin/sh
# SPDX-License-Identifier: MIT
# Same closure, same bytes, whatever the source: pack --embed-registration
# and --registration-out of one closure from a Nix database (--db), a
# registration with derivers (--registration), a path list (--paths), a
# scan (--scan), a tar (--tar) and an export stream with references and
# derivers (--nix-export) give byte-identical images (squashfs and EROFS)
# and identical registration files, with every deriver empty;
# --keep-derivers keeps them where the source has them.  The registration
# command prints the same text.  (tests/nix/test-nix.sh does the same
# with a real Nix database and a real nix-store --export.)
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
"$SD" closure --store "$S" --scan "$root" >"$WORK/list"
check "the closure has several paths ($(wc -l <"$WORK/list"))" \
	[ "$(wc -l <"$WORK/list")" -gt 3 ]

# The registration without derivers, then one with a deriver per path,
# as Nix's database has them: the source of --registration, --db and
# --nix-export.
expect_rc 0 "registration --base16 (scan)" \
	"$SD" registration --base16 --store "$S" --scan "$root"
cp "$WORK/out" "$WORK/plain.reg"
check "by default every deriver is empty" \
	python3 -c "
import sys
l = open(sys.argv[1]).read().split('\n')
i = 0
while i < len(l) and l[i]:
    assert l[i + 3] == '', l[i + 3]
    i += 5 + int(l[i + 4])" "$WORK/plain.reg"
cp "$WORK/plain.reg" "$WORK/drv.reg"
while read -r p; do
	b=${p##*/}
	python3 "$SRCDIR/tests/cli/reg-edit.py" "$WORK/drv.reg" "$WORK/drv.reg" \
		deriver "$p" "/nix/store/${b%%-*}-${b#*-}.drv"
done <"$WORK/list"
check "the registration with derivers has one per path" \
	[ "$(grep -c '\.drv$' "$WORK/drv.reg")" -eq "$(wc -l <"$WORK/list")" ]
python3 "$SRCDIR/tests/cli/mknixdb.py" "$WORK/drv.reg" "$WORK/db.sqlite"
python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/c.exp" "$S" "reg=$WORK/drv.reg"
sed "s|^/||" "$WORK/list" >"$WORK/rel.list"
(cd "$WORK/s" && tar --create -f "$WORK/c.tar" -T "$WORK/rel.list")

# pack_from NAME FMT EXTRA-ARGS... : pack with an embedded registration
# and --registration-out into $WORK/NAME-FMT.{img,reg}.
pack_from() {
	pf_name=$1
	pf_fmt=$2
	shift 2
	expect_rc 0 "$pf_fmt: pack --embed-registration from $pf_name" \
		"$SD" pack -q --no-digest --format "$pf_fmt" \
		-o "$WORK/$pf_name-$pf_fmt.img" --embed-registration \
		--registration-out "$WORK/$pf_name-$pf_fmt.reg" "$@"
}

for fmt in squashfs erofs; do
	pack_from db "$fmt" --store "$S" --db "$WORK/db.sqlite" "$root"
	pack_from registration "$fmt" --store "$S" \
		--registration "$WORK/drv.reg" "$root"
	pack_from paths "$fmt" --store "$S" --paths "$WORK/list" "$root"
	pack_from scan "$fmt" --store "$S" --scan "$root"
	pack_from tar "$fmt" --tar "$WORK/c.tar" "$root"
	pack_from export "$fmt" --nix-export - "$root" <"$WORK/c.exp"
	want=$(sha "$WORK/scan-$fmt.img")
	for src in db registration paths tar export; do
		check "$fmt: the image from $src = the image from scan" \
			[ "$(sha "$WORK/$src-$fmt.img")" = "$want" ]
		check "$fmt: --registration-out from $src = from scan" \
			cmp -s "$WORK/$src-$fmt.reg" "$WORK/scan-$fmt.reg"
	done
	expect_rc 0 "$fmt: registration --image = --registration-out" \
		"$SD" registration --image "$WORK/export-$fmt.img"
	check "$fmt: ... byte for byte" cmp -s "$WORK/out" "$WORK/scan-$fmt.reg"
	for src in tar export; do
		expect_rc 0 "$fmt: verify the image from $src" \
			"$SD" verify "$WORK/$src-$fmt.img"
		check "$fmt: ... checks the embedded registration" \
			contains "$WORK/out" "registration: embedded"
	done
done
expect_rc 0 "registration (default) from --registration with derivers" \
	"$SD" registration --store "$S" --registration "$WORK/drv.reg" "$root"
check "... = pack --registration-out (no derivers)" \
	cmp -s "$WORK/out" "$WORK/scan-squashfs.reg"
expect_rc 0 "registration --base16 --keep-derivers --registration" \
	"$SD" registration --base16 --keep-derivers --store "$S" \
	--registration "$WORK/drv.reg" "$root"
check "... = the source registration, derivers kept" \
	cmp -s "$WORK/out" "$WORK/drv.reg"

# --keep-derivers: kept from --db, --registration and --nix-export (the
# same image from all three); the other sources have none to keep.
for fmt in squashfs erofs; do
	pack_from kdb "$fmt" --keep-derivers --store "$S" \
		--db "$WORK/db.sqlite" "$root"
	pack_from kreg "$fmt" --keep-derivers --store "$S" \
		--registration "$WORK/drv.reg" "$root"
	pack_from kexp "$fmt" --keep-derivers --nix-export "$WORK/c.exp" "$root"
	pack_from ktar "$fmt" --keep-derivers --tar "$WORK/c.tar" "$root"
	pack_from kpaths "$fmt" --keep-derivers --store "$S" \
		--paths "$WORK/list" "$root"
	check "$fmt: --keep-derivers --db: every deriver kept" \
		[ "$(grep -c '\.drv$' "$WORK/kdb-$fmt.reg")" -eq "$(wc -l <"$WORK/list")" ]
	"$SD" registration --keep-derivers --store "$S" \
		--registration "$WORK/drv.reg" "$root" >"$WORK/kwant.reg"
	for src in kdb kreg kexp; do
		check "$fmt: --keep-derivers from ${src#k}: registration with the derivers" \
			cmp -s "$WORK/$src-$fmt.reg" "$WORK/kwant.reg"
		check "$fmt: --keep-derivers from ${src#k}: the same image as from --db" \
			[ "$(sha "$WORK/$src-$fmt.img")" = "$(sha "$WORK/kdb-$fmt.img")" ]
	done
	check "$fmt: an image with derivers differs from one without" \
		[ "$(sha "$WORK/kdb-$fmt.img")" != "$(sha "$WORK/scan-$fmt.img")" ]
	for src in ktar kpaths; do
		check "$fmt: --keep-derivers from ${src#k} (none to keep) = the default image" \
			[ "$(sha "$WORK/$src-$fmt.img")" = "$(sha "$WORK/scan-$fmt.img")" ]
	done
done

expect_rc 2 "--keep-derivers without a registration to write is a usage error" \
	"$SD" pack -q -o "$WORK/u.img" --keep-derivers --store "$S" "$root"
check "... saying so" contains "$WORK/err" "--keep-derivers needs"
check "... and nothing is written" [ ! -e "$WORK/u.img" ]
expect_rc 2 "registration --image --keep-derivers is a usage error" \
	"$SD" registration --image "$WORK/scan-erofs.img" --keep-derivers

# An export stream with a reference to a path that is not in it, packed
# with --allow-missing: the registration leaves that reference out (a
# guest's --load-db needs every reference registered).
python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/m.exp" "$S" missing
expect_rc 0 "export with a missing reference, --allow-missing, embedded registration" \
	"$SD" pack -q -o "$WORK/m.img" --allow-missing --nix-export "$WORK/m.exp" \
	--embed-registration --registration-out "$WORK/m.reg"
check "... the registration does not list the missing path" \
	sh -c "! grep -q 00000000000000000000000000000000 '$WORK/m.reg'"
expect_rc 0 "... and verify passes" "$SD" verify "$WORK/m.img"

# A deriver in an export stream is a store path or empty.
python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/d.exp" "$S" deriver
expect_rc 1 "export stream with a deriver that is not a store path: refused" \
	"$SD" pack -q -o "$WORK/d.img" --nix-export "$WORK/d.exp"
check "... naming the offset and the reason" \
	contains "$WORK/err" "offset"
check "... and the bad name" contains "$WORK/err" "not-a-derivation"
check "... and nothing is written" [ ! -e "$WORK/d.img" ]

finish
