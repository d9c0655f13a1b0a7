#!/bin/sh
# SPDX-License-Identifier: MIT
# Hostile and messy stores (issue 10, part 4).  Every odd input gives either
# a clear error naming the path (exit 1, nothing at IMAGE, no temporary file)
# or a correct image (mounted and compared with the source); pack is crash
# safe (kill -9 at seeded random points, ENOSPC, EIO) and cleans up the
# temporary files of packs that died, never those of a live one; extract
# never writes outside its target.  Small fd and address-space limits and
# failing thread creation: test-limits.sh.
. "$SRCDIR/tests/cli/lib.sh"

# A deterministic store path basename for NAME.
h() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
sp() { echo "$(h "$1")-$1"; }
q="-q --no-digest"
S=$WORK/s/nix/store
mkdir -p "$S"
# The tests that need an unprivileged user run as nobody.
nobody_setup
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# nothing_left IMG: nothing at IMG, no temporary file beside it.
nothing_left() {
	[ ! -e "$1" ] && ! ls -A "$(dirname "$1")" | grep -q 'storedisk-tmp'
}

# refused DESC TEXT ROOT...: pack (squashfs and EROFS) exits 1, the one-line
# error contains TEXT, nothing is left.  Runs as nobody when $AS is "nobody".
AS=
refused() {
	r_desc=$1 r_text=$2
	shift 2
	for fmt in squashfs erofs; do
		img=$NB/r.$fmt
		expect_rc 1 "$r_desc: refused ($fmt)" $AS "$WORK/storedisk" pack $q \
			--format $fmt -o "$img" --store "$S" "$@"
		check "$r_desc: the error names it ($fmt)" contains "$WORK/err" "$r_text"
		check "$r_desc: one error line ($fmt)" [ "$(grep -c '^storedisk: error: ' "$WORK/err")" -eq 1 ]
		check "$r_desc: nothing left ($fmt)" nothing_left "$img"
	done
}

# packs_right DESC BASENAME...: both formats pack the store paths, and the
# mounted image equals the source.
packs_right() {
	p_desc=$1
	shift
	for fmt in squashfs erofs; do
		img=$WORK/ok.$fmt
		rm -f "$img"
		expect_rc 0 "$p_desc: packs ($fmt)" "$SD" pack $q --format $fmt \
			--mtime 1 -o "$img" --store "$S" \
			$(for b in "$@"; do echo "/nix/store/$b"; done)
		if ! can_mount; then
			skip "$p_desc ($fmt): loop mounts are not permitted here"
		elif mount_image "$img" "$WORK/mnt"; then
			check "$p_desc: the mounted image equals the source ($fmt)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$WORK/mnt" 1 "$@"
			umount_image "$WORK/mnt"
		else
			fail "$p_desc: mount the $fmt image"
		fi
	done
}

# ---- device node, FIFO, socket --------------------------------------------
p=$(sp special)
mkdir -p "$S/$p/dev"
echo x >"$S/$p/dev/ok"
mknod "$S/$p/dev/null" c 1 3
refused "a character device" "$S/$p/dev/null: is a character device" "/nix/store/$p"
rm "$S/$p/dev/null"
mknod "$S/$p/dev/loopX" b 7 0
refused "a block device" "$S/$p/dev/loopX: is a block device" "/nix/store/$p"
rm "$S/$p/dev/loopX"
mkfifo "$S/$p/dev/fifo"
refused "a FIFO" "$S/$p/dev/fifo: is a FIFO" "/nix/store/$p"
rm "$S/$p/dev/fifo"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S/$p/dev/sock"
refused "a socket" "$S/$p/dev/sock: is a socket" "/nix/store/$p"
rm -r "$S/$p"

# ---- unreadable file, directory, store path, store directory --------------
p=$(sp perms)
mkdir -p "$S/$p/sub"
echo secret >"$S/$p/secret"
echo x >"$S/$p/sub/x"
if $nobody_ok; then
	AS=nobody
	chmod 000 "$S/$p/secret"
	refused "an unreadable file" "$S/$p/secret: open: Permission denied" "/nix/store/$p"
	chmod 644 "$S/$p/secret"
	chmod 000 "$S/$p/sub"
	refused "an unreadable directory" "$S/$p/sub: opendir: Permission denied" "/nix/store/$p"
	chmod 755 "$S/$p/sub"
	chmod 000 "$S/$p"
	refused "an unreadable store path" "$S/$p: opendir: Permission denied" "/nix/store/$p"
	chmod 755 "$S/$p"
	chmod 000 "$S"
	refused "an unreadable store directory" "$S" "/nix/store/$p"
	chmod 755 "$S"
	AS=
	expect_rc 0 "as nobody, the readable store path packs" nobody "$WORK/storedisk" \
		pack $q -o "$NB/ok.img" --store "$S" "/nix/store/$p"
	rm -f "$NB/ok.img"
else
	skip "setpriv cannot switch to nobody: no unreadable-file tests (root reads everything)"
fi
rm -r "$S/$p"

# ---- a file that changes size or content while it is read -----------------
p=$(sp changing)
mkdir -p "$S/$p"
head -c 48M /dev/zero | tr '\0' 'a' >"$S/$p/grows"
# (each writer says it has begun by creating $WORK/go)
rm -f "$WORK/go"
python3 -c '
import sys, time
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(b"b" * 4096)
        open(sys.argv[2], "w").close()
        time.sleep(0.0005)
' "$S/$p/grows" "$WORK/go" &
bg=$!
while [ ! -e "$WORK/go" ]; do sleep 0.05; done
refused "a file that grows while read" "$S/$p/grows: file grew while being read" "/nix/store/$p"
kill $bg
wait $bg 2>/dev/null
rm "$S/$p/grows"
head -c 48M /dev/zero | tr '\0' 'a' >"$S/$p/rewritten"
rm -f "$WORK/go"
python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
i = 0
while True:
    os.pwrite(fd, b"c", (i * 7919) % (48 << 20))
    if i == 0:
        open(sys.argv[2], "w").close()
    i += 1
' "$S/$p/rewritten" "$WORK/go" &
bg=$!
while [ ! -e "$WORK/go" ]; do sleep 0.05; done
refused "a file rewritten in place while read" "$S/$p/rewritten: file changed while being read" "/nix/store/$p"
kill $bg
wait $bg 2>/dev/null
rm -r "$S/$p"

# ---- symlink loops, odd names, a store path that is a file or a symlink ----
loops=$(sp loops)
mkdir -p "$S/$loops/d"
ln -s b "$S/$loops/a"
ln -s a "$S/$loops/b"
ln -s self "$S/$loops/self"
ln -s .. "$S/$loops/d/up"
ln -s ../d "$S/$loops/d/again"
ln -s "/nix/store/$loops/self" "$S/$loops/abs"
names=$(sp names)
python3 - "$S/$names" <<'PY'
import os, sys
d = os.fsencode(sys.argv[1])
os.makedirs(d + b"/new\nline dir")
for n in [b"new\nline", b"bad-\xff\xfe-utf8", b"tab\there", b"back\\slash",
          b"-dash", b" space ", b"\x01ctl", b"new\nline dir/\xc3\x28"]:
    with open(d + b"/" + n, "wb") as f:
        f.write(n)
os.symlink(b"\xff\n", d + b"/link-\xff")
PY
file=$(sp single-file)
printf 'just a file\n' >"$S/$file"
chmod 555 "$S/$file"
link=$(sp single-symlink)
ln -s "$file" "$S/$link"
packs_right "symlink loops, odd names, file and symlink store paths" \
	"$loops" "$names" "$file" "$link"
# A root inside a store path names that store path, as in Nix (symlinks
# are followed only until the path is in the store); a root that is a
# symlink loop outside the store is refused naming it.
expect_rc 0 "a root that is a looping symlink inside a store path" \
	"$SD" closure --store "$S" "$S/$loops/self"
check "... is that store path" grep -qx "/nix/store/$loops" "$WORK/out"
ln -s "$WORK/result" "$WORK/result"
expect_rc 1 "a root that is a symlink loop outside the store is refused" \
	"$SD" closure --store "$S" "$WORK/result"
check "... naming it" contains "$WORK/err" "$WORK/result"
rm "$WORK/result"
rm -rf "$S/$loops" "$S/$names" "$S/$file" "$S/$link"

# ---- roots that do not exist or are not store paths -----------------------
mkdir -p "$S/not-a-store-path" "$WORK/elsewhere"
refused "a logical root that does not exist" "/nix/store/$(sp missing)" "/nix/store/$(sp missing)"
refused "a physical root that does not exist" "$S/$(sp missing)" "$S/$(sp missing)"
refused "a store entry with an invalid name" "$S/not-a-store-path" "$S/not-a-store-path"
refused "the store directory itself" "$S" "$S"
refused "a directory outside the store" "$WORK/elsewhere" "$WORK/elsewhere"
rm -r "$S/not-a-store-path"

# ---- depth 1,000 and 100,000 entries in one directory ---------------------
deep=$(sp deep)
wide=$(sp wide)
python3 - "$S/$deep" "$S/$wide" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d)
os.chdir(d)
for i in range(1000):
    os.mkdir("d")
    os.chdir("d")
    if i % 100 == 0:
        with open("f", "w") as f:
            f.write("level %d\n" % i)
with open("bottom", "w") as f:
    f.write("the bottom\n")
os.makedirs(sys.argv[2])
os.chdir(sys.argv[2])
for i in range(100000):
    with open("e%06d" % i, "w") as f:
        if i % 1000 == 0:
            f.write("%d\n" % i)
PY
packs_right "a tree 1,000 deep" "$deep"
# (compare-tree.py over 100,000 files is slow: count and sample them)
for fmt in squashfs erofs; do
	img=$WORK/wide.$fmt
	expect_rc 0 "100,000 entries in one directory: packs ($fmt)" "$SD" pack $q \
		--format $fmt -o "$img" --store "$S" "/nix/store/$wide"
	if can_mount && mount_image "$img" "$WORK/mnt"; then
		check "all 100,000 entries are there ($fmt)" \
			[ "$(ls -f "$WORK/mnt/$wide" | grep -c '^e')" -eq 100000 ]
		check "... with their contents ($fmt)" sh -c "
			for i in 000000 001000 050000 099000 099999; do
				cmp -s '$WORK/mnt/$wide/e'\$i '$S/$wide/e'\$i || exit 1
			done"
		umount_image "$WORK/mnt"
	else
		skip "100,000 entries ($fmt): no loop mount"
	fi
	rm -f "$img"
done
# The walk holds a bounded number of descriptors whatever the depth.
for fmt in squashfs erofs; do
	"$SD" pack $q --format $fmt -o "$WORK/deep-ref.$fmt" --store "$S" "/nix/store/$deep"
	expect_rc 0 "a tree 1,000 deep under ulimit -n 64, --jobs 2 ($fmt)" sh -c \
		"ulimit -n 64 && exec \"\$0\" \"\$@\"" "$SD" pack $q --format $fmt --jobs 2 \
		-o "$WORK/deep-64.$fmt" --store "$S" "/nix/store/$deep"
	check "... the same bytes ($fmt)" cmp -s "$WORK/deep-ref.$fmt" "$WORK/deep-64.$fmt"
done
rm -rf "$S/$deep" "$S/$wide" "$WORK"/deep-*

# ---- a 5 GiB sparse file ----------------------------------------------------
# Stored sparse by both formats (all-zero blocks take no room); its holes
# are found with SEEK_DATA and never read (reading them made the kernel
# fill 5 GiB of page cache with zeros: 36 s of a squashfs pack, now 1.5 s).
sparse=$(sp sparse)
mkdir -p "$S/$sparse"
truncate -s 5G "$S/$sparse/holes"
printf 'start' | dd of="$S/$sparse/holes" conv=notrunc status=none
printf 'middle' | dd of="$S/$sparse/holes" bs=1 seek=$((3 << 30)) conv=notrunc status=none
printf 'end' | dd of="$S/$sparse/holes" bs=1 seek=$(((5 << 30) - 3)) conv=notrunc status=none
for fmt in squashfs erofs; do
	img=$WORK/sparse.$fmt
	expect_rc 0 "a 5 GiB sparse file packs ($fmt)" "$SD" pack $q --format $fmt \
		-o "$img" --store "$S" "/nix/store/$sparse"
	check "the image stays small ($fmt: $(stat -c %s "$img") bytes)" \
		[ "$(stat -c %s "$img")" -lt $((4 << 20)) ]
	if can_mount && mount_image "$img" "$WORK/mnt"; then
		f=$WORK/mnt/$sparse/holes
		check "the mounted file has the size ($fmt)" [ "$(stat -c %s "$f")" -eq $((5 << 30)) ]
		check "... and its data where it was ($fmt)" sh -c "
			[ \"\$(head -c 5 '$f')\" = start ] &&
			[ \"\$(dd if='$f' bs=1 skip=$((3 << 30)) count=6 status=none)\" = middle ] &&
			[ \"\$(tail -c 3 '$f')\" = end ] &&
			[ \"\$(dd if='$f' bs=1M skip=4000 count=1 status=none | tr -d '\\0' | wc -c)\" -eq 0 ]"
		umount_image "$WORK/mnt"
	else
		skip "sparse file ($fmt): no loop mount"
	fi
	rm -f "$img"
done
rm -r "${S:?}/$sparse"

# ---- kill -9 at seeded random points ------------------------------------
# IMAGE is either absent or the whole image; what a killed pack leaves is
# a temporary file named after IMAGE, "storedisk-tmp" and its pid.
crash=$(sp crash)
mkdir -p "$S/$crash"
python3 -c '
import random, sys
r = random.Random(10)
for i in range(6):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f:
        f.write(r.randbytes(6 << 20))
' "$S/$crash"
K=$WORK/k
mkdir -p "$K"
for fmt in squashfs erofs; do
	c=zstd
	[ $fmt = erofs ] && c=lz4hc
	"$SD" pack $q --format $fmt --compress $c --jobs 1 -o "$WORK/crash-ref.$fmt" \
		--store "$S" "/nix/store/$crash"
	partial=0
	# delays in ms from a fixed seed: before, during and after the write
	for ms in $(python3 -c '
import random
r = random.Random(4242)
print(" ".join(str(r.randrange(0, 700)) for _ in range(8)))'); do
		rm -f "$K/x.$fmt"
		"$SD" pack $q --format $fmt --compress $c --jobs 1 -o "$K/x.$fmt" \
			--store "$S" "/nix/store/$crash" &
		pid=$!
		sleep "$(printf '0.%03d' "$ms")"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		if [ -e "$K/x.$fmt" ] && ! cmp -s "$K/x.$fmt" "$WORK/crash-ref.$fmt"; then
			partial=$((partial + 1))
		fi
	done
	check "kill -9 at 8 points never leaves a partial image ($fmt, $partial partial)" [ $partial -eq 0 ]
done
stale=$(ls -A "$K" | grep -c 'storedisk-tmp')
check "the killed packs left temporary files recognisable by name ($stale)" \
	sh -c "ls -A '$K' | grep 'storedisk-tmp' | grep -Eq '^\.x\.(squashfs|erofs)\.storedisk-tmp\.[0-9]+\.[A-Za-z0-9]{6}$'"
# Files a later pack must not remove: a temporary name locked by a live
# process, one owned by someone else, a name that is not ours.
touch "$K/.y.img.storedisk-tmp.1.AAAAAA" "$K/.z.img.storedisk-tmp.2.BBBBBB" \
	"$K/.w.img.tmp.3.CCCCCC"
chown 65534 "$K/.z.img.storedisk-tmp.2.BBBBBB"
flock "$K/.y.img.storedisk-tmp.1.AAAAAA" sleep 30 &
locker=$!
sleep 0.2
"$SD" pack $q -o "$K/later.img" --store "$S" "/nix/store/$crash"
check "a later pack into the directory removes the stale ones" \
	[ "$(ls -A "$K" | grep -c 'storedisk-tmp')" -eq 2 ]
check "... not a locked one (a live writer's)" [ -e "$K/.y.img.storedisk-tmp.1.AAAAAA" ]
check "... nor another user's" [ -e "$K/.z.img.storedisk-tmp.2.BBBBBB" ]
check "... nor a file not named as ours" [ -e "$K/.w.img.tmp.3.CCCCCC" ]
kill $locker
wait $locker 2>/dev/null
# A concurrent pack's temporary file survives another pack's clean-up.
rm -f "$K"/.[wyz]* "$K/later.img"
"$SD" pack $q --compress gzip --jobs 1 -o "$K/slow.img" --store "$S" "/nix/store/$crash" &
slow=$!
i=0
while ! ls -A "$K" | grep -q '^\.slow\.img\.storedisk-tmp' && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
tmp=$(ls -A "$K" | grep '^\.slow\.img\.storedisk-tmp')
"$SD" pack $q -o "$K/fast.img" --store "$S" "/nix/store/$crash"
check "a concurrent pack leaves a live pack's temporary file" [ -n "$tmp" ] && [ -e "$K/$tmp" ]
wait $slow
check "... which then completes (exit $?)" [ -s "$K/slow.img" ]
check "no temporary file is left" [ "$(ls -A "$K" | grep -c 'storedisk-tmp')" -eq 0 ]

# ---- ENOSPC (a tiny tmpfs) and EIO (device-mapper "error") ---------------
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=4m tmpfs "$WORK/full" 2>/dev/null; then
	MOUNTS="$MOUNTS $WORK/full"
	for fmt in squashfs erofs; do
		expect_rc 1 "a full file system: pack fails ($fmt)" "$SD" pack $q --format $fmt \
			-o "$WORK/full/x.img" --store "$S" "/nix/store/$crash"
		check "... saying so ($fmt)" contains "$WORK/err" "No space left on device"
		check "... naming the image ($fmt)" contains "$WORK/err" "$WORK/full/x.img"
		check "... leaving nothing ($fmt)" [ -z "$(ls -A "$WORK/full")" ]
	done
	umount "$WORK/full"
else
	skip "cannot mount a tmpfs: no ENOSPC test"
fi
if dmsetup version >/dev/null 2>&1 && command -v mkfs.ext2 >/dev/null; then
	# An ext2 on a device whose first 8 MiB work and the rest fail with EIO:
	# the metadata fits there, the image's data does not.
	dm=sd-eio-$$
	truncate -s 64M "$WORK/dm.back"
	loop=$(losetup -f --show "$WORK/dm.back")
	dmsetup create $dm --table "0 131072 linear $loop 0"
	mkfs.ext2 -q -b 4096 -N 64 /dev/mapper/$dm
	mkdir -p "$WORK/eio"
	mount /dev/mapper/$dm "$WORK/eio"
	dmsetup suspend $dm
	printf '0 16384 linear %s 0\n16384 114688 error\n' "$loop" | dmsetup load $dm
	dmsetup resume $dm
	expect_rc 1 "EIO: pack --fsync fails" "$SD" pack $q --fsync \
		-o "$WORK/eio/x.img" --store "$S" "/nix/store/$crash"
	check "... saying so" contains "$WORK/err" "Input/output error"
	check "... naming the image" contains "$WORK/err" "$WORK/eio/x.img"
	check "... leaving nothing" [ -z "$(ls -A "$WORK/eio" | grep -v lost+found)" ]
	umount "$WORK/eio"
	dmsetup remove $dm
	losetup -d "$loop"
	rm -f "$WORK/dm.back"
else
	skip "device-mapper is not available here (dmsetup version fails): no EIO test"
fi

# (resource limits: ulimit -n 64 and -v 512M, no threads: test-limits.sh)

# ---- extract of hand-made images never writes outside its target ---------
# A directory named like a symlink to outside DIR (the symlink first), and
# a name with '/', patched into uncompressed images (a ".." name: see
# test-inspect.sh).
out=$(mktemp -d /tmp/sd-outside.XXXXXX)
x=$(sp xtract)
H=$WORK/h/nix/store
mkdir -p "$H/$x/evim" "$H/$x/aXb"
ln -s "$out" "$H/$x/evil"
echo pwned >"$H/$x/evim/pwned"
echo pwned >"$H/$x/aXb/pwned"
for fmt in squashfs erofs; do
	for patch in "evim evil" "aXb a/b"; do
		img=$WORK/x-$fmt.img
		"$SD" pack $q --format $fmt --compress none -o "$img" --store "$H" "/nix/store/$x"
		# shellcheck disable=SC2086
		if python3 "$SRCDIR/tests/cli/rename-entry.py" "$img" $patch; then
			rm -rf "$WORK/xt"
			"$SD" extract "$img" "$WORK/xt" >"$WORK/out" 2>"$WORK/err"
			rc=$?
			check "extract of a '${patch#* }' entry ($fmt): refused with exit 2 ($rc)" [ $rc -eq 2 ]
		else
			fail "could not patch '$patch' into the $fmt image"
		fi
	done
done
check "nothing was written outside the target" [ -z "$(ls -A "$out")" ]
check "nothing went beside the target" [ ! -e "$WORK/pwned" ] && [ ! -e "$WORK/b" ]
rmdir "$out"

finish
