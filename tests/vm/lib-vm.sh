# SPDX-License-Identifier: MIT
# lib-vm.sh — what the x86_64 vmcheck tests (test-vmcheck.sh,
# test-vmcheck-verity.sh) need before their first boot, sourced after
# tests/cli/lib.sh: QEMU, the guest kernel and its modules in K and MODS
# (SD_GUEST_KERNEL and SD_GUEST_MODULES, as scripts/test.sh sets them, or
# scripts/fetch-guest-kernel.sh's), and a C compiler for the guest
# program.  Skips the whole test, with the reason, when one is missing.
command -v qemu-system-x86_64 >/dev/null ||
	skip_all "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
if [ -n "${SD_GUEST_KERNEL:-}" ]; then
	K=$SD_GUEST_KERNEL
	MODS=${SD_GUEST_MODULES:?SD_GUEST_MODULES must go with SD_GUEST_KERNEL}
else
	kk=$("$SRCDIR/scripts/fetch-guest-kernel.sh" 2>"$WORK/fetch.err") ||
		skip_all "no guest kernel: scripts/fetch-guest-kernel.sh failed: $(tail -1 "$WORK/fetch.err")"
	K=$(echo "$kk" | sed -n 1p)
	MODS=$(echo "$kk" | sed -n 2p)
fi
command -v cc >/dev/null || skip_all "no C compiler for the guest program"
