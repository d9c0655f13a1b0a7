/* SPDX-License-Identifier: MIT */
/*
 * Tests of sd_input_closure (app/input.h): a stream's store paths as a
 * closure — the export stream's references become sorted, unique edges
 * (references to paths not in the stream are listed as missing), derivers
 * are carried, a tar has no edges (scan) — and of the registration built
 * from it (app/registration.h): derivers empty unless kept.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "app/input.h"
#include "app/registration.h"
#include "core/tree.h"

#define SD "/nix/store"
#define HA "0c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HB "1c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HC "2c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HX "3c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define A HA "-a"
#define B HB "-b"
#define C HC "-c"

/* A finalised tree of three store paths (added out of order): a
 * directory with a file, a file, a symlink. */
static struct sd_tree *three_paths(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *c =
		sd_tree_add(t, t->root, C, strlen(C), SD_NODE_SYMLINK, NULL);
	cr_assert_eq(sd_node_set_target(c, SD "/" B, strlen(SD "/" B), NULL),
		     0);
	struct sd_node *a =
		sd_tree_add(t, t->root, A, strlen(A), SD_NODE_DIR, NULL);
	struct sd_node *f = sd_tree_add(t, a, "f", 1, SD_NODE_FILE, NULL);
	cr_assert_eq(sd_node_set_content(f, "hello " HB, 6 + 32, NULL), 0);
	struct sd_node *b =
		sd_tree_add(t, t->root, B, strlen(B), SD_NODE_FILE, NULL);
	cr_assert_eq(sd_node_set_content(b, "bb", 2, NULL), 0);
	a->mode = 0555;
	f->mode = b->mode = 0444;
	c->mode = 0777;
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	return t;
}

static char **strv(const char *const *s, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = strdup(s[i]);
	return v;
}

/* Export metadata: A refers to itself, B (twice) and an absent path; C to
 * B; B to nothing.  Stream order C, A, B. */
static void export_info(struct sd_input_info *info)
{
	static const char *const ra[] = {SD "/" B, SD "/" HX "-x", SD "/" A,
					 SD "/" B};
	static const char *const rc[] = {SD "/" B};
	memset(info, 0, sizeof(*info));
	info->nmeta = 3;
	info->meta = calloc(3, sizeof(*info->meta));
	info->meta[0] = (struct sd_input_meta){strdup(SD "/" C), strdup(""),
					       strv(rc, 1), 1};
	info->meta[1] = (struct sd_input_meta){
		strdup(SD "/" A), strdup(SD "/" HX "-a.drv"), strv(ra, 4), 4};
	info->meta[2] = (struct sd_input_meta){strdup(SD "/" B), strdup(""),
					       strv(NULL, 0), 0};
	info->npaths = 3;
}

TestSuite(input_closure);

Test(input_closure, export_edges_derivers_and_missing)
{
	struct sd_tree *t = three_paths();
	struct sd_input_info info;
	export_info(&info);
	struct sd_input_closure ic;
	struct sd_error err;
	sd_error_init(&err);
	const char *roots[] = {SD "/" C, SD "/" A "/f"};
	cr_assert_eq(sd_input_closure(t, &info, SD, roots, 2, &ic, &err), 0,
		     "%s", err.msg);
	const struct sd_closure *cl = ic.closure;
	cr_assert_not(ic.scan_refs);
	cr_assert_eq(cl->npaths, 3);
	cr_assert_str_eq(cl->paths[0].path, SD "/" A);
	cr_assert_str_eq(cl->paths[1].path, SD "/" B);
	cr_assert_str_eq(cl->paths[2].path, SD "/" C);
	cr_assert_str_eq(cl->paths[0].sp->hash, HA);
	cr_assert_str_eq(cl->paths[2].sp->name, "c");
	/* A: itself and B, sorted and unique; the absent path is missing. */
	cr_assert_eq(cl->paths[0].nrefs, 2);
	cr_assert_eq(cl->paths[0].refs[0], 0);
	cr_assert_eq(cl->paths[0].refs[1], 1);
	cr_assert_eq(cl->paths[1].nrefs, 0);
	cr_assert_eq(cl->paths[2].nrefs, 1);
	cr_assert_eq(cl->paths[2].refs[0], 1);
	cr_assert_eq(cl->nmissing, 1);
	cr_assert_str_eq(cl->missing[0].hash, HX);
	cr_assert_str_eq(cl->missing[0].path, SD "/" HX "-x");
	cr_assert_str_eq(cl->missing[0].referrer, SD "/" A);
	cr_assert_str_eq(cl->paths[0].deriver, SD "/" HX "-a.drv");
	cr_assert_str_eq(cl->paths[1].deriver, "");
	cr_assert_eq(cl->nroots, 2);
	cr_assert_eq(cl->roots[0], 2);
	cr_assert_eq(cl->roots[1], 0);
	cr_assert_eq(cl->paths[0].bytes, 38);
	cr_assert_eq(cl->paths[2].bytes, 0);
	cr_assert_eq(cl->bytes, 40);

	/* The registration: derivers empty unless kept. */
	char *text = NULL;
	size_t len = 0;
	struct sd_app_reg_options ro = {.scan_refs = ic.scan_refs};
	cr_assert_eq(sd_app_registration(t, cl, &ro, &text, &len, &err), 0,
		     "%s", err.msg);
	cr_assert_null(strstr(text, ".drv"), "%s", text);
	cr_assert_null(strstr(text, HX), "%s", text);
	char *a_refs = strstr(text, "\n\n2\n" SD "/" A "\n" SD "/" B "\n");
	cr_assert_not_null(a_refs, "%s", text);
	free(text);
	ro.keep_derivers = true;
	cr_assert_eq(sd_app_registration(t, cl, &ro, &text, &len, &err), 0);
	cr_assert_not_null(strstr(text, "\n" SD "/" HX "-a.drv\n2\n"), "%s",
			   text);
	free(text);
	sd_input_closure_free(&ic);
	sd_input_info_release(&info);
	sd_tree_free(t);
}

Test(input_closure, tar_has_no_edges_so_the_registration_scans)
{
	struct sd_tree *t = three_paths();
	struct sd_input_info info = {.npaths = 3};
	struct sd_input_closure ic;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_input_closure(t, &info, SD, NULL, 0, &ic, &err), 0);
	const struct sd_closure *cl = ic.closure;
	cr_assert(ic.scan_refs);
	cr_assert_eq(cl->nroots, 0);
	for (size_t i = 0; i < cl->npaths; i++) {
		cr_assert_eq(cl->paths[i].nrefs, 0);
		cr_assert_null(cl->paths[i].deriver);
	}
	char *text = NULL;
	size_t len = 0;
	struct sd_app_reg_options ro = {.scan_refs = true,
					.keep_derivers = true};
	cr_assert_eq(sd_app_registration(t, cl, &ro, &text, &len, &err), 0,
		     "%s", err.msg);
	/* A's file names B's hash, B names nothing, C's link target names B
	 * (records in path order, derivers empty: a tar has none). */
	cr_assert_not_null(strstr(text, "\n\n1\n" SD "/" B "\n" SD "/" B "\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "\n\n0\n" SD "/" C "\n"), "%s", text);
	const char *c_end = "\n\n1\n" SD "/" B "\n";
	cr_assert(len > strlen(c_end) &&
			  !strcmp(text + len - strlen(c_end), c_end),
		  "%s", text);
	free(text);
	sd_input_closure_free(&ic);
	sd_tree_free(t);
}

Test(input_closure, a_root_not_in_the_stream_is_missing)
{
	struct sd_tree *t = three_paths();
	struct sd_input_info info = {.npaths = 3};
	struct sd_input_closure ic;
	struct sd_error err;
	sd_error_init(&err);
	const char *roots[] = {SD "/" A, SD "/" HX "-x"};
	cr_assert_eq(sd_input_closure(t, &info, SD, roots, 2, &ic, &err),
		     SD_ERR_MISSING);
	cr_assert_not_null(strstr(err.msg, "root " SD "/" HX "-x is not in "
					   "the input"),
			   "%s", err.msg);
	cr_assert_null(ic.closure);
	const char *bad[] = {"/elsewhere/" A};
	cr_assert_eq(sd_input_closure(t, &info, SD, bad, 1, &ic, &err),
		     SD_ERR_INVALID);
	sd_tree_free(t);
}
