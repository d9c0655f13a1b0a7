#!/bin/sh
# SPDX-License-Identifier: MIT
# pack --format erofs: for every compressor and pcluster size the image
# mounts in the kernel and matches the source byte for byte; fsck.erofs
# and dump.erofs agree where erofs-utils 1.5 can read the image; blkid sees
# the label; verify works on EROFS exactly as on squashfs.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
# Contents that exercise data layouts: multi-block, incompressible,
# compressible, block-boundary sizes, duplicates.
python3 - "$S/$app/share" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(11)
open(os.path.join(d, "random"), "wb").write(r.randbytes(300000))
open(os.path.join(d, "text"), "wb").write(b"".join(b"line %d of a compressible file\n" % i for i in range(40000)))
for n in (4095, 4096, 4097, 65536, 65537):
    open(os.path.join(d, "size%d" % n), "wb").write(r.randbytes(n // 2) + bytes(n - n // 2))
open(os.path.join(d, "random-copy"), "wb").write(open(os.path.join(d, "random"), "rb").read())
open(os.path.join(d, "empty"), "wb").close()
# Several segments (1 MiB each), twice: the second is found a duplicate
# before any of its segments is queued.
big = b"".join(r.randbytes(512) + bytes(3584) for _ in range(900))
open(os.path.join(d, "big"), "wb").write(big)
open(os.path.join(d, "big-copy"), "wb").write(big)
# Many small files: a metadata area of several MiB, more than the
# writer's 1 MiB window over it.
os.mkdir(os.path.join(d, "many"))
for i in range(3000):
    open(os.path.join(d, "many", "f%04d" % i), "wb").write(r.randbytes(1 + i % 4000))
PY
"$SD" closure --store "$S" "$root" | sed 's|^/nix/store/||' >"$WORK/closure"
paths=$(cat "$WORK/closure")

for comp in none lz4 lz4hc lzma zstd; do
	for pc in 4K 64K; do
		[ "$comp" = none ] && [ "$pc" = 64K ] && continue
		img="$WORK/img-$comp-$pc.erofs"
		pcopt="--pcluster-size $pc"
		[ "$comp" = none ] && pcopt=
		# shellcheck disable=SC2086
		"$SD" pack -o "$img" --format erofs --compress "$comp" $pcopt \
			--mtime 1234567 --store "$S" "$root" >"$WORK/out" 2>"$WORK/err"
		rc=$?
		if [ "$rc" -ne 0 ] && grep -q "not yet supported" "$WORK/err"; then
			skip "erofs $comp: $(cat "$WORK/err")"
			continue
		fi
		check "pack --format erofs --compress $comp ($pc)" [ "$rc" -eq 0 ]
		# shellcheck disable=SC2086
		"$SD" pack -o "$img.j1" --format erofs --compress "$comp" $pcopt \
			--mtime 1234567 --jobs 1 --store "$S" "$root" >/dev/null 2>&1
		# shellcheck disable=SC2086
		"$SD" pack -o "$img.j3" --format erofs --compress "$comp" $pcopt \
			--mtime 1234567 --jobs 3 --store "$S" "$root" >/dev/null 2>&1
		check "same bytes for --jobs 1, 3 and the default ($comp, $pc)" \
			sh -c 'cmp -s "$1" "$1.j1" && cmp -s "$1" "$1.j3"' - "$img"
		rm -f "$img.j1" "$img.j3"
		if can_mount; then
			mnt="$WORK/mnt-$comp-$pc"
			if mount_image "$img" "$mnt"; then
				# shellcheck disable=SC2086
				check "kernel mount matches the source ($comp, $pc)" \
					python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$mnt" 1234567 $paths
				umount_image "$mnt"
			else
				fail "kernel mount of the erofs $comp $pc image"
			fi
		else
			skip "kernel mount (erofs $comp): loop mounting is not permitted here"
		fi
		expect_rc 0 "verify reads the $comp $pc image" "$SD" verify "$img"
		case $comp in
		none | lz4 | lz4hc)
			# shellcheck disable=SC2086
			fsck_extract_matches "$comp, $pc" "$img" "$S" $paths
			;;
		esac
	done
done

img="$WORK/img-none-4K.erofs"
if command -v dump.erofs >/dev/null; then
	dump.erofs -s "$img" >"$WORK/dump" 2>&1
	check "dump.erofs -s reads the superblock" contains "$WORK/dump" "Filesystem UUID"
	check "dump.erofs -s sees the checksum feature" contains "$WORK/dump" "sb_csum"
else
	skip "dump.erofs not installed"
fi

if command -v blkid >/dev/null; then
	blkid -p "$img" >"$WORK/blkid" 2>&1
	check "blkid sees TYPE erofs" contains "$WORK/blkid" 'TYPE="erofs"'
	check "blkid sees the default label nix-store" contains "$WORK/blkid" 'LABEL="nix-store"'
	"$SD" pack -q -o "$WORK/lab.erofs" --format erofs --label my-store \
		--uuid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 --store "$S" "$root"
	blkid -p "$WORK/lab.erofs" >"$WORK/blkid" 2>&1
	check "blkid sees --label" contains "$WORK/blkid" 'LABEL="my-store"'
	check "blkid sees --uuid" contains "$WORK/blkid" 'UUID="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"'
else
	skip "blkid not installed"
fi
expect_rc 2 "a 17-byte label is refused" "$SD" pack -o "$WORK/l.erofs" --format erofs \
	--label 12345678901234567 --store "$S" "$root"
check "the refused pack leaves nothing" [ ! -e "$WORK/l.erofs" ]

# verify on EROFS: violations, truncation, bit flips.
printf 'see %s/00000000000000000000000000000000-gone\n' /nix/store >"$S/$app/share/foreign"
"$SD" pack -q -o "$WORK/foreign.erofs" --format erofs --allow-missing --store "$S" "$root"
expect_rc 1 "a foreign reference in an EROFS image is a violation" "$SD" verify "$WORK/foreign.erofs"
check "the violation names the file" contains "$WORK/out" "$app/share/foreign"
rm "$S/$app/share/foreign"
size=$(stat -c %s "$img")
for n in 100 1024 1100 2048 4096 $((size / 2)) $((size - 1)); do
	head -c "$n" "$img" >"$WORK/trunc.img"
	expect_rc 2 "EROFS truncated to $n of $size bytes gives 2" "$SD" verify "$WORK/trunc.img"
done
check "300 bit flips in an EROFS image never crash or hang verify" \
	no_lsan python3 "$SRCDIR/tests/cli/flip-verify.py" "$SD" "$img" 1024 300

finish
