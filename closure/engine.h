/* SPDX-License-Identifier: MIT */
/*
 * engine.h — internal state shared by the closure sources (closure.c,
 * source_reg.c, source_paths.c, source_scan.c).  Not a public API.
 */
#ifndef SD_CLOSURE_ENGINE_H
#define SD_CLOSURE_ENGINE_H

#include "closure/closure.h"
#include "closure/graph.h"

struct sd_engine_ev {
	size_t to; /* store index */
	struct sd_closure_evidence e;
};

struct sd_engine_evlist {
	struct sd_engine_ev *v;
	size_t n, cap;
};

struct sd_engine {
	const struct sd_store *st;
	const struct sd_closure_opts *o;
	struct sd_error *err;

	size_t *roots; /* resolved roots, store indices */
	size_t nroots;

	bool *seen;    /* per store index: in the closure */
	size_t *queue; /* BFS queue of store indices */
	size_t qhead, qtail;
	struct sd_graph g; /* edges between store indices */

	uint64_t *bytes; /* per store index, if bytes_known */
	bool *bytes_known;
	const struct sd_reg_record **rec; /* per store index (REGISTRATION) */
	struct sd_engine_evlist *ev; /* per store index (SCAN + evidence) */

	struct sd_closure_missing *missing;
	size_t nmissing, missing_cap;
	struct sd_closure_absent *absent;
	size_t nabsent, absent_cap;

	struct sd_registration *own_reg; /* loaded by the engine, freed
					    * with it */
};

/* Mark store index @i as in the closure and queue it (once). */
int sd_engine_reach(struct sd_engine *e, size_t i);

/* True if a missing reference with hash @hash is tolerated; *allowed
 * tells whether the allow list (rather than allow_missing) did it. */
bool sd_engine_tolerated(const struct sd_engine *e, const char *hash,
			 bool *allowed);

/* Record a tolerated missing reference (strings are copied, may be
 * NULL). */
int sd_engine_add_missing(struct sd_engine *e, const char *hash,
			  const char *path, const char *referrer, size_t line,
			  uint64_t offset, bool allowed);

/* Record a full-path mention of a hash that is not in the store (@file
 * is copied). */
int sd_engine_add_absent(struct sd_engine *e, const char *hash,
			 const char *file, enum sd_refscan_what what,
			 uint64_t offset);

/* SD_ERR_INTERRUPTED (with err set) if opts->interrupted says so. */
int sd_engine_check_interrupt(const struct sd_engine *e);

int sd_engine_run_registration(struct sd_engine *e);
int sd_engine_run_paths(struct sd_engine *e);
int sd_engine_run_scan(struct sd_engine *e);

#endif
