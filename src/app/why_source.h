/* SPDX-License-Identifier: MIT */
/*
 * why_source.h — the store paths app/why.c searches, whether they come
 * from a store on disk (why_store.c) or from an image (why_image.c).
 * Internal to src/app/why*.c.
 */
#ifndef SD_APP_WHY_SOURCE_H
#define SD_APP_WHY_SOURCE_H

#include <stddef.h>

#include "app/why.h"
#include "closure/hashmap.h"
#include "core/tree.h"

struct sd_why_source {
	const char *store_dir; /* logical, no trailing slash */
	size_t n;              /* store paths, ids 0..n-1 in bytewise order
				  * of their basenames */
	/* Hash part -> id of every path (the scanner's candidate set). */
	const struct sd_hashmap *candidates;
	/* Basename "<hash>-<name>" of path @id. */
	const char *(*base)(void *ctx, size_t id);
	/*
	 * Make path @id readable: *@tree is a finalised tree in which *@top
	 * is the path's node, a child of the tree's root named by its
	 * basename.  Valid until the next load or unload.
	 */
	int (*load)(void *ctx, size_t id, const struct sd_tree **tree,
		    struct sd_node **top, struct sd_error *err);
	/* Release what the last load made (may be NULL). */
	void (*unload)(void *ctx);
	/*
	 * May be NULL: every candidate the scan finds is a reference.  Else
	 * the references of path @id (ids ascending, *@n of them) are the
	 * only ones followed; one the scan does not find is followed too,
	 * without evidence.
	 */
	const size_t *(*refs)(void *ctx, size_t id, size_t *n);
	void *ctx;
	volatile const int *interrupted; /* polled; may be NULL */
};

/*
 * Breadth-first search of @src from path @root to path @path (ids), as
 * described in app/why.h; fills @res (root, path, found, hops with
 * excerpts, scanned).  Returns 0 or the first error of a load, a scan
 * or an allocation (SD_ERR_INTERRUPTED when @src->interrupted says so).
 */
int sd_why_search(const struct sd_why_source *src, size_t root, size_t path,
		  struct sd_why_result *res, struct sd_error *err);

#endif
