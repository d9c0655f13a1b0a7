/* SPDX-License-Identifier: MIT */
/*
 * export_tar.h — an image's contents as a deterministic tar archive.
 *
 * Format: POSIX ustar, with pax extended headers only where ustar cannot
 * hold a value (long names or targets); libarchive's "pax restricted".
 * Entries in the tree's pre-order (bytewise sorted, each directory before
 * its contents), named "<prefix>/<hash>-<name>/..." (no prefix: without
 * the "<prefix>/"); the store directory itself is not an entry.  Every
 * entry has owner 0:0 with empty owner names, the image's permission bits
 * and mtime (whole seconds), no atime/ctime, no xattrs; file contents are
 * streamed from the image.  The same image gives the same bytes, whatever
 * its format.  Device nodes, FIFOs and sockets are skipped and reported.
 */
#ifndef SD_APP_EXPORT_TAR_H
#define SD_APP_EXPORT_TAR_H

#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

struct sd_export_options {
	/* Name prefix without leading or trailing '/' ("nix/store"); ""
	 * or NULL for none. */
	const char *prefix;
	/* Told about each skipped entry (path relative to the root). */
	void (*skipped)(void *ctx, const char *path);
	void *ctx;
	volatile const int *interrupted; /* polled, may be NULL */
};

struct sd_export_stats {
	uint64_t entries, bytes, skipped;
};

/* Write @tree as a tar archive to @fd. */
int sd_export_tar(const struct sd_tree *tree, int fd,
		  const struct sd_export_options *opts,
		  struct sd_export_stats *stats, struct sd_error *err);

#endif
