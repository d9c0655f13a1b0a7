/* SPDX-License-Identifier: MIT */
/*
 * content.h — the content source of trees read from a SquashFS image.
 *
 * The reader keeps every regular-file inode in a struct sd_sqfs_content
 * (FILE nodes' src_id indexes it) and hands it to the tree as
 * source_ctx; sd_tree_open() then streams a file out of the image through
 * libsquashfs' data reader, bounded by the file size.  A damaged block is
 * an SD_ERR_CORRUPT read error naming the image, the file and the offset.
 * Streams must be closed before the tree is freed.
 */
#ifndef SD_FORMATS_SQUASHFS_CONTENT_H
#define SD_FORMATS_SQUASHFS_CONTENT_H

#include <stdint.h>

#include <sqfs/inode.h>

#include "core/error.h"
#include "core/tree.h"
#include "formats/squashfs/image.h"

struct sd_sqfs_content {
	struct sd_sqfs_image *img;    /* owned */
	sqfs_inode_generic_t **files; /* owned, by src_id */
	size_t nfiles, cap;
};

/* .open and .release (frees the image and all inodes) */
extern const struct sd_content_source sd_sqfs_content_source;

/* A new, empty content store owning @img (freed with it). */
struct sd_sqfs_content *sd_sqfs_content_new(struct sd_sqfs_image *img);

/* Take ownership of a file inode; its src_id goes to *@id. */
int sd_sqfs_content_add(struct sd_sqfs_content *c, sqfs_inode_generic_t *ino,
			uint64_t *id, struct sd_error *err);

#endif
