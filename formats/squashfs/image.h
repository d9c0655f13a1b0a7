/* SPDX-License-Identifier: MIT */
/*
 * image.h — an opened SquashFS image, ready for reading.
 *
 * Opening reads and sanity-checks the superblock (magic, version, block
 * size, table order, bytes_used within the file, fragment count), loads the
 * compressor (with its options), the ID table and the fragment table, and
 * creates libsquashfs' data reader and two metadata readers: one bounded
 * to the inode table, one to the directory table.  Every failure is
 * SD_ERR_CORRUPT with "IMAGE: what failed: why" (SD_ERR_IO if the file
 * cannot be opened, SD_ERR_UNSUPPORTED for an unknown compressor).
 */
#ifndef SD_FORMATS_SQUASHFS_IMAGE_H
#define SD_FORMATS_SQUASHFS_IMAGE_H

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/id_table.h>
#include <sqfs/io.h>
#include <sqfs/meta_reader.h>
#include <sqfs/super.h>

#include "core/error.h"

struct sd_sqfs_image {
	char *path; /* for messages */
	sqfs_file_t *file;
	sqfs_super_t super;
	sqfs_u64 file_size;
	sqfs_compressor_t *cmp; /* decompressor */
	sqfs_id_table_t *ids;
	sqfs_meta_reader_t
		*inodes; /* [inode_table_start, directory_table_start) */
	sqfs_meta_reader_t *dirs; /* [directory_table_start, next table) */
	sqfs_data_reader_t *data;
};

int sd_sqfs_image_open(const char *path, struct sd_sqfs_image **out,
		       struct sd_error *err);

/* Free everything (NULL ok). */
void sd_sqfs_image_close(struct sd_sqfs_image *img);

/* Drop the metadata readers once the tree is built (NULL ok). */
void sd_sqfs_image_done_walking(struct sd_sqfs_image *img);

/*
 * Record SD_ERR_CORRUPT "PATH: <what>: <libsquashfs reason>" for the
 * libsquashfs error @sq (SD_ERR_NOMEM if it is an allocation failure).
 */
int sd_sqfs_image_error(const struct sd_sqfs_image *img, struct sd_error *err,
			int sq, const char *what);

#endif
