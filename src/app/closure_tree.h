/* SPDX-License-Identifier: MIT */
/*
 * closure_tree.h — the normalised tree of a closure on the host: the image
 * root with one entry per store path, read from the physical store
 * directory (core/hosttree.h normalises the metadata).
 */
#ifndef SD_APP_CLOSURE_TREE_H
#define SD_APP_CLOSURE_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "core/tree.h"

/*
 * Build and finalise the tree of the store paths @bases ("<hash>-<name>")
 * found in @store_phys, every entry with time @mtime.  The paths are
 * walked on @jobs threads (0 or 1: the caller's only), each into a tree of
 * its own, grafted in path order (sd_tree_graft): the finalised tree is
 * the same for every @jobs, and so is the error, that of the first
 * failing path in @bases order.  @interrupted (may be NULL) is polled
 * after each path.
 */
int sd_app_closure_tree(const char *const *bases, size_t n,
			const char *store_phys, int64_t mtime, unsigned jobs,
			volatile const int *interrupted, struct sd_tree **out,
			struct sd_error *err);

#endif
