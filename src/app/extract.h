/* SPDX-License-Identifier: MIT */
/*
 * extract.h — write an image's tree (or a subtree) into a host directory,
 * without mounting and without root.
 *
 * Safety: everything is created relative to directory file descriptors
 * (mkdirat, openat, symlinkat) with O_NOFOLLOW and O_EXCL/EEXIST checks,
 * so nothing is ever written through a symlink and nothing lands outside
 * DIR whatever the image holds (absolute or "../" symlink targets are
 * created as symlinks and never followed; names "", ".", ".." or with '/'
 * are refused as a corrupt image).  DIR must be empty or missing.
 * Depth: directories are written from an explicit stack with one open at
 * a time (down by openat, back up by ".." checked against the directory
 * left), so any nesting costs two descriptors and no recursion.
 *
 * Metadata: regular files and directories get the image's permission bits
 * without setuid/setgid/sticky (so 0444/0555), directories after their
 * contents are written (so a read-only tree comes out; opts.writable adds
 * the owner's write bit everywhere); mtimes are restored (symlinks too);
 * owners are not (the files belong to whoever extracts).  Device nodes,
 * FIFOs and sockets are skipped and reported through opts.skipped.
 */
#ifndef SD_APP_EXTRACT_H
#define SD_APP_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

struct sd_extract_options {
	bool writable; /* add u+w to every file and directory */
	/* Told about each entry skipped (device, FIFO, socket); may be NULL.
	 * @path is relative to the extracted node. */
	void (*skipped)(void *ctx, const char *path);
	void *ctx;
	volatile const int *interrupted; /* polled, may be NULL */
};

struct sd_extract_stats {
	uint64_t dirs, files, symlinks, skipped;
	uint64_t bytes; /* file content written */
};

/*
 * Write @node (a directory: its contents; a file or symlink: itself, under
 * its own name) of @tree into @dir, which is created (mode 0755 & ~umask)
 * if missing and must otherwise be an empty directory (SD_ERR_USAGE).
 * On error the partial output stays in @dir; the error names the entry.
 */
int sd_extract(const struct sd_tree *tree, const struct sd_node *node,
	       const char *dir, const struct sd_extract_options *opts,
	       struct sd_extract_stats *stats, struct sd_error *err);

#endif
