#!/bin/sh
# SPDX-License-Identifier: MIT
# verify: a clean image is self-contained (0); a planted foreign reference
# is a violation naming file and offset (1); candidates turn unknown full
# paths into warnings; --allow accepts exceptions; unreadable, truncated
# and bit-flipped images give 2 with a one-line reason, never a crash.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")

"$SD" pack -o "$WORK/clean.sqfs" --store "$S" "$root" >/dev/null
expect_rc 0 "clean image verifies" "$SD" verify "$WORK/clean.sqfs"
expect_rc 0 "clean image verifies with --json" "$SD" verify --json "$WORK/clean.sqfs"
check "--json output parses" python3 -c "import json,sys; d=json.load(open('$WORK/out')); assert d['self_contained'] is True, d"

# Candidates: the host store listing; the demo closure's own hashes are in it.
ls "$S" | sed 's|^|/nix/store/|' >"$WORK/candidates"
expect_rc 0 "clean image verifies with --candidates" "$SD" verify --candidates "$WORK/candidates" "$WORK/clean.sqfs"

# Plant a reference to a path outside the closure (the unused demo path).
unused=$(ls "$S" | grep demo-unused)
printf 'padding-0123456789 %s/%s/README\n' /nix/store "$unused" >"$S/$app/share/foreign"
# pack --paths refuses a reference outside the closure (test-sound.sh);
# --allow-missing makes such an image for verify to find.
grep -v demo-unused "$WORK/candidates" >/dev/null
"$SD" closure --store "$S" "$root" | grep -v demo-unused >"$WORK/paths"
"$SD" pack -o "$WORK/foreign.sqfs" --allow-missing --paths "$WORK/paths" --store "$S" "$root" >/dev/null 2>&1
expect_rc 1 "a planted foreign reference is a violation" "$SD" verify "$WORK/foreign.sqfs"
check "the violation names the file" contains "$WORK/out" "$app/share/foreign"
check "the violation names the missing path" contains "$WORK/out" "$unused"
check "the violation gives the byte offset of the hash (30)" contains "$WORK/out" ":30"
expect_rc 1 "violation in --json" "$SD" verify --json "$WORK/foreign.sqfs"
check "--json violation has file, offset and path" python3 -c "
import json
d = json.load(open('$WORK/out'))
v = d['violations'][0]
assert d['self_contained'] is False
assert v['file'].endswith('$app/share/foreign'), v
assert v['offset'] == 30, v
assert '$unused' in v['path'], v
"
echo "/nix/store/$unused" >"$WORK/allow"
expect_rc 0 "--allow accepts a known exception" "$SD" verify --allow "$WORK/allow" "$WORK/foreign.sqfs"

# A bare hash of a candidate path is a reference too (Nix's rule).
printf 'hash only: %s\n' "$(echo "$unused" | cut -c1-32)" >"$S/$app/share/foreign"
"$SD" pack -o "$WORK/bare.sqfs" --allow-missing --paths "$WORK/paths" --store "$S" "$root" >/dev/null 2>&1
expect_rc 0 "a bare hash is not seen without candidates" "$SD" verify "$WORK/bare.sqfs"
expect_rc 1 "a bare hash of a candidate is a violation" "$SD" verify --candidates "$WORK/candidates" "$WORK/bare.sqfs"

# A full path that exists nowhere: violation without candidates, warning with.
printf 'see /nix/store/%s-example for details\n' 00000000000000000000000000000000 >"$S/$app/share/foreign"
"$SD" pack -o "$WORK/doc.sqfs" --allow-missing --paths "$WORK/paths" --store "$S" "$root" >/dev/null 2>&1
expect_rc 1 "an unknown full path is a violation without candidates" "$SD" verify "$WORK/doc.sqfs"
expect_rc 0 "an unknown full path is only a warning with candidates" "$SD" verify --candidates "$WORK/candidates" "$WORK/doc.sqfs"
check "the warning is printed" contains "$WORK/out" "00000000000000000000000000000000-example"
rm "$S/$app/share/foreign"

# Unreadable images: exit 2 with a one-line reason.
expect_rc 2 "a missing image gives 2" "$SD" verify "$WORK/nope.sqfs"
head -c 5000 /dev/urandom >"$WORK/random.img"
expect_rc 2 "a foreign file gives 2" "$SD" verify "$WORK/random.img"
check "with a one-line reason" [ "$(wc -l <"$WORK/err")" -eq 1 ]
: >"$WORK/empty.img"
expect_rc 2 "an empty file gives 2" "$SD" verify "$WORK/empty.img"
expect_rc 2 "a usage error gives 2" "$SD" verify --no-such-option "$WORK/clean.sqfs"

# The image's used size (superblock bytes_used); the file is padded to 4 KiB
# after it, and truncating only padding is harmless.
size=$(stat -c %s "$WORK/clean.sqfs")
used=$(python3 -c "import struct; print(struct.unpack_from('<Q', open('$WORK/clean.sqfs','rb').read(), 40)[0])")
for n in 10 96 500 $((used / 2)) $((used - 100)) $((used - 1)); do
	head -c "$n" "$WORK/clean.sqfs" >"$WORK/trunc.img"
	expect_rc 2 "truncated to $n of $used bytes gives 2" "$SD" verify "$WORK/trunc.img"
done

# Bit flips in the superblock's essential fields give 2 (magic, block
# size, compressor, version, table starts).
for off in 0 3 12 20 28 48 64 72 80; do
	python3 "$SRCDIR/tests/cli/flip.py" "$WORK/clean.sqfs" "$WORK/flip.img" "$off" 6
	expect_rc 2 "a bit flip at superblock offset $off gives 2" "$SD" verify "$WORK/flip.img"
done
# Bit flips anywhere: never a crash or hang, always 0, 1 or 2.
check "bit flips all over the image never crash or hang verify" \
	no_lsan python3 "$SRCDIR/tests/cli/flip-verify.py" "$SD" "$WORK/clean.sqfs" 97 200

finish
