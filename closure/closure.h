/* SPDX-License-Identifier: MIT */
/*
 * closure.h — compute the closure of a set of roots in a store.
 *
 * The closure is every store path reachable from the roots (roots
 * included) by references.  Where the references come from:
 *
 *   SD_CLOSURE_REGISTRATION  a Nix validity registration (see
 *       closure/registration.h).  Every root must have a record, else
 *       SD_ERR_MISSING.  A reachable reference that is not physically in
 *       the store is SD_ERR_MISSING "FILE:LINE: reference P of Q is not in
 *       the store (PHYS)" unless tolerated (below); a reference that is in
 *       the store but has no record of its own is SD_ERR_INVALID
 *       (incomplete registration).  narHash/narSize/deriver are copied to
 *       the result.
 *   SD_CLOSURE_PATHS  a list of store paths (closure/pathlist.h) IS the
 *       closure; no edges.  Listed paths absent from the store are
 *       SD_ERR_MISSING "FILE:LINE: ..." unless tolerated.  Roots must be
 *       listed (SD_ERR_MISSING); with no roots the whole list is taken.
 *   SD_CLOSURE_SCAN  Nix's rule, by scanning: starting from the roots,
 *       each reached path is read from the physical store (through
 *       core/hosttree.h) and scanned (closure/refscan.h) with the hash
 *       parts of ALL paths in the store as candidates; every candidate
 *       found is a reference (self references included).  A full-path
 *       occurrence "<store-dir>/<hash>-" whose hash is not in the store is
 *       not a reference (Nix keeps every valid path's closure present, so
 *       such a path does not exist: most often a documentation example);
 *       it is listed in closure->absent and refuses nothing.
 *
 * Tolerated missing references (allow_missing, or hash in the allow list)
 * are left out of the closure and listed in closure->missing.
 */
#ifndef SD_CLOSURE_CLOSURE_H
#define SD_CLOSURE_CLOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "closure/allowlist.h"
#include "closure/hashparse.h"
#include "closure/pathlist.h"
#include "closure/refscan.h"
#include "closure/registration.h"
#include "closure/store.h"
#include "core/error.h"

enum sd_closure_source {
	SD_CLOSURE_REGISTRATION = 1,
	SD_CLOSURE_PATHS = 2,
	SD_CLOSURE_SCAN = 3,
};

struct sd_closure_opts {
	enum sd_closure_source source;
	/* REGISTRATION / PATHS: the input file.  Ignored when the parsed
	 * form below is given instead. */
	const char *file;
	const struct sd_registration *reg; /* optional, REGISTRATION */
	const struct sd_pathlist *paths;   /* optional, PATHS */
	bool allow_missing;                /* tolerate every missing ref */
	const struct sd_allowlist *allow;  /* tolerate these (may be NULL) */
	bool evidence;                     /* SCAN: record where each
					      * reference was first seen */
	bool no_bytes;                     /* leave paths[].bytes and
					      * bytes 0 instead of walking
					      * every path for them (REG /
					      * PATHS; a caller that reads
					      * the paths itself: pack) */
	/* Polled between store paths; non-zero stops the computation with
	 * SD_ERR_INTERRUPTED.  May be NULL. */
	volatile const int *interrupted;
};

/* Where a reference was first seen (SCAN with opts.evidence). */
struct sd_closure_evidence {
	char *file;                /* logical path of the entry,
				      * "/nix/store/<hash>-<name>/bin/x" */
	enum sd_refscan_what what; /* name, symlink target or content */
	uint64_t offset;           /* of the hash within that item */
};

struct sd_closure_path {
	const struct sd_store_path *sp; /* the store's entry (borrowed) */
	char *path;   /* logical "<store-dir>/<hash>-<name>" */
	size_t *refs; /* indices into closure->paths,
			 * ascending (= by basename); a self
			 * reference appears as its own index */
	size_t nrefs;
	struct sd_closure_evidence *evidence; /* NULL, or evidence[k] for
						 * refs[k] (SCAN) */
	uint64_t bytes; /* sum of regular file sizes (0 with
			   * opts.no_bytes, except SCAN) */
	bool has_nar;   /* REGISTRATION full layout: */
	uint8_t nar_hash[SD_NARHASH_LEN];
	uint64_t nar_size;
	char *deriver; /* REGISTRATION: "" if none; else NULL */
};

/* A tolerated missing reference. */
struct sd_closure_missing {
	char hash[33];   /* its hash part */
	char *path;      /* REGISTRATION/PATHS: the store path as
			    * written; SCAN: NULL (only the hash is known) */
	char *referrer;  /* REGISTRATION: referring store path; SCAN:
			    * referring entry's logical path; PATHS: NULL */
	size_t line;     /* REGISTRATION/PATHS: line in the file, else 0 */
	uint64_t offset; /* SCAN: offset of "<store-dir>/" in the item */
	bool allowed;    /* true: the allow list names it; false:
			    * tolerated by allow_missing */
};

/*
 * A full-path mention "<store-dir>/<hash>-" (SCAN) of a hash that is no
 * store path of the store: not a reference.  One per (referring store
 * path, hash), the first occurrence in tree order.
 */
struct sd_closure_absent {
	char hash[33];             /* its hash part */
	char *file;                /* logical path of the mentioning entry */
	enum sd_refscan_what what; /* name, symlink target or content */
	uint64_t offset;           /* of the hash part within that item */
};

struct sd_closure {
	struct sd_closure_path *paths; /* sorted by basename */
	size_t npaths;
	size_t *roots; /* root indices, argument order */
	size_t nroots;
	struct sd_closure_missing *missing;
	size_t nmissing;
	struct sd_closure_absent *absent; /* SCAN: in scan order (breadth
					     * first from the roots) */
	size_t nabsent;
	uint64_t bytes; /* sum of paths[].bytes */
};

/*
 * Compute the closure of @roots (@nroots root arguments, each resolved
 * with sd_store_resolve_root(): logical or physical store paths, paths
 * inside store paths, symlinks such as ./result) in store @st.  On
 * success *@out is a new closure (free with sd_closure_free).  Errors:
 * see above, plus SD_ERR_USAGE for no roots (except PATHS), the root
 * resolution errors, SD_ERR_IO / SD_ERR_UNSUPPORTED while reading paths.
 */
int sd_closure_compute(const struct sd_store *st, const char *const *roots,
		       size_t nroots, const struct sd_closure_opts *opts,
		       struct sd_closure **out, struct sd_error *err);

void sd_closure_free(struct sd_closure *c);

/* Index in c->paths of the path whose hash part is @hash, or -1. */
long sd_closure_find(const struct sd_closure *c, const char *hash);

/* One reference edge for --graph output: paths[from] refers to paths[to]. */
struct sd_closure_edge {
	size_t from, to;
};

/*
 * All edges, sorted by (from, to), self references included (filter
 * from == to if unwanted).  *@out is malloc'ed (free()), *@n its length.
 */
int sd_closure_edges(const struct sd_closure *c, struct sd_closure_edge **out,
		     size_t *n, struct sd_error *err);

/*
 * Sum of regular file sizes below host path @phys (lstat, no symlinks
 * followed), through core/hosttree.h.  Used for sd_closure_path.bytes.
 */
int sd_closure_du(const char *phys, uint64_t *bytes, struct sd_error *err);

#endif
