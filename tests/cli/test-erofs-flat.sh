#!/bin/sh
# SPDX-License-Identifier: MIT
# Uncompressed EROFS layout (issue 9): inodes placed first fit (no inode
# crosses a block, inline tails in their inode's block), directory and
# long-symlink blocks before all file data, a metadata area no larger
# than the old sequential layout (smaller for tails chosen to leave gaps);
# the kernel, fsck.erofs --extract (the image without holes) and
# storedisk read every byte back.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
python3 - "$S/$app/share" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(11)
def put(name, data):
    open(os.path.join(d, name), "wb").write(data)
# tails of every size: a sequential layout leaves gaps before long ones
os.mkdir(os.path.join(d, "tails"))
for i in range(300):
    n = r.choice((r.randint(1, 400), r.randint(2500, 4060)))
    if i % 7 == 0:
        n += 4096 * r.randint(1, 3)
    put("tails/t%03d" % i, r.randbytes(n))
# a directory of several blocks
os.mkdir(os.path.join(d, "big-dir"))
for i in range(400):
    put("big-dir/entry-with-a-rather-long-name-%04d" % i, b"%d\n" % i)
# a symlink whose target takes a block of its own
os.symlink("x" * 4090, os.path.join(d, "long-link"))
# a sparse file (chunk-based, with holes) and duplicates
with open(os.path.join(d, "sparse"), "wb") as f:
    f.write(r.randbytes(5000))
    f.seek(3 * 1024 * 1024)
    f.write(r.randbytes(7000))
put("dup-a", r.randbytes(9000))
put("dup-b", open(os.path.join(d, "dup-a"), "rb").read())
put("empty", b"")
PY
"$SD" closure --store "$S" "$root" | sed 's|^/nix/store/||' >"$WORK/closure"
paths=$(cat "$WORK/closure")
img=$WORK/flat.erofs
"$SD" pack -q -o "$img" --format erofs --compress none --mtime 1234567 \
	--store "$S" "$root"
check "pack" [ -s "$img" ]
for j in 1 3; do
	"$SD" pack -q -o "$img.j$j" --format erofs --compress none \
		--mtime 1234567 --jobs $j --store "$S" "$root"
done
check "same bytes for --jobs 1, 3 and the default" \
	sh -c 'cmp -s "$1" "$1.j1" && cmp -s "$1" "$1.j3"' - "$img"
check "layout rules; metadata smaller than the sequential layout: $(python3 \
	"$SRCDIR/tests/cli/erofs-flat-check.py" "$img" --gain 2>&1)" \
	python3 "$SRCDIR/tests/cli/erofs-flat-check.py" "$img" --gain
if can_mount; then
	if mount_image "$img" "$WORK/mnt"; then
		# shellcheck disable=SC2086
		check "kernel mount matches the source" \
			python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$WORK/mnt" 1234567 $paths
		umount_image "$WORK/mnt"
	else
		fail "kernel mount"
	fi
else
	skip "kernel mount: loop mounting is not permitted here"
fi
expect_rc 0 "verify reads the image" "$SD" verify "$img"
"$SD" extract "$img" "$WORK/x" >/dev/null 2>&1
# shellcheck disable=SC2086
check "storedisk extract matches the source" \
	python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner "$S" "$WORK/x" 1234567 $paths
chmod -R u+w "$WORK/x" && rm -rf "$WORK/x"
# the same rules on an image for the oldest kernel (no chunk-based files)
"$SD" pack -q -o "$WORK/old.erofs" --format erofs --compress none \
	--min-kernel 5.4 --mtime 1234567 --store "$S" "$root"
check "layout rules under --min-kernel 5.4" \
	python3 "$SRCDIR/tests/cli/erofs-flat-check.py" "$WORK/old.erofs"
# fsck.erofs 1.5 fills a chunk-based file's holes with other bytes (on
# main's images too), so it reads the image without holes
# shellcheck disable=SC2086
fsck_extract_matches "uncompressed, --min-kernel 5.4" "$WORK/old.erofs" "$S" $paths
finish
