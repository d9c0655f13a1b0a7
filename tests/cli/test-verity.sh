#!/bin/sh
# SPDX-License-Identifier: MIT
# pack --verity (both formats): a dm-verity tree past the filesystem's end
# that `veritysetup verify --hash-offset` accepts, the same bytes and root
# hash with --jobs 1 and 4, golden root hashes for a fixed store, the
# filesystem bytes unchanged (the image still mounts and reads without
# dm-verity), info's verity fields, IMAGE.roothash and --roothash-out;
# verify --verity-root passes a good image and names the first bad data
# block or hash block (and its byte offset) of a damaged one (exit 1);
# a layer (--base) carries a tree of its own.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
# 800 KiB that do not compress (a SHA-256 counter stream): with
# --compress none over 128 data blocks, so the tree has two levels.
python3 - "$S/$app/share/blob" <<'PY'
import hashlib, sys
with open(sys.argv[1], "wb") as f:
    for i in range(800 * 1024 // 32):
        f.write(hashlib.sha256(b"verity %d" % i).digest())
PY

# Golden root hashes: the demo store and the blob above, --compress none,
# --mtime 1.  Update only for a deliberate format change.
golden_squashfs=$(cat <<'EOF'
b3dea5eb869152efbc99b0f65ad287a25bc1f446ebda8eae0c28fae0b971a162
EOF
)
golden_erofs=$(cat <<'EOF'
0abe3ed9be1cf2fcb22f1e42937e920831cd4b0ac8441c4b87c720855cb9940f
EOF
)

jget() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# flip FILE OFFSET: invert the low bit of the byte at OFFSET.
flip() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1)
f.seek(o); f.write(bytes([b[0] ^ 1]))' "$1" "$2"
}

have_vs=false
command -v veritysetup >/dev/null && have_vs=true

for fmt in squashfs erofs; do
	P="--store $S --format $fmt --compress none --mtime 1"
	I=$WORK/$fmt.img
	# shellcheck disable=SC2086
	expect_rc 0 "$fmt: pack --verity --jobs 1" "$SD" pack -q $P --jobs 1 \
		--verity -o "$I" "$root"
	# shellcheck disable=SC2086
	"$SD" pack -q $P --jobs 4 --verity -o "$WORK/$fmt-j4.img" "$root"
	# shellcheck disable=SC2086
	"$SD" pack -q $P --jobs 2 -o "$WORK/$fmt-plain.img" "$root"
	rh=$(cat "$I.roothash")
	check "$fmt: IMAGE.roothash is one line of 64 lowercase hex digits" \
		sh -c "[ \$(wc -l <'$I.roothash') -eq 1 ] && grep -qxE '[0-9a-f]{64}' '$I.roothash'"
	check "$fmt: --jobs 4 gives the same image and root hash" \
		sh -c "cmp -s '$I' '$WORK/$fmt-j4.img' && cmp -s '$I.roothash' '$WORK/$fmt-j4.img.roothash'"
	eval "golden=\$golden_$fmt"
	check "$fmt: golden root hash ($rh)" [ "$rh" = "$golden" ]

	"$SD" info --json "$I" >"$WORK/info.json"
	H=$(jget "$WORK/info.json" 'd["verity"]["hash_offset"]')
	N=$(jget "$WORK/info.json" 'd["verity"]["data_blocks"]')
	fs=$(jget "$WORK/info.json" 'd["fs_bytes"]')
	alg=$(jget "$WORK/info.json" 'd["verity"]["hash_algorithm"]')
	jrh=$(jget "$WORK/info.json" 'd["verity"]["root_hash"]')
	check "$fmt: info --json verity: sha256 and the root hash written" \
		[ "$alg" = sha256 -a "$jrh" = "$rh" ]
	check "$fmt: info --json verity: hash_offset ($H) is fs_bytes ($fs) rounded up to 4096, data_blocks ($N) cover it" \
		[ "$H" -eq $(((fs + 4095) / 4096 * 4096)) -a "$N" -eq $((H / 4096)) ]
	check "$fmt: info --json of an image without a tree says verity null" \
		sh -c "'$SD' info --json '$WORK/$fmt-plain.img' | grep -q '\"verity\": *null'"
	expect_rc 0 "$fmt: info (text) has a verity group" "$SD" info "$I"
	check "$fmt: info shows the root hash" contains "$WORK/out" "root hash:    $rh"
	salt=$(jget "$WORK/info.json" 'd["verity"]["salt"]')
	check "$fmt: info shows dm-verity's table (sectors, data blocks, the top hash block after the superblock's, the salt)" \
		contains "$WORK/out" "dm table:     0 $((N * 8)) verity 1 DEV DEV 4096 4096 $N $((H / 4096 + 1)) sha256 ROOT $salt"
	check "$fmt: the tree is two levels over $N data blocks (128 < N <= 16384)" \
		[ "$N" -gt 128 -a "$N" -le 16384 ]
	# The filesystem is the image packed without --verity, zero-padded.
	plain=$(stat -c %s "$WORK/$fmt-plain.img")
	check "$fmt: the bytes before the tree are the image without --verity, then zeros" \
		sh -c "cmp -s -n $plain '$I' '$WORK/$fmt-plain.img' &&
			[ \$(head -c $H '$I' | tail -c +$((plain + 1)) | tr -d '\\000' | wc -c) -eq 0 ]"
	size=$(stat -c %s "$I")
	diag "$fmt: filesystem $fs bytes, tree $((size - H)) bytes ($((100 * (size - H) / H))% of it), root $rh"

	if $have_vs; then
		expect_rc 0 "$fmt: veritysetup verify --hash-offset=$H accepts the image" \
			veritysetup verify --hash-offset="$H" "$I" "$I" "$rh"
	else
		skip "$fmt: veritysetup not installed (cryptsetup-bin)"
	fi
	expect_rc 0 "$fmt: verify --verity-root passes" "$SD" verify --verity-root "$rh" "$I"
	check "$fmt: verify --verity-root says verity: OK" contains "$WORK/out" "verity: OK (root hash $rh"
	expect_rc 0 "$fmt: verify without --verity-root passes (the tree is not trailing garbage)" \
		"$SD" verify "$I"
	expect_rc 0 "$fmt: verify --digest IMAGE.sha256 (the digest covers the tree)" \
		"$SD" verify --digest "$I.sha256" "$I"
	check "$fmt: cat reads the blob past the fs end unchanged" \
		sh -c "'$SD' cat '$I' '$app/share/blob' | cmp -s - '$S/$app/share/blob'"
	rm -rf "$WORK/x"
	expect_rc 0 "$fmt: extract works" "$SD" extract "$I" "$WORK/x"
	expect_rc 0 "$fmt: diff against the image without a tree finds nothing" \
		"$SD" diff "$I" "$WORK/$fmt-plain.img"
	if can_mount; then
		if mount_image "$I" "$WORK/mnt-$fmt"; then
			check "$fmt: mounts without dm-verity, the blob reads back" \
				cmp -s "$WORK/mnt-$fmt/$app/share/blob" "$S/$app/share/blob"
			umount_image "$WORK/mnt-$fmt"
		else
			fail "$fmt: mount -o loop,ro of the image with a tree"
		fi
	else
		skip "$fmt: loop mounts are not permitted here"
	fi

	# A flipped data byte: data block 3.
	cp "$I" "$WORK/bad.img"
	flip "$WORK/bad.img" $((3 * 4096 + 100))
	expect_rc 1 "$fmt: a flipped data byte fails verify --verity-root" \
		"$SD" verify --verity-root "$rh" "$WORK/bad.img"
	check "$fmt: ... naming data block 3 and its byte offset" \
		contains "$WORK/err" "data block 3 (byte offset 12288)"
	if $have_vs; then
		check "$fmt: veritysetup verify refuses it too" \
			sh -c "! veritysetup verify --hash-offset=$H '$WORK/bad.img' '$WORK/bad.img' $rh 2>/dev/null"
	fi
	# A flipped byte in level 0 (after the superblock block and the one
	# top block), block 1 of that level.
	cp "$I" "$WORK/bad.img"
	L0=$((H + 2 * 4096))
	flip "$WORK/bad.img" $((L0 + 4096 + 64))
	expect_rc 1 "$fmt: a flipped hash byte fails verify --verity-root" \
		"$SD" verify --verity-root "$rh" "$WORK/bad.img"
	check "$fmt: ... naming hash block 1 of level 0 and its byte offset" \
		contains "$WORK/err" "hash block 1 of level 0 (byte offset $((L0 + 4096)))"
	# The top block, against the root.
	cp "$I" "$WORK/bad.img"
	flip "$WORK/bad.img" $((H + 4096 + 5))
	expect_rc 1 "$fmt: a flipped top hash byte fails verify --verity-root" \
		"$SD" verify --verity-root "$rh" "$WORK/bad.img"
	check "$fmt: ... naming the top block against the root hash" \
		contains "$WORK/err" "hash block 0 of level 1 (byte offset $((H + 4096))) does not match the root hash"
	expect_rc 1 "$fmt: another root hash fails verify --verity-root" \
		"$SD" verify --verity-root "$(echo "$rh" | tr 0-9a-f 1-9a-f0)" "$I"
	expect_rc 1 "$fmt: --verity-root of an image without a tree is a mismatch" \
		"$SD" verify --verity-root "$rh" "$WORK/$fmt-plain.img"
	check "$fmt: ... saying so" contains "$WORK/err" "no verity tree"
done

# A tree cut short: the filesystem still reads, the tree is reported.
cp "$WORK/squashfs.img" "$WORK/cut.img"
truncate -s -1 "$WORK/cut.img"
expect_rc 0 "info of an image whose tree is cut short still describes it" \
	"$SD" info "$WORK/cut.img"
check "... and says what is wrong with the tree" contains "$WORK/out" "verity tree at"
check "info --json: verity null, verity_problem says why" \
	sh -c "'$SD' info --json '$WORK/cut.img' | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d[\"verity\"] is None and \"needs\" in d[\"verity_problem\"], d'"
expect_rc 1 "verify --json --verity-root of a damaged image: exit 1" \
	"$SD" verify --json --verity-root "$(cat "$WORK/squashfs.img.roothash")" "$WORK/bad.img"
check "... with the {image, error} document naming the block" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert 'hash block 0 of level 1' in d['error'], d
"
expect_rc 1 "verify --verity-root of it: exit 1" \
	"$SD" verify --verity-root "$(cat "$WORK/squashfs.img.roothash")" "$WORK/cut.img"
expect_rc 0 "verify without --verity-root still passes it" "$SD" verify "$WORK/cut.img"

expect_rc 2 "--verity-root that is not 64 hex digits is a usage error" \
	"$SD" verify --verity-root abc "$WORK/squashfs.img"
expect_rc 2 "--roothash-out without --verity is a usage error" \
	"$SD" pack -q --store "$S" --roothash-out "$WORK/r" -o "$WORK/r.img" "$root"
expect_rc 0 "--roothash-out FILE" \
	"$SD" pack -q --store "$S" --compress none --mtime 1 --verity \
	--roothash-out "$WORK/rh.txt" -o "$WORK/rh.img" "$root"
check "... writes the root hash there and no IMAGE.roothash" \
	sh -c "[ ! -e '$WORK/rh.img.roothash' ] && cmp -s '$WORK/rh.txt' '$WORK/squashfs.img.roothash'"
expect_rc 0 "pack --verity --json" \
	"$SD" pack --json --store "$S" --compress none --mtime 1 --verity \
	-o "$WORK/j.img" "$root"
check "... and verity_seconds, a part of the finish phase" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert 0 < d['verity_seconds'] <= d['phase_seconds']['finish'], d
"
check "... has verity.root_hash and image_size is the whole file" \
	[ "$(jget "$WORK/out" 'd["verity"]["root_hash"]')" = "$(cat "$WORK/squashfs.img.roothash")" \
	-a "$(jget "$WORK/out" 'd["image_size"]')" = "$(stat -c %s "$WORK/j.img")" ]

# The tree is written on a regular file: no root, no loop device.
nobody_setup
if $nobody_ok; then
	chmod -R a+rX "$WORK/s"
	expect_rc 0 "pack --verity as nobody (no privilege)" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$WORK/storedisk" pack -q --store "$S" --format squashfs \
		--compress none --mtime 1 --verity -o "$NB/n.img" "$root"
	check "... gives the same root hash as root's pack" \
		cmp -s "$NB/n.img.roothash" "$WORK/squashfs.img.roothash"
else
	skip "setpriv cannot switch to nobody here"
fi

# No room for the tree: a tmpfs the image fits in, its tree not.
pi=$WORK/squashfs-plain.img
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=$((($(stat -c %s "$pi") / 4096 + 1) * 4096)) tmpfs \
	"$WORK/full" 2>/dev/null; then
	MOUNTS="$MOUNTS $WORK/full"
	expect_rc 1 "no room for the tree: pack --verity fails" \
		"$SD" pack -q --store "$S" --compress none --mtime 1 --verity \
		-o "$WORK/full/x.img" "$root"
	check "... with the reason, the file and the offset in one line" \
		sh -c "[ \$(wc -l <'$WORK/err') -eq 1 ] && grep -q 'x.img: --verity: .*x\.img.*: write at [0-9]*: No space left on device' '$WORK/err'"
	check "... leaving nothing" [ -z "$(ls -A "$WORK/full")" ]
	umount "$WORK/full"
else
	skip "cannot mount a tmpfs: no test of a tree without room"
fi

# A layer over a base, each with its own tree.
lib=$(cd "$S" && ls -d ./*-demo-libc-* | sed 's|^\./||')
expect_rc 0 "pack --verity a base" \
	"$SD" pack -q --store "$S" --verity -o "$WORK/base.img" "/nix/store/$lib"
expect_rc 0 "pack --verity a layer over it (--base)" \
	"$SD" pack -q --store "$S" --verity --base "$WORK/base.img" \
	-o "$WORK/layer.img" "$root"
check "the layer and the base have root hashes of their own" \
	sh -c "! cmp -s '$WORK/base.img.roothash' '$WORK/layer.img.roothash'"
expect_rc 0 "verify --verity-root --base: the layer's tree and the union" \
	"$SD" verify --verity-root "$(cat "$WORK/layer.img.roothash")" \
	--base "$WORK/base.img" "$WORK/layer.img"
expect_rc 0 "verify --verity-root of the base" \
	"$SD" verify --verity-root "$(cat "$WORK/base.img.roothash")" "$WORK/base.img"
if $have_vs; then
	for n in base layer; do
		H=$("$SD" info --json "$WORK/$n.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["verity"]["hash_offset"])')
		expect_rc 0 "veritysetup verify accepts the $n" \
			veritysetup verify --hash-offset="$H" "$WORK/$n.img" "$WORK/$n.img" \
			"$(cat "$WORK/$n.img.roothash")"
	done
fi
check "... and the report names the base's check" \
	sh -c "'$SD' verify --verity-root \$(cat '$WORK/layer.img.roothash') --base '$WORK/base.img' '$WORK/layer.img' | grep -q '1 base against its .roothash'"
# Each base's tree against BASE.roothash: a flipped data byte in the base
# fails the layer's verify --verity-root, naming the base.
cp "$WORK/base.img" "$WORK/base-bad.img"
cp "$WORK/base.img.roothash" "$WORK/base-bad.img.roothash"
flip "$WORK/base-bad.img" 100
expect_rc 1 "verify --verity-root --base: a flipped byte in the base fails" \
	"$SD" verify --verity-root "$(cat "$WORK/layer.img.roothash")" \
	--base "$WORK/base-bad.img" "$WORK/layer.img"
check "... naming the base's data block 0 and its offset" \
	contains "$WORK/err" "base-bad.img: verity: data block 0 (byte offset 0)"
rm "$WORK/base-bad.img.roothash"
expect_rc 2 "verify --verity-root --base: a base without its .roothash is refused" \
	"$SD" verify --verity-root "$(cat "$WORK/layer.img.roothash")" \
	--base "$WORK/base-bad.img" "$WORK/layer.img"
check "... naming the file the root hash comes from" \
	contains "$WORK/err" "base-bad.img.roothash"

finish
