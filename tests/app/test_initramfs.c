/* SPDX-License-Identifier: MIT */
/*
 * test_initramfs.c — sd_initramfs_write (src/app/initramfs.h): the
 * archive read back with libarchive (and cpio -t when installed), its
 * raw newc headers, the same bytes whatever the members' order, and the
 * errors that leave nothing at the output path.
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/initramfs.h"
#include "core/sha256.h"
#include "tests/common/tmpdir.h"
#include "tests/common/tools.h"

static void setup(void)
{
	tt_setup("sd-initramfs");
}

TestSuite(initramfs, .init = setup, .fini = tt_teardown);

static const char init_bytes[] = "#!/bin/sh\necho hi\n";

/* tt_path() in a buffer of its own (its buffers are reused). */
static const char *own_path(const char *rel)
{
	static char bufs[4][512];
	static unsigned next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s", tt_path(rel));
	return b;
}

/* init, a module from a host file, a symlink, a given directory with
 * its own mode, an empty file; parents "lib", "lib/modules", "etc"
 * left out. */
static void members(struct sd_initramfs_member m[6])
{
	tt_write("host.ko", "\177ELF module bytes", (size_t)-1, 0600);
	m[0] = (struct sd_initramfs_member){.path = "init",
					    .kind = SD_INITRAMFS_FILE,
					    .mode = 0755,
					    .data = init_bytes,
					    .len = sizeof(init_bytes) - 1};
	m[1] = (struct sd_initramfs_member){.path = "lib/modules/virtio_blk.ko",
					    .kind = SD_INITRAMFS_FILE,
					    .mode = 0644,
					    .host_path = own_path("host.ko")};
	m[2] = (struct sd_initramfs_member){.path = "sbin/init",
					    .kind = SD_INITRAMFS_SYMLINK,
					    .mode = 0777,
					    .data = "../init",
					    .len = 7};
	m[3] = (struct sd_initramfs_member){
		.path = "sbin", .kind = SD_INITRAMFS_DIR, .mode = 0700};
	m[4] = (struct sd_initramfs_member){
		.path = "etc/empty", .kind = SD_INITRAMFS_FILE, .mode = 0400};
	m[5] = (struct sd_initramfs_member){.path = "a-b",
					    .kind = SD_INITRAMFS_FILE,
					    .mode = 04755,
					    .data = "x",
					    .len = 1};
}

struct want {
	const char *path;
	unsigned type;
	unsigned perm;
	const char *content; /* or link target */
};

/* bytewise order: "a-b" < "etc" ('-' < 'e'), each directory first */
static const struct want expected[] = {
	{"a-b", AE_IFREG, 04755, "x"},
	{"etc", AE_IFDIR, 0755, NULL},
	{"etc/empty", AE_IFREG, 0400, ""},
	{"init", AE_IFREG, 0755, init_bytes},
	{"lib", AE_IFDIR, 0755, NULL},
	{"lib/modules", AE_IFDIR, 0755, NULL},
	{"lib/modules/virtio_blk.ko", AE_IFREG, 0644, "\177ELF module bytes"},
	{"sbin", AE_IFDIR, 0700, NULL},
	{"sbin/init", AE_IFLNK, 0777, "../init"},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static void write_ok(const char *rel, const struct sd_initramfs_member *m,
		     size_t n)
{
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_initramfs_write(tt_path(rel), m, n, &err), 0, "%s",
		     err.msg);
}

Test(initramfs, read_back_with_libarchive)
{
	struct sd_initramfs_member m[6];
	members(m);
	write_ok("out.cpio", m, 6);

	struct archive *a = archive_read_new();
	cr_assert(a);
	archive_read_support_format_cpio(a);
	cr_assert_eq(archive_read_open_filename(a, tt_path("out.cpio"), 4096),
		     ARCHIVE_OK, "%s", archive_error_string(a));
	struct archive_entry *e;
	size_t i = 0;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		cr_assert_lt(i, NEXPECTED, "extra member %s",
			     archive_entry_pathname(e));
		const struct want *w = &expected[i];
		cr_assert_eq(archive_format(a), ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
		cr_assert_str_eq(archive_entry_pathname(e), w->path);
		cr_assert_eq(archive_entry_filetype(e), w->type, "%s", w->path);
		cr_assert_eq(archive_entry_perm(e), w->perm, "%s: %o", w->path,
			     archive_entry_perm(e));
		cr_assert_eq(archive_entry_uid(e), 0);
		cr_assert_eq(archive_entry_gid(e), 0);
		cr_assert_eq(archive_entry_mtime(e), 0);
		cr_assert_eq(archive_entry_nlink(e),
			     w->type == AE_IFDIR ? 2u : 1u, "%s", w->path);
		cr_assert_eq(archive_entry_ino64(e), (la_int64_t)(i + 1), "%s",
			     w->path);
		cr_assert_eq(archive_entry_dev(e), 0);
		cr_assert_eq(archive_entry_rdev(e), 0);
		if (w->type == AE_IFLNK) {
			cr_assert_str_eq(archive_entry_symlink(e), w->content);
		} else if (w->type == AE_IFREG) {
			char buf[256];
			size_t len = strlen(w->content);
			cr_assert_eq(archive_entry_size(e), (la_int64_t)len,
				     "%s", w->path);
			la_ssize_t got = archive_read_data(a, buf, sizeof(buf));
			cr_assert_eq(got, (la_ssize_t)len, "%s", w->path);
			cr_assert_eq(memcmp(buf, w->content, len), 0, "%s",
				     w->path);
		} else {
			cr_assert_eq(archive_entry_size(e), 0);
		}
		i++;
	}
	cr_assert_eq(r, ARCHIVE_EOF, "%s", archive_error_string(a));
	cr_assert_eq(i, NEXPECTED);
	archive_read_free(a);

	/* the result's permissions as sd_atomic_commit gives them */
	struct stat st;
	cr_assert_eq(stat(tt_path("out.cpio"), &st), 0);
	cr_assert(S_ISREG(st.st_mode));
}

/* The 8 hex digits of field @k (0: ino) of the newc header at @h. */
static unsigned long field(const char *h, int k)
{
	char f[9];
	memcpy(f, h + 6 + 8 * k, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

Test(initramfs, raw_newc_headers)
{
	struct sd_initramfs_member m[6];
	members(m);
	write_ok("out.cpio", m, 6);
	FILE *f = fopen(tt_path("out.cpio"), "rb");
	cr_assert(f);
	static char buf[8192];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_lt(len, sizeof(buf));
	size_t at = 0, count = 0;
	for (;;) {
		cr_assert_leq(at + 110, len);
		const char *h = buf + at;
		cr_assert_eq(memcmp(h, "070701", 6), 0, "magic at %zu", at);
		unsigned long ino = field(h, 0), mode = field(h, 1),
			      nlink = field(h, 4), mtime = field(h, 5),
			      size = field(h, 6), namesize = field(h, 11);
		const char *name = h + 110;
		cr_assert_eq(name[namesize - 1], '\0');
		/* uid, gid, dev and rdev major/minor, check: all 0 */
		for (int k = 2; k <= 3; k++)
			cr_assert_eq(field(h, k), 0, "%s: field %d", name, k);
		for (int k = 7; k <= 10; k++)
			cr_assert_eq(field(h, k), 0, "%s: field %d", name, k);
		cr_assert_eq(field(h, 12), 0);
		cr_assert_eq(mtime, 0);
		at += (110 + namesize + 3) & ~(size_t)3;
		at += (size + 3) & ~(size_t)3;
		if (!strcmp(name, "TRAILER!!!")) {
			cr_assert_eq(ino, 0);
			cr_assert_eq(size, 0);
			break;
		}
		cr_assert_lt(count, NEXPECTED);
		cr_assert_str_eq(name, expected[count].path);
		cr_assert_eq(ino, count + 1, "%s", name);
		cr_assert_eq(mode & 07777, expected[count].perm, "%s", name);
		cr_assert_eq(nlink, expected[count].type == AE_IFDIR ? 2 : 1,
			     "%s", name);
		count++;
	}
	cr_assert_eq(count, NEXPECTED);
	/* the archive ends with its trailer: no block padding */
	cr_assert_eq(at, len, "%zu bytes after the trailer", len - at);
}

Test(initramfs, cpio_lists_it)
{
	if (!tt_have_tool("cpio"))
		cr_skip_test("cpio is not installed");
	struct sd_initramfs_member m[6];
	members(m);
	write_ok("out.cpio", m, 6);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < '%s'",
		 tt_path("out.cpio"));
	char *out = tt_run(cmd);
	char want[1024];
	size_t at = 0;
	for (size_t i = 0; i < NEXPECTED; i++)
		at += (size_t)snprintf(want + at, sizeof(want) - at, "%s\n",
				       expected[i].path);
	cr_assert_str_eq(out, want);
	free(out);
	/* and extracts it as written */
	tt_mkdir("x");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && cpio -id --quiet < '%s' && cat init sbin/init "
		 "lib/modules/virtio_blk.ko && stat -c %%a sbin",
		 tt_path("x"), tt_path("out.cpio"));
	out = tt_run(cmd);
	cr_assert_str_eq(out, "#!/bin/sh\necho hi\n#!/bin/sh\necho hi\n"
			      "\177ELF module bytes700\n");
	free(out);
}

static void sha(const char *rel, uint8_t out[SD_SHA256_LEN])
{
	struct sd_error err;
	cr_assert_eq(sd_sha256_file(tt_path(rel), out, &err), 0, "%s", err.msg);
}

Test(initramfs, same_members_same_bytes)
{
	struct sd_initramfs_member m[6], r[6];
	members(m);
	static const size_t perm[6] = {4, 2, 5, 0, 3, 1};
	for (size_t i = 0; i < 6; i++)
		r[i] = m[perm[i]];
	write_ok("one.cpio", m, 6);
	write_ok("two.cpio", r, 6);
	/* the host file's own mode and times do not count */
	cr_assert_eq(chmod(tt_path("host.ko"), 0755), 0);
	write_ok("three.cpio", m, 6);
	uint8_t a[SD_SHA256_LEN], b[SD_SHA256_LEN], c[SD_SHA256_LEN];
	sha("one.cpio", a);
	sha("two.cpio", b);
	sha("three.cpio", c);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	cr_assert_eq(memcmp(a, c, sizeof(a)), 0);
	/* and a different member gives different bytes */
	r[0].mode ^= 1;
	write_ok("four.cpio", r, 6);
	sha("four.cpio", b);
	cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}

/* Nothing at out.cpio, no temporary file beside it, and @code with
 * @what in the message. */
static void expect_fail(const struct sd_initramfs_member *m, size_t n, int code,
			const char *what)
{
	struct sd_error err;
	sd_error_init(&err);
	tt_mkdir("o");
	cr_assert_eq(sd_initramfs_write(tt_path("o/out.cpio"), m, n, &err),
		     code, "%s", err.msg);
	cr_assert(strstr(err.msg, what), "want \"%s\" in: %s", what, err.msg);
	struct stat st;
	cr_assert_neq(stat(tt_path("o/out.cpio"), &st), 0);
	DIR *d = opendir(tt_path("o"));
	cr_assert(d);
	struct dirent *e;
	while ((e = readdir(d)))
		cr_assert(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."),
			  "left behind: %s", e->d_name);
	closedir(d);
}

Test(initramfs, errors_leave_nothing)
{
	struct sd_initramfs_member m[7];
	members(m);
	m[6] = m[0];
	expect_fail(m, 7, SD_ERR_USAGE, "init given twice");

	static const char *const bad[] = {"/init", "",       "..",   "a/../b",
					  "a/..",  "./init", "a//b", "a/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m[6] = (struct sd_initramfs_member){
			.path = bad[i], .kind = SD_INITRAMFS_DIR, .mode = 0755};
		expect_fail(m, 7, SD_ERR_USAGE, "not a relative path");
	}

	/* a member under a file */
	m[6] = (struct sd_initramfs_member){
		.path = "init/x", .kind = SD_INITRAMFS_DIR, .mode = 0755};
	expect_fail(m, 7, SD_ERR_USAGE, "init is not a directory");

	/* an unreadable host file, then one that is missing */
	tt_write("secret", "s", (size_t)-1, 0000);
	m[6] = (struct sd_initramfs_member){.path = "z",
					    .kind = SD_INITRAMFS_FILE,
					    .mode = 0644,
					    .host_path = own_path("secret")};
	if (geteuid() != 0)
		expect_fail(m, 7, SD_ERR_IO, "/secret: Permission denied");
	m[6].host_path = own_path("gone");
	expect_fail(m, 7, SD_ERR_IO, "/gone: No such file or directory");
	/* a directory as host file */
	m[6].host_path = own_path("o");
	expect_fail(m, 7, SD_ERR_IO, "/o: not a regular file");

	/* a symlink without a target */
	m[6] = (struct sd_initramfs_member){
		.path = "l", .kind = SD_INITRAMFS_SYMLINK, .mode = 0777};
	expect_fail(m, 7, SD_ERR_USAGE, "l: a symbolic link needs a target");

	/* 4 GiB: more than newc's size field (a sparse file) */
	tt_write("big", "", 0, 0644);
	cr_assert_eq(truncate(tt_path("big"), 1ll << 32), 0);
	m[6] = (struct sd_initramfs_member){.path = "big",
					    .kind = SD_INITRAMFS_FILE,
					    .mode = 0644,
					    .host_path = own_path("big")};
	expect_fail(m, 7, SD_ERR_LIMIT, "more than a newc archive holds");
	m[6].host_path = own_path("gone");

	/* an existing output stays as it was */
	tt_write("o/out.cpio", "old", (size_t)-1, 0644);
	struct sd_error err;
	cr_assert_eq(sd_initramfs_write(tt_path("o/out.cpio"), m, 7, &err),
		     SD_ERR_IO);
	FILE *f = fopen(tt_path("o/out.cpio"), "r");
	char buf[8] = {0};
	cr_assert(f);
	cr_assert_eq(fread(buf, 1, sizeof(buf), f), 3);
	fclose(f);
	cr_assert_str_eq(buf, "old");
}
