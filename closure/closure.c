/* SPDX-License-Identifier: MIT */
#include "closure/closure.h"

#include <stdlib.h>
#include <string.h>

#include "closure/engine.h"
#include "closure/storepath.h"
#include "core/hosttree.h"
#include "core/tree.h"

int sd_engine_reach(struct sd_engine *e, size_t i)
{
	if (e->seen[i])
		return 0;
	e->seen[i] = true;
	e->queue[e->qtail++] = i; /* each index is queued at most once */
	return 0;
}

bool sd_engine_tolerated(const struct sd_engine *e, const char *hash,
			 bool *allowed)
{
	*allowed = sd_allowlist_has_hash(e->o->allow, hash);
	return *allowed || e->o->allow_missing;
}

int sd_engine_check_interrupt(const struct sd_engine *e)
{
	if (e->o->interrupted && *e->o->interrupted)
		return sd_error_set(e->err, SD_ERR_INTERRUPTED, "interrupted");
	return 0;
}

static char *dup_or_null(const char *s, bool *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

int sd_engine_add_missing(struct sd_engine *e, const char *hash,
			  const char *path, const char *referrer, size_t line,
			  uint64_t offset, bool allowed)
{
	if (e->nmissing == e->missing_cap) {
		size_t ncap = e->missing_cap ? e->missing_cap * 2 : 8;
		struct sd_closure_missing *nm =
			realloc(e->missing, ncap * sizeof(*nm));
		if (!nm)
			return sd_error_set(e->err, SD_ERR_NOMEM,
					    "out of memory");
		e->missing = nm;
		e->missing_cap = ncap;
	}
	struct sd_closure_missing *m = &e->missing[e->nmissing];
	bool fail = false;
	memset(m, 0, sizeof(*m));
	memcpy(m->hash, hash, SD_HASH_CHARS);
	m->hash[SD_HASH_CHARS] = '\0';
	m->path = dup_or_null(path, &fail);
	m->referrer = dup_or_null(referrer, &fail);
	m->line = line;
	m->offset = offset;
	m->allowed = allowed;
	e->nmissing++;
	if (fail)
		return sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
	return 0;
}

int sd_engine_add_absent(struct sd_engine *e, const char *hash,
			 const char *file, enum sd_refscan_what what,
			 uint64_t offset)
{
	if (e->nabsent == e->absent_cap) {
		size_t ncap = e->absent_cap ? e->absent_cap * 2 : 8;
		struct sd_closure_absent *na =
			realloc(e->absent, ncap * sizeof(*na));
		if (!na)
			return sd_error_set(e->err, SD_ERR_NOMEM,
					    "out of memory");
		e->absent = na;
		e->absent_cap = ncap;
	}
	struct sd_closure_absent *a = &e->absent[e->nabsent];
	memset(a, 0, sizeof(*a));
	memcpy(a->hash, hash, SD_HASH_CHARS);
	a->file = strdup(file);
	a->what = what;
	a->offset = offset;
	if (!a->file)
		return sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
	e->nabsent++;
	return 0;
}

static void free_absent(struct sd_closure_absent *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].file);
	free(a);
}

int sd_closure_du(const char *phys, uint64_t *bytes, struct sd_error *err)
{
	struct sd_tree *t = sd_tree_new(SD_DEFAULT_MTIME);
	if (!t)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	const char *slash = strrchr(phys, '/');
	const char *name = slash && slash[1] ? slash + 1 : "x";
	int rc = sd_hosttree_add(t, t->root, name, phys, NULL, err);
	if (!rc)
		rc = sd_tree_finalize(t, err);
	if (!rc)
		*bytes = t->file_bytes;
	sd_tree_free(t);
	return rc;
}

static int alloc_engine(struct sd_engine *e, size_t nroots)
{
	size_t n = e->st->npaths ? e->st->npaths : 1;
	e->seen = calloc(n, sizeof(*e->seen));
	e->queue = calloc(n, sizeof(*e->queue));
	e->bytes = calloc(n, sizeof(*e->bytes));
	e->bytes_known = calloc(n, sizeof(*e->bytes_known));
	e->rec = calloc(n, sizeof(*e->rec));
	e->roots = calloc(nroots ? nroots : 1, sizeof(*e->roots));
	if (e->o->evidence && e->o->source == SD_CLOSURE_SCAN)
		e->ev = calloc(n, sizeof(*e->ev));
	if (!e->seen || !e->queue || !e->bytes || !e->bytes_known || !e->rec ||
	    !e->roots ||
	    (e->o->evidence && e->o->source == SD_CLOSURE_SCAN && !e->ev))
		return sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
	return sd_graph_init(&e->g, e->st->npaths, e->err);
}

static void free_engine(struct sd_engine *e)
{
	if (e->ev) {
		for (size_t i = 0; i < e->st->npaths; i++) {
			for (size_t k = 0; k < e->ev[i].n; k++)
				free(e->ev[i].v[k].e.file);
			free(e->ev[i].v);
		}
		free(e->ev);
	}
	for (size_t i = 0; i < e->nmissing; i++) {
		free(e->missing[i].path);
		free(e->missing[i].referrer);
	}
	free(e->missing);
	free_absent(e->absent, e->nabsent);
	free(e->seen);
	free(e->queue);
	free(e->bytes);
	free(e->bytes_known);
	free(e->rec);
	free(e->roots);
	sd_graph_release(&e->g);
	sd_registration_free(e->own_reg);
}

static int cmp_ev(const void *a, const void *b)
{
	const struct sd_engine_ev *x = a, *y = b;
	return (x->to > y->to) - (x->to < y->to);
}

/* Move evidence of store index @i into result path @p (refs mapped). */
static int take_evidence(struct sd_engine *e, size_t i,
			 struct sd_closure_path *p)
{
	struct sd_engine_evlist *l = &e->ev[i];
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_ev);
	p->evidence = calloc(p->nrefs ? p->nrefs : 1, sizeof(*p->evidence));
	if (!p->evidence)
		return SD_ERR_NOMEM;
	/* g.adj[i] and l->v are both ascending by store index and hold the
	 * same set of targets. */
	const struct sd_graph_adj *a = &e->g.adj[i];
	size_t k = 0;
	for (size_t r = 0; r < a->n; r++) {
		while (k < l->n && l->v[k].to < a->to[r])
			k++;
		if (k < l->n && l->v[k].to == a->to[r]) {
			p->evidence[r] = l->v[k].e;
			l->v[k].e.file = NULL; /* moved */
		}
	}
	return 0;
}

static int build_result(struct sd_engine *e, struct sd_closure *c)
{
	const struct sd_store *st = e->st;
	size_t n = 0;
	size_t *map = calloc(st->npaths ? st->npaths : 1, sizeof(*map));
	if (!map)
		goto nomem;
	for (size_t i = 0; i < st->npaths; i++)
		if (e->seen[i])
			map[i] = n++;
	c->paths = calloc(n ? n : 1, sizeof(*c->paths));
	c->roots = calloc(e->nroots ? e->nroots : 1, sizeof(*c->roots));
	if (!c->paths || !c->roots)
		goto nomem;
	sd_graph_sort(&e->g);
	for (size_t i = 0; i < st->npaths; i++) {
		if (!e->seen[i])
			continue;
		struct sd_closure_path *p = &c->paths[c->npaths++];
		const struct sd_graph_adj *a = &e->g.adj[i];
		p->sp = &st->paths[i];
		p->path = sd_store_logical_path(st, p->sp);
		p->refs = calloc(a->n ? a->n : 1, sizeof(*p->refs));
		if (!p->path || !p->refs)
			goto nomem;
		for (size_t k = 0; k < a->n; k++)
			p->refs[k] = map[a->to[k]];
		p->nrefs = a->n;
		if (e->ev && take_evidence(e, i, p))
			goto nomem;
		if (e->rec[i]) {
			const struct sd_reg_record *r = e->rec[i];
			p->has_nar = r->has_hash;
			memcpy(p->nar_hash, r->nar_hash, SD_NARHASH_LEN);
			p->nar_size = r->nar_size;
			p->deriver = strdup(r->deriver);
			if (!p->deriver)
				goto nomem;
		}
		if (!e->bytes_known[i] && !e->o->no_bytes) {
			int irc = sd_engine_check_interrupt(e);
			if (irc) {
				free(map);
				return irc;
			}
			char *phys = sd_store_physical_path(st, p->sp);
			if (!phys)
				goto nomem;
			int rc = sd_closure_du(phys, &e->bytes[i], e->err);
			free(phys);
			if (rc) {
				free(map);
				return rc;
			}
		}
		p->bytes = e->bytes[i];
		c->bytes += p->bytes;
	}
	for (size_t r = 0; r < e->nroots; r++)
		c->roots[r] = map[e->roots[r]];
	c->nroots = e->nroots;
	c->missing = e->missing;
	c->nmissing = e->nmissing;
	e->missing = NULL;
	e->nmissing = 0;
	c->absent = e->absent;
	c->nabsent = e->nabsent;
	e->absent = NULL;
	e->nabsent = 0;
	free(map);
	return 0;
nomem:
	free(map);
	return sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
}

int sd_closure_compute(const struct sd_store *st, const char *const *roots,
		       size_t nroots, const struct sd_closure_opts *opts,
		       struct sd_closure **out, struct sd_error *err)
{
	struct sd_engine e = {.st = st, .o = opts, .err = err};
	struct sd_closure *c = NULL;
	int rc;

	if (nroots == 0 && opts->source != SD_CLOSURE_PATHS)
		return sd_error_set(err, SD_ERR_USAGE,
				    "no root store paths given");
	rc = alloc_engine(&e, nroots);
	if (rc)
		goto done;
	for (size_t i = 0; i < nroots; i++) {
		const struct sd_store_path *sp;
		rc = sd_store_resolve_root(st, roots[i], &sp, err);
		if (rc)
			goto done;
		e.roots[e.nroots++] = sp->index;
	}
	switch (opts->source) {
	case SD_CLOSURE_REGISTRATION:
		rc = sd_engine_run_registration(&e);
		break;
	case SD_CLOSURE_PATHS: rc = sd_engine_run_paths(&e); break;
	case SD_CLOSURE_SCAN: rc = sd_engine_run_scan(&e); break;
	default:
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "unknown closure source %d",
				  (int)opts->source);
	}
	if (rc)
		goto done;
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto done;
	}
	rc = build_result(&e, c);
done:
	free_engine(&e);
	if (rc) {
		sd_closure_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void sd_closure_free(struct sd_closure *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npaths; i++) {
		struct sd_closure_path *p = &c->paths[i];
		if (p->evidence)
			for (size_t k = 0; k < p->nrefs; k++)
				free(p->evidence[k].file);
		free(p->evidence);
		free(p->path);
		free(p->refs);
		free(p->deriver);
	}
	for (size_t i = 0; i < c->nmissing; i++) {
		free(c->missing[i].path);
		free(c->missing[i].referrer);
	}
	free(c->missing);
	free_absent(c->absent, c->nabsent);
	free(c->paths);
	free(c->roots);
	free(c);
}

long sd_closure_find(const struct sd_closure *c, const char *hash)
{
	size_t lo = 0, hi = c->npaths;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(c->paths[mid].sp->hash, hash, SD_HASH_CHARS);
		if (cmp == 0)
			return (long)mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int sd_closure_edges(const struct sd_closure *c, struct sd_closure_edge **out,
		     size_t *n, struct sd_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < c->npaths; i++)
		total += c->paths[i].nrefs;
	struct sd_closure_edge *v = malloc((total ? total : 1) * sizeof(*v));
	if (!v)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < c->npaths; i++)
		for (size_t r = 0; r < c->paths[i].nrefs; r++) {
			v[k].from = i;
			v[k].to = c->paths[i].refs[r];
			k++;
		}
	*out = v;
	*n = total;
	return 0;
}
