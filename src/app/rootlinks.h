/* SPDX-License-Identifier: MIT */
/*
 * rootlinks.h — symlinks at the image root: `pack --root-symlink
 * NAME=TARGET`, e.g. `system` -> the toplevel store path, so a guest boots
 * with a fixed `init=/nix/store/system/init` and nothing outside the disk
 * has to name the toplevel.
 *
 * NAME is an entry name of the image root that is not a store path:
 *   - 1 to 255 bytes, no '/', no control bytes, not "." or "..";
 *   - not shaped like a store path: it does not start with 32 nix32
 *     characters followed by '-' or the end of the name;
 *   - not SD_EMBEDDED_REGISTRATION (app/registration.h) nor
 *     SD_EMBEDDED_MANIFEST (app/manifest.h).
 * The link's text is RELATIVE, "<hash>-<name>[/sub/path]": the kernel
 * resolves it from the link's directory, the image root, so it leads to
 * the same store path wherever the image is mounted — at /nix/store in a
 * guest, or at /mnt on a host inspecting it, where an absolute
 * "/nix/store/..." text would lead into the host's own store.  It also
 * holds the target's hash part, so a scan sees it as a reference that
 * resolves inside the image.
 *
 * Nix's garbage collector deletes entries of a writable store directory
 * that are not store paths: such a link is for read-only store disks (on
 * a writable store overlay it lives only until the next GC).
 */
#ifndef SD_APP_ROOTLINKS_H
#define SD_APP_ROOTLINKS_H

#include <stddef.h>

#include "core/error.h"
#include "core/tree.h"

struct sd_root_link {
	const char *spec; /* "NAME=TARGET" as given (borrowed) */
	char *name;       /* NAME */
	char *target;     /* the link's text, "<hash>-<name>[/sub]" */
};

struct sd_root_links {
	char *store_dir;            /* logical, no trailing slash */
	struct sd_root_link *links; /* sorted by name after prepare */
	size_t n, cap;
};

/*
 * NULL if @name (@len bytes) may be a root symlink's name (rules above),
 * else a static reason.
 */
const char *sd_root_link_name_problem(const char *name, size_t len);

/* Remember "NAME=TARGET" (@spec is borrowed: it must outlive @l).
 * Returns 0 or SD_ERR_NOMEM. */
int sd_root_links_push(struct sd_root_links *l, const char *spec,
		       struct sd_error *err);

/*
 * Parse every spec: split at the first '=', check NAME (SD_ERR_USAGE
 * naming the spec: no '=', bad NAME, a NAME given twice), then turn TARGET
 * into the link's text with sd_root_link_target (its errors, prefixed with
 * the spec).  Sorts the links by NAME (bytewise), so the image does not
 * depend on the order of the options.  @store_dir: the logical store
 * directory (NULL: /nix/store); @phys_dir: where the store physically is
 * (NULL: no store on this host, as with --tar).
 */
int sd_root_links_prepare(struct sd_root_links *l, const char *store_dir,
			  const char *phys_dir, struct sd_error *err);

/*
 * TARGET as given on the command line -> the link's text
 * "<hash>-<name>[/sub]" (*@out, malloc'ed).  TARGET is one of
 *   - a logical path "<store-dir>/<hash>-<name>[/sub]";
 *   - a basename "<hash>-<name>[/sub]" (its first component is a valid
 *     store path name);
 *   - a path on this host leading into the store, such as ./result: a
 *     chain of up to 40 symlinks is followed one readlink at a time until
 *     it names "<store-dir>/...", "<phys-dir>/..." or a path under the
 *     physical directory's realpath; failing that, realpath(TARGET) is
 *     tried against the physical directory.
 * Empty and "." components of the sub path are dropped.  Errors: a ".."
 * below the store path, an invalid store path name or a host path that
 * does not lead into the store are SD_ERR_INVALID; a host path that does
 * not exist is SD_ERR_MISSING.  Whether the store path is in the image is
 * checked by sd_root_links_add.
 */
int sd_root_link_target(const char *target, const char *store_dir,
			const char *phys_dir, char **out, struct sd_error *err);

/*
 * Add the links of @l (prepared; NULL or none: nothing to do) to the root
 * of finalised @tree, as symlinks with mode SD_MODE_SYMLINK, owner 0:0 and
 * the tree's mtime, and finalise it again.  Each target must resolve
 * inside the tree (app/rootlink_resolve.h), else SD_ERR_MISSING naming
 * the spec and the reason (e.g. the store path is not in the closure).
 */
int sd_root_links_add(struct sd_tree *tree, const struct sd_root_links *l,
		      struct sd_error *err);

void sd_root_links_release(struct sd_root_links *l);

#endif
