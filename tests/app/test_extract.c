/* SPDX-License-Identifier: MIT */
/*
 * Tests of sd_extract on hand-built hostile trees that no image writer would
 * produce (duplicate names, a symlink and a directory of the same name,
 * "..", names with '/'): extraction fails cleanly and never writes outside
 * its directory.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/extract.h"
#include "core/tree.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sdextract");
}

TestSuite(extract, .init = setup, .fini = tt_teardown);

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	cr_assert_not_null(d, "%s", path);
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static struct sd_node *add(struct sd_tree *t, struct sd_node *parent,
			   const char *name, enum sd_node_type type)
{
	struct sd_node *n =
		sd_tree_add(t, parent, name, strlen(name), type, NULL);
	cr_assert_not_null(n);
	n->mode = type == SD_NODE_DIR ? 0555 : 0444;
	n->mtime = 1;
	return n;
}

static struct sd_node *add_file(struct sd_tree *t, struct sd_node *parent,
				const char *name, const char *data)
{
	struct sd_node *n = add(t, parent, name, SD_NODE_FILE);
	cr_assert_eq(sd_node_set_content(n, data, strlen(data), NULL), 0);
	return n;
}

static struct sd_node *add_link(struct sd_tree *t, struct sd_node *parent,
				const char *name, const char *target)
{
	struct sd_node *n = add(t, parent, name, SD_NODE_SYMLINK);
	cr_assert_eq(sd_node_set_target(n, target, strlen(target), NULL), 0);
	return n;
}

static int extract(struct sd_tree *t, const char *dir)
{
	struct sd_extract_stats st;
	struct sd_error err;
	sd_error_init(&err);
	int rc = sd_extract(t, t->root, dir, NULL, &st, &err);
	if (rc)
		cr_log_info("extract: %s", err.msg);
	return rc;
}

Test(extract, plain_tree_comes_out_read_only)
{
	tt_mkdir("out");
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = add(t, t->root, "p", SD_NODE_DIR);
	add_file(t, p, "f", "hello");
	add_link(t, p, "l", "/etc/passwd");
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	cr_assert_eq(extract(t, tt_path("out")), 0);
	struct stat st;
	cr_assert_eq(lstat(tt_path("out/p/f"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444);
	cr_assert_eq(st.st_size, 5);
	cr_assert_eq(st.st_mtime, 1);
	cr_assert_eq(lstat(tt_path("out/p"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0555);
	char buf[64];
	ssize_t n = readlink(tt_path("out/p/l"), buf, sizeof(buf));
	cr_assert_eq(n, 11);
	cr_assert_eq(memcmp(buf, "/etc/passwd", 11), 0);
	sd_tree_free(t);
}

Test(extract, directory_through_a_symlink_is_refused)
{
	tt_mkdir("outside");
	tt_mkdir("out");
	struct sd_tree *t = sd_tree_new(1);
	add_link(t, t->root, "evil", tt_path("outside"));
	struct sd_node *d = add(t, t->root, "evil", SD_NODE_DIR);
	add_file(t, d, "pwned", "x");
	cr_assert_neq(extract(t, tt_path("out")), 0);
	cr_assert(dir_empty(tt_path("outside")));
	sd_tree_free(t);
}

Test(extract, file_through_a_dangling_symlink_is_refused)
{
	tt_mkdir("outside");
	tt_mkdir("out");
	struct sd_tree *t = sd_tree_new(1);
	add_link(t, t->root, "evil", tt_path("outside/new"));
	add_file(t, t->root, "evil", "x");
	cr_assert_neq(extract(t, tt_path("out")), 0);
	cr_assert(dir_empty(tt_path("outside")));
	sd_tree_free(t);
}

Test(extract, dot_dot_and_slash_names_are_refused)
{
	const char *bad[] = {"..", "a/", ".", "/b"};
	for (size_t i = 0; i < 4; i++) {
		char dir[32];
		snprintf(dir, sizeof(dir), "d%zu/out", i);
		tt_mkdir(dir);
		struct sd_tree *t = sd_tree_new(1);
		struct sd_node *n = add_file(t, t->root, "zz", "pwned");
		/* Replace the validated name behind the tree's back. */
		n->name = bad[i];
		n->name_len = strlen(bad[i]);
		struct sd_extract_stats st;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_extract(t, t->root, tt_path(dir), NULL, &st,
					&err),
			     SD_ERR_CORRUPT, "%s", bad[i]);
		snprintf(dir, sizeof(dir), "d%zu", i);
		DIR *dd = opendir(tt_path(dir));
		struct dirent *de;
		while ((de = readdir(dd)))
			cr_assert(!strcmp(de->d_name, ".") ||
					  !strcmp(de->d_name, "..") ||
					  !strcmp(de->d_name, "out"),
				  "%s", de->d_name);
		closedir(dd);
		cr_assert(dir_empty(tt_path(dir)) == false);
		sd_tree_free(t);
	}
}

Test(extract, non_empty_directory_is_refused)
{
	tt_mkdir("out/already");
	struct sd_tree *t = sd_tree_new(1);
	add_file(t, t->root, "f", "x");
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	struct sd_extract_stats st;
	cr_assert_eq(sd_extract(t, t->root, tt_path("out"), NULL, &st, NULL),
		     SD_ERR_USAGE);
	sd_tree_free(t);
}
