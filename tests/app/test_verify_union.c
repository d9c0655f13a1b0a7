/* SPDX-License-Identifier: MIT */
/* verify with the other images of a union (app/verify.h, verify --base):
 * references into another image resolve and are counted per image, bare
 * hashes of its paths are found, and without it they are violations. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/baseimage.h"
#include "app/verify.h"
#include "formats/format.h"
#include "tests/app/helpers.h"
#include "tests/common/tmpdir.h"

#define H_LAYER "11111111111111111111111111111111"
#define H_LIB "22222222222222222222222222222222"
#define H_DATA "33333333333333333333333333333333"
#define H_ELSE "44444444444444444444444444444444"

static void setup(void)
{
	tt_setup("sdvunion");
}

/* A one-path image whose file refers to lib by full path, twice, and to
 * data by its bare hash. */
static const char *write_layer(void)
{
	struct sd_tree *t = sd_tree_new(1);
	cr_assert(t);
	struct sd_node *p = ta_add(t, t->root, H_LAYER "-app", SD_NODE_DIR);
	struct sd_node *f = ta_add(t, p, "f", SD_NODE_FILE);
	const char *text = "/nix/store/" H_LIB "-lib/x /nix/store/" H_LIB
			   "-lib/y " H_DATA "\n";
	cr_assert_eq(sd_node_set_content(f, text, strlen(text), NULL), 0);
	return ta_write_image(t, "squashfs", "layer.img");
}

Test(verify_union, references_into_another_image_resolve, .init = setup,
     .fini = tt_teardown)
{
	const char *img = write_layer();
	const char *base_paths[] = {H_LIB "-lib", H_DATA "-data"};
	const char *other_paths[] = {H_ELSE "-else", H_LIB "-lib"};
	struct sd_verify_other others[] = {
		{.image = "base.img", .bases = base_paths, .nbases = 2},
		{.image = "other.img", .bases = other_paths, .nbases = 2},
	};
	struct sd_verify_options o = {
		.store_dir = "/nix/store", .others = others, .nothers = 2};
	struct sd_verify_result r;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_verify_image(img, &o, &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.nviolations, 0);
	cr_assert_eq(r.nothers, 2);
	cr_expect_str_eq(r.others[0].image, "base.img");
	/* every occurrence, as references_resolved counts them: lib twice
	 * and data's bare hash */
	cr_expect_eq(r.others[0].references, 3);
	cr_expect_eq(r.others[0].paths, 2);
	/* the first image that holds lib resolves it */
	cr_expect_eq(r.others[1].references, 0);
	cr_expect_eq(r.others[1].paths, 0);
	cr_expect_eq(r.references, 0);
	sd_verify_result_release(&r);
}

Test(verify_union, without_the_other_image_a_violation, .init = setup,
     .fini = tt_teardown)
{
	const char *img = write_layer();
	struct sd_verify_options o = {.store_dir = "/nix/store"};
	struct sd_verify_result r;
	cr_assert_eq(sd_verify_image(img, &o, &r, NULL), 0);
	/* the full path of lib; data's bare hash is known to nobody */
	cr_expect_eq(r.nviolations, 1);
	cr_expect_eq(r.nothers, 0);
	cr_expect(strstr(r.findings[0].path, H_LIB "-lib"));
	sd_verify_result_release(&r);
}

/* The image written by write_layer() verified as a base under @others;
 * its result in @r. */
static void verify_under(const struct sd_verify_other *others, size_t n,
			 struct sd_verify_result *r)
{
	const char *img = write_layer();
	struct sd_verify_options o = {
		.store_dir = "/nix/store", .others = others, .nothers = n};
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_verify_image(img, &o, r, &err), 0, "%s", err.msg);
	cr_expect_eq(r->nviolations, 0); /* the union is self-contained */
}

Test(verify_union, references_only_an_image_above_holds_are_an_order_warning,
     .init = setup, .fini = tt_teardown)
{
	/* lib and data only in the image above: the order looks swapped */
	const char *top_paths[] = {H_LIB "-lib", H_DATA "-data"};
	const char *below_paths[] = {H_ELSE "-else"};
	struct sd_verify_other others[] = {
		{.image = "top.img",
		 .bases = top_paths,
		 .nbases = 2,
		 .above = true},
		{.image = "below.img", .bases = below_paths, .nbases = 1},
	};
	struct sd_verify_result r;
	verify_under(others, 2, &r);
	cr_expect_eq(r.order_paths, 2);
	cr_assert(r.order_path);
	cr_expect_str_eq(r.order_path, "/nix/store/" H_LIB "-lib");
	cr_expect_str_eq(r.order_image, "top.img");
	sd_verify_result_release(&r);
}

Test(verify_union, references_an_image_below_holds_too_are_in_order,
     .init = setup, .fini = tt_teardown)
{
	/* lib in the image above and in one below, data only below: the
	 * image above resolves lib (it comes first), but the order is
	 * right */
	const char *top_paths[] = {H_LIB "-lib"};
	const char *below_paths[] = {H_DATA "-data", H_LIB "-lib"};
	struct sd_verify_other others[] = {
		{.image = "top.img",
		 .bases = top_paths,
		 .nbases = 1,
		 .above = true},
		{.image = "below.img", .bases = below_paths, .nbases = 2},
	};
	struct sd_verify_result r;
	verify_under(others, 2, &r);
	cr_expect_eq(r.others[0].paths, 1);
	cr_expect_eq(r.order_paths, 0);
	cr_expect_null(r.order_path);
	sd_verify_result_release(&r);
}

Test(verify_union, references_into_images_below_are_in_order, .init = setup,
     .fini = tt_teardown)
{
	/* the layer of a union: every other image is below it */
	const char *base_paths[] = {H_LIB "-lib", H_DATA "-data"};
	struct sd_verify_other other = {
		.image = "base.img", .bases = base_paths, .nbases = 2};
	struct sd_verify_result r;
	verify_under(&other, 1, &r);
	cr_expect_eq(r.others[0].paths, 2);
	cr_expect_eq(r.order_paths, 0);
	sd_verify_result_release(&r);
}

/*
 * A layer's registration that covers the union: the layer's app (no
 * narHash: the short layout) and lib, which the base holds, checked
 * against the base's registration record for it.
 */
#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define LAYER_REG(HEX)                                                \
	"/nix/store/" H_LAYER "-app\n\n1\n/nix/store/" H_LIB "-lib\n" \
	"/nix/store/" H_LIB "-lib\n" HEX "\n400\n\n0\n"

static struct sd_registration *parse(const char *text)
{
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_registration_parse("reg", text, strlen(text),
					   "/nix/store", &reg, &err),
		     0, "%s", err.msg);
	return reg;
}

/* A base holding lib and data, with the registration @text. */
static void base_with(struct sd_base_image *b, char **names, const char *text)
{
	memset(b, 0, sizeof(*b));
	b->path = "base.img";
	b->format = "squashfs";
	b->bases = names;
	b->nbases = 2;
	b->reg = parse(text);
	b->reg_by_hash = sd_hashmap_new();
	cr_assert(b->reg_by_hash);
	for (size_t i = 0; i < b->reg->nrecs; i++)
		cr_assert_eq(sd_hashmap_put(b->reg_by_hash,
					    b->reg->recs[i].base, (int64_t)i,
					    NULL, NULL),
			     0);
}

/* Verify the layer with registration @layer_reg over a base whose
 * registration is @base_reg (NULL: no base at all). */
static void verify_reg_union(const char *layer_reg, const char *base_reg,
			     struct sd_verify_result *r)
{
	const char *img = write_layer();
	static char lib[] = H_LIB "-lib", data[] = H_DATA "-data";
	char *names[] = {lib, data};
	struct sd_base_image b;
	struct sd_registration *reg = parse(layer_reg);
	struct sd_verify_other other = {.image = "base.img",
					.bases = (const char *const *)names,
					.nbases = 2,
					.img = &b};
	struct sd_verify_options o = {.store_dir = "/nix/store",
				      .registration = reg,
				      .registration_name = "layer.reg"};
	if (base_reg) {
		base_with(&b, names, base_reg);
		o.others = &other;
		o.nothers = 1;
	}
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_verify_image(img, &o, r, &err), 0, "%s", err.msg);
	if (base_reg) {
		sd_registration_free(b.reg);
		sd_hashmap_free(b.reg_by_hash);
	}
	sd_registration_free(reg);
}

static bool has_violation(const struct sd_verify_result *r, const char *path,
			  const char *reason)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].kind == SD_FINDING_VIOLATION &&
		    strstr(r->findings[i].path, path) &&
		    strstr(r->findings[i].reason, reason))
			return true;
	return false;
}

Test(verify_union, registered_base_path_agreeing_with_the_base, .init = setup,
     .fini = tt_teardown)
{
	struct sd_verify_result r;
	verify_reg_union(LAYER_REG(HEX_A),
			 "/nix/store/" H_LIB "-lib\n" HEX_A "\n400\n\n0\n", &r);
	cr_expect_eq(r.nviolations, 0);
	cr_expect_eq(r.reg.nar_checked, 1); /* lib, against the base */
	cr_expect_eq(r.reg.nmismatches, 0);
	sd_verify_result_release(&r);
}

Test(verify_union, registered_base_path_with_another_narhash, .init = setup,
     .fini = tt_teardown)
{
	struct sd_verify_result r;
	verify_reg_union(LAYER_REG(HEX_B),
			 "/nix/store/" H_LIB "-lib\n" HEX_A "\n400\n\n0\n", &r);
	cr_expect_eq(r.nviolations, 1);
	cr_expect_eq(r.reg.nmismatches, 1);
	cr_expect(has_violation(&r, H_LIB "-lib",
				"but base.img, which holds it"));
	sd_verify_result_release(&r);
}

Test(verify_union, registered_base_path_with_other_references, .init = setup,
     .fini = tt_teardown)
{
	struct sd_verify_result r;
	verify_reg_union(LAYER_REG(HEX_A),
			 "/nix/store/" H_LIB "-lib\n" HEX_A "\n400\n\n1\n"
			 "/nix/store/" H_LIB "-lib\n",
			 &r);
	cr_expect_eq(r.nviolations, 1);
	cr_expect(has_violation(&r, H_LIB "-lib", "references differ"));
	sd_verify_result_release(&r);
}

Test(verify_union, registered_base_path_without_the_base, .init = setup,
     .fini = tt_teardown)
{
	struct sd_verify_result r;
	verify_reg_union(LAYER_REG(HEX_A), NULL, &r);
	cr_expect(has_violation(&r, H_LIB "-lib",
				"registered, but not in the image"));
	sd_verify_result_release(&r);
}
