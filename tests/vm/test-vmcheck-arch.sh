#!/bin/sh
# SPDX-License-Identifier: MIT
# storedisk vmcheck --arch aarch64: an arm64 guest on this host (QEMU TCG,
# Debian's arm64 cloud kernel from scripts/fetch-guest-kernel.sh aarch64)
# runs a static arm64 program from the image — two boots: a squashfs image
# (exit 0, its output, uname's machine "aarch64", --json), and an EROFS
# layer found by its label over a squashfs base (overlay, a non-zero
# status).  Refusals need no boot: a kernel of the other architecture, an
# unknown --arch, a machine the architecture has not.  Skipped, with the
# reason, where qemu-system-aarch64, the arm64 kernel, the cross compiler
# or this build's aarch64 guest init cannot be had.  SD_GUEST_KERNEL_AARCH64
# and SD_GUEST_MODULES_AARCH64 name another kernel.
. "$SRCDIR/tests/cli/lib.sh"

command -v qemu-system-aarch64 >/dev/null ||
	skip_all "qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)"
XCC=aarch64-linux-gnu-gcc
command -v $XCC >/dev/null ||
	skip_all "no $XCC for the arm64 guest program (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
# This storedisk embeds an aarch64 init only when its build found the
# cross compiler: the option is checked before anything is read.
"$SD" vmcheck --arch aarch64 --kernel "$WORK/none" "$WORK/none" -- /x \
	>/dev/null 2>"$WORK/init.err"
if grep -q "without an aarch64 guest init" "$WORK/init.err"; then
	skip_all "this storedisk has no aarch64 guest init: $(cat "$WORK/init.err")"
fi
if [ -n "${SD_GUEST_KERNEL_AARCH64:-}" ]; then
	K=$SD_GUEST_KERNEL_AARCH64
	MODS=${SD_GUEST_MODULES_AARCH64:?SD_GUEST_MODULES_AARCH64 must go with SD_GUEST_KERNEL_AARCH64}
else
	kk=$("$SRCDIR/scripts/fetch-guest-kernel.sh" aarch64 2>"$WORK/fetch.err") ||
		skip_all "no arm64 guest kernel: scripts/fetch-guest-kernel.sh aarch64 failed: $(tail -1 "$WORK/fetch.err")"
	K=$(echo "$kk" | sed -n 1p)
	MODS=$(echo "$kk" | sed -n 2p)
fi

# The guest program, static arm64: prints its arguments and the machine
# uname(2) reports; "cat FILE" prints FILE; "exit N" exits N.
mkdir -p "$WORK/src"
cat >"$WORK/src/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
int main(int argc, char **argv)
{
	struct utsname u;
	printf("armprog:");
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
	skip_all "$XCC -static cannot build the guest program (no libc6-dev-arm64-cross?)"

hash() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
S=$WORK/s/nix/store
prog=$(hash armprog)-armprog
data=$(hash armdata)-armdata
mkdir -p "$S/$prog/bin" "$S/$data"
cp "$WORK/src/prog" "$S/$prog/bin/prog"
echo "a file of the arm layer" >"$S/$data/msg"
P=/nix/store/$prog/bin/prog

pk() { "$SD" pack -q --store "$S" --scan "$@"; }
pk -o "$WORK/sq.img" "/nix/store/$prog" || fail "pack squashfs"
pk --format erofs --label armlayer --base "$WORK/sq.img" -o "$WORK/layer.img" \
	"/nix/store/$prog" "/nix/store/$data" || fail "pack erofs --base"

VMTMP=$WORK/vmtmp
mkdir -p "$VMTMP"
vm() { TMPDIR=$VMTMP "$SD" vmcheck --arch aarch64 --kernel "$K" --modules "$MODS" "$@"; }
# TCG emulating another architecture on a loaded 2-core machine: generous.
T=180

# --- squashfs: status 0, the program's output, the guest is aarch64
t0=$(date +%s)
expect_rc 0 "aarch64 squashfs: the program's exit status 0" \
	vm --timeout $T --json "$WORK/sq.img" -- "$P" hello arm
diag "aarch64 boot: $(($(date +%s) - t0)) s"
cp "$WORK/out" "$WORK/sq.json"
check "aarch64: the program's output" contains "$WORK/err" "armprog: hello arm"
check "aarch64: uname(2) in the guest says aarch64" contains "$WORK/err" "machine aarch64"
check "--json: arch, machine, QEMU, kernel, phases" python3 - "$WORK/sq.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == 0 and d["outcome"] == "exited" and d["end"] == "poweroff", d
assert d["arch"] == "aarch64", d
q = d["qemu"]
assert q["machine"] == "virt" and q["accel"] == "tcg", q
argv = q["argv"]
assert argv[0] == "qemu-system-aarch64", argv
assert argv[argv.index("-machine") + 1].startswith("virt"), argv
assert "console=ttyAMA0" in argv[argv.index("-append") + 1], argv
assert "virtio-blk-device,drive=disk0,serial=storedisk0" in argv, argv
assert d["kernel_version"].endswith("-arm64"), d
assert d["modules"] >= 4, d
ph = d["phases"]
assert all(ph[k] is not None for k in ph), ph
EOF
check "aarch64 squashfs: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]

# --- an EROFS layer found by its label over a squashfs base: overlay,
# a non-zero status
t0=$(date +%s)
expect_rc 7 "aarch64 erofs --by-label --base: the program's status 7" \
	vm --timeout $T --by-label --base "$WORK/sq.img" "$WORK/layer.img" -- \
	"$P" cat "/nix/store/$data/msg" exit 7
diag "aarch64 boot with a base: $(($(date +%s) - t0)) s"
check "aarch64 --base: the layer's file through the overlay" \
	contains "$WORK/out" "a file of the arm layer"
check "aarch64 --base: the summary names the status" \
	contains "$WORK/err" "exited with status 7"
check "aarch64 --base: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]

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
		sh -c "grep -q 'is an x86_64 kernel (bzImage), not an aarch64 one' '$WORK/err'"
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
check "refusals: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]

finish
