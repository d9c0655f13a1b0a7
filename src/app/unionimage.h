/* SPDX-License-Identifier: MIT */
/*
 * unionimage.h — a layer and its bases seen as one tree: what a guest
 * sees at the store directory when it mounts them through overlayfs with
 * lowerdir=LAYER:BASE1:BASE2... (ls, cat, extract, diff and why with
 * --base).
 *
 * The union's root holds every top-level entry of every image; an entry
 * present in several images is taken whole from the first that holds it
 * (the layer, then the bases in the order given).  overlayfs would merge
 * two directories of one name, but a store path name is one content in a
 * store, so taking the first copy shows the same files; root files that
 * are not store paths (the embedded registration and manifest, root
 * symlinks) are likewise the first image's, as overlayfs shows them.
 * Below the root every entry, its metadata and its content are those of
 * the image that supplies its top-level entry.
 */
#ifndef SD_APP_UNIONIMAGE_H
#define SD_APP_UNIONIMAGE_H

#include <stddef.h>

#include "core/error.h"
#include "core/tree.h"

/*
 * Open image @layer (either format) and its @nbases bases @bases, in
 * order, as one finalised tree (which owns the open images: free it with
 * sd_tree_free).  With no bases it is sd_inspect_open() of @layer.
 * Errors start with the name of the image that failed: SD_ERR_IO
 * (unreadable), SD_ERR_CORRUPT (not an image, damaged), SD_ERR_NOMEM.
 */
int sd_union_open(const char *layer, const char *const *bases, size_t nbases,
		  struct sd_tree **out, struct sd_error *err);

/*
 * The union of finalised trees @trees[0..@n) (@n >= 1), the first one
 * uppermost, as above.  Takes the trees over in every case (on error they
 * are freed).  File contents are read from the tree an entry came from.
 * SD_ERR_NOMEM, or a finalize error (none for finalised trees).
 */
int sd_union_trees(struct sd_tree **trees, size_t n, struct sd_tree **out,
		   struct sd_error *err);

/*
 * Which tree of a union @node of @tree comes from: 0 the layer (the first
 * tree), i the i-th base (trees[i]).  0 for the root, and for every node
 * of a tree that is no union (an image opened without bases).
 */
size_t sd_union_origin(const struct sd_tree *tree, const struct sd_node *node);

#endif
