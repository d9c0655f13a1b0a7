/* SPDX-License-Identifier: MIT */
/* source_scan.c — closure edges by scanning the store paths' contents. */
#include <stdlib.h>
#include <string.h>

#include "closure/engine.h"
#include "closure/refscan.h"
#include "closure/storepath.h"
#include "core/hosttree.h"
#include "core/tree.h"

struct scanctx {
	struct sd_engine *e;
	size_t src;         /* store index being scanned */
	size_t *stamp;      /* per store index: last src+1 that hit it */
	size_t absent_from; /* first e->absent entry of this src */
};

static int add_evidence(struct scanctx *x, size_t to,
			const struct sd_refscan_hit *hit)
{
	struct sd_engine_evlist *l = &x->e->ev[x->src];
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		struct sd_engine_ev *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return SD_ERR_NOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	char *file = sd_node_path_under(hit->node, x->e->st->store_dir);
	if (!file)
		return SD_ERR_NOMEM;
	l->v[l->n].to = to;
	l->v[l->n].e.file = file;
	l->v[l->n].e.what = hit->what;
	l->v[l->n].e.offset = hit->scan->offset;
	l->n++;
	return 0;
}

/* A full path whose hash is not in the store: not a reference, but
 * recorded once per (referring path, hash). */
static int on_absent(struct scanctx *x, const struct sd_refscan_hit *hit,
		     struct sd_error *err)
{
	struct sd_engine *e = x->e;
	const char *hash = hit->scan->hash;

	for (size_t i = x->absent_from; i < e->nabsent; i++)
		if (!memcmp(e->absent[i].hash, hash, SD_HASH_CHARS))
			return 0;
	char *file = sd_node_path_under(hit->node, e->st->store_dir);
	if (!file)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = sd_engine_add_absent(e, hash, file, hit->what,
				      hit->scan->offset +
					      strlen(e->st->store_dir) + 1);
	free(file);
	return rc;
}

static int on_hit(const struct sd_refscan_hit *hit, void *ctx,
		  struct sd_error *err)
{
	struct scanctx *x = ctx;
	struct sd_engine *e = x->e;
	const struct sd_scan_hit *h = hit->scan;

	if (h->id == SD_HASHMAP_NONE)
		return on_absent(x, hit, err);
	if (h->kind != SD_SCAN_HASH)
		return 0; /* the bare hit of the same hash does the work */
	size_t to = (size_t)h->id;
	if (x->stamp[to] == x->src + 1)
		return 0;
	x->stamp[to] = x->src + 1;
	int rc = sd_graph_add_edge(&e->g, x->src, to, err);
	if (rc)
		return rc;
	if (e->ev && add_evidence(x, to, hit))
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return sd_engine_reach(e, to);
}

static int scan_one(struct scanctx *x, size_t s)
{
	struct sd_engine *e = x->e;
	const struct sd_store *st = e->st;
	const struct sd_store_path *sp = &st->paths[s];
	struct sd_node *top = NULL;
	int rc;

	char *phys = sd_store_physical_path(st, sp);
	struct sd_tree *t = sd_tree_new(SD_DEFAULT_MTIME);
	if (!phys || !t) {
		rc = sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
		goto done;
	}
	rc = sd_hosttree_add(t, t->root, sp->base, phys, &top, e->err);
	if (!rc)
		rc = sd_tree_finalize(t, e->err);
	if (rc)
		goto done;
	e->bytes[s] = t->file_bytes;
	e->bytes_known[s] = true;
	x->src = s;
	x->absent_from = e->nabsent;
	rc = sd_refscan_tree(t, top, st->by_hash, st->store_dir, on_hit, x,
			     e->err);
done:
	sd_tree_free(t);
	free(phys);
	return rc;
}

int sd_engine_run_scan(struct sd_engine *e)
{
	struct scanctx x = {.e = e};
	int rc = 0;

	x.stamp = calloc(e->st->npaths ? e->st->npaths : 1, sizeof(*x.stamp));
	if (!x.stamp)
		return sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < e->nroots; i++)
		sd_engine_reach(e, e->roots[i]);
	while (!rc && e->qhead < e->qtail) {
		rc = sd_engine_check_interrupt(e);
		if (!rc)
			rc = scan_one(&x, e->queue[e->qhead++]);
	}
	free(x.stamp);
	return rc;
}
