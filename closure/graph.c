/* SPDX-License-Identifier: MIT */
#include "closure/graph.h"

#include <stdlib.h>

int sd_graph_init(struct sd_graph *g, size_t n, struct sd_error *err)
{
	g->n = n;
	g->adj = calloc(n ? n : 1, sizeof(*g->adj));
	if (!g->adj)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory (graph)");
	return 0;
}

void sd_graph_release(struct sd_graph *g)
{
	if (!g || !g->adj)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->adj[i].to);
	free(g->adj);
	g->adj = NULL;
	g->n = 0;
}

int sd_graph_add_edge(struct sd_graph *g, size_t from, size_t to,
		      struct sd_error *err)
{
	struct sd_graph_adj *a = &g->adj[from];
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 4;
		size_t *nt = realloc(a->to, ncap * sizeof(*nt));
		if (!nt)
			return sd_error_set(err, SD_ERR_NOMEM,
					    "out of memory (graph)");
		a->to = nt;
		a->cap = ncap;
	}
	a->to[a->n++] = to;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

void sd_graph_sort(struct sd_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct sd_graph_adj *a = &g->adj[i];
		if (a->n < 2)
			continue;
		qsort(a->to, a->n, sizeof(*a->to), cmp_size);
		size_t k = 1;
		for (size_t j = 1; j < a->n; j++)
			if (a->to[j] != a->to[k - 1])
				a->to[k++] = a->to[j];
		a->n = k;
	}
}

int sd_graph_reach(const struct sd_graph *g, const size_t *roots, size_t nroots,
		   bool *seen, struct sd_error *err)
{
	size_t *stack = malloc((g->n ? g->n : 1) * sizeof(*stack));
	size_t top = 0;
	if (!stack)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory (graph)");
	for (size_t i = 0; i < nroots; i++) {
		if (seen[roots[i]])
			continue;
		seen[roots[i]] = true;
		stack[top++] = roots[i];
	}
	while (top) {
		size_t v = stack[--top];
		const struct sd_graph_adj *a = &g->adj[v];
		for (size_t k = 0; k < a->n; k++) {
			size_t w = a->to[k];
			if (!seen[w]) {
				seen[w] = true;
				stack[top++] = w;
			}
		}
	}
	free(stack);
	return 0;
}
