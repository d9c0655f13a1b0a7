#!/bin/sh
# SPDX-License-Identifier: MIT
# closure + pack on the demo store: the closure is right, the image mounts
# in the kernel and matches the source byte for byte, unsquashfs agrees,
# roots may be given every documented way, bad input loses nothing.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")

expect_rc 0 "closure of a logical root with a physical --store" \
	"$SD" closure --store "$S" "$root"
cp "$WORK/out" "$WORK/closure"
check "closure has the 6 reachable paths" [ "$(wc -l <"$WORK/closure")" -eq 6 ]
check "closure leaves out the unreferenced path" sh -c "! grep -q demo-unused '$WORK/closure'"
check "closure lists logical paths" sh -c "! grep -qv '^/nix/store/' '$WORK/closure'"
check "closure is sorted bytewise" env LC_ALL=C sort -c "$WORK/closure"
check "closure contains both halves of the cycle" sh -c \
	"grep -q 'demo-tool-1.0\$' '$WORK/closure' && grep -q demo-tool-1.0-man '$WORK/closure'"

# Roots given as a physical path, a path inside a store path, a symlink.
ln -s "$root" "$WORK/result"
ln -s "$S/$app/bin/app" "$WORK/result-bin"
for r in "$S/$app" "$S/$app/bin/app" "$WORK/result" "$root/share/build-id" "$WORK/result-bin"; do
	expect_rc 0 "root given as $r" "$SD" closure --store "$S" "$r"
	check "same closure for root $r" cmp -s "$WORK/out" "$WORK/closure"
done
expect_rc 1 "a root outside the store is refused" "$SD" closure --store "$S" /etc/passwd
check "the refusal names the argument" contains "$WORK/err" /etc/passwd

paths=$(sed 's|^/nix/store/||' "$WORK/closure")

for comp in gzip xz lz4 zstd none gzip:1; do
	img="$WORK/img-$comp.sqfs"
	expect_rc 0 "pack --compress $comp" "$SD" pack -o "$img" --compress "$comp" \
		--mtime 1234567 --store "$S" "$root"
	check "summary names the image digest ($comp)" contains "$WORK/out" "$(sha "$img")"
	if can_mount; then
		mnt="$WORK/mnt-$comp"
		if mount_image "$img" "$mnt"; then
			# shellcheck disable=SC2086
			check "kernel mount matches the source byte for byte ($comp)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$mnt" 1234567 $paths
			umount_image "$mnt"
		else
			fail "kernel mount of the $comp image"
		fi
	else
		skip "kernel mount ($comp): loop mounting is not permitted here (needs root and loop devices)"
	fi
	if command -v unsquashfs >/dev/null; then
		if unsquashfs -no-xattrs -d "$WORK/un-$comp" "$img" >"$WORK/unsq.log" 2>&1; then
			# shellcheck disable=SC2086
			check "unsquashfs extraction matches the source ($comp)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner "$S" "$WORK/un-$comp" 1234567 $paths
		else
			fail "unsquashfs reads the $comp image: $(tail -1 "$WORK/unsq.log")"
		fi
		rm -rf "$WORK/un-$comp"
	else
		skip "unsquashfs not installed"
	fi
done

# A device node (or FIFO) in the closure: clear error naming it, no output.
mkfifo "$S/$app/share/pipe"
expect_rc 1 "a FIFO in the closure is refused" "$SD" pack -o "$WORK/fifo.sqfs" --store "$S" "$root"
check "the error names the FIFO" contains "$WORK/err" "share/pipe"
check "nothing is left at the output path" [ ! -e "$WORK/fifo.sqfs" ]
check "no temporary file is left beside it" sh -c "! ls -a '$WORK' | grep -q '^\.fifo\.sqfs\.storedisk-tmp\.'"
rm "$S/$app/share/pipe"

# An existing image is not touched by a failing pack.
echo precious >"$WORK/keep.sqfs"
mkfifo "$S/$app/share/pipe"
expect_rc 1 "failing pack over an existing file" "$SD" pack -o "$WORK/keep.sqfs" --store "$S" "$root"
check "the existing file is intact" sh -c "[ \"\$(cat '$WORK/keep.sqfs')\" = precious ]"
rm "$S/$app/share/pipe"

# A full-path reference to a path missing from the store.
missing=/nix/store/00000000000000000000000000000000-gone
printf 'uses %s/bin\n' "$missing" >"$S/$app/share/dangling"
# Nix's rule: a full path of a path that is not in the store is no
# reference (a documentation example): reported, refuses nothing.
expect_rc 0 "a full path of a path not in the store is no reference" "$SD" closure --store "$S" "$root"
check "it is reported with the referring file" contains "$WORK/err" "$app/share/dangling: content at offset"
check "and the path" contains "$WORK/err" "00000000000000000000000000000000-..., which is not in the store"
expect_rc 0 "closure --json lists it as absent" "$SD" closure --json --store "$S" "$root"
check "absent: hash, file, offset of the hash" python3 -c "
import json
d = json.load(open('$WORK/out'))
a = d['absent']
assert len(a) == 1 and a[0]['hash'] == '0' * 32, a
assert a[0]['file'].endswith('/share/dangling') and a[0]['offset'] == 16, a
assert a[0]['where'] == 'content', a
"
rm "$S/$app/share/dangling"

# An output that cannot be written is refused before any work (exit 2;
# the store given is bogus, so any work would fail differently).
mkdir -p "$WORK/outdir"
expect_rc 2 "-o a directory is refused" "$SD" pack -o "$WORK/outdir" --store /nonexistent "$root"
check "the refusal says why" contains "$WORK/err" "-o: $WORK/outdir: is a directory"
check "nothing was written into the directory" [ -z "$(ls -A "$WORK/outdir")" ]
expect_rc 2 "-o in a directory that does not exist is refused" "$SD" pack -o "$WORK/nodir/x.img" --store /nonexistent "$root"
check "the refusal names the directory" contains "$WORK/err" "directory $WORK/nodir does not exist"
expect_rc 2 "--registration-out a directory is refused" "$SD" pack -o "$WORK/r.img" --registration-out "$WORK/outdir" --store /nonexistent "$root"
check "the refusal names --registration-out" contains "$WORK/err" "--registration-out: $WORK/outdir: is a directory"
mkdir "$WORK/r.img.sha256"
expect_rc 2 "a directory at IMAGE.sha256 is refused" "$SD" pack -o "$WORK/r.img" --store /nonexistent "$root"
check "the refusal names the digest file" contains "$WORK/err" "digest file: $WORK/r.img.sha256: is a directory"
check "nothing is left at IMAGE" [ ! -e "$WORK/r.img" ]
# Root bypasses permission bits: a read-only file system is what stops it.
mkdir -p "$WORK/ro"
if mount -t tmpfs -o ro,size=64k tmpfs "$WORK/ro" 2>/dev/null; then
	MOUNTS="$MOUNTS $WORK/ro"
	expect_rc 2 "-o on a read-only file system is refused" "$SD" pack -o "$WORK/ro/x.img" --store /nonexistent "$root"
	check "the refusal says it is not writable" contains "$WORK/err" "directory $WORK/ro is not writable (Read-only file system)"
	expect_rc 2 "--digest-out on a read-only file system is refused" "$SD" pack -o "$WORK/d.img" --digest-out "$WORK/ro/d.sha256" --store /nonexistent "$root"
	check "the refusal names --digest-out" contains "$WORK/err" "--digest-out: $WORK/ro/d.sha256: directory $WORK/ro is not writable"
	expect_rc 0 "--no-digest needs no digest location" "$SD" pack -q -o "$WORK/d.img" --digest-out "$WORK/ro/d.sha256" --no-digest --store "$S" "$root"
	umount "$WORK/ro"
else
	skip "cannot mount a read-only tmpfs here (not root?)"
fi

# --paths A --paths B packs the union: the same image as one list.
head -n 3 "$WORK/closure" >"$WORK/list.a"
tail -n 4 "$WORK/closure" >"$WORK/list.b"
expect_rc 0 "pack --paths A --paths B" "$SD" pack -q -o "$WORK/two.img" --paths "$WORK/list.a" --paths "$WORK/list.b" --store "$S" "$root"
expect_rc 0 "pack --paths ALL" "$SD" pack -q -o "$WORK/one.img" --paths "$WORK/closure" --store "$S" "$root"
check "two lists give the image of their union" cmp -s "$WORK/one.img" "$WORK/two.img"

# SIGTERM during a pack leaves nothing behind.
dd if=/dev/urandom of="$S/$app/share/big" bs=1M count=192 status=none
"$SD" pack -o "$WORK/int.sqfs" --compress xz --jobs 1 --store "$S" "$root" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM makes pack fail (exit $rc)" [ "$rc" -ne 0 ]
check "SIGTERM leaves no image" [ ! -e "$WORK/int.sqfs" ]
check "SIGTERM leaves no temporary file" sh -c "! ls -a '$WORK' | grep -q '^\.int\.sqfs\.storedisk-tmp\.'"
rm "$S/$app/share/big"

finish
