/* SPDX-License-Identifier: MIT */
/*
 * why.c — the breadth-first search of app/why.h over a source of store
 * paths (app/why_source.h), and the chain it gives.
 */
#include "app/why.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/why_excerpt.h"
#include "app/why_source.h"
#include "closure/refscan.h"

#define NONE ((size_t)-1)

/* Where a reference was first seen inside the referring path. */
struct evidence {
	char *rel; /* entry path relative to the tree root,
		      * "<hash>-<name>/lib/x.so"; NULL: a
		      * registered reference not seen */
	enum sd_refscan_what what;
	uint64_t offset; /* of the hash part within the item */
};

struct edge {
	size_t to;
	struct evidence ev;
};

/* The state of the search. */
struct search {
	const struct sd_why_source *src;
	size_t target;
	size_t *parent;      /* per id: who reached it first (the root:
				* itself), or NONE */
	struct evidence *ev; /* per id: evidence of parent -> id */
	/* The path being scanned: its references, first occurrence each. */
	size_t scan_no; /* 1 + number of the current scan */
	size_t *stamp;  /* per id: scan_no of the last edge */
	struct edge *edges;
	size_t nedges, cap;
	bool hit_target;
	/* With src->refs: the references of the path being scanned. */
	const size_t *refs;
	size_t nrefs;
};

/* Returned by on_hit to stop a scan once the target is reached. */
#define STOP_SCAN SD_ERR_LIMIT

static const char *where_str(enum sd_refscan_what w)
{
	switch (w) {
	case SD_REFSCAN_NAME: return "name";
	case SD_REFSCAN_TARGET: return "symlink target";
	default: return "content";
	}
}

static int cmp_id(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Is @to a reference the path being scanned may have? */
static bool allowed_ref(const struct search *s, size_t to)
{
	return !s->src->refs ||
	       bsearch(&to, s->refs, s->nrefs, sizeof(*s->refs), cmp_id);
}

static int push_edge(struct search *s, const struct edge *e,
		     struct sd_error *err)
{
	if (s->nedges == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct edge *ne = realloc(s->edges, cap * sizeof(*ne));
		if (!ne)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		s->edges = ne;
		s->cap = cap;
	}
	s->edges[s->nedges++] = *e;
	return 0;
}

static int on_hit(const struct sd_refscan_hit *hit, void *ctx,
		  struct sd_error *err)
{
	struct search *s = ctx;
	if (hit->scan->kind != SD_SCAN_HASH || hit->scan->id < 0)
		return 0;
	size_t to = (size_t)hit->scan->id;
	if (s->stamp[to] == s->scan_no || !allowed_ref(s, to))
		return 0; /* not the first occurrence, or not a reference */
	s->stamp[to] = s->scan_no;
	struct edge e = {
		.to = to,
		.ev = {.rel = sd_node_path_dup(hit->node),
		       .what = hit->what,
		       .offset = hit->scan->offset},
	};
	if (!e.ev.rel)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = push_edge(s, &e, err);
	if (rc) {
		free(e.ev.rel);
		return rc;
	}
	if (to == s->target) {
		s->hit_target = true;
		return STOP_SCAN;
	}
	return 0;
}

/* Scan path @id into s->edges (unsorted; stops early at the target). */
static int scan_path(struct search *s, size_t id, struct sd_error *err)
{
	const struct sd_tree *tree;
	struct sd_node *top;
	s->nedges = 0;
	s->hit_target = false;
	s->scan_no++;
	s->nrefs = 0;
	if (s->src->refs)
		s->refs = s->src->refs(s->src->ctx, id, &s->nrefs);
	int rc = s->src->load(s->src->ctx, id, &tree, &top, err);
	if (!rc)
		rc = sd_refscan_tree(tree, top, s->src->candidates, NULL,
				     on_hit, s, err);
	if (s->src->unload)
		s->src->unload(s->src->ctx);
	if (rc == STOP_SCAN && s->hit_target)
		return 0;
	/* Registered references the scan did not see: no evidence. */
	for (size_t k = 0; !rc && k < s->nrefs; k++)
		if (s->stamp[s->refs[k]] != s->scan_no)
			rc = push_edge(s, &(struct edge){.to = s->refs[k]},
				       err);
	return rc;
}

static int cmp_edge(const void *a, const void *b)
{
	size_t x = ((const struct edge *)a)->to;
	size_t y = ((const struct edge *)b)->to;
	return (x > y) - (x < y);
}

/* Take the edges of the path just scanned (@from) into the BFS: unseen
 * targets get their parent and are queued.  True once the target is. */
static bool expand(struct search *s, size_t from, size_t *queue, size_t *tail)
{
	bool found = false;
	if (s->nedges) /* edges may be NULL then */
		qsort(s->edges, s->nedges, sizeof(*s->edges), cmp_edge);
	for (size_t k = 0; k < s->nedges; k++) {
		struct edge *e = &s->edges[k];
		if (!found && s->parent[e->to] == NONE) {
			s->parent[e->to] = from;
			s->ev[e->to] = e->ev;
			e->ev.rel = NULL;
			queue[(*tail)++] = e->to;
			found = e->to == s->target;
		}
		free(e->ev.rel);
	}
	s->nedges = 0;
	return found;
}

static char *logical(const struct sd_why_source *src, const char *rel)
{
	size_t len = strlen(src->store_dir) + 1 + strlen(rel) + 1;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", src->store_dir, rel);
	return p;
}

/* Fill hop @h (@from -> @to) with its evidence and excerpt. */
static int make_hop(const struct sd_why_source *src, size_t from, size_t to,
		    const struct evidence *ev, struct sd_why_hop *h,
		    struct sd_error *err)
{
	h->from = logical(src, src->base(src->ctx, from));
	h->to = logical(src, src->base(src->ctx, to));
	if (!ev->rel) {
		h->where = SD_WHY_WHERE_REGISTRATION;
		if (!h->from || !h->to)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		return 0;
	}
	h->file = logical(src, ev->rel);
	h->where = where_str(ev->what);
	h->offset = ev->offset;
	if (!h->from || !h->to || !h->file)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	const struct sd_tree *tree;
	struct sd_node *top;
	int rc = src->load(src->ctx, from, &tree, &top, err);
	if (!rc) {
		struct sd_node *node = sd_tree_lookup(tree, ev->rel);
		if (!node)
			rc = sd_error_set(err, SD_ERR_IO,
					  "%s: gone since it "
					  "was scanned",
					  h->file);
		else
			rc = sd_why_excerpt(tree, node, ev->what, ev->offset,
					    &h->excerpt, err);
		if (rc && node)
			sd_error_prefix(err, rc, "%s", h->file);
	}
	if (src->unload)
		src->unload(src->ctx);
	return rc;
}

/* The chain root -> ... -> target from the parents, with excerpts. */
static int make_chain(struct search *s, size_t root, struct sd_why_result *res,
		      struct sd_error *err)
{
	size_t n = 0;
	for (size_t v = s->target; v != root; v = s->parent[v])
		n++;
	if (!n)
		return 0;
	res->hops = calloc(n, sizeof(*res->hops));
	if (!res->hops)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	res->nhops = n;
	size_t k = n;
	for (size_t v = s->target; v != root; v = s->parent[v]) {
		int rc = make_hop(s->src, s->parent[v], v, &s->ev[v],
				  &res->hops[--k], err);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_interrupt(const struct sd_why_source *src,
			   struct sd_error *err)
{
	if (src->interrupted && *src->interrupted)
		return sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
	return 0;
}

int sd_why_search(const struct sd_why_source *src, size_t root, size_t path,
		  struct sd_why_result *res, struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	struct search s = {.src = src, .target = path};
	size_t n = src->n ? src->n : 1;
	size_t *queue = malloc(n * sizeof(*queue));
	s.parent = malloc(n * sizeof(*s.parent));
	s.ev = calloc(n, sizeof(*s.ev));
	s.stamp = calloc(n, sizeof(*s.stamp));
	res->root = logical(src, src->base(src->ctx, root));
	res->path = logical(src, src->base(src->ctx, path));
	int rc = 0;
	if (!queue || !s.parent || !s.ev || !s.stamp || !res->root ||
	    !res->path) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < src->n; i++)
		s.parent[i] = NONE;
	s.parent[root] = root;
	size_t head = 0, tail = 0;
	queue[tail++] = root;
	res->found = root == path;
	/* A target that is not a candidate cannot be reached. */
	bool reachable =
		sd_hashmap_get(src->candidates, src->base(src->ctx, path)) !=
		SD_HASHMAP_NONE;
	while (!res->found && reachable && head < tail) {
		size_t from = queue[head++];
		rc = check_interrupt(src, err);
		if (!rc)
			rc = scan_path(&s, from, err);
		res->scanned++;
		if (!rc)
			res->found = expand(&s, from, queue, &tail);
		if (rc)
			goto out;
	}
	if (res->found)
		rc = make_chain(&s, root, res, err);
out:
	for (size_t k = 0; k < s.nedges; k++)
		free(s.edges[k].ev.rel);
	free(s.edges);
	if (s.ev)
		for (size_t i = 0; i < src->n; i++)
			free(s.ev[i].rel);
	free(s.ev);
	free(s.stamp);
	free(s.parent);
	free(queue);
	return rc;
}

void sd_why_result_release(struct sd_why_result *res)
{
	for (size_t i = 0; i < res->nhops; i++) {
		free(res->hops[i].from);
		free(res->hops[i].to);
		free(res->hops[i].file);
		free(res->hops[i].excerpt);
	}
	free(res->hops);
	free(res->root);
	free(res->path);
	memset(res, 0, sizeof(*res));
}
