/* SPDX-License-Identifier: MIT */
/*
 * Interoperability with squashfs-tools: unsquashfs must extract our images
 * (lz4 in particular, see formats/squashfs/comp.h) with every byte intact,
 * and our reader must read mksquashfs images, hard links and device nodes
 * included.  Skipped when the tools are not on PATH.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/format.h"
#include "helpers.h"
#include "tests/common/tools.h"

TestSuite(unsquashfs, .init = th_setup, .fini = tt_teardown, .timeout = 300);

static void extract(const char *comp)
{
	if (!tt_have_tool("unsquashfs"))
		cr_skip_test("unsquashfs is not on PATH");

	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1700000000);
	struct sd_node *p = th_dir(t, NULL, "abc-pkg");
	struct sd_node *d = th_dir(t, p, "share");
	const size_t sizes[] = {0,    1,      100,    4095,   4096,
				4097, 131071, 131072, 131073, 400000};
	char name[32];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		th_random_file(t, d, name, sizes[i], (uint32_t)i);
	}
	th_random_file(t, p, "dup-of-f9", sizes[9], 9);
	struct sd_node *x = th_file(t, p, "text", "hello hello hello\n", 18);
	x->mode = 0555;
	th_symlink(t, p, "link", "share/f3");
	th_finalize(t);

	char img[600], out[600], cmd[2048];
	snprintf(img, sizeof(img), "%s", tt_path("u.sqfs"));
	snprintf(out, sizeof(out), "%s", tt_path("out"));
	cr_assert_eq(th_write(t, comp, -1, 0, 2, img, NULL, &err), 0, "%s",
		     err.msg);
	snprintf(cmd, sizeof(cmd),
		 "unsquashfs -no-progress -d '%s' '%s' "
		 ">'%s.log' 2>&1",
		 out, img, out);
	int rc = system(cmd);
	if (rc != 0) {
		char log[700];
		size_t n;
		snprintf(log, sizeof(log), "%s.log", out);
		char *text = th_slurp(log, &n);
		text[n] = '\0';
		cr_assert_fail("%s: unsquashfs failed: %s", comp, text);
	}
	th_check_host(t, t->root, out);
	sd_tree_free(t);
}

Test(unsquashfs, lz4)
{
	extract("lz4");
}
Test(unsquashfs, gzip)
{
	extract("gzip");
}
Test(unsquashfs, xz)
{
	extract("xz");
}
Test(unsquashfs, zstd)
{
	extract("zstd");
}
Test(unsquashfs, none)
{
	extract("none");
}

TestSuite(mksquashfs, .init = th_setup, .fini = tt_teardown, .timeout = 300);

static void mksquashfs_image(const char *comp)
{
	char big[300000], cmd[2048];

	th_random(big, sizeof(big), 5);
	cr_assert_eq(mkdir(tt_path("src"), 0755), 0);
	cr_assert_eq(mkdir(tt_path("src/d"), 0755), 0);
	th_spit(tt_path("src/d/big"), big, sizeof(big));
	th_spit(tt_path("src/d/small"), "small file\n", 11);
	th_spit(tt_path("src/empty"), "", 0);
	cr_assert_eq(link(tt_path("src/d/big"), tt_path("src/d/hard")), 0);
	cr_assert_eq(symlink("d/small", tt_path("src/sl")), 0);
	snprintf(cmd, sizeof(cmd),
		 "mksquashfs '%s' '%s' -noappend -quiet -no-progress "
		 "-comp %s -mkfs-time 77 -all-time 66 "
		 "-p 'dev d 755 0 0' -p 'dev/null c 666 0 0 1 3' "
		 "-p 'dev/fifo i 644 0 0 f' -p 'dev/sock i 600 7 8 s' "
		 ">/dev/null 2>&1",
		 tt_path("src"), tt_path("mk.sqfs"), comp);
	cr_assert_eq(system(cmd), 0, "mksquashfs failed");
}

static void read_mksquashfs(const char *comp)
{
	if (!tt_have_tool("mksquashfs"))
		cr_skip_test("mksquashfs is not on PATH");
	mksquashfs_image(comp);

	struct sd_tree *t = th_read(tt_path("mk.sqfs"));
	cr_assert_eq(t->mtime, 77);
	const char *files[] = {"d/big", "d/hard", "d/small", "empty"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[64];
		size_t la, lb;
		struct sd_node *n = sd_tree_lookup(t, files[i]);
		cr_assert_not_null(n, "%s missing", files[i]);
		cr_assert_eq(n->type, SD_NODE_FILE);
		cr_assert_eq(n->mtime, 66);
		snprintf(rel, sizeof(rel), "src/%s", files[i]);
		void *want = th_slurp(tt_path(rel), &la);
		void *got = th_content(t, n, &lb);
		cr_assert_eq(la, lb, "%s: length", files[i]);
		cr_assert(memcmp(want, got, la) == 0, "%s: bytes", files[i]);
		free(want);
		free(got);
	}
	struct sd_node *sl = sd_tree_lookup(t, "sl");
	cr_assert_eq(sl->type, SD_NODE_SYMLINK);
	cr_assert_str_eq(sl->target, "d/small");
	struct sd_node *null = sd_tree_lookup(t, "dev/null");
	cr_assert_eq(null->type, SD_NODE_OTHER);
	cr_assert_eq(null->mode, 0666);
	cr_assert_neq(null->rdev, 0);
	struct sd_node *sock = sd_tree_lookup(t, "dev/sock");
	cr_assert_eq(sock->type, SD_NODE_OTHER);
	cr_assert_eq(sock->uid, 7);
	cr_assert_eq(sock->gid, 8);
	cr_assert_eq(sd_tree_lookup(t, "dev/fifo")->type, SD_NODE_OTHER);
	cr_assert_eq(t->nother, 3);

	/* and our writer refuses to copy the device nodes */
	struct sd_error err;
	cr_assert_eq(th_write(t, "gzip", -1, 0, 1, tt_path("copy.sqfs"), NULL,
			      &err),
		     SD_ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "dev/"), "message: %s", err.msg);
	sd_tree_free(t);
}

Test(mksquashfs, gzip)
{
	read_mksquashfs("gzip");
}
Test(mksquashfs, xz)
{
	read_mksquashfs("xz");
}
Test(mksquashfs, lz4)
{
	read_mksquashfs("lz4");
}
Test(mksquashfs, zstd)
{
	read_mksquashfs("zstd");
}

/* Our reader's tree of an image, written again, reads back the same. */
Test(mksquashfs, rewrite_without_devices)
{
	if (!tt_have_tool("mksquashfs"))
		cr_skip_test("mksquashfs is not on PATH");
	char cmd[1024];
	cr_assert_eq(mkdir(tt_path("src"), 0755), 0);
	th_spit(tt_path("src/a"), "alpha", 5);
	cr_assert_eq(symlink("a", tt_path("src/b")), 0);
	snprintf(cmd, sizeof(cmd),
		 "mksquashfs '%s' '%s' -noappend -quiet "
		 "-no-progress >/dev/null 2>&1",
		 tt_path("src"), tt_path("mk.sqfs"));
	cr_assert_eq(system(cmd), 0);

	struct sd_error err;
	struct sd_tree *t = th_read(tt_path("mk.sqfs"));
	cr_assert_eq(th_write(t, "zstd", -1, 0, 2, tt_path("again.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
	struct sd_tree *r = th_read(tt_path("again.sqfs"));
	th_assert_same(t, r);
	sd_tree_free(r);
	sd_tree_free(t);
}
