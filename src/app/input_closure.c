/* SPDX-License-Identifier: MIT */
/*
 * input_closure.c — the store paths of a tar or export stream as a
 * closure (app/input.h), for the registration: the stream is the closure,
 * its edges are the export stream's references (a tar has none).
 */
#include "app/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/storepath.h"
#include "core/pathcanon.h"

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

/* Index in @sps (sorted by basename) of basename @base, or -1. */
static long find_base(const struct sd_store_path *sps, size_t n,
		      const char *base, size_t len)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sd_store_path *sp = &sps[mid];
		size_t m = sp->base_len < len ? sp->base_len : len;
		int c = memcmp(sp->base, base, m);
		if (c == 0)
			c = sp->base_len < len ? -1 : sp->base_len > len;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Index of logical store path @path among @sps, or -1 (also when it is
 * not a store path of @store_dir). */
static long find_path(const struct sd_store_path *sps, size_t n,
		      const char *store_dir, const char *path)
{
	struct sd_spath sp;
	if (sd_storepath_parse(store_dir, path, strlen(path), false, &sp, NULL))
		return -1;
	return find_base(sps, n, sp.base, sp.base_len);
}

/* Sum of the regular file sizes below @node. */
static uint64_t file_bytes(const struct sd_node *node)
{
	if (node->type == SD_NODE_FILE)
		return node->size;
	uint64_t sum = 0;
	for (size_t i = 0; i < node->nchildren; i++)
		sum += file_bytes(node->children[i]);
	return sum;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Record a reference of @referrer to @path, which is not in the stream. */
static int add_missing(struct sd_closure *cl, const char *store_dir,
		       const char *path, const char *referrer)
{
	struct sd_spath sp;
	if (sd_storepath_parse(store_dir, path, strlen(path), false, &sp, NULL))
		return SD_OK; /* not a store path: never a reference */
	struct sd_closure_missing *m =
		realloc(cl->missing, (cl->nmissing + 1) * sizeof(*m));
	if (!m)
		return SD_ERR_NOMEM;
	cl->missing = m;
	m = &cl->missing[cl->nmissing];
	memset(m, 0, sizeof(*m));
	memcpy(m->hash, sp.hash, SD_HASH_CHARS);
	m->hash[SD_HASH_CHARS] = '\0';
	m->path = strdup(path);
	m->referrer = strdup(referrer);
	cl->nmissing++;
	return m->path && m->referrer ? SD_OK : SD_ERR_NOMEM;
}

/* Edges and deriver of paths[i] from the stream's record @m. */
static int take_meta(struct sd_input_closure *ic, const char *store_dir,
		     const struct sd_input_meta *m, struct sd_error *err)
{
	struct sd_closure *cl = ic->closure;
	long i = find_path(ic->sps, ic->nsps, store_dir, m->path);
	if (i < 0)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: not among the stream's store paths",
				    m->path);
	struct sd_closure_path *p = &cl->paths[i];
	free(p->refs);
	p->refs = calloc(m->nrefs + 1, sizeof(*p->refs));
	p->deriver = strdup(m->deriver ? m->deriver : "");
	if (!p->refs || !p->deriver)
		return nomem(err);
	for (size_t k = 0; k < m->nrefs; k++) {
		long to = find_path(ic->sps, ic->nsps, store_dir, m->refs[k]);
		if (to >= 0)
			p->refs[p->nrefs++] = (size_t)to;
		else if (add_missing(cl, store_dir, m->refs[k], m->path))
			return nomem(err);
	}
	qsort(p->refs, p->nrefs, sizeof(*p->refs), cmp_size);
	size_t u = 0;
	for (size_t k = 0; k < p->nrefs; k++)
		if (u == 0 || p->refs[u - 1] != p->refs[k])
			p->refs[u++] = p->refs[k];
	p->nrefs = u;
	return SD_OK;
}

/* paths[] and sps[] from the root's children, in their (sorted) order. */
static int take_paths(struct sd_input_closure *ic, const struct sd_tree *tree,
		      const char *store_dir, struct sd_error *err)
{
	struct sd_closure *cl = ic->closure;
	const struct sd_node *root = tree->root;
	size_t n = root->nchildren;
	ic->sps = calloc(n + 1, sizeof(*ic->sps));
	cl->paths = calloc(n + 1, sizeof(*cl->paths));
	if (!ic->sps || !cl->paths)
		return nomem(err);
	for (size_t i = 0; i < n; i++) {
		const struct sd_node *c = root->children[i];
		struct sd_store_path *sp = &ic->sps[i];
		sp->base = strdup(c->name);
		if (!sp->base)
			return nomem(err);
		ic->nsps++;
		sp->base_len = c->name_len;
		/* The inputs only create valid "<hash>-<name>" children. */
		memcpy(sp->hash, sp->base, SD_HASH_CHARS);
		sp->hash[SD_HASH_CHARS] = '\0';
		sp->name = sp->base + SD_HASH_CHARS + 1;
		sp->index = i;
		struct sd_closure_path *p = &cl->paths[i];
		cl->npaths++;
		p->sp = sp;
		size_t len = strlen(store_dir) + 1 + c->name_len + 1;
		p->path = malloc(len);
		p->refs = calloc(1, sizeof(*p->refs)); /* none yet */
		if (!p->path || !p->refs)
			return nomem(err);
		snprintf(p->path, len, "%s/%s", store_dir, c->name);
		p->bytes = file_bytes(c);
		cl->bytes += p->bytes;
	}
	return SD_OK;
}

/*
 * closure->roots from @roots, each read as Nix reads a root: made
 * absolute and canonical ("." and ".." resolved lexically), and followed
 * while it is a symlink outside the store directory (./result); then it
 * must name a store path of the input (or a path inside one).
 */
static int take_roots(struct sd_input_closure *ic, const char *store_dir,
		      const char *const *roots, size_t nroots,
		      struct sd_error *err)
{
	struct sd_closure *cl = ic->closure;
	cl->roots = calloc(nroots + 1, sizeof(*cl->roots));
	if (!cl->roots)
		return nomem(err);
	for (size_t r = 0; r < nroots; r++) {
		char *path;
		int rc = sd_path_follow_to_dir(roots[r], store_dir, &path, err);
		if (rc)
			return rc;
		struct sd_spath sp;
		rc = sd_storepath_parse(store_dir, path, strlen(path), true,
					&sp, err);
		long i =
			rc ? -1
			   : find_base(ic->sps, ic->nsps, sp.base, sp.base_len);
		if (rc)
			rc = sd_error_prefix(err, rc, "root %s", roots[r]);
		else if (i < 0 && strcmp(path, roots[r]))
			rc = sd_error_set(err, SD_ERR_MISSING,
					  "root %s (%.*s/%.*s) is not in the "
					  "input",
					  roots[r], (int)strlen(store_dir),
					  store_dir, (int)sp.base_len, sp.base);
		else if (i < 0)
			rc = sd_error_set(err, SD_ERR_MISSING,
					  "root %s is not in the input",
					  roots[r]);
		free(path);
		if (rc)
			return rc;
		cl->roots[cl->nroots++] = (size_t)i;
	}
	return SD_OK;
}

int sd_input_closure(const struct sd_tree *tree,
		     const struct sd_input_info *info, const char *store_dir,
		     const char *const *roots, size_t nroots,
		     struct sd_input_closure *out, struct sd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->closure = calloc(1, sizeof(*out->closure));
	if (!out->closure)
		return nomem(err);
	out->scan_refs = info->meta == NULL;
	int rc = take_paths(out, tree, store_dir, err);
	for (size_t k = 0; k < info->nmeta && !rc; k++)
		rc = take_meta(out, store_dir, &info->meta[k], err);
	if (!rc)
		rc = take_roots(out, store_dir, roots, nroots, err);
	if (rc)
		sd_input_closure_free(out);
	return rc;
}

void sd_input_closure_free(struct sd_input_closure *ic)
{
	sd_closure_free(ic->closure);
	for (size_t i = 0; i < ic->nsps; i++)
		free(ic->sps[i].base);
	free(ic->sps);
	memset(ic, 0, sizeof(*ic));
}
