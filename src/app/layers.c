/* SPDX-License-Identifier: MIT */
/* layers.c — a stack of layers for several closures (see layers.h). */
#include "app/layers.h"

#include <stdlib.h>
#include <string.h>

/* Reverse references as compressed rows: the referrers of path p are
 * from[start[p] .. start[p + 1]). Self references are left out. */
struct rev {
	size_t *start;
	size_t *from;
};

static int rev_build(const struct sd_closure *c, struct rev *r)
{
	size_t n = c->npaths, edges = 0;

	r->start = calloc(n + 1, sizeof(*r->start));
	if (!r->start)
		return SD_ERR_NOMEM;
	for (size_t p = 0; p < n; p++)
		for (size_t k = 0; k < c->paths[p].nrefs; k++)
			if (c->paths[p].refs[k] != p) {
				r->start[c->paths[p].refs[k] + 1]++;
				edges++;
			}
	for (size_t p = 0; p < n; p++)
		r->start[p + 1] += r->start[p];
	r->from = malloc((edges ? edges : 1) * sizeof(*r->from));
	size_t *fill = malloc((n ? n : 1) * sizeof(*fill));
	if (!r->from || !fill) {
		free(fill);
		return SD_ERR_NOMEM;
	}
	memcpy(fill, r->start, n * sizeof(*fill));
	for (size_t p = 0; p < n; p++)
		for (size_t k = 0; k < c->paths[p].nrefs; k++) {
			size_t t = c->paths[p].refs[k];
			if (t != p)
				r->from[fill[t]++] = p;
		}
	free(fill);
	return SD_OK;
}

/* Mark (stamp[q] = @mark) every path @start reaches along @c's
 * references (forward, @r NULL) or is reached from (@r's rows), start
 * included, calling @visit on each; @queue holds npaths entries. */
static void walk(const struct sd_closure *c, const struct rev *r, size_t start,
		 size_t *stamp, size_t mark, size_t *queue,
		 void (*visit)(size_t q, void *ctx), void *ctx)
{
	size_t head = 0, tail = 0;

	stamp[start] = mark;
	queue[tail++] = start;
	while (head < tail) {
		size_t q = queue[head++];
		const size_t *next;
		size_t nnext;

		visit(q, ctx);
		if (r) {
			next = r->from + r->start[q];
			nnext = r->start[q + 1] - r->start[q];
		} else {
			next = c->paths[q].refs;
			nnext = c->paths[q].nrefs;
		}
		for (size_t k = 0; k < nnext; k++)
			if (stamp[next[k]] != mark) {
				stamp[next[k]] = mark;
				queue[tail++] = next[k];
			}
	}
}

static void count_root(size_t q, void *ctx)
{
	((uint64_t *)ctx)[q]++;
}

struct popsum {
	const uint64_t *count;
	uint64_t sum;
};

static void add_popularity(size_t q, void *ctx)
{
	struct popsum *s = ctx;
	s->sum += s->count[q];
}

struct toplayer {
	const size_t *layer_of;
	size_t top;
};

static void find_top(size_t q, void *ctx)
{
	struct toplayer *t = ctx;
	if (t->layer_of[q] > t->top)
		t->top = t->layer_of[q];
}

struct ranked {
	uint64_t popularity;
	size_t index;
};

/* qsort order: popularity descending, then index (= basename). */
static int by_popularity(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->popularity != y->popularity)
		return x->popularity > y->popularity ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void sd_layers_free(struct sd_layers *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nlayers; i++)
		free(l->layers[i].paths);
	free(l->layers);
	free(l->popularity);
	free(l->layer_of);
	free(l->root_top);
	free(l);
}

/* Cut @order (npaths indices by popularity) into at most @max layers of
 * about equal weight, between different popularities; fills l->layers
 * and l->layer_of. */
static int cut(const struct sd_closure *c, const struct ranked *order,
	       size_t max, struct sd_layers *l)
{
	size_t n = c->npaths;
	uint64_t total = 0;
	bool by_bytes;

	for (size_t i = 0; i < n; i++)
		total += c->paths[i].bytes;
	/* an empty closure's paths weigh one each */
	by_bytes = total > 0;
	if (!by_bytes)
		total = n;
	l->layers = calloc(max, sizeof(*l->layers));
	if (!l->layers)
		return SD_ERR_NOMEM;
	unsigned __int128 cum = 0;
	size_t layer = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		/* one popularity: never split */
		while (j < n && order[j].popularity == order[i].popularity) {
			size_t p = order[j].index;
			l->layer_of[p] = layer;
			cum += by_bytes ? c->paths[p].bytes : 1;
			j++;
		}
		i = j;
		if (i < n && layer + 1 < max &&
		    cum * max >= (unsigned __int128)(layer + 1) * total)
			layer++;
	}
	l->nlayers = n ? layer + 1 : 0;
	for (size_t p = 0; p < n; p++)
		l->layers[l->layer_of[p]].npaths++;
	for (size_t k = 0; k < l->nlayers; k++) {
		l->layers[k].paths =
			malloc(l->layers[k].npaths * sizeof(size_t));
		if (!l->layers[k].paths)
			return SD_ERR_NOMEM;
		l->layers[k].npaths = 0;
		l->layers[k].popularity_min = UINT64_MAX;
	}
	for (size_t p = 0; p < n; p++) { /* index order: by basename */
		struct sd_layer *y = &l->layers[l->layer_of[p]];
		y->paths[y->npaths++] = p;
		y->bytes += c->paths[p].bytes;
		if (l->popularity[p] > y->popularity_max)
			y->popularity_max = l->popularity[p];
		if (l->popularity[p] < y->popularity_min)
			y->popularity_min = l->popularity[p];
	}
	return SD_OK;
}

int sd_layers_plan(const struct sd_closure *c, enum sd_closure_source source,
		   size_t max_layers, struct sd_layers **out,
		   struct sd_error *err)
{
	size_t n = c->npaths;
	struct rev r = {0};
	struct sd_layers *l = NULL;
	uint64_t *count = NULL;
	size_t *stamp = NULL, *queue = NULL;
	struct ranked *order = NULL;
	int ret = SD_ERR_NOMEM;

	*out = NULL;
	if (source == SD_CLOSURE_PATHS)
		return sd_error_set(err, SD_ERR_USAGE,
				    "a path list has no references to "
				    "choose layers by: give --db, "
				    "--registration or --scan");
	if (max_layers < 1)
		return sd_error_set(err, SD_ERR_USAGE,
				    "at least one layer is needed");
	l = calloc(1, sizeof(*l));
	count = calloc(n + 1, sizeof(*count));
	stamp = calloc(n + 1, sizeof(*stamp));
	queue = malloc((n + 1) * sizeof(*queue));
	order = malloc((n + 1) * sizeof(*order));
	if (!l || !count || !stamp || !queue || !order)
		goto out;
	l->popularity = calloc(n + 1, sizeof(*l->popularity));
	l->layer_of = calloc(n + 1, sizeof(*l->layer_of));
	l->root_top = calloc(c->nroots + 1, sizeof(*l->root_top));
	if (!l->popularity || !l->layer_of || !l->root_top || rev_build(c, &r))
		goto out;

	/* c(q): each distinct root counts once */
	size_t mark = 0;
	for (size_t i = 0; i < c->nroots; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= c->roots[k] == c->roots[i];
		if (!seen)
			walk(c, NULL, c->roots[i], stamp, ++mark, queue,
			     count_root, count);
	}
	/* popularity: sum of c(q) over the paths q reaching p */
	for (size_t p = 0; p < n; p++) {
		struct popsum s = {count, 0};
		walk(c, &r, p, stamp, ++mark, queue, add_popularity, &s);
		l->popularity[p] = s.sum;
		order[p].popularity = s.sum;
		order[p].index = p;
	}
	qsort(order, n, sizeof(*order), by_popularity);
	ret = cut(c, order, max_layers, l);
	if (ret)
		goto out;
	for (size_t i = 0; i < c->nroots; i++) {
		struct toplayer t = {l->layer_of, 0};
		walk(c, NULL, c->roots[i], stamp, ++mark, queue, find_top, &t);
		l->root_top[i] = t.top;
	}
	*out = l;
	l = NULL;
	ret = SD_OK;
out:
	if (ret == SD_ERR_NOMEM)
		sd_error_set(err, ret, "out of memory planning layers");
	sd_layers_free(l);
	free(r.start);
	free(r.from);
	free(count);
	free(stamp);
	free(queue);
	free(order);
	return ret;
}
