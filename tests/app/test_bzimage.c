/* SPDX-License-Identifier: MIT */
/*
 * Tests of the bzImage version reader (app/bzimage.h) on crafted setup
 * headers, and on Debian's cloud kernel when this machine has it
 * unpacked (scripts/fetch-guest-kernel.sh).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/bzimage.h"
#include "core/kver.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sd-bzimage");
}

TestSuite(bzimage, .init = setup, .fini = tt_teardown);

/* A 0x4000-byte image: "HdrS" (unless !magic), protocol @proto, the
 * version string @ver at 0x3000 (kernel_version 0x2e00), or none. */
static const char *image(const char *name, bool magic, unsigned proto,
			 const char *ver)
{
	static unsigned char b[0x4000];
	memset(b, 0, sizeof(b));
	if (magic)
		memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = (unsigned char)(proto & 0xff);
	b[0x207] = (unsigned char)(proto >> 8);
	if (ver) {
		b[0x20e] = 0x00;
		b[0x20f] = 0x2e;
		memcpy(b + 0x3000, ver, strlen(ver));
	}
	tt_write(name, b, sizeof(b), 0644);
	return tt_path(name);
}

Test(bzimage, reads_release_and_version)
{
	char rel[64];
	uint32_t v;
	struct sd_error err;
	sd_error_init(&err);
	const char *p = image("k", true, 0x20f,
			      "6.1.0-57-cloud-amd64 (debian-kernel@lists."
			      "debian.org) #1 SMP");
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(rel, "6.1.0-57-cloud-amd64");
	cr_assert_eq(v, SD_KVER(6, 1, 0));

	p = image("k2", true, 0x20f, "6.10 #1");
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err), 0);
	cr_assert_str_eq(rel, "6.10");
	cr_assert_eq(v, SD_KVER(6, 10, 0));

	/* Parts above 255 are clamped; the release is cut to fit. */
	p = image("k3", true, 0x20f, "5.15.300-long-release-name x");
	char small[8];
	cr_assert_eq(sd_bzimage_version(p, small, sizeof(small), &v, &err), 0);
	cr_assert_str_eq(small, "5.15.30");
	cr_assert_eq(v, SD_KVER(5, 15, 255));
}

Test(bzimage, refuses_what_is_not_a_bzimage)
{
	char rel[64];
	uint32_t v = 1;
	struct sd_error err;
	sd_error_init(&err);
	const char *p = image("nomagic", false, 0x20f, "6.1.0 x");
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err),
		     SD_ERR_CORRUPT);
	cr_assert(strstr(err.msg, "not a bzImage"), "%s", err.msg);
	cr_assert_eq(v, 0);

	p = image("old", true, 0x1ff, "6.1.0 x");
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err),
		     SD_ERR_CORRUPT);
	cr_assert(strstr(err.msg, "no version string"), "%s", err.msg);

	p = image("nover", true, 0x20f, NULL);
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err),
		     SD_ERR_CORRUPT);

	p = image("words", true, 0x20f, "Linux version six");
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err),
		     SD_ERR_CORRUPT);
	cr_assert(strstr(err.msg, "no version"), "%s", err.msg);

	tt_write("short", "MZ", 2, 0644);
	cr_assert_eq(sd_bzimage_version(tt_path("short"), rel, sizeof(rel), &v,
					&err),
		     SD_ERR_CORRUPT);

	/* The offset points past the end of the file. */
	p = image("past", true, 0x20f, NULL);
	FILE *f = fopen(p, "r+");
	cr_assert(f);
	fseek(f, 0x20e, SEEK_SET);
	fputc(0xff, f);
	fputc(0x7f, f);
	fclose(f);
	cr_assert_eq(sd_bzimage_version(p, rel, sizeof(rel), &v, &err),
		     SD_ERR_CORRUPT);

	cr_assert_eq(sd_bzimage_version(tt_path("absent"), rel, sizeof(rel), &v,
					&err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "absent"), "%s", err.msg);
}

Test(bzimage, fifo_is_refused_not_waited_on, .timeout = 10)
{
	/* a FIFO opened for reading blocks until a writer comes */
	char rel[64];
	uint32_t v = 1;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(mkfifo(tt_path("fifo"), 0644), 0);
	cr_assert_eq(sd_bzimage_version(tt_path("fifo"), rel, sizeof(rel), &v,
					&err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "/fifo: not a regular file"), "%s", err.msg);
	cr_assert_eq(v, 0);
}

Test(bzimage, debian_cloud_kernel)
{
	const char *k = getenv("SD_GUEST_KERNEL");
	if (!k || !*k)
		cr_skip_test("SD_GUEST_KERNEL names no kernel (scripts/test.sh "
			     "sets it from scripts/fetch-guest-kernel.sh)");
	if (access(k, R_OK)) {
		cr_skip_test("no guest kernel at %s (SD_GUEST_KERNEL; "
			     "scripts/fetch-guest-kernel.sh fetches one)",
			     k);
	}
	char rel[128];
	uint32_t v;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_bzimage_version(k, rel, sizeof(rel), &v, &err), 0, "%s",
		     err.msg);
	/* The release is the file name's tail: vmlinuz-RELEASE. */
	const char *dash = strstr(k, "vmlinuz-");
	if (dash)
		cr_assert_str_eq(rel, dash + 8);
	cr_assert_geq(v, SD_KVER(3, 0, 0));
}
