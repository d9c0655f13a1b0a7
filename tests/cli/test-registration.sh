#!/bin/sh
# SPDX-License-Identifier: MIT
# Registrations: `storedisk registration` of a closure and of its image
# agree; pack --embed-registration puts the same text at the image root and
# --registration-out beside it; narHash equals the SHA-256 of Nix's NAR
# (nix-store --dump, when nix-bin is installed); the text parses back.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store

expect_rc 0 "registration of a closure" "$SD" registration --store "$S" "$root"
cp "$WORK/out" "$WORK/reg.store"
check "six records" [ "$(grep -c '^/nix/store/.*-demo-' "$WORK/reg.store")" -ge 6 ]
check "hashes are sha256:<nix32>" sh -c "[ \"\$(grep -c '^sha256:[0-9a-z]\{52\}\$' '$WORK/reg.store')\" -eq 6 ]"

for fmt in squashfs erofs; do
	img="$WORK/reg.$fmt"
	expect_rc 0 "pack --format $fmt --embed-registration --registration-out" \
		"$SD" pack -q -o "$img" --format "$fmt" --embed-registration \
		--registration-out "$WORK/reg.out.$fmt" --store "$S" "$root"
	check "--registration-out equals the closure's registration ($fmt)" \
		cmp -s "$WORK/reg.out.$fmt" "$WORK/reg.store"
	expect_rc 0 "registration of the $fmt image" "$SD" registration --image "$img"
	check "the image's registration equals the store's ($fmt)" cmp -s "$WORK/out" "$WORK/reg.store"
	if can_mount && mount_image "$img" "$WORK/mnt-$fmt"; then
		check "nix-path-registration at the image root ($fmt)" \
			cmp -s "$WORK/mnt-$fmt/nix-path-registration" "$WORK/reg.store"
		umount_image "$WORK/mnt-$fmt"
	else
		skip "mounting the $fmt image: loop mounts not permitted here"
	fi
done

# A path list has no edges: references come from a scan and match the
# scanned closure's.
"$SD" closure --store "$S" "$root" >"$WORK/paths"
expect_rc 0 "registration from a path list" "$SD" registration --paths "$WORK/paths" --store "$S" "$root"
check "path-list references equal the scan's" cmp -s "$WORK/out" "$WORK/reg.store"

# base16 as nix-store --dump-db prints it, and it parses back as a source.
expect_rc 0 "registration --base16" "$SD" registration --base16 --store "$S" "$root"
check "base16 hashes" sh -c "[ \"\$(grep -c '^[0-9a-f]\{64\}\$' '$WORK/out')\" -eq 6 ]"
cp "$WORK/out" "$WORK/reg.b16"
expect_rc 0 "a base16 registration is a closure source" "$SD" closure --registration "$WORK/reg.b16" --store "$S" "$root"
check "same closure from it" sh -c "\"$SD\" closure --store '$S' '$root' | cmp -s - '$WORK/out'"

if command -v nix-store >/dev/null; then
	ok_all=0
	for p in "$S"/*; do
		case $p in *demo-unused*) continue ;; esac
		want=$(nix-store --dump "$p" | sha256sum | cut -d' ' -f1)
		grep -q "^$want\$" "$WORK/reg.b16" || { ok_all=1; echo "    narHash of $p differs"; }
	done
	check "narHash equals sha256 of nix-store --dump for every path" [ "$ok_all" -eq 0 ]
else
	skip "nix-store not installed: narHash not compared with Nix's NAR"
fi

finish
