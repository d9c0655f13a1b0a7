/* SPDX-License-Identifier: MIT */
/*
 * verify_rootlinks.h — verify's check of symlinks at the image root that
 * are not store paths (such as `system` from `pack --root-symlink`;
 * internal to src/app: verify.c calls it).
 *
 * A root symlink is a top-level SYMLINK entry whose name passes
 * sd_root_link_name_problem (app/rootlinks.h): not a store path name, not
 * the embedded registration or manifest.  It is neither a store path nor
 * scanned: its target is checked instead.  A target that resolves inside
 * the image (app/rootlink_resolve.h: relative, or "<store-dir>/..."
 * absolute, through a top-level store path) is accepted and listed; one
 * that does not is a violation naming the link, its target and the
 * reason.
 */
#ifndef SD_APP_VERIFY_ROOTLINKS_H
#define SD_APP_VERIFY_ROOTLINKS_H

#include <stdbool.h>

#include "app/verify.h"
#include "core/tree.h"

/* Is top-level entry @n a root symlink (checked here, not scanned)? */
bool sd_verify_is_root_symlink(const struct sd_node *n);

/*
 * Check every root symlink of @tree (mounted at @store_dir): append each
 * to res->root_symlinks (in entry order) and a violation for each whose
 * target does not resolve.  Returns 0 or SD_ERR_NOMEM.
 */
int sd_verify_root_symlinks(const struct sd_tree *tree, const char *store_dir,
			    struct sd_verify_result *res, struct sd_error *err);

/* Free res->root_symlinks. */
void sd_verify_root_symlinks_release(struct sd_verify_result *res);

#endif
