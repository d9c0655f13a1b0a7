/* SPDX-License-Identifier: MIT */
/*
 * why_excerpt.h — the few bytes around a reference, for showing a human
 * where it is.  Internal to src/app/why*.c.
 */
#ifndef SD_APP_WHY_EXCERPT_H
#define SD_APP_WHY_EXCERPT_H

#include <stdint.h>

#include "closure/refscan.h"
#include "core/error.h"
#include "core/tree.h"

/*
 * The excerpt of the 32-character hash at @offset of @node's item @what
 * (its name, symlink target or content, read through sd_tree_open()):
 * up to SD_WHY_MARGIN bytes before and after it, the hash in [brackets],
 * bytes outside 0x20..0x7e shown as '.', "…" (UTF-8) at either end where
 * the item goes on.  *@out is a new string (free()).  Errors: the
 * content's read errors, SD_ERR_IO when the item no longer holds 32 bytes
 * at @offset (the file changed since it was scanned), SD_ERR_NOMEM.
 */
int sd_why_excerpt(const struct sd_tree *tree, const struct sd_node *node,
		   enum sd_refscan_what what, uint64_t offset, char **out,
		   struct sd_error *err);

#endif
