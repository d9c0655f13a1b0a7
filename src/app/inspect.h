/* SPDX-License-Identifier: MIT */
/*
 * inspect.h — looking inside an image without mounting it: open an image
 * as a tree, resolve a path given on the command line, describe an entry
 * the way ls(1) does, and copy a file's bytes out.
 *
 * Used by ls, cat, extract, diff and export; the library never prints.
 */
#ifndef SD_APP_INSPECT_H
#define SD_APP_INSPECT_H

#include <stddef.h>

#include "core/error.h"
#include "core/tree.h"

/*
 * Detect @path's format and read it into a finalised tree (the tree owns
 * the open image).  SD_ERR_IO if it cannot be read, SD_ERR_CORRUPT if it is
 * not an image or is damaged.  @format_name, if not NULL, receives the
 * format's static name ("squashfs", "erofs").
 */
int sd_inspect_open(const char *path, struct sd_tree **out,
		    const char **format_name, struct sd_error *err);

/*
 * Find the entry named by @path: either relative to the image root
 * ("<hash>-<name>/bin/x", "" or "/" for the root) or under the logical
 * store directory @store_dir ("/nix/store/<hash>-<name>/bin/x",
 * "/nix/store" itself is the root).  Symlinks are never followed.
 * SD_ERR_MISSING naming @path when there is no such entry: "PATH: no such
 * entry in WHERE", @where saying what was searched ("layer.img or its
 * base" for a union; NULL: "the image").
 */
int sd_inspect_resolve(const struct sd_tree *tree, const char *store_dir,
		       const char *path, const char *where,
		       struct sd_node **out, struct sd_error *err);

/* "file", "dir", "symlink" or "other". */
const char *sd_inspect_type_name(enum sd_node_type type);

/*
 * ls -l's ten-character mode string ("drwxr-xr-x", "-r--r--r--",
 * "lrwxrwxrwx", '?' as type for other nodes; setuid/setgid/sticky as
 * s/S, t/T) into @buf, NUL-terminated.
 */
void sd_inspect_mode_string(const struct sd_node *node, char buf[11]);

/*
 * Write the content of FILE node @node to @fd (all of it; EINTR and short
 * writes handled).  SD_ERR_USAGE naming the path if @node is not a regular
 * file, SD_ERR_IO if writing fails, the reader's error if reading fails.
 */
int sd_inspect_cat(const struct sd_tree *tree, const struct sd_node *node,
		   int fd, struct sd_error *err);

/* Write all @len bytes of @buf to @fd (SD_ERR_IO with @what on failure). */
int sd_inspect_write_all(int fd, const void *buf, size_t len, const char *what,
			 struct sd_error *err);

#endif
