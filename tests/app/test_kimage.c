/* SPDX-License-Identifier: MIT */
/*
 * Tests of the kernel image reader (app/kimage.h): crafted arm64 Images
 * (the banner across a read chunk's end, a banner-like string before the
 * real one, gzip-compressed), files with no banner, a bzImage, and
 * Debian's cloud kernels when this machine has them unpacked
 * (SD_GUEST_KERNEL, SD_GUEST_KERNEL_AARCH64, SD_GUEST_KERNEL_S390X:
 * scripts/test.sh sets them from scripts/fetch-guest-kernel.sh).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/kimage.h"
#include "core/kver.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sd-kimage");
}

TestSuite(kimage, .init = setup, .fini = tt_teardown);

#define IMG_SIZE (300 * 1024)

/* An arm64 Image of IMG_SIZE bytes: "MZ", the magic at 0x38 (unless
 * !magic), and @text at @at (NULL: none). */
static const char *arm64_image(const char *name, bool magic, const char *text,
			       size_t at)
{
	unsigned char *b = calloc(1, IMG_SIZE);
	cr_assert(b);
	memcpy(b, "MZ", 2);
	if (magic)
		memcpy(b + 0x38, "ARM\x64", 4);
	if (text)
		memcpy(b + at, text, strlen(text));
	tt_write(name, b, IMG_SIZE, 0644);
	free(b);
	return tt_path(name);
}

static const char banner[] =
	"Linux version 6.1.0-57-cloud-arm64 (debian-kernel@lists.debian.org) "
	"(gcc-12) #1 SMP Debian 6.1.192-3";

Test(kimage, arm64_image_banner_across_chunks)
{
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	/* 65536 is the reader's chunk: the banner starts 20 bytes before. */
	size_t ats[] = {0x1000, 65536 - 20, 65536 - 5, 3 * 65536 - 30,
			IMG_SIZE - sizeof(banner) - 1};
	for (size_t i = 0; i < sizeof(ats) / sizeof(ats[0]); i++) {
		const char *p = arm64_image("img", true, banner, ats[i]);
		cr_assert_eq(sd_kimage_read(p, &k, &err), 0, "at %zu: %s",
			     ats[i], err.msg);
		cr_assert_str_eq(k.arch, "aarch64");
		cr_assert_str_eq(k.kind, "arm64 Image");
		cr_assert_str_eq(k.release, "6.1.0-57-cloud-arm64", "at %zu",
				 ats[i]);
		cr_assert_eq(k.version, SD_KVER(6, 1, 0));
	}
}

Test(kimage, skips_what_is_not_a_release)
{
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	/* The format string and a word, then the real banner. */
	unsigned char *b = calloc(1, IMG_SIZE);
	cr_assert(b);
	memcpy(b + 0x38, "ARM\x64", 4);
	const char *fake1 = "Linux version %s (%s)";
	const char *fake2 = "Linux version six (x)";
	memcpy(b + 100, fake1, strlen(fake1));
	memcpy(b + 200, fake2, strlen(fake2));
	memcpy(b + 70000, banner, sizeof(banner));
	tt_write("img", b, IMG_SIZE, 0644);
	free(b);
	cr_assert_eq(sd_kimage_read(tt_path("img"), &k, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(k.release, "6.1.0-57-cloud-arm64");
}

Test(kimage, gzip_compressed_image)
{
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	const char *p = arm64_image("Image", true, banner, 200000);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "gzip -n -c '%s' > '%s'", p,
		 tt_path("Image.gz"));
	if (system(cmd) != 0)
		cr_skip_test("no gzip to compress the image");
	cr_assert_eq(sd_kimage_read(tt_path("Image.gz"), &k, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(k.kind, "gzip-compressed");
	cr_assert_str_eq(k.arch, "aarch64", "the magic after decompression");
	cr_assert_str_eq(k.release, "6.1.0-57-cloud-arm64");
}

Test(kimage, no_banner_is_corrupt)
{
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	const char *p = arm64_image("nob", true, NULL, 0);
	cr_assert_eq(sd_kimage_read(p, &k, &err), SD_ERR_CORRUPT);
	cr_assert(strstr(err.msg, "no \"Linux version"), "%s", err.msg);
	cr_assert(strstr(err.msg, "arm64 Image"), "%s", err.msg);
	cr_assert_str_eq(k.arch, "aarch64", "the arch is known even so");

	/* Cut at the end of the file: no word end after the release. */
	static const char cut[] = "Linux version 6.1.0-57";
	p = arm64_image("cut", false, cut, IMG_SIZE - (sizeof(cut) - 1));
	cr_assert_eq(sd_kimage_read(p, &k, &err), SD_ERR_CORRUPT, "%s",
		     k.release);
	cr_assert_null(k.arch);
	cr_assert_str_eq(k.kind, "uncompressed data");

	tt_write("empty", "", 0, 0644);
	cr_assert_neq(sd_kimage_read(tt_path("empty"), &k, &err), 0);
	cr_assert_eq(sd_kimage_read(tt_path("absent"), &k, &err), SD_ERR_IO);
	cr_assert(strstr(err.msg, "absent"), "%s", err.msg);
}

/* s390x: the IPL header, the decompressor's version string and no
 * banner (the kernel is compressed inside). */
Test(kimage, s390_image_version_string)
{
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	static const unsigned char ipl[24] = {0x00, 0x08, 0x00, 0x00, 0x80,
					      0x00, 0x02, 0x00, 0x02, 0x00,
					      0x00, 0x18, 0x60, 0x00, 0x00,
					      0x50, 0x02, 0x00, 0x00, 0x68,
					      0x60, 0x00, 0x00, 0x50};
	static const char ver[] = "6.1.0-50-s390x (debian-kernel@lists.debian."
				  "org) #1 SMP Debian 6.1.176-1";
	unsigned char *b = calloc(1, IMG_SIZE);
	cr_assert(b);
	memcpy(b, ipl, sizeof(ipl));
	/* Look-alikes first: no '@', no " #", a printable byte before. */
	const char *no_at = "5.10.0 (nobody) #1";
	const char *no_hash = "5.11.0 (a@b) x";
	const char *glued = "x5.12.0 (a@b) #1";
	memcpy(b + 1000, no_at, strlen(no_at));
	memcpy(b + 2000, no_hash, strlen(no_hash));
	memcpy(b + 3000, glued, strlen(glued));
	/* The real one across a read chunk's end, 0x80 before it as in
	 * Debian's image. */
	b[65536 - 31] = 0x80;
	memcpy(b + 65536 - 30, ver, sizeof(ver));
	tt_write("s390", b, IMG_SIZE, 0644);
	cr_assert_eq(sd_kimage_read(tt_path("s390"), &k, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(k.arch, "s390x");
	cr_assert_str_eq(k.kind, "s390 image");
	cr_assert_str_eq(k.release, "6.1.0-50-s390x");
	cr_assert_eq(k.version, SD_KVER(6, 1, 0));

	/* A banner wins over a version string seen before it. */
	memcpy(b + 100000, banner, sizeof(banner));
	tt_write("both", b, IMG_SIZE, 0644);
	cr_assert_eq(sd_kimage_read(tt_path("both"), &k, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(k.release, "6.1.0-57-cloud-arm64");
	free(b);
}

Test(kimage, bzimage_by_its_setup_header)
{
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	static unsigned char b[0x4000];
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0f;
	b[0x207] = 0x02;
	b[0x20f] = 0x2e; /* kernel_version 0x2e00: the string at 0x3000 */
	memcpy(b + 0x3000, "6.1.0-57-cloud-amd64 (x) #1", 27);
	tt_write("bz", b, sizeof(b), 0644);
	cr_assert_eq(sd_kimage_read(tt_path("bz"), &k, &err), 0, "%s", err.msg);
	cr_assert_str_eq(k.arch, "x86_64");
	cr_assert_str_eq(k.kind, "bzImage");
	cr_assert_str_eq(k.release, "6.1.0-57-cloud-amd64");
}

/* A Debian kernel named by @env: its arch and the release its file name
 * ends with. */
static void debian_kernel(const char *env, const char *arch)
{
	const char *path = getenv(env);
	if (!path || !*path || access(path, R_OK))
		cr_skip_test(
			"%s names no readable kernel (scripts/test.sh sets "
			"it from scripts/fetch-guest-kernel.sh)",
			env);
	struct sd_kimage k;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_kimage_read(path, &k, &err), 0, "%s", err.msg);
	cr_assert_str_eq(k.arch, arch);
	const char *tail = strstr(path, "vmlinuz-");
	if (tail)
		cr_assert_str_eq(k.release, tail + 8);
	cr_assert_geq(k.version, SD_KVER(5, 10, 0));
}

Test(kimage, debian_amd64_kernel)
{
	debian_kernel("SD_GUEST_KERNEL", "x86_64");
}

Test(kimage, debian_arm64_kernel)
{
	debian_kernel("SD_GUEST_KERNEL_AARCH64", "aarch64");
}

Test(kimage, debian_s390x_kernel)
{
	debian_kernel("SD_GUEST_KERNEL_S390X", "s390x");
}
