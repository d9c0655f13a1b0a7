#!/bin/bash
# SPDX-License-Identifier: MIT
# init-smoke.sh — the guest init (src/guest/init.c) booted for real, without
# vmcheck: an initramfs made here with cpio (newc) holding the init, its
# configuration (src/core/vmproto.h) and the kernel modules, a tiny store
# packed with storedisk holding a static program that prints its arguments
# and exits 3, and Debian's cloud kernel under QEMU's microvm (TCG).  Each
# case checks the console markers: squashfs found by device, EROFS found
# by its label (both exit 3), two EROFS disks overlaid (the program
# aborts: signal 6), and two failures (a squashfs
# "by label", a program that does not exist) that must end in an "error"
# marker and a power-off.
#
# Environment: STOREDISK (the binary), SRCDIR (the source tree), GUEST_INIT
# (build/src/guest/sd-guest-init), KERNEL and MODULES (default: the Debian
# 6.1 cloud kernel unpacked in /var/tmp/vmk/root).  Skips when QEMU, the
# kernel or a static C toolchain is missing; SMOKE_KEEP=DIR keeps each
# case's console there.  Not registered in meson: its five boots took
# 35-48 s alone but 72 s inside the whole suite on this 2-core machine,
# beyond the minute a registered test may take.  Run it by hand:
#   STOREDISK=build/src/storedisk SRCDIR=. \
#     GUEST_INIT=build/src/guest/sd-guest-init bash tests/vm/init-smoke.sh
. "$SRCDIR/tests/cli/lib.sh"

: "${GUEST_INIT:?GUEST_INIT must name the built guest init}"
KERNEL=${KERNEL:-/var/tmp/vmk/root/boot/vmlinuz-6.1.0-57-cloud-amd64}
MODULES=${MODULES:-/var/tmp/vmk/root/lib/modules/6.1.0-57-cloud-amd64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}

command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed"
command -v cpio >/dev/null || skip_all "cpio is not installed"
[ -r "$KERNEL" ] || skip_all "no kernel at $KERNEL"
[ -d "$MODULES/kernel" ] || skip_all "no modules under $MODULES"

# The modules each case needs, dependencies first (virtio depends on
# virtio_ring; virtio_mmio and virtio_blk on both; erofs on libcrc32c, whose
# soft dependency crc32c is built in; squashfs and overlay on nothing:
# `modinfo -F depends` of each).
mods_common="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio drivers/block/virtio_blk"
mods_squashfs="$mods_common fs/squashfs/squashfs"
mods_erofs="$mods_common lib/libcrc32c fs/erofs/erofs"
mods_overlay="$mods_erofs fs/overlayfs/overlay"

# The program: prints its arguments, one a line, and the first line of
# each argument that names a readable file, then exits 3 (or, given the
# argument --abort, calls abort(): SIGABRT).
cat >"$WORK/hello.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	int crash = 0;
	for (int i = 0; i < argc; i++) {
		char line[256];
		FILE *f = i > 0 ? fopen(argv[i], "r") : NULL;
		printf("hello-arg[%d]=%s\n", i, argv[i]);
		if (f && fgets(line, sizeof line, f))
			printf("hello-file[%d]=%s", i, line);
		crash |= strcmp(argv[i], "--abort") == 0;
	}
	fflush(stdout);
	if (crash)
		abort();
	return 3;
}
EOF
cc -static -O2 -o "$WORK/hello" "$WORK/hello.c" 2>"$WORK/cc.err" ||
	skip_all "cannot link a static C program: $(head -1 "$WORK/cc.err")"

# Two stores of one path each: the program, and a second file for the
# overlay case.
h=0123456789abcdfghijklmnpqrsvwxyz
mkdir -p "$WORK/s1/nix/store/$h-hello/bin" "$WORK/s2/nix/store/${h%?}0-extra"
cp "$WORK/hello" "$WORK/s1/nix/store/$h-hello/bin/hello"
echo extra >"$WORK/s2/nix/store/${h%?}0-extra/file"
prog=/nix/store/$h-hello/bin/hello
"$SD" pack -o "$WORK/a.sqfs" --store "$WORK/s1/nix/store" "$WORK/s1/nix/store/$h-hello" ||
	fail "pack squashfs"
"$SD" pack --format erofs -o "$WORK/a.erofs" --store "$WORK/s1/nix/store" "$WORK/s1/nix/store/$h-hello" ||
	fail "pack erofs"
"$SD" pack --format erofs --label extra -o "$WORK/b.erofs" --store "$WORK/s2/nix/store" "$WORK/s2/nix/store/${h%?}0-extra" ||
	fail "pack erofs base"

khz=$(awk -F: '/cpu MHz/{printf "%d", $2*1000; exit}' /proc/cpuinfo)
nonce=0123456789abcdef

# boot NAME MODULES CONF-RECORDS... -- DISK...: build the initramfs, boot,
# leave the console in $WORK/NAME.console; the boot's wall time in $ms.
boot() {
	local name=$1 mods=$2 stage=$WORK/stage-$1 disks=()
	shift 2
	rm -rf "$stage"
	mkdir -p "$stage/m"
	cp "$GUEST_INIT" "$stage/init"
	: >"$stage/storedisk-vmcheck.conf"
	printf 'nonce=%s\0' "$nonce" >>"$stage/storedisk-vmcheck.conf"
	for m in $mods; do
		cp "$MODULES/kernel/$m.ko" "$stage/m/"
		printf 'module=/m/%s.ko\0' "${m##*/}" >>"$stage/storedisk-vmcheck.conf"
	done
	while [ "$1" != -- ]; do
		printf '%s\0' "$1" >>"$stage/storedisk-vmcheck.conf"
		shift
	done
	shift
	local i=0
	for d in "$@"; do
		disks+=(-drive "file=$d,if=none,id=d$i,format=raw,readonly=on"
			-device "virtio-blk-device,drive=d$i")
		i=$((i + 1))
	done
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$WORK/$name.cpio"
	local t0 t1
	t0=$(date +%s%N)
	timeout -k 5 "$BOOT_TIMEOUT" qemu-system-x86_64 -machine microvm -accel tcg -m 256 \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$WORK/$name.cpio" \
		-append "console=ttyS0 tsc_early_khz=$khz panic=-1 quiet" \
		"${disks[@]}" </dev/null >"$WORK/$name.console" 2>"$WORK/$name.qemu-err"
	qrc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	tr -d '\r' <"$WORK/$name.console" >"$WORK/$name.lines"
	[ -z "${SMOKE_KEEP:-}" ] || cp "$WORK/$name.lines" "$SMOKE_KEEP/$name.console"
	diag "$name: QEMU exit $qrc after $ms ms; markers and program output:"
	diag "$(grep -E "^@@storedisk-vmcheck|hello-" "$WORK/$name.lines")"
}

# markers NAME: the events of the case's console, one line, space-separated.
markers() {
	sed -n "s/^@@storedisk-vmcheck $nonce //p" "$WORK/$1.lines" | tr '\n' '|'
}

ok_boot() {
	check "$1: QEMU ended by itself (exit $qrc)" [ "$qrc" -eq 0 ]
}

boot sqfs "$mods_squashfs" store=/nix/store disk=squashfs:/dev/vda \
	"arg=$prog" arg=one "arg=two words" -- "$WORK/a.sqfs"
ok_boot sqfs
check "sqfs: markers init, modules 5, mounted, started, exit 3, poweroff" \
	[ "$(markers sqfs)" = "init|modules 5|mounted|started|exit 3|poweroff|" ]
check "sqfs: the program's arguments on the console" \
	grep -qx "hello-arg\[2\]=two words" "$WORK/sqfs.lines"

boot erofs "$mods_erofs" store=/nix/store disk=erofs:LABEL=nix-store \
	"arg=$prog" -- "$WORK/b.erofs" "$WORK/a.erofs"
ok_boot erofs
check "erofs by label: markers init, modules 6, mounted, started, exit 3, poweroff" \
	[ "$(markers erofs)" = "init|modules 6|mounted|started|exit 3|poweroff|" ]
check "erofs by label: the program ran" \
	grep -qx "hello-arg\[0\]=$prog" "$WORK/erofs.lines"

boot overlay "$mods_overlay" store=/nix/store disk=erofs:/dev/vda \
	disk=erofs:LABEL=extra "arg=$prog" "arg=/nix/store/${h%?}0-extra/file" \
	arg=--abort -- "$WORK/a.erofs" "$WORK/b.erofs"
ok_boot overlay
check "overlay of two erofs disks: the program aborted, signal 6" \
	[ "$(markers overlay)" = "init|modules 7|mounted|started|signal 6|poweroff|" ]
check "overlay: the program (first disk) read the file of the second" \
	grep -qx "hello-file\[1\]=extra" "$WORK/overlay.lines"

boot sqlabel "$mods_squashfs" store=/nix/store disk=squashfs:LABEL=nix-store \
	"arg=$prog" -- "$WORK/a.sqfs"
ok_boot sqlabel
check "squashfs by label: an error saying it has no label, then poweroff" \
	grep -qx "@@storedisk-vmcheck $nonce error disk LABEL=nix-store: squashfs has no filesystem label to find it by" "$WORK/sqlabel.lines"
check "squashfs by label: poweroff follows the error" \
	[ "$(markers sqlabel | sed 's/error [^|]*/error/')" = "init|modules 5|error|poweroff|" ]

boot noexec "$mods_squashfs" store=/nix/store disk=squashfs:/dev/vda \
	arg=/nix/store/missing -- "$WORK/a.sqfs"
ok_boot noexec
check "a missing program: exec error naming it" \
	grep -qx "@@storedisk-vmcheck $nonce error exec /nix/store/missing: No such file or directory" "$WORK/noexec.lines"

finish
