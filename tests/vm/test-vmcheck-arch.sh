#!/bin/sh
# SPDX-License-Identifier: MIT
# test-vmcheck-arch.sh ARCH — storedisk vmcheck --arch ARCH (aarch64 or
# s390x) on this host: a guest of that architecture under QEMU TCG with
# Debian's kernel for it (scripts/fetch-guest-kernel.sh ARCH) runs a
# static program of that architecture (built by its cross compiler) from
# the image.  Every architecture: an EROFS layer found by its label over a
# squashfs base (overlay), both opened through dm-verity (--verity: the
# guest init's device-mapper ioctls on that architecture, big-endian
# s390x among them), the program reading the layer's file, uname(2)
# saying ARCH, a non-zero status, --json.  aarch64 also boots a lone
# squashfs image (status 0), and checks what needs no boot: the refusals
# of a kernel of another architecture, an unknown --arch, a machine the
# architecture has not, an image needing a newer kernel (EROFS zstd), and
# a kernel without a readable version (its release then from --modules).  Skipped, with the reason, where QEMU, the kernel,
# the cross compiler or this build's guest init for ARCH cannot be had.
# SD_GUEST_KERNEL_<ARCH> and SD_GUEST_MODULES_<ARCH> (AARCH64, S390X)
# name another kernel.
. "$SRCDIR/tests/cli/lib.sh"

ARCH=${1:?usage: test-vmcheck-arch.sh aarch64|s390x}
case $ARCH in
aarch64)
	QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm
	XCC=aarch64-linux-gnu-gcc XPKG="gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
	MACHINE=virt CONSOLE=ttyAMA0 BLK=virtio-blk-device
	;;
s390x)
	QEMU=qemu-system-s390x QEMU_PKG=qemu-system-misc
	XCC=s390x-linux-gnu-gcc XPKG="gcc-s390x-linux-gnu libc6-dev-s390x-cross"
	MACHINE=s390-ccw-virtio CONSOLE=ttysclp0 BLK=virtio-blk-ccw
	;;
*)
	fail "unknown architecture $ARCH"
	finish
	exit
	;;
esac
UP=$(echo "$ARCH" | tr "[:lower:]" "[:upper:]")

command -v $QEMU >/dev/null ||
	skip_all "$QEMU is not installed (apt-get install $QEMU_PKG)"
command -v $XCC >/dev/null ||
	skip_all "no $XCC for the $ARCH guest program (apt-get install $XPKG)"
# This storedisk embeds an init for ARCH only when its build found the
# cross compiler: the option is checked before anything is read.
"$SD" vmcheck --arch "$ARCH" --kernel "$WORK/none" "$WORK/none" -- /x \
	>/dev/null 2>"$WORK/init.err"
if grep -q "without an $ARCH guest init" "$WORK/init.err"; then
	skip_all "this storedisk has no $ARCH guest init: $(cat "$WORK/init.err")"
fi
eval "K=\${SD_GUEST_KERNEL_$UP:-} MODS=\${SD_GUEST_MODULES_$UP:-}"
if [ -z "$K" ]; then
	kk=$("$SRCDIR/scripts/fetch-guest-kernel.sh" "$ARCH" 2>"$WORK/fetch.err") ||
		skip_all "no $ARCH guest kernel: scripts/fetch-guest-kernel.sh $ARCH failed: $(tail -1 "$WORK/fetch.err")"
	K=$(echo "$kk" | sed -n 1p)
	MODS=$(echo "$kk" | sed -n 2p)
fi
[ -n "$MODS" ] || skip_all "SD_GUEST_MODULES_$UP must go with SD_GUEST_KERNEL_$UP"

# The guest program, static: prints its arguments and the machine uname(2)
# reports; "cat FILE" prints FILE; "exit N" exits N.
mkdir -p "$WORK/src"
cat >"$WORK/src/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
int main(int argc, char **argv)
{
	struct utsname u;
	printf("archprog:");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	if (uname(&u) == 0)
		printf("machine %s\n", u.machine);
	fflush(stdout);
	int at = 1;
	if (argc > at + 1 && !strcmp(argv[at], "cat")) {
		FILE *f = fopen(argv[at + 1], "r");
		if (!f)
			return 66;
		int c;
		while ((c = fgetc(f)) != EOF)
			putchar(c);
		fclose(f);
		at += 2;
	}
	return argc > at + 1 && !strcmp(argv[at], "exit") ? atoi(argv[at + 1]) : 0;
}
EOF
$XCC -static -O2 -o "$WORK/src/prog" "$WORK/src/prog.c" ||
	skip_all "$XCC -static cannot build the guest program (apt-get install $XPKG)"

hash() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
S=$WORK/s/nix/store
prog=$(hash "prog-$ARCH")-archprog
data=$(hash "data-$ARCH")-archdata
mkdir -p "$S/$prog/bin" "$S/$data"
cp "$WORK/src/prog" "$S/$prog/bin/prog"
echo "a file of the $ARCH layer" >"$S/$data/msg"
P=/nix/store/$prog/bin/prog

pk() { "$SD" pack -q --store "$S" --scan "$@"; }
pk --verity -o "$WORK/sq.img" "/nix/store/$prog" || fail "pack squashfs"
pk --verity --format erofs --label archlayer --base "$WORK/sq.img" \
	-o "$WORK/layer.img" "/nix/store/$prog" "/nix/store/$data" ||
	fail "pack erofs --base"

VMTMP=$WORK/vmtmp
mkdir -p "$VMTMP"
vm() { TMPDIR=$VMTMP "$SD" vmcheck --arch "$ARCH" --kernel "$K" --modules "$MODS" "$@"; }
# TCG emulating another architecture on a loaded 2-core machine: generous.
T=180

# --- an EROFS layer found by its label over a squashfs base, each through
# dm-verity: overlay, a non-zero status, the guest's machine, --json
t0=$(date +%s)
expect_rc 7 "$ARCH erofs --by-label --base --verity: the program's status 7" \
	vm --timeout $T --json --by-label --verity --base "$WORK/sq.img" "$WORK/layer.img" -- \
	"$P" cat "/nix/store/$data/msg" exit 7
diag "$ARCH boot with a base: $(($(date +%s) - t0)) s"
cp "$WORK/out" "$WORK/layer.json"
check "$ARCH --base: the layer's file through the overlay" \
	contains "$WORK/err" "a file of the $ARCH layer"
check "$ARCH: uname(2) in the guest says $ARCH" contains "$WORK/err" "machine $ARCH"
check "$ARCH --verity: mounted through dm-verity" \
	contains "$WORK/err" "mounted through dm-verity"
check "$ARCH --json: arch, machine, QEMU, kernel, modules" \
	python3 - "$WORK/layer.json" "$ARCH" "$MACHINE" "$CONSOLE" "$BLK" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
arch, machine, console, blk = sys.argv[2:6]
assert d["status"] == 7 and d["outcome"] == "exited" and d["end"] == "poweroff", d
assert d["arch"] == arch, d
q = d["qemu"]
assert q["machine"] == machine and q["accel"] == "tcg", q
argv = q["argv"]
assert argv[0] == "qemu-system-" + arch, argv
assert argv[argv.index("-machine") + 1].startswith(machine), argv
assert "console=" + console in argv[argv.index("-append") + 1], argv
# each disk named by its serial: the image first, then its base
assert blk + ",drive=disk0,serial=storedisk0" in argv, argv
assert blk + ",drive=disk1,serial=storedisk1" in argv, argv
assert d["kernel_version"].startswith(("5.", "6.", "7.")), d
assert d["modules"] >= 3, d
assert len(d["verity"]) == 2 and d["verity"][0] != d["verity"][1], d
ph = d["phases"]
assert all(ph[k] is not None for k in ph), ph
EOF
check "$ARCH --base: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]

if [ "$ARCH" != aarch64 ]; then
	finish
	exit
fi

# --- aarch64: a lone squashfs image, status 0
t0=$(date +%s)
expect_rc 0 "aarch64 squashfs: the program's exit status 0" \
	vm --timeout $T "$WORK/sq.img" -- "$P" hello arm
diag "aarch64 boot: $(($(date +%s) - t0)) s"
check "aarch64 squashfs: the program's output" contains "$WORK/out" "archprog: hello arm"
check "aarch64 squashfs: the summary names the status" \
	contains "$WORK/err" "exited with status 0"
check "aarch64 squashfs: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]

# --- refused before booting
XK=
if [ -n "${SD_GUEST_KERNEL:-}" ]; then
	XK=$SD_GUEST_KERNEL
elif kk=$("$SRCDIR/scripts/fetch-guest-kernel.sh" x86_64 2>/dev/null); then
	XK=$(echo "$kk" | sed -n 1p)
fi
if [ -n "$XK" ]; then
	expect_rc 2 "an x86_64 kernel for an aarch64 guest: refused" \
		"$SD" vmcheck --arch aarch64 --kernel "$XK" --modules "$MODS" \
		"$WORK/sq.img" -- "$P"
	check "the refusal names both architectures" \
		contains "$WORK/err" "is an x86_64 kernel (bzImage), not an aarch64 one"
else
	skip "an x86_64 kernel for an aarch64 guest: no x86_64 kernel here"
	skip "the refusal names both architectures: no x86_64 kernel here"
fi
expect_rc 2 "the arm64 kernel for an x86_64 guest: refused" \
	"$SD" vmcheck --arch x86_64 --kernel "$K" --modules "$MODS" \
	"$WORK/sq.img" -- "$P"
check "that refusal says --arch aarch64" contains "$WORK/err" "give --arch aarch64"
expect_rc 2 "--arch sparc: usage error" vm --arch sparc "$WORK/sq.img" -- "$P"
check "--arch sparc: the known ones are named" contains "$WORK/err" "x86_64, aarch64"
expect_rc 2 "--machine q35 for aarch64: usage error" \
	vm --machine q35 "$WORK/sq.img" -- "$P"
check "--machine q35: virt is named" contains "$WORK/err" "runs on virt"
pk --format erofs --compress zstd -o "$WORK/zstd.img" "/nix/store/$prog" ||
	fail "pack erofs zstd"
expect_rc 2 "EROFS zstd on the arm64 6.1 kernel: refused before booting" \
	vm --log "$WORK/zstd.log" "$WORK/zstd.img" -- "$P"
check "the refusal names the feature and the version" \
	sh -c "grep -q 'zstd' '$WORK/err' && grep -q 'needs Linux 6.10' '$WORK/err'"
check "the refusal started no QEMU" sh -c "! grep -Eq 'phase +qemu_start' '$WORK/zstd.log'"
# A kernel with no version to read: the release is --modules' name (here
# QEMU is a program that fails at once: 120, nothing booted).
head -c 200000 /dev/zero >"$WORK/nover"
expect_rc 120 "a kernel without a version: the release from --modules" \
	"$SD" vmcheck --arch aarch64 --kernel "$WORK/nover" --modules "$MODS" \
	--qemu false --log "$WORK/nover.log" "$WORK/sq.img" -- "$P"
check "... and the log says so" \
	sh -c "grep -q 'the release is taken from --modules' '$WORK/nover.log' && grep -q \"$(basename "$MODS")\" '$WORK/nover.log'"
expect_rc 2 "a kernel without a version and no --modules: refused" \
	"$SD" vmcheck --arch aarch64 --kernel "$WORK/nover" "$WORK/sq.img" -- "$P"
check "... naming what was looked for" contains "$WORK/err" "no \"Linux version"
check "refusals: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]

finish
