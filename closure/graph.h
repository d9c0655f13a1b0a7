/* SPDX-License-Identifier: MIT */
/*
 * graph.h — a directed graph over nodes 0..n-1 (store path indices).
 *
 * Edges are appended in any order, duplicates allowed until
 * sd_graph_sort() sorts every adjacency list and removes repeats.
 * Cycles and self edges are legal.
 */
#ifndef SD_CLOSURE_GRAPH_H
#define SD_CLOSURE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct sd_graph_adj {
	size_t *to;
	size_t n, cap;
};

struct sd_graph {
	size_t n;                 /* number of nodes */
	struct sd_graph_adj *adj; /* adj[i]: edges out of node i */
};

/* Set up @g with @n nodes and no edges. */
int sd_graph_init(struct sd_graph *g, size_t n, struct sd_error *err);

void sd_graph_release(struct sd_graph *g);

/* Append edge @from -> @to (both < g->n). */
int sd_graph_add_edge(struct sd_graph *g, size_t from, size_t to,
		      struct sd_error *err);

/* Sort each adjacency list ascending and drop duplicate edges. */
void sd_graph_sort(struct sd_graph *g);

/*
 * Mark in @seen (g->n entries, cleared by the caller or not: already
 * marked nodes are treated as visited and not expanded) every node
 * reachable from @roots, the roots included.  Iterative, cycle-safe.
 */
int sd_graph_reach(const struct sd_graph *g, const size_t *roots, size_t nroots,
		   bool *seen, struct sd_error *err);

#endif
