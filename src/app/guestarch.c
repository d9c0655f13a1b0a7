/* SPDX-License-Identifier: MIT */
#include "app/guestarch.h"

#include <string.h>

static const struct sd_guest_machine x86_64_machines[] = {
	{"microvm", "microvm", "virtio_mmio", "virtio-blk-device"},
	{"q35", "q35", "virtio_pci", "virtio-blk-pci"},
};

/*
 * aarch64: QEMU's "virt" board with its virtio-mmio transports (32 of
 * them, each disk on the next); Debian's arm64 cloud kernel has the PL011
 * console (ttyAMA0), PSCI (init's power-off ends QEMU) and the PCIe host
 * built in, virtio, virtio_mmio and virtio_blk as modules.
 * gic-version=max: GICv3 (emulated under TCG at the same speed as the
 * default v2, measured here; a KVM host may have only GICv3).  -cpu
 * max,pauth=off: every instruction QEMU emulates, so any arm64 program
 * runs, but without pointer authentication, whose emulation made a boot
 * cost 6 s of CPU instead of 1.6 s under TCG here (cortex-a72: 1.4 s).
 */
static const struct sd_guest_machine aarch64_machines[] = {
	{"virt", "virt,gic-version=max", "virtio_mmio", "virtio-blk-device"},
};

/*
 * s390x: QEMU's "s390-ccw-virtio" machine, its disks on the virtio-ccw
 * channel transport, which Debian's s390x kernel has built in
 * (CONFIG_S390_GUEST=y, a bool, so modules.builtin does not list it: no
 * transport module to load), as it has virtio and virtio_ring; the
 * console is the SCLP line-mode console QEMU attaches to -serial
 * (ttysclp0).  QEMU's default CPU model under TCG.
 */
static const struct sd_guest_machine s390x_machines[] = {
	{"s390-ccw-virtio", "s390-ccw-virtio", NULL, "virtio-blk-ccw"},
};

const struct sd_guest_arch sd_guest_archs[] = {
	{
		.name = "x86_64",
		.debian = "amd64",
		.qemu = "qemu-system-x86_64",
		.qemu_package = "qemu-system-x86",
		.cross_cc = "x86_64-linux-gnu-gcc",
		.cross_packages = "gcc-x86-64-linux-gnu libc6-dev-amd64-cross",
		.console = "ttyS0",
		.tsc_khz = true,
		.machines = x86_64_machines,
		.nmachines =
			sizeof(x86_64_machines) / sizeof(x86_64_machines[0]),
	},
	{
		.name = "aarch64",
		.debian = "arm64",
		.qemu = "qemu-system-aarch64",
		.qemu_package = "qemu-system-arm",
		.cross_cc = "aarch64-linux-gnu-gcc",
		.cross_packages = "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
		.console = "ttyAMA0",
		.cpu_tcg = "max,pauth=off",
		.cpu_kvm = "host",
		.machines = aarch64_machines,
		.nmachines =
			sizeof(aarch64_machines) / sizeof(aarch64_machines[0]),
	},
	{
		.name = "s390x",
		.debian = "s390x",
		.qemu = "qemu-system-s390x",
		.qemu_package = "qemu-system-misc",
		.cross_cc = "s390x-linux-gnu-gcc",
		.cross_packages = "gcc-s390x-linux-gnu libc6-dev-s390x-cross",
		.console = "ttysclp0",
		.cpu_kvm = "host",
		.machines = s390x_machines,
		.nmachines = sizeof(s390x_machines) / sizeof(s390x_machines[0]),
	},
};

const size_t sd_guest_narchs =
	sizeof(sd_guest_archs) / sizeof(sd_guest_archs[0]);

const struct sd_guest_arch *sd_guest_arch_find(const char *name)
{
	for (size_t i = 0; name && i < sd_guest_narchs; i++)
		if (!strcmp(name, sd_guest_archs[i].name) ||
		    !strcmp(name, sd_guest_archs[i].debian))
			return &sd_guest_archs[i];
	return NULL;
}

const struct sd_guest_arch *sd_guest_arch_host(void)
{
#if defined(__x86_64__)
	return sd_guest_arch_find("x86_64");
#elif defined(__aarch64__)
	return sd_guest_arch_find("aarch64");
#elif defined(__s390x__)
	return sd_guest_arch_find("s390x");
#else
	return NULL;
#endif
}

const struct sd_guest_machine *
sd_guest_machine_find(const struct sd_guest_arch *a, const char *name)
{
	if (!name)
		return &a->machines[0];
	for (size_t i = 0; i < a->nmachines; i++)
		if (!strcmp(name, a->machines[i].name))
			return &a->machines[i];
	return NULL;
}

const struct sd_guest_init_blob *
sd_guest_arch_init(const struct sd_guest_arch *a)
{
	for (size_t i = 0; i < sd_guest_inits_n; i++)
		if (!strcmp(sd_guest_inits[i].arch, a->name))
			return &sd_guest_inits[i];
	return NULL;
}
