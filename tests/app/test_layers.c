/* SPDX-License-Identifier: MIT */
/*
 * test_layers.c — sd_layers_plan (src/app/layers.h) on closures built in
 * memory: popularity, ties on cycles, the cut, the bound, and the one
 * property everything rests on: every layer's references lie in it or
 * below, for random graphs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/layers.h"

/* A closure of @n paths named p00.., @edges as "from to" index pairs,
 * @bytes per path (NULL: 1000 each), @roots. */
static struct sd_closure *make(size_t n, const size_t (*edges)[2],
			       size_t nedges, const uint64_t *bytes,
			       const size_t *roots, size_t nroots)
{
	struct sd_closure *c = calloc(1, sizeof(*c));
	cr_assert(c);
	c->paths = calloc(n, sizeof(*c->paths));
	c->npaths = n;
	for (size_t i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "/nix/store/p%02zu", i);
		c->paths[i].path = strdup(name);
		c->paths[i].refs = calloc(nedges + 1, sizeof(size_t));
		c->paths[i].bytes = bytes ? bytes[i] : 1000;
		c->bytes += c->paths[i].bytes;
	}
	for (size_t e = 0; e < nedges; e++) {
		struct sd_closure_path *p = &c->paths[edges[e][0]];
		p->refs[p->nrefs++] = edges[e][1];
	}
	c->roots = calloc(nroots + 1, sizeof(size_t));
	memcpy(c->roots, roots, nroots * sizeof(size_t));
	c->nroots = nroots;
	return c;
}

static void drop(struct sd_closure *c)
{
	for (size_t i = 0; i < c->npaths; i++) {
		free(c->paths[i].path);
		free(c->paths[i].refs);
	}
	free(c->paths);
	free(c->roots);
	free(c);
}

static struct sd_layers *plan(const struct sd_closure *c, size_t max)
{
	struct sd_layers *l;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_layers_plan(c, SD_CLOSURE_SCAN, max, &l, &err), 0, "%s",
		     err.msg);
	return l;
}

/* Every reference in the same layer or below; at most @max layers; each
 * layer non-empty; each path in exactly one layer; a root's top is the
 * highest layer of its closure. */
static void check_stack(const struct sd_closure *c, const struct sd_layers *l,
			size_t max)
{
	size_t seen = 0;
	cr_assert_leq(l->nlayers, max);
	for (size_t k = 0; k < l->nlayers; k++) {
		cr_assert_gt(l->layers[k].npaths, 0, "layer %zu empty", k);
		for (size_t i = 0; i < l->layers[k].npaths; i++) {
			cr_assert_eq(l->layer_of[l->layers[k].paths[i]], k);
			if (i)
				cr_assert_lt(l->layers[k].paths[i - 1],
					     l->layers[k].paths[i]);
		}
		seen += l->layers[k].npaths;
	}
	cr_assert_eq(seen, c->npaths);
	for (size_t p = 0; p < c->npaths; p++)
		for (size_t k = 0; k < c->paths[p].nrefs; k++) {
			size_t r = c->paths[p].refs[k];
			cr_assert_leq(l->layer_of[r], l->layer_of[p],
				      "p%02zu (layer %zu) refers to p%02zu "
				      "(layer %zu)",
				      p, l->layer_of[p], r, l->layer_of[r]);
			cr_assert_geq(l->popularity[r], l->popularity[p]);
		}
	for (size_t i = 0; i < c->nroots; i++) {
		/* the closure of the root, by fixpoint */
		bool *in = calloc(c->npaths, sizeof(bool));
		bool more = true;
		size_t top = 0;
		in[c->roots[i]] = true;
		while (more) {
			more = false;
			for (size_t p = 0; p < c->npaths; p++)
				for (size_t k = 0;
				     in[p] && k < c->paths[p].nrefs; k++)
					if (!in[c->paths[p].refs[k]])
						more = in[c->paths[p].refs[k]] =
							true;
		}
		for (size_t p = 0; p < c->npaths; p++)
			if (in[p] && l->layer_of[p] > top)
				top = l->layer_of[p];
		cr_assert_eq(l->root_top[i], top, "root %zu", i);
		free(in);
	}
}

Test(layers, chain_is_one_layer_per_path)
{
	/* p00 -> p01 -> p02: whoever reaches p02 reaches p01 */
	const size_t e[][2] = {{0, 1}, {1, 2}};
	const size_t roots[] = {0};
	struct sd_closure *c = make(3, e, 2, NULL, roots, 1);
	struct sd_layers *l = plan(c, 3);

	cr_assert_eq(l->popularity[2], 3);
	cr_assert_eq(l->popularity[1], 2);
	cr_assert_eq(l->popularity[0], 1);
	cr_assert_eq(l->nlayers, 3);
	cr_assert_eq(l->layer_of[2], 0);
	cr_assert_eq(l->layer_of[1], 1);
	cr_assert_eq(l->layer_of[0], 2);
	cr_assert_eq(l->root_top[0], 2);
	check_stack(c, l, 3);
	sd_layers_free(l);
	l = plan(c, 1);
	cr_assert_eq(l->nlayers, 1);
	cr_assert_eq(l->layers[0].npaths, 3);
	check_stack(c, l, 1);
	sd_layers_free(l);
	drop(c);
}

Test(layers, cycle_is_never_split)
{
	/* p00 -> p01 <-> p02 -> p03 */
	const size_t e[][2] = {{0, 1}, {1, 2}, {2, 1}, {2, 3}, {1, 1}};
	const size_t roots[] = {0};
	struct sd_closure *c = make(4, e, 5, NULL, roots, 1);
	struct sd_layers *l = plan(c, 4);

	cr_assert_eq(l->popularity[1], l->popularity[2]);
	cr_assert_eq(l->layer_of[1], l->layer_of[2]);
	cr_assert_eq(l->nlayers, 3);
	check_stack(c, l, 4);
	sd_layers_free(l);
	drop(c);
}

Test(layers, shared_paths_go_lowest)
{
	/* two roots p00, p01 sharing p02 (and p02 -> p03); p04 only p01's */
	const size_t e[][2] = {{0, 2}, {1, 2}, {2, 3}, {1, 4}};
	const size_t roots[] = {0, 1};
	const uint64_t bytes[] = {100, 100, 1000, 1000, 100};
	struct sd_closure *c = make(5, e, 4, bytes, roots, 2);
	struct sd_layers *l = plan(c, 2);

	/* p03: reached by p00, p01, p02, p03 in the closures holding them:
	 * c(p00)=1, c(p01)=1, c(p02)=2, c(p03)=2 */
	cr_assert_eq(l->popularity[3], 6);
	cr_assert_eq(l->popularity[2], 4);
	cr_assert_eq(l->layer_of[3], 0);
	cr_assert_eq(l->layer_of[2], 0);
	cr_assert_eq(l->layer_of[0], 1);
	cr_assert_eq(l->layer_of[1], 1);
	cr_assert_eq(l->layer_of[4], 1);
	check_stack(c, l, 2);
	sd_layers_free(l);
	drop(c);
}

Test(layers, cut_follows_bytes)
{
	/* a chain of 4 where the bottom path holds most bytes: with 2
	 * layers it is alone at the bottom */
	const size_t e[][2] = {{0, 1}, {1, 2}, {2, 3}};
	const uint64_t bytes[] = {10, 10, 10, 970};
	const size_t roots[] = {0};
	struct sd_closure *c = make(4, e, 3, bytes, roots, 1);
	struct sd_layers *l = plan(c, 2);

	cr_assert_eq(l->nlayers, 2);
	cr_assert_eq(l->layers[0].npaths, 1);
	cr_assert_eq(l->layers[0].bytes, 970);
	cr_assert_eq(l->layers[1].npaths, 3);
	check_stack(c, l, 2);
	sd_layers_free(l);
	drop(c);
}

Test(layers, a_path_list_has_no_references)
{
	const size_t roots[] = {0};
	struct sd_closure *c = make(1, NULL, 0, NULL, roots, 1);
	struct sd_layers *l = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_layers_plan(c, SD_CLOSURE_PATHS, 2, &l, &err),
		     SD_ERR_USAGE);
	cr_assert_null(l);
	cr_assert(strstr(err.msg, "--scan"), "%s", err.msg);
	drop(c);
}

/* Random graphs (some cycles, several roots): the stack property holds
 * for every bound, and the plan does not depend on anything but the
 * closure (two plans are equal). */
Test(layers, random_graphs_keep_references_below)
{
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		size_t n = 2 + (size_t)(rand_r(&seed) % 30);
		size_t ne = (size_t)(rand_r(&seed) % (3 * n));
		size_t(*e)[2] = calloc(ne + 1, sizeof(*e));
		uint64_t *bytes = calloc(n, sizeof(uint64_t));
		size_t roots[3];
		size_t nroots = 1 + (size_t)(rand_r(&seed) % 3);
		for (size_t i = 0; i < ne; i++) {
			e[i][0] = (size_t)rand_r(&seed) % n;
			e[i][1] = (size_t)rand_r(&seed) % n;
		}
		for (size_t i = 0; i < n; i++)
			bytes[i] = (uint64_t)(rand_r(&seed) % 5000);
		for (size_t i = 0; i < nroots; i++)
			roots[i] = (size_t)rand_r(&seed) % n;
		struct sd_closure *c = make(n, e, ne, bytes, roots, nroots);
		for (size_t max = 1; max <= 6; max++) {
			struct sd_layers *a = plan(c, max), *b = plan(c, max);
			check_stack(c, a, max);
			cr_assert_eq(a->nlayers, b->nlayers);
			cr_assert_eq(memcmp(a->layer_of, b->layer_of,
					    n * sizeof(size_t)),
				     0);
			sd_layers_free(a);
			sd_layers_free(b);
		}
		drop(c);
		free(e);
		free(bytes);
	}
}
