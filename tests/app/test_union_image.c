/* SPDX-License-Identifier: MIT */
/* A layer and its bases as one tree (app/unionimage.h): the first image
 * that holds a top-level entry supplies it, contents come from that image,
 * the origin of every node is known, and a bad base is named; and the
 * diff hook diff --base uses to skip what both unions share. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/diff.h"
#include "app/unionimage.h"
#include "formats/format.h"
#include "tests/app/helpers.h"
#include "tests/common/tmpdir.h"

#define H_APP "11111111111111111111111111111111"
#define H_LIB "22222222222222222222222222222222"
#define H_DATA "33333333333333333333333333333333"

static void setup(void)
{
	tt_setup("sdunion");
}

/* A store path @name holding one file "f" with @text. */
static void add_path(struct sd_tree *t, const char *name, const char *text)
{
	struct sd_node *p = ta_add(t, t->root, name, SD_NODE_DIR);
	struct sd_node *f = ta_add(t, p, "f", SD_NODE_FILE);
	cr_assert_eq(sd_node_set_content(f, text, strlen(text), NULL), 0);
}

/* The whole content of file @path of @t. */
static void expect_content(const struct sd_tree *t, const char *path,
			   const char *want)
{
	const struct sd_node *n = sd_tree_lookup(t, path);
	cr_assert(n, "%s missing", path);
	struct sd_stream *s;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_tree_open(t, n, &s, &err), 0, "%s", err.msg);
	char buf[256];
	size_t got = 0, len = 0;
	do {
		cr_assert_eq(sd_stream_read(s, buf + len, sizeof(buf) - len,
					    &got, &err),
			     0, "%s", err.msg);
		len += got;
	} while (got && len < sizeof(buf));
	sd_stream_close(s);
	cr_expect_eq(len, strlen(want), "%s: %zu bytes", path, len);
	cr_expect(!memcmp(buf, want, strlen(want)), "%s: %.*s", path, (int)len,
		  buf);
}

/* layer: app, lib (layer's copy); base: lib, data, in @fl and @fb. */
static void union_of(const char *fl, const char *fb)
{
	struct sd_tree *l = sd_tree_new(5);
	cr_assert(l);
	add_path(l, H_APP "-app", "app\n");
	add_path(l, H_LIB "-lib", "lib from the layer\n");
	const char *layer = ta_write_image(l, fl, "layer.img");
	struct sd_tree *b = sd_tree_new(7);
	cr_assert(b);
	add_path(b, H_LIB "-lib", "lib from the base\n");
	add_path(b, H_DATA "-data", "data\n");
	struct sd_node *reg =
		ta_add(b, b->root, "nix-path-registration", SD_NODE_FILE);
	cr_assert_eq(sd_node_set_content(reg, "r\n", 2, NULL), 0);
	const char *base = ta_write_image(b, fb, "base.img");

	struct sd_tree *u;
	struct sd_error err;
	sd_error_init(&err);
	const char *bases[] = {base};
	cr_assert_eq(sd_union_open(layer, bases, 1, &u, &err), 0, "%s",
		     err.msg);
	const struct sd_node *root = u->root;
	cr_assert_eq(root->nchildren, 4);
	cr_expect_str_eq(root->children[0]->name, H_APP "-app");
	cr_expect_str_eq(root->children[1]->name, H_LIB "-lib");
	cr_expect_str_eq(root->children[2]->name, H_DATA "-data");
	cr_expect_str_eq(root->children[3]->name, "nix-path-registration");
	cr_expect_eq(u->count, 1 + 4 + 3);
	cr_expect_eq(u->mtime, 5);
	expect_content(u, H_APP "-app/f", "app\n");
	expect_content(u, H_LIB "-lib/f", "lib from the layer\n");
	expect_content(u, H_DATA "-data/f", "data\n");
	expect_content(u, "nix-path-registration", "r\n");
	cr_expect_eq(sd_union_origin(u, sd_tree_lookup(u, H_APP "-app/f")), 0);
	cr_expect_eq(sd_union_origin(u, sd_tree_lookup(u, H_LIB "-lib")), 0);
	cr_expect_eq(sd_union_origin(u, sd_tree_lookup(u, H_DATA "-data/f")),
		     1);
	cr_expect_eq(sd_union_origin(u, root), 0);
	cr_expect_eq(sd_tree_lookup(u, H_DATA "-data")->mtime, 7);
	sd_tree_free(u);
}

Test(union_image, squashfs_over_squashfs, .init = setup, .fini = tt_teardown)
{
	union_of("squashfs", "squashfs");
}

Test(union_image, erofs_over_erofs, .init = setup, .fini = tt_teardown)
{
	union_of("erofs", "erofs");
}

Test(union_image, erofs_over_squashfs, .init = setup, .fini = tt_teardown)
{
	union_of("erofs", "squashfs");
}

Test(union_image, no_bases_is_the_image_itself, .init = setup,
     .fini = tt_teardown)
{
	struct sd_tree *l = sd_tree_new(5);
	cr_assert(l);
	add_path(l, H_APP "-app", "app\n");
	const char *layer = ta_write_image(l, "squashfs", "layer.img");
	struct sd_tree *u;
	cr_assert_eq(sd_union_open(layer, NULL, 0, &u, NULL), 0);
	cr_expect_eq(u->root->nchildren, 1);
	cr_expect_eq(sd_union_origin(u, sd_tree_lookup(u, H_APP "-app")), 0);
	expect_content(u, H_APP "-app/f", "app\n");
	sd_tree_free(u);
}

Test(union_image, a_bad_base_is_named, .init = setup, .fini = tt_teardown)
{
	struct sd_tree *l = sd_tree_new(5);
	cr_assert(l);
	add_path(l, H_APP "-app", "app\n");
	const char *layer = ta_write_image(l, "squashfs", "layer.img");
	char junk[4096];
	memset(junk, 'x', sizeof(junk));
	tt_write("junk.img", junk, sizeof(junk), 0644);
	char junk_path[256], missing[256];
	snprintf(junk_path, sizeof(junk_path), "%s", tt_path("junk.img"));
	snprintf(missing, sizeof(missing), "%s", tt_path("missing.img"));

	struct sd_tree *u = NULL;
	struct sd_error err;
	sd_error_init(&err);
	const char *b1[] = {junk_path};
	cr_expect_eq(sd_union_open(layer, b1, 1, &u, &err), SD_ERR_CORRUPT);
	cr_expect_null(u);
	cr_expect(!strncmp(err.msg, junk_path, strlen(junk_path)), "%s",
		  err.msg);
	sd_error_init(&err);
	const char *b2[] = {missing};
	cr_expect_eq(sd_union_open(layer, b2, 1, &u, &err), SD_ERR_IO);
	cr_expect(!strncmp(err.msg, missing, strlen(missing)), "%s", err.msg);
}

Test(union_image, trees_in_memory, .init = setup, .fini = tt_teardown)
{
	/* three trees: a name in all three comes from the first */
	struct sd_tree *t[3];
	const char *texts[] = {"one\n", "two\n", "three\n"};
	for (int i = 0; i < 3; i++) {
		t[i] = sd_tree_new(i + 1);
		cr_assert(t[i]);
		add_path(t[i], H_LIB "-lib", texts[i]);
		if (i == 2)
			add_path(t[i], H_DATA "-data", "data\n");
		cr_assert_eq(sd_tree_finalize(t[i], NULL), 0);
	}
	struct sd_tree *u;
	cr_assert_eq(sd_union_trees(t, 3, &u, NULL), 0);
	cr_assert_eq(u->root->nchildren, 2);
	expect_content(u, H_LIB "-lib/f", "one\n");
	cr_expect_eq(sd_union_origin(u, sd_tree_lookup(u, H_DATA "-data/f")),
		     2);
	cr_expect_eq(u->nfiles, 2);
	sd_tree_free(u);
}

/* diff --base skips what both sides take from one base file through
 * sd_diff_options.same: a difference below such an entry is not seen. */
struct seen {
	int items;
	int asked;
};

static int count_item(void *ctx, const struct sd_diff_item *it)
{
	(void)it;
	((struct seen *)ctx)->items++;
	return 0;
}

static bool same_lib(void *ctx, const struct sd_node *a,
		     const struct sd_node *b)
{
	((struct seen *)ctx)->asked++;
	return a->parent && !a->parent->parent && b->parent &&
	       !strcmp(a->name, H_LIB "-lib");
}

Test(union_image, diff_skips_entries_the_caller_knows_same, .init = setup,
     .fini = tt_teardown)
{
	struct sd_tree *t[2];
	for (int i = 0; i < 2; i++) {
		t[i] = sd_tree_new(1);
		cr_assert(t[i]);
		add_path(t[i], H_LIB "-lib", i ? "two\n" : "one\n");
		add_path(t[i], H_APP "-app", i ? "app 2\n" : "app 1\n");
		cr_assert_eq(sd_tree_finalize(t[i], NULL), 0);
	}
	struct seen seen = {0};
	struct sd_diff_options o = {.report = count_item, .ctx = &seen};
	struct sd_diff_stats st;
	cr_assert_eq(sd_diff_trees(t[0], t[1], &o, &st, NULL), 0);
	cr_expect_eq(st.changed, 2); /* both files */
	seen.items = 0;
	o.same = same_lib;
	cr_assert_eq(sd_diff_trees(t[0], t[1], &o, &st, NULL), 0);
	cr_expect_eq(st.changed, 1); /* app's file only */
	cr_expect_eq(seen.items, 1);
	cr_expect_gt(seen.asked, 2);
	sd_tree_free(t[0]);
	sd_tree_free(t[1]);
}
