/* SPDX-License-Identifier: MIT */
/*
 * Tests of the guest architecture table (app/guestarch.h): names, the
 * host's entry, machines, and the embedded init of each architecture.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "app/guestarch.h"

Test(guestarch, found_by_uname_and_debian_names)
{
	const struct sd_guest_arch *a = sd_guest_arch_find("aarch64");
	cr_assert(a);
	cr_assert_eq(sd_guest_arch_find("arm64"), a);
	cr_assert_str_eq(a->qemu, "qemu-system-aarch64");
	cr_assert_str_eq(a->console, "ttyAMA0");
	const struct sd_guest_arch *x = sd_guest_arch_find("x86_64");
	cr_assert(x);
	cr_assert_eq(sd_guest_arch_find("amd64"), x);
	cr_assert_str_eq(x->qemu, "qemu-system-x86_64");
	const struct sd_guest_arch *z = sd_guest_arch_find("s390x");
	cr_assert(z);
	cr_assert_str_eq(z->qemu, "qemu-system-s390x");
	cr_assert_str_eq(z->console, "ttysclp0");
	cr_assert_null(sd_guest_machine_find(z, NULL)->virtio_module,
		       "virtio_ccw is built in");
	cr_assert_null(sd_guest_arch_find("sparc"));
	cr_assert_null(sd_guest_arch_find(""));
	cr_assert_null(sd_guest_arch_find(NULL));
}

Test(guestarch, host)
{
	const struct sd_guest_arch *h = sd_guest_arch_host();
#if defined(__x86_64__)
	cr_assert_eq(h, sd_guest_arch_find("x86_64"));
#elif defined(__aarch64__)
	cr_assert_eq(h, sd_guest_arch_find("aarch64"));
#else
	cr_assert_null(h);
#endif
	/* The host's init is always embedded, and it is sd_guest_init. */
	if (h) {
		const struct sd_guest_init_blob *b = sd_guest_arch_init(h);
		cr_assert(b);
		cr_assert_eq(b->data, sd_guest_init);
		cr_assert_eq(b->len, sd_guest_init_len);
	}
}

Test(guestarch, machines)
{
	const struct sd_guest_arch *x = sd_guest_arch_find("x86_64");
	const struct sd_guest_machine *m = sd_guest_machine_find(x, NULL);
	cr_assert_str_eq(m->name, "microvm");
	cr_assert_str_eq(m->virtio_module, "virtio_mmio");
	m = sd_guest_machine_find(x, "q35");
	cr_assert(m);
	cr_assert_str_eq(m->virtio_module, "virtio_pci");
	cr_assert_str_eq(m->blk_device, "virtio-blk-pci");
	cr_assert_null(sd_guest_machine_find(x, "virt"));

	const struct sd_guest_arch *a = sd_guest_arch_find("aarch64");
	m = sd_guest_machine_find(a, NULL);
	cr_assert_str_eq(m->name, "virt");
	cr_assert_str_eq(m->virtio_module, "virtio_mmio");
	cr_assert_str_eq(m->blk_device, "virtio-blk-device");
	cr_assert_null(sd_guest_machine_find(a, "q35"));
}

Test(guestarch, every_embedded_init_is_in_the_table)
{
	cr_assert_geq(sd_guest_inits_n, 1);
	cr_assert_eq(sd_guest_inits[0].data, sd_guest_init);
	for (size_t i = 0; i < sd_guest_inits_n; i++) {
		const struct sd_guest_arch *a =
			sd_guest_arch_find(sd_guest_inits[i].arch);
		cr_assert(a, "init for %s: no table entry",
			  sd_guest_inits[i].arch);
		cr_assert_eq(sd_guest_arch_init(a), &sd_guest_inits[i]);
	}
}
