/* SPDX-License-Identifier: MIT */
/*
 * why.h — why does ROOT depend on PATH?  The shortest reference chain
 * from one store path to another, with the evidence for every hop (like
 * `nix why-depends --precise`).
 *
 * The search is a breadth-first walk from ROOT that scans each reached
 * store path once (closure/refscan.h, Nix's rule: a path references every
 * store path whose 32-character hash part occurs in its contents, symlink
 * targets or entry names) and stops as soon as PATH is reached, so it
 * usually scans only part of the closure.  Shortest means fewest hops.
 * Ties are broken deterministically: paths are expanded in BFS order with
 * the references of each path taken in bytewise order of their names, and
 * the evidence of a hop is the first occurrence of the hash in tree order
 * (pre-order, children sorted bytewise; per entry its name, then its
 * symlink target or content).
 *
 * Two sources of store paths:
 *   - a store on disk (closure/store.h): the candidates are all paths of
 *     the store; references to paths that are not in the store are
 *     ignored (they cannot be on a chain);
 *   - an image (formats/format.h): the candidates are the hash parts of
 *     its top-level entries that are valid store path names.
 * Both give identical results for an image packed from the store.
 *
 * On a store, the references may instead come from a closure source
 * (closure/closure.h: --db, --registration, --paths): the search then
 * stays within the closure of ROOT that source gives (struct
 * sd_why_within).  With registered references (a Nix database or a
 * registration) only those are followed, each with the evidence the scan
 * finds; a registered reference whose hash the scan does not find (Nix
 * may record references a scan cannot see) is still a hop, without
 * evidence (where "registration", no file, offset 0, no excerpt).
 */
#ifndef SD_APP_WHY_H
#define SD_APP_WHY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sd_store;

/* Bytes of context shown on each side of the hash in an excerpt. */
#define SD_WHY_MARGIN 16

/* Where a hop's evidence came from when the scan found none. */
#define SD_WHY_WHERE_REGISTRATION "registration"

/* One hop of the chain: @from refers to @to. */
struct sd_why_hop {
	char *from;        /* logical store path "<store-dir>/<hash>-<name>" */
	char *to;          /* logical store path */
	char *file;        /* logical path of the entry inside @from
			      * holding the reference ("<from>/lib/x.so");
			      * NULL for a registered reference the scan
			      * did not find */
	const char *where; /* "content", "name", "symlink target" or
			      * SD_WHY_WHERE_REGISTRATION */
	uint64_t offset;   /* offset of the hash part within that item */
	char *excerpt;     /* up to SD_WHY_MARGIN bytes either side of the
			      * hash, the hash itself in [brackets];
			      * non-printable bytes as '.'; "…" (UTF-8) where
			      * the item goes on; NULL without a file */
};

struct sd_why_result {
	char *root;              /* logical store path of ROOT */
	char *path;              /* logical store path of PATH */
	bool found;              /* PATH is in the closure of ROOT */
	struct sd_why_hop *hops; /* the chain, ROOT first; none when
				    * ROOT is PATH or nothing was found */
	size_t nhops;
	size_t scanned; /* store paths scanned */
};

struct sd_closure;

/* The closure a closure source gave for ROOT, to search within. */
struct sd_why_within {
	const struct sd_closure *closure; /* computed from ROOT alone */
	bool registered; /* its edges are registered references (the
			    * REGISTRATION source): follow only those */
};

/*
 * Search store @st (made by sd_store_new) for a chain from @root to
 * @path, both resolved with sd_store_resolve_root() (logical or physical
 * store paths, paths inside them, symlinks such as ./result).  @within
 * (may be NULL: every path of the store is a candidate) limits the search
 * to a closure of @root, as described above.
 * @interrupted (may be NULL) is polled between store paths.
 * Returns 0 with @res filled (res->found false: no chain), or an error:
 * the resolution errors (SD_ERR_MISSING, SD_ERR_INVALID, SD_ERR_IO),
 * SD_ERR_IO / SD_ERR_UNSUPPORTED while reading a path, SD_ERR_NOMEM,
 * SD_ERR_INTERRUPTED.  Release @res with sd_why_result_release() in
 * every case.
 */
int sd_why_store(const struct sd_store *st, const char *root, const char *path,
		 const struct sd_why_within *within,
		 volatile const int *interrupted, struct sd_why_result *res,
		 struct sd_error *err);

/*
 * Search the image at @image for a chain from @root to @path: each the
 * logical path of a top-level entry ("<store_dir>/<hash>-<name>", a path
 * inside it is cut to the entry), its basename, its bare hash part, or
 * its bare name ("hello-2.12", the basename without "<hash>-") when one
 * entry has that name.
 * @store_dir is the logical store directory (no trailing slash).
 * Returns 0 with @res filled, SD_ERR_CORRUPT / SD_ERR_IO when the image
 * cannot be read or scanned, SD_ERR_MISSING when @root or @path is not a
 * store path of the image, SD_ERR_USAGE when a bare name is ambiguous
 * (the message lists the entries that have it), SD_ERR_NOMEM,
 * SD_ERR_INTERRUPTED.  Release
 * @res with sd_why_result_release() in every case.
 */
int sd_why_image(const char *image, const char *store_dir, const char *root,
		 const char *path, volatile const int *interrupted,
		 struct sd_why_result *res, struct sd_error *err);

/*
 * sd_why_image() over the union of layer @image and its @nbases bases
 * @bases, in order (app/unionimage.h: a top-level entry comes from the
 * first image that holds it), so a chain may cross from the layer's paths
 * into the bases'.  Errors about a base name it.
 */
int sd_why_union(const char *image, const char *const *bases, size_t nbases,
		 const char *store_dir, const char *root, const char *path,
		 volatile const int *interrupted, struct sd_why_result *res,
		 struct sd_error *err);

/* Free what @res holds and zero it. */
void sd_why_result_release(struct sd_why_result *res);

#endif
