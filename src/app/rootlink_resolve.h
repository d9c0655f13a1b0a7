/* SPDX-License-Identifier: MIT */
/*
 * rootlink_resolve.h — where a symlink at the image root leads, looked up
 * inside the image only (shared by pack --root-symlink and verify).
 *
 * The image is taken as mounted at the logical store directory, and the
 * target is followed the way the kernel's path walk (path_resolution(7))
 * would follow it there, without ever leaving the image:
 *   - a relative target starts at the image root (the link's directory);
 *   - an absolute one must be "<store-dir>" or start with "<store-dir>/";
 *     anything else leads out of the image;
 *   - "." and empty components are skipped, ".." goes up, and ".." at the
 *     image root leads out of it;
 *   - symlinks met on the way (inside store paths) are followed by the
 *     same rules, at most SD_ROOTLINK_MAX_HOPS of them (the kernel's
 *     limit, 40);
 *   - every step from the image root must name a store path
 *     ("<hash>-<name>", closure/storepath.h): another root symlink or the
 *     embedded registration is not a store path, so chains of root links
 *     and loops through them never resolve.
 * The result is the node the target designates, of any type, but never
 * the image root itself.
 */
#ifndef SD_APP_ROOTLINK_RESOLVE_H
#define SD_APP_ROOTLINK_RESOLVE_H

#include <stddef.h>

#include "core/error.h"
#include "core/tree.h"

#define SD_ROOTLINK_MAX_HOPS 40

/*
 * Resolve @target (the text of a symlink at the root of finalised @tree)
 * for an image mounted at @store_dir (logical, no trailing slash).
 * Returns 0 with *@out the node, or 0 with *@out NULL and a one-line
 * reason in @why (@whylen bytes, NUL-terminated; e.g. "no entry 'init' in
 * <hash>-toplevel", "leads out of the image: /etc/x"); SD_ERR_NOMEM on
 * allocation failure.
 */
int sd_rootlink_resolve(const struct sd_tree *tree, const char *store_dir,
			const char *target, const struct sd_node **out,
			char *why, size_t whylen);

#endif
