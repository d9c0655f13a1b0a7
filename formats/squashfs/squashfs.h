/* SPDX-License-Identifier: MIT */
/*
 * squashfs.h — the SquashFS 4.0 image format (through libsquashfs).
 *
 * Writer: emits exactly the tree's metadata (mode, owner, mtime of every
 * node; superblock time = tree->mtime), directories in the tree's sorted
 * order, identical file contents stored once (the first file in tree order
 * owns the data), an NFS export table, no xattrs.  The bytes depend only on
 * the tree and on compressor/level/block size, never on the job count or
 * the clock.  Compressors: "gzip", "xz", "lz4", "zstd" (default) and
 * "none" (every block stored raw under a gzip superblock id).
 *
 * Reader: bounds-checks the superblock, walks directories iteratively with
 * loop and size limits, and serves file content out of the image.
 */
#ifndef SD_FORMATS_SQUASHFS_H
#define SD_FORMATS_SQUASHFS_H

#include "formats/format.h"

extern const struct sd_format sd_format_squashfs;

#endif
