/* SPDX-License-Identifier: MIT */
/*
 * guestarch.h — the guest architectures `storedisk vmcheck --arch` boots,
 * one table entry each: QEMU's binary, its machines (and the virtio
 * transport and disk device each has), the console, the CPU model, and
 * the guest init embedded for it (src/guest/init_blob.h; built by a cross
 * compiler when the architecture is not the host's).  Adding an
 * architecture is one entry here and one row in src/guest/meson.build.
 */
#ifndef SD_APP_GUESTARCH_H
#define SD_APP_GUESTARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "guest/init_blob.h"

struct sd_guest_machine {
	const char *name;          /* --machine: "microvm", "q35", "virt" */
	const char *qemu_machine;  /* QEMU's -machine value */
	const char *virtio_module; /* the transport's module:
				    * "virtio_mmio" or "virtio_pci"; NULL
				    * when the kernel has it built in
				    * (s390x's virtio_ccw) */
	const char *blk_device;    /* QEMU's -device for a disk:
				    * "virtio-blk-device" (mmio) or
				    * "virtio-blk-pci" */
};

struct sd_guest_arch {
	const char *name;           /* uname -m: "x86_64", "aarch64",
				     * "s390x" */
	const char *debian;         /* Debian's name: "amd64", "arm64",
				     * "s390x" */
	const char *qemu;           /* "qemu-system-x86_64" */
	const char *qemu_package;   /* Debian package with it */
	const char *cross_cc;       /* the cross compiler of its init */
	const char *cross_packages; /* Debian packages with that */
	const char *console;        /* the console QEMU's -serial is:
				     * "ttyS0", "ttyAMA0", "ttysclp0" */
	const char *cpu_tcg;        /* -cpu without KVM, or NULL: QEMU's
				     * default */
	const char *cpu_kvm;        /* -cpu with KVM, or NULL */
	bool tsc_khz;               /* pass tsc_early_khz= (x86) */
	const struct sd_guest_machine *machines; /* the first: default */
	size_t nmachines;
};

/* Every architecture known, and how many. */
extern const struct sd_guest_arch sd_guest_archs[];
extern const size_t sd_guest_narchs;

/* The entry for @name, its uname -m or its Debian name ("arm64"); NULL
 * when unknown. */
const struct sd_guest_arch *sd_guest_arch_find(const char *name);

/* The host's architecture (the one this storedisk was compiled for), or
 * NULL when the table has no entry for it. */
const struct sd_guest_arch *sd_guest_arch_host(void);

/* @a's machine called @name (NULL: its default); NULL when it has none of
 * that name. */
const struct sd_guest_machine *
sd_guest_machine_find(const struct sd_guest_arch *a, const char *name);

/* The init embedded for @a, or NULL when this build has none (no cross
 * compiler was found when it was built). */
const struct sd_guest_init_blob *
sd_guest_arch_init(const struct sd_guest_arch *a);

#endif
