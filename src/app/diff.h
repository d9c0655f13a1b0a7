/* SPDX-License-Identifier: MIT */
/*
 * diff.h — what differs between two image trees (any formats: a squashfs
 * and an EROFS image of the same closure compare equal).
 *
 * Compared per entry: type, permission bits, uid/gid, mtime, size (files:
 * content bytes; symlinks: target length; not for directories), symlink
 * target and file content (streamed from both images; the first differing
 * byte offset is reported).  Nothing format-specific is compared: inode
 * numbers, link counts, block layout, compression, xattrs and directory
 * sizes are not in the tree.  An entry present on one side only is
 * reported once, at the top of its subtree; an entry whose type changed is
 * not descended into.
 */
#ifndef SD_APP_DIFF_H
#define SD_APP_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

enum sd_diff_kind {
	SD_DIFF_ADDED = 1,   /* only in B */
	SD_DIFF_REMOVED = 2, /* only in A */
	SD_DIFF_CHANGED = 3, /* in both, with differences in .fields */
};

/* Bits of sd_diff_item.fields. */
enum {
	SD_DIFF_TYPE = 1 << 0,
	SD_DIFF_MODE = 1 << 1,
	SD_DIFF_OWNER = 1 << 2, /* uid or gid */
	SD_DIFF_MTIME = 1 << 3,
	SD_DIFF_SIZE = 1 << 4,
	SD_DIFF_TARGET = 1 << 5,
	SD_DIFF_CONTENT = 1 << 6,
};

struct sd_diff_item {
	enum sd_diff_kind kind;
	const struct sd_node *a; /* NULL when ADDED */
	const struct sd_node *b; /* NULL when REMOVED */
	unsigned fields;         /* CHANGED: SD_DIFF_* bits */
	uint64_t offset;         /* CONTENT: first differing byte */
};

struct sd_diff_options {
	/* Called for each difference in pre-order (sorted by path); a
	 * non-zero return stops the comparison and is returned. */
	int (*report)(void *ctx, const struct sd_diff_item *item);
	void *ctx;
	/* Optional: true when the caller knows that @a and @b, entries of
	 * the same path, are identical with everything below them (say,
	 * both read from one image file: diff --base); they are then not
	 * compared. */
	bool (*same)(void *ctx, const struct sd_node *a,
		     const struct sd_node *b);
	volatile const int *interrupted; /* polled, may be NULL */
};

struct sd_diff_stats {
	uint64_t added, removed, changed; /* items reported */
};

/*
 * Compare tree @a (opened from image A) with tree @b.  Returns 0 when the
 * comparison ran (stats tell whether anything differs), else the error of
 * reading either image.
 */
int sd_diff_trees(const struct sd_tree *a, const struct sd_tree *b,
		  const struct sd_diff_options *opts,
		  struct sd_diff_stats *stats, struct sd_error *err);

#endif
