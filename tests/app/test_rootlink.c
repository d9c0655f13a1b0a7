/* SPDX-License-Identifier: MIT */
/*
 * Tests of the root symlink helpers on hand-built trees: where a root
 * link's target leads inside the image (sd_rootlink_resolve: relative and
 * <store-dir> targets, symlinks inside store paths, '..', loops, links
 * out of the image), which NAMEs are allowed, how TARGETs given in the
 * store's terms become the link's text, and that sd_root_links_add adds
 * sorted links or refuses a target outside the tree.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "app/rootlink_resolve.h"
#include "app/rootlinks.h"
#include "core/tree.h"

#define H1 "0123456789abcdfghijklmnpqrsvwxyz"
#define P1 H1 "-toplevel"
#define H2 "zyxwvsrqpnmlkjihgfdcba9876543210"
#define P2 H2 "-sw"
#define SD "/nix/store"

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

static void link_to(struct sd_tree *t, struct sd_node *parent, const char *name,
		    const char *target)
{
	struct sd_node *n = add(t, parent, name, SD_NODE_SYMLINK);
	cr_assert_eq(sd_node_set_target(n, target, strlen(target), NULL), 0);
}

/*
 * P1/init (file), P1/sw -> /nix/store/P2 (absolute), P1/etc -> ../P2/etc,
 * P1/loop -> loop, P1/out -> /etc, P1/up -> ../.., P2/etc/x (file),
 * a root link "system" -> P1, a file nix-path-registration.
 */
static struct sd_tree *make_tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p1 = add(t, t->root, P1, SD_NODE_DIR);
	struct sd_node *p2 = add(t, t->root, P2, SD_NODE_DIR);
	add(t, p1, "init", SD_NODE_FILE);
	link_to(t, p1, "sw", SD "/" P2);
	link_to(t, p1, "etc", "../" P2 "/etc");
	link_to(t, p1, "loop", "loop");
	link_to(t, p1, "out", "/etc");
	link_to(t, p1, "up", "../..");
	link_to(t, p1, "viaroot", "../system");
	struct sd_node *etc = add(t, p2, "etc", SD_NODE_DIR);
	add(t, etc, "x", SD_NODE_FILE);
	link_to(t, t->root, "system", P1);
	add(t, t->root, "nix-path-registration", SD_NODE_FILE);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	return t;
}

/* The path the target resolves to, or NULL (why in @why). */
static const char *resolve(const struct sd_tree *t, const char *target,
			   char *why, size_t len)
{
	static char path[512];
	const struct sd_node *n;
	cr_assert_eq(sd_rootlink_resolve(t, SD, target, &n, why, len), 0);
	if (!n) {
		cr_assert_neq(why[0], '\0', "%s: no reason", target);
		return NULL;
	}
	sd_node_path(n, path, sizeof(path));
	return path;
}

Test(rootlink, resolves_inside_the_image)
{
	struct sd_tree *t = make_tree();
	char why[256];
	static const char *const ok[][2] = {
		{P1, P1},
		{P1 "/init", P1 "/init"},
		{SD "/" P1 "/init", P1 "/init"},
		{"./" P1 "//init", P1 "/init"},
		{P1 "/sw", P2}, /* absolute link in the image */
		{P1 "/sw/etc/x", P2 "/etc/x"},
		{P1 "/etc/x", P2 "/etc/x"}, /* relative link with '..' */
		{P1 "/../" P2, P2},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *got = resolve(t, ok[i][0], why, sizeof(why));
		cr_assert_not_null(got, "%s: %s", ok[i][0], why);
		cr_assert_str_eq(got, ok[i][1], "%s", ok[i][0]);
	}
	sd_tree_free(t);
}

Test(rootlink, does_not_resolve)
{
	struct sd_tree *t = make_tree();
	char why[256];
	static const char *const bad[][2] = {
		{"/etc/passwd", "leads out of the image"},
		{"/nix/storex/" P1, "leads out of the image"},
		{"../" P1, "'..' leads out of the image"},
		{P1 "/up/x", "'..' leads out of the image"},
		{P1 "/out", "leads out of the image: /etc"},
		{P1 "/loop", "more than 40 symbolic links"},
		{P1 "/init/x", "is not a directory"},
		{P1 "/nope", "no entry 'nope' in " P1},
		{H1 "-other", "is not in the image"},
		{"system", "'system' is not a store path name"},
		{P1 "/viaroot", "'system' is not a store path name"},
		{"nix-path-registration", "is not a store path name"},
		{SD, "the store directory itself"},
		{".", "the store directory itself"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *got = resolve(t, bad[i][0], why, sizeof(why));
		cr_assert_null(got, "%s resolved to %s", bad[i][0], got);
		cr_assert(strstr(why, bad[i][1]), "%s: '%s' lacks '%s'",
			  bad[i][0], why, bad[i][1]);
	}
	sd_tree_free(t);
}

Test(rootlink, names)
{
	static const char *const good[] = {"system", "boot", ".links",
					   "a-b",    H1 "x", "0123456789"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_null(sd_root_link_name_problem(good[i],
							 strlen(good[i])),
			       "%s", good[i]);
	static const char *const bad[] = {"",
					  ".",
					  "..",
					  "a/b",
					  "a\nb",
					  P1,
					  H1,
					  H1 "-",
					  "nix-path-registration",
					  "storedisk-manifest"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not_null(sd_root_link_name_problem(bad[i],
							     strlen(bad[i])),
				   "%s", bad[i]);
	char longname[257];
	memset(longname, 'a', 256);
	longname[256] = '\0';
	cr_assert_not_null(sd_root_link_name_problem(longname, 256));
	cr_assert_null(sd_root_link_name_problem(longname, 255));
}

Test(rootlink, targets_in_store_terms)
{
	static const char *const ok[][2] = {
		{SD "/" P1, P1},
		{SD "/" P1 "/", P1},
		{SD "/" P1 "/./bin//x", P1 "/bin/x"},
		{P1, P1},
		{P1 "/bin", P1 "/bin"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *out = NULL;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_root_link_target(ok[i][0], SD, NULL, &out,
						 &err),
			     0, "%s: %s", ok[i][0], err.msg);
		cr_assert_str_eq(out, ok[i][1]);
		free(out);
	}
	static const char *const bad[] = {SD "/" P1 "/../x", SD "/",
					  SD "/not-a-path", P1 "/../" P2};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_root_link_target(bad[i], SD, NULL, &out, &err),
			     SD_ERR_INVALID, "%s", bad[i]);
		cr_assert_null(out);
		cr_assert(strstr(err.msg, bad[i]), "%s", err.msg);
	}
}

Test(rootlink, add_sorted_or_refuse)
{
	struct sd_tree *t = make_tree();
	struct sd_root_links l = {0};
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_root_links_push(&l, "zz=" P2, NULL), 0);
	cr_assert_eq(sd_root_links_push(&l, "boot=" SD "/" P1 "/init", NULL),
		     0);
	cr_assert_eq(sd_root_links_prepare(&l, SD "/", NULL, &err), 0, "%s",
		     err.msg);
	cr_assert_str_eq(l.links[0].name, "boot");
	cr_assert_str_eq(l.links[0].target, P1 "/init");
	cr_assert_eq(sd_root_links_add(t, &l, &err), 0, "%s", err.msg);
	const struct sd_node *b = sd_node_child(t->root, "boot", 4);
	cr_assert_not_null(b);
	cr_assert_eq(b->type, SD_NODE_SYMLINK);
	cr_assert_eq(b->mode, SD_MODE_SYMLINK);
	cr_assert_str_eq(b->target, P1 "/init");
	cr_assert_not_null(sd_node_child(t->root, "zz", 2));
	sd_root_links_release(&l);

	cr_assert_eq(sd_root_links_push(&l, "x=" P1 "/nope", NULL), 0);
	cr_assert_eq(sd_root_links_prepare(&l, NULL, NULL, &err), 0);
	cr_assert_eq(sd_root_links_add(t, &l, &err), SD_ERR_MISSING);
	cr_assert(strstr(err.msg, "x=" P1 "/nope"), "%s", err.msg);
	cr_assert_null(sd_node_child(t->root, "x", 1));
	sd_root_links_release(&l);

	cr_assert_eq(sd_root_links_push(&l, "a=" P1, NULL), 0);
	cr_assert_eq(sd_root_links_push(&l, "a=" P2, NULL), 0);
	cr_assert_eq(sd_root_links_prepare(&l, NULL, NULL, &err), SD_ERR_USAGE);
	cr_assert(strstr(err.msg, "given twice"), "%s", err.msg);
	sd_root_links_release(&l);
	sd_tree_free(t);
}
