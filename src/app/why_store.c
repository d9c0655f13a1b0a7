/* why_store.c — sd_why_store: the search over a store on disk. */
#include "app/why.h"

#include <stdlib.h>

#include "app/why_source.h"
#include "closure/store.h"
#include "core/hosttree.h"

struct store_ctx {
	const struct sd_store *st;
	struct sd_tree *tree;       /* the loaded path, or NULL */
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

int sd_why_store(const struct sd_store *st, const char *root,
		 const char *path, volatile const int *interrupted,
		 struct sd_why_result *res, struct sd_error *err)
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
	struct sd_why_source src = {
		.store_dir = st->store_dir,
		.n = st->npaths,
		.candidates = st->by_hash,
		.base = store_base,
		.load = store_load,
		.unload = store_unload,
		.ctx = &c,
		.interrupted = interrupted,
	};
	rc = sd_why_search(&src, r->index, p->index, res, err);
	store_unload(&c);
	return rc;
}
