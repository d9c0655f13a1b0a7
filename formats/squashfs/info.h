/* SPDX-License-Identifier: MIT */
/*
 * info.h — describing a SquashFS image (sd_format_squashfs.info, see
 * format.h).
 *
 * From the superblock: compressor (by its id: gzip, lzma, lzo, xz, lz4,
 * zstd), block size, bytes used, inode count, time, and the features in
 * use: "fragments" (fragment entries exist), "export-table", "xattrs"
 * (an xattr id table exists), "compressor-options",
 * "uncompressed-inodes", "uncompressed-data", "uncompressed-fragments"
 * (superblock flags).  Counts come from a full read of the tree
 * (sd_sqfs_read).  SquashFS has no label and no UUID.  Errors as
 * sd_sqfs_read.
 */
#ifndef SD_FORMATS_SQUASHFS_INFO_H
#define SD_FORMATS_SQUASHFS_INFO_H

#include "core/error.h"
#include "formats/format.h"

int sd_sqfs_info(const char *path, struct sd_image_info *out,
		 struct sd_error *err);

#endif
