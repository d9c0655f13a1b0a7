/* SPDX-License-Identifier: MIT */
/* why_store.c — sd_why_store: the search over a store on disk. */
#include "app/why.h"

#include <stdlib.h>

#include "app/why_source.h"
#include "closure/closure.h"
#include "closure/store.h"
#include "core/hosttree.h"

struct store_ctx {
	const struct sd_store *st;
	struct sd_tree *tree; /* the loaded path, or NULL */
	/* Within a closure: its paths as candidates, and with registered
	 * references those, per store index (ascending store indices). */
	struct sd_hashmap *candidates;
	size_t **refs;
	size_t *nrefs;
};

static const char *store_base(void *ctx, size_t id)
{
	const struct store_ctx *c = ctx;
	return c->st->paths[id].base;
}

static void store_unload(void *ctx)
{
	struct store_ctx *c = ctx;
	sd_tree_free(c->tree);
	c->tree = NULL;
}

/* Read path @id from the physical store into a tree of its own. */
static int store_load(void *ctx, size_t id, const struct sd_tree **tree,
		      struct sd_node **top, struct sd_error *err)
{
	struct store_ctx *c = ctx;
	const struct sd_store_path *sp = &c->st->paths[id];
	store_unload(c);
	char *phys = sd_store_physical_path(c->st, sp);
	c->tree = sd_tree_new(SD_DEFAULT_MTIME);
	int rc;
	if (!phys || !c->tree)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	else
		rc = sd_hosttree_add(c->tree, c->tree->root, sp->base, phys,
				     top, err);
	if (!rc)
		rc = sd_tree_finalize(c->tree, err);
	free(phys);
	if (rc) {
		store_unload(c);
		return rc;
	}
	*tree = c->tree;
	return 0;
}

static const size_t *store_refs(void *ctx, size_t id, size_t *n)
{
	const struct store_ctx *c = ctx;
	*n = c->nrefs[id];
	return c->refs[id];
}

/* The candidates (and references) of @w->closure in store indices. */
static int index_closure(struct store_ctx *c, const struct sd_why_within *w,
			 struct sd_error *err)
{
	const struct sd_closure *cl = w->closure;
	c->candidates = sd_hashmap_new();
	if (!c->candidates)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t k = 0; k < cl->npaths; k++) {
		int rc = sd_hashmap_put(c->candidates, cl->paths[k].sp->base,
					(int64_t)cl->paths[k].sp->index, NULL,
					err);
		if (rc)
			return rc;
	}
	if (!w->registered)
		return 0;
	size_t n = c->st->npaths ? c->st->npaths : 1;
	c->refs = calloc(n, sizeof(*c->refs));
	c->nrefs = calloc(n, sizeof(*c->nrefs));
	if (!c->refs || !c->nrefs)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t k = 0; k < cl->npaths; k++) {
		const struct sd_closure_path *p = &cl->paths[k];
		size_t id = p->sp->index;
		c->refs[id] =
			malloc((p->nrefs ? p->nrefs : 1) * sizeof(**c->refs));
		if (!c->refs[id])
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		/* Both orders are bytewise by basename: still ascending. */
		for (size_t r = 0; r < p->nrefs; r++)
			c->refs[id][r] = cl->paths[p->refs[r]].sp->index;
		c->nrefs[id] = p->nrefs;
	}
	return 0;
}

static void free_index(struct store_ctx *c)
{
	if (c->refs)
		for (size_t i = 0; i < c->st->npaths; i++)
			free(c->refs[i]);
	free(c->refs);
	free(c->nrefs);
	sd_hashmap_free(c->candidates);
}

int sd_why_store(const struct sd_store *st, const char *root, const char *path,
		 const struct sd_why_within *within,
		 volatile const int *interrupted, struct sd_why_result *res,
		 struct sd_error *err)
{
	const struct sd_store_path *r, *p;
	int rc = sd_store_resolve_root(st, root, &r, err);
	if (!rc)
		rc = sd_store_resolve_root(st, path, &p, err);
	if (rc) {
		*res = (struct sd_why_result){0};
		return rc;
	}
	struct store_ctx c = {.st = st};
	if (within) {
		rc = index_closure(&c, within, err);
		if (rc) {
			free_index(&c);
			*res = (struct sd_why_result){0};
			return rc;
		}
	}
	struct sd_why_source src = {
		.store_dir = st->store_dir,
		.n = st->npaths,
		.candidates = c.candidates ? c.candidates : st->by_hash,
		.base = store_base,
		.load = store_load,
		.unload = store_unload,
		.refs = c.refs ? store_refs : NULL,
		.ctx = &c,
		.interrupted = interrupted,
	};
	rc = sd_why_search(&src, r->index, p->index, res, err);
	store_unload(&c);
	free_index(&c);
	return rc;
}
