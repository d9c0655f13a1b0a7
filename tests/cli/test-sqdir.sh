#!/bin/sh
# SPDX-License-Identifier: MIT
# squashfs directories large enough for a lookup index (issue 9, read side):
# the writer keeps only some of libsquashfs' index entries, so the kernel
# must still find every name by lookup (no readdir first) and list every
# directory whole; unsquashfs and rdsquashfs must read the same tree; the
# bytes are the same for any --jobs.
. "$SRCDIR/tests/cli/lib.sh"

S=$WORK/s/nix/store
p=0z1y2x3w4v5s6r7q8p9n0m1l2k3j4i5h-bigdirs
mkdir -p "$S/$p"
python3 - "$S/$p" <<'EOF'
import os, sys
root = sys.argv[1]
# big: 3000 files with a subdirectory every 7th name (its subtree's inodes
# sit between its siblings', so headers break often); mid: 700 files
# (several headers, no index from libsquashfs); tiny: one header.
for d, n, every in (("big", 3000, 7), ("mid", 700, 0), ("tiny", 5, 0)):
    os.makedirs(os.path.join(root, d))
    for i in range(n):
        name = os.path.join(root, d, "entry-%05d-%s" % (i, "x" * (i % 23)))
        if every and i % every == 0:
            os.makedirs(name)
            with open(os.path.join(name, "f"), "w") as f:
                f.write("sub %d\n" % i)
        else:
            with open(name, "w") as f:
                f.write("file %d\n" % (i % 50) * (1 + i % 3))
EOF
echo "/nix/store/$p" >"$WORK/paths"

for comp in zstd lz4; do
	img=$WORK/big-$comp.sqfs
	expect_rc 0 "pack large directories ($comp)" "$SD" pack -q -o "$img" \
		--compress "$comp" --mtime 1 --jobs 3 --paths "$WORK/paths" --store "$S"
	expect_rc 0 "pack them again with --jobs 1 ($comp)" "$SD" pack -q -o "$img.j1" \
		--compress "$comp" --mtime 1 --jobs 1 --paths "$WORK/paths" --store "$S"
	check "same bytes for --jobs 1 and 3 ($comp)" cmp -s "$img" "$img.j1"
	if can_mount; then
		mnt=$WORK/mnt-$comp
		if mount_image "$img" "$mnt"; then
			# every name by lookup alone, before any readdir
			check "the kernel finds every entry by name ($comp)" python3 - "$S/$p" "$mnt/$p" <<'EOF'
import os, sys
src, img = sys.argv[1], sys.argv[2]
names = [os.path.relpath(os.path.join(d, n), src)
         for d, ds, fs in os.walk(src) for n in ds + fs]
missing = [n for n in names if not os.path.lexists(os.path.join(img, n))]
print("%d entries, %d not found: %s" % (len(names), len(missing), missing[:5]))
sys.exit(1 if missing else 0)
EOF
			check "kernel mount matches the source ($comp)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$mnt" 1 "$p"
			umount_image "$mnt"
		else
			fail "kernel mount of the $comp image"
		fi
	else
		skip "kernel mount ($comp): loop mounting is not permitted here (needs root and loop devices)"
	fi
	if command -v unsquashfs >/dev/null; then
		if unsquashfs -no-xattrs -d "$WORK/un-$comp" "$img" >"$WORK/unsq.log" 2>&1; then
			check "unsquashfs extraction matches the source ($comp)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner "$S" "$WORK/un-$comp" 1 "$p"
		else
			fail "unsquashfs reads the $comp image: $(tail -1 "$WORK/unsq.log")"
		fi
		rm -rf "$WORK/un-$comp"
	else
		skip "unsquashfs not installed"
	fi
	if command -v rdsquashfs >/dev/null; then
		mkdir -p "$WORK/rd-$comp"
		if rdsquashfs -q -C -T -u / -p "$WORK/rd-$comp" "$img" >"$WORK/rd.log" 2>&1; then
			check "rdsquashfs extraction matches the source ($comp)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner "$S" "$WORK/rd-$comp" 1 "$p"
		else
			fail "rdsquashfs reads the $comp image: $(tail -1 "$WORK/rd.log")"
		fi
		rm -rf "$WORK/rd-$comp"
	else
		skip "rdsquashfs not installed"
	fi
done
expect_rc 0 "storedisk verify reads the image" "$SD" verify -q "$WORK/big-zstd.sqfs"

finish
