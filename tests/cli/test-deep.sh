#!/bin/sh
# SPDX-License-Identifier: MIT
# A store path nested as deep as the shared limit allows (core/sdlimits.h,
# SD_LIMIT_DEPTH: 4096 levels below the image root, the store path being
# level 1) packs in both formats and reads back through every reader entry
# point (verify, info, ls -R, cat, extract, export), although its paths
# are far longer than PATH_MAX; one level more is refused by pack with a
# one-line error that keeps its reason at the end.  Packing time is linear
# in the depth (no timing is asserted: the test's timeout bounds it).
. "$SRCDIR/tests/cli/lib.sh"

S=$WORK/s/nix/store
H=0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
P=$H-deep
LEVELS=4095     # d-chain below the store path: deepest directory at 4096
python3 "$SRCDIR/tests/cli/mkdeep.py" "$S/$P" "$LEVELS"
chain=$(python3 -c "print('/d' * $LEVELS)")
q="-q --no-digest"

for fmt in squashfs erofs; do
	img=$WORK/deep-$fmt.img
	expect_rc 0 "$fmt: pack of a $LEVELS-level chain succeeds" \
		"$SD" pack $q --format $fmt -o "$img" --store "$S" "$S/$P"
	[ -e "$img" ] || continue
	expect_rc 0 "$fmt: verify accepts it" "$SD" verify "$img"
	expect_rc 0 "$fmt: info reads it" "$SD" info "$img"
	expect_rc 0 "$fmt: ls -R lists it" "$SD" ls -R "$img"
	check "$fmt: ls -R shows the bottom file" \
		contains "$WORK/out" "$chain/bottom"
	expect_rc 0 "$fmt: cat of the deepest file" \
		"$SD" cat "$img" "/nix/store/$P$chain/bottom"
	check "$fmt: ... gives its bytes" [ "$(cat "$WORK/out")" = bottom ]
	rm -rf "$WORK/x"
	expect_rc 0 "$fmt: extract writes it" "$SD" extract "$img" "$WORK/x"
	check "$fmt: ... exactly the chain" python3 \
		"$SRCDIR/tests/cli/mkdeep.py" --check "$WORK/x/$P" "$LEVELS"
	rm -rf "$WORK/x"
	expect_rc 0 "$fmt: export writes a tar" \
		"$SD" export "$img" --tar "$WORK/deep.tar"
	check "$fmt: ... holding the bottom file" python3 -c "
import sys, tarfile
names = tarfile.open(sys.argv[1]).getnames()
sys.exit(0 if sys.argv[2] in names else 1)" "$WORK/deep.tar" \
		"nix/store/$P$chain/bottom"
	rm -f "$WORK/deep.tar"
done

# one level more: refused before anything is written
python3 - "$S/$P" "$LEVELS" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for _ in range(int(sys.argv[2])):
    nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
os.mkdir("d", dir_fd=fd)
PY
for fmt in squashfs erofs; do
	img=$WORK/too-deep-$fmt.img
	expect_rc 1 "$fmt: pack refuses a chain one level deeper" \
		"$SD" pack $q --format $fmt -o "$img" --store "$S" "$S/$P"
	check "$fmt: nothing at IMAGE" [ ! -e "$img" ]
	check "$fmt: one line" [ "$(wc -l <"$WORK/err")" -eq 1 ]
	check "$fmt: the reason ends it" grep -q \
		'directory nesting depth 4097, more than storedisk reads back (limit 4096)$' \
		"$WORK/err"
	check "$fmt: the path is cut in the middle" grep -q \
		"^storedisk: error: /$P/d/d/d.*…d*/d/d/d.*(limit 4096)$" "$WORK/err"
done

finish
