#!/bin/sh
# SPDX-License-Identifier: MIT
# storedisk vmcheck --verity: real boots (Debian's cloud kernel under QEMU,
# TCG here) where the guest opens the disk through dm-verity with the
# root hash the host pins.  An untampered image packed with --verity
# (squashfs) reads whole; with one byte flipped inside one file's data
# (squashfs, then EROFS), the guest's read of that file fails with an I/O
# error while another file of the same image reads (and the program runs
# from it), the host's `verify --verity-root` names the same damage, and
# without --verity the same image reads whole (the error is dm-verity's);
# a wrong --verity-root stops the guest (non-zero); a layer over its base
# (--base), each with its own tree and root hash, works.  Refused before
# booting (2): an image without a tree, a bad --verity-root, a missing
# IMAGE.roothash.  Skipped, with the reason, exactly where
# test-vmcheck.sh skips: without QEMU, the kernel or a static C compiler.
. "$SRCDIR/tests/cli/lib.sh"

# shellcheck source=tests/vm/lib-vm.sh
. "$SRCDIR/tests/vm/lib-vm.sh"

# The guest program, static: reads each file named to its end and prints
# "read FILE: N bytes" or "read FILE: <strerror>"; exits with the number
# of files that failed.
mkdir -p "$WORK/src"
cat >"$WORK/src/rd.c" <<'EOF'
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char buf[65536];
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		long total = 0;
		ssize_t n = -1;
		int fd = open(argv[i], O_RDONLY);
		if (fd >= 0)
			while ((n = read(fd, buf, sizeof buf)) > 0)
				total += n;
		if (n < 0) {
			printf("read %s: %s\n", argv[i], strerror(errno));
			bad++;
		} else {
			printf("read %s: %ld bytes\n", argv[i], total);
		}
		if (fd >= 0)
			close(fd);
	}
	return bad;
}
EOF
cc -static -O2 -o "$WORK/src/rd" "$WORK/src/rd.c" ||
	skip_all "cc -static cannot build the guest program (no static libc?)"

# A store of three paths: the program; data with a 128 KiB file of random
# bytes (one squashfs block, stored as it is: its bytes are found in the
# image) and a small one; and a path only the layer has.
hash() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
S=$WORK/s/nix/store
prog=$(hash vrprog)-vrprog
data=$(hash vrdata)-vrdata
more=$(hash vrmore)-vrmore
mkdir -p "$S/$prog/bin" "$S/$data" "$S/$more"
cp "$WORK/src/rd" "$S/$prog/bin/rd"
head -c 131072 /dev/urandom >"$S/$data/victim"
echo "a file that stays whole" >"$S/$data/msg"
echo "a file of the layer" >"$S/$more/layer-msg"
P=/nix/store/$prog/bin/rd
V=/nix/store/$data/victim
G=/nix/store/$data/msg

pk() { "$SD" pack -q --store "$S" --scan "$@"; }
pk --verity -o "$WORK/sq.img" "/nix/store/$prog" "/nix/store/$data" ||
	fail "pack squashfs --verity"
pk --format erofs --verity -o "$WORK/ero.img" "/nix/store/$prog" \
	"/nix/store/$data" || fail "pack erofs --verity"
pk -o "$WORK/plain.img" "/nix/store/$prog" || fail "pack without --verity"
pk --format erofs --verity --base "$WORK/sq.img" -o "$WORK/layer.img" \
	"/nix/store/$prog" "/nix/store/$data" "/nix/store/$more" ||
	fail "pack a layer --verity --base"

# tamper IMG COPY: COPY is IMG (and its .roothash) with one byte of the
# victim's data flipped, in its middle (64 KiB in: a 4096-byte block of
# that file alone); its offset in $WORK/at.
tamper() {
	cp "$1" "$2" && cp "$1.roothash" "$2.roothash" &&
		python3 - "$2" "$S/$data/victim" >"$WORK/at" <<'EOF'
import sys
img, src = sys.argv[1], sys.argv[2]
needle = open(src, "rb").read()[65536:65536 + 64]
data = bytearray(open(img, "rb").read())
at = data.find(needle)
assert at >= 0 and data.find(needle, at + 1) < 0, "the victim's bytes once"
data[at] ^= 0x01
open(img, "wb").write(data)
print(at)
EOF
}

VMTMP=$WORK/vmtmp
mkdir -p "$VMTMP"
vm() { TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" --timeout 120 "$@"; }
nothing_left() {
	check "$1: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]
}
# boot_time NAME: the last run's times, from its summary line (or, with
# --json, its phases).
boot_time() {
	if [ -s "$WORK/out" ] && python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$WORK/out" 2>/dev/null; then
		diag "$1: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); p=d['phases']; print('kernel up at %.1f s, %.1f s in all' % (p['kernel_up'], d['seconds']))" "$WORK/out")"
	else
		diag "$1: $(sed -n 's/.*(\(kernel up at .* in all\);.*/\1/p' "$WORK/err")"
	fi
}

# --- untampered: reads whole, --json names the root pinned
expect_rc 0 "squashfs --verity, untampered: exit 0" \
	vm --verity --json --log "$WORK/sq.log" "$WORK/sq.img" -- "$P" "$V" "$G"
cp "$WORK/out" "$WORK/sq.json"
check "untampered: the victim reads whole" contains "$WORK/err" "read $V: 131072 bytes"
check "untampered: the other file reads" contains "$WORK/err" "read $G: 24 bytes"
check "--json: verity is the root hash of sq.img.roothash" python3 - \
	"$WORK/sq.json" "$(cat "$WORK/sq.img.roothash")" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verity"] == [sys.argv[2]], d["verity"]
assert d["exit_code"] == 0 and d["outcome"] == "exited", d
EOF
check "--log: the root hash pinned and where it came from" \
	grep -q "verity $WORK/sq.img: root hash $(cat "$WORK/sq.img.roothash") (from $WORK/sq.img.roothash)" "$WORK/sq.log"
check "the dm-verity modules were loaded" python3 - "$WORK/sq.log" <<'EOF'
import re, sys
log = open(sys.argv[1]).read()
m = re.search(r"modules from .*: (\d+) to load", log)
assert m and int(m.group(1)) >= 4, m
assert "mounted" in log
EOF
boot_time untampered
nothing_left untampered

# --- one byte flipped in the victim: EIO for it, the rest works
for fmt in squashfs erofs; do
	img=$WORK/sq.img
	[ $fmt = erofs ] && img=$WORK/ero.img
	tamper "$img" "$WORK/bad-$fmt.img" || fail "$fmt: tamper"
	expect_rc 1 "$fmt: a flipped data byte (at $(cat "$WORK/at")): the verify of the host finds it (1)" \
		"$SD" verify -q --verity-root "$(cat "$img.roothash")" "$WORK/bad-$fmt.img"
	expect_rc 1 "$fmt --verity, one byte flipped: the program reports one failed read (exit 1)" \
		vm --verity "$WORK/bad-$fmt.img" -- "$P" "$V" "$G"
	boot_time "$fmt tampered"
	cp "$WORK/out" "$WORK/bad-$fmt.out"
	check "$fmt: the guest's read of the changed file fails with EIO" \
		contains "$WORK/bad-$fmt.out" "read $V: Input/output error"
	check "$fmt: the other file of the image reads whole" \
		contains "$WORK/bad-$fmt.out" "read $G: 24 bytes"
	check "$fmt: the summary says mounted through dm-verity" \
		contains "$WORK/err" "mounted through dm-verity"
done
diag "$(cat "$WORK/bad-squashfs.out")"
# The same image without --verity: the kernel reads the changed bytes.
expect_rc 0 "without --verity the tampered squashfs reads whole (exit 0)" \
	vm "$WORK/bad-squashfs.img" -- "$P" "$V" "$G"
check "... the changed file among it" contains "$WORK/out" "read $V: 131072 bytes"
nothing_left tampered

# --- a wrong root hash (EROFS's for the squashfs image): the guest
# cannot read the filesystem through dm-verity
expect_rc 125 "a wrong --verity-root: the guest fails, no result (125)" \
	vm --verity-root "$(cat "$WORK/ero.img.roothash")" --json \
	"$WORK/sq.img" -- "$P" "$G"
check "a wrong root: init's mount through dm-verity fails with EIO" python3 - "$WORK/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["outcome"] == "no-result", d
assert d["error"].startswith("mount /dev/dm-0 (squashfs)"), d["error"]
assert d["error"].endswith("Input/output error"), d["error"]
assert d["phases"]["mounted"] is None, d
EOF
check "... and vmcheck warns before that the image's tree gives another root" \
	contains "$WORK/err" "the tree of $WORK/sq.img gives another root hash than"
boot_time "wrong root"

# --- a layer over its base, each with its own tree and root hash
expect_rc 0 "--base: layer and base each through dm-verity: exit 0" \
	vm --verity --json "$WORK/layer.img" --base "$WORK/sq.img" -- \
	"$P" "/nix/store/$more/layer-msg" "$G" "$V"
check "--base: the layer's file and the base's files read" python3 - \
	"$WORK/out" "$(cat "$WORK/layer.img.roothash")" \
	"$(cat "$WORK/sq.img.roothash")" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verity"] == sys.argv[2:4], d["verity"]
assert d["verity"][0] != d["verity"][1], d["verity"]
EOF
check "--base: the base's victim whole" contains "$WORK/err" "read $V: 131072 bytes"
boot_time "--base"
nothing_left "wrong root and --base"

# --- refused before booting (2), no QEMU started
expect_rc 2 "an image without a tree: refused (2)" \
	vm --verity --log "$WORK/plain.log" "$WORK/plain.img" -- "$P"
check "... the message says it has no dm-verity tree" \
	contains "$WORK/err" "plain.img has no dm-verity tree (pack --verity makes one)"
check "... no QEMU started" sh -c "grep -Eq 'result +exit code 2' '$WORK/plain.log' && ! grep -Eq 'phase +qemu_start' '$WORK/plain.log'"
expect_rc 2 "a base without a tree: refused (2)" \
	vm --verity "$WORK/layer.img" --base "$WORK/plain.img" -- "$P"
expect_rc 2 "--verity-root that is no hash: refused (2)" \
	vm --verity-root 1234 "$WORK/sq.img" -- "$P"
check "... named" contains "$WORK/err" "--verity-root: want 64 hex digits"
cp "$WORK/sq.img" "$WORK/norh.img"
expect_rc 2 "no IMAGE.roothash and no --verity-root: refused (2)" \
	vm --verity "$WORK/norh.img" -- "$P"
check "... the file is named" contains "$WORK/err" "norh.img.roothash: No such file"
nothing_left refusals

finish
