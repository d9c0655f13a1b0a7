/* SPDX-License-Identifier: MIT */
/*
 * refscan.h — scan a subtree of a normalised tree for store references.
 *
 * Walks @top and everything below it and feeds to a scanner (see
 * closure/scanner.h):
 *   - the name of every entry strictly below @top (the top node's own name
 *     is not scanned: a store path's basename contains its own hash, and
 *     Nix does not scan it either);
 *   - every symlink's target (including @top's if it is a symlink);
 *   - every regular file's content, read through sd_tree_open() in
 *     SD_REFSCAN_BUF-byte chunks.
 * Each name, target and content is a separate item: offsets start at 0
 * and nothing straddles two items.
 *
 * The tree can come from the host (core/hosttree.h) or from an image
 * reader; this code only uses the sd_tree API.
 */
#ifndef SD_CLOSURE_REFSCAN_H
#define SD_CLOSURE_REFSCAN_H

#include "closure/hashmap.h"
#include "closure/scanner.h"
#include "core/tree.h"

#define SD_REFSCAN_BUF (256 * 1024)

enum sd_refscan_what {
	SD_REFSCAN_NAME = 1,    /* the node's entry name */
	SD_REFSCAN_TARGET = 2,  /* the node's symlink target */
	SD_REFSCAN_CONTENT = 3, /* the node's file content */
};

struct sd_refscan_hit {
	const struct sd_scan_hit *scan; /* kind, hash, id, offset in item */
	struct sd_node *node;           /* print with sd_node_path() */
	enum sd_refscan_what what;
};

/* Callback: 0 to go on, or a negative SD_ERR_* (with @err set) to stop. */
typedef int (*sd_refscan_fn)(const struct sd_refscan_hit *hit, void *ctx,
			     struct sd_error *err);

/*
 * Scan @top (a node of @tree, which should be finalised) with candidate
 * set @candidates (may be NULL) and, if @store_dir is not NULL, the
 * full-path detector for "<store_dir>/<hash>-".  Returns 0, a read error
 * (SD_ERR_IO/SD_ERR_CORRUPT... from the tree's content source, message
 * prefixed with the node's path), SD_ERR_NOMEM, or the callback's error.
 */
int sd_refscan_tree(const struct sd_tree *tree, struct sd_node *top,
		    const struct sd_hashmap *candidates, const char *store_dir,
		    sd_refscan_fn fn, void *ctx, struct sd_error *err);

#endif
