/* SPDX-License-Identifier: MIT */
/*
 * reader.h — the EROFS reader (sd_format_erofs.probe / .read).
 *
 * Reads images as mkfs.erofs (1.5 and later) and our own writer make them
 * and as the Linux kernel reads them: block sizes 512 B .. 64 KiB, the
 * superblock CRC-32C when present, compact (32 B) and extended (64 B)
 * inodes, directories, the FLAT_PLAIN, FLAT_INLINE and CHUNK_BASED data
 * layouts (chunk holes read as zeros), and the COMPRESSED_FULL and
 * COMPRESSED_COMPACT layouts (lz4, microLZMA, deflate, zstd; big
 * pclusters, 0PADDING, ztailpacking inline pclusters, partially
 * referenced (deduplicated) pclusters, fragments: file tails or whole
 * files in the packed inode, as mkfs.erofs -Efragments / -Eall-fragments
 * write them).  Not read (refused with SD_ERR_UNSUPPORTED, naming the
 * feature and its first kernel): extra devices, 48bit and metabox images
 * (erofs-utils 1.9), logical clusters larger than a block.  Extended
 * attributes are skipped.
 *
 * The tree: directories are walked by the readers' shared walk
 * (formats/walk.h: an explicit stack, a directory inode met twice is a
 * loop, nesting and entry counts capped by core/sdlimits.h); "." and ".."
 * are checked, not followed.  Compact inodes
 * get the superblock build time as mtime, as does tree->mtime.  Devices,
 * FIFOs and sockets become SD_NODE_OTHER (rdev as stored, new-style
 * dev_t).  FILE nodes carry their nid in src_id; the tree's content source
 * streams (and decompresses) their data out of the image, bounded by the
 * file size.  Hard links become separate FILE nodes with the same nid.
 *
 * Anything malformed is SD_ERR_CORRUPT with a one-line reason naming the
 * image, the inode and what failed; the reader never crashes, never hangs
 * and never allocates more than the image size (or SD_EROFS_MAX_EXTENT
 * per open stream) because of a value read from the image.
 */
#ifndef SD_FORMATS_EROFS_READER_H
#define SD_FORMATS_EROFS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

/* True if @head (the first @len bytes of a file) holds the EROFS magic
 * 0xE0F5E1E2 at byte 1024. */
bool sd_erofs_probe(const uint8_t *head, size_t len);

/* Read the image at @path into a new finalised tree (see above).  The
 * tree owns the open image; sd_tree_free() closes it. */
int sd_erofs_read(const char *path, struct sd_tree **out, struct sd_error *err);

/*
 * Describe the image at @path (format.h, sd_format.info): superblock
 * (block size, label, UUID, inode count, build time, incompatible feature
 * bits, compression algorithms and the LZ4 pcluster limit) and, from a
 * full read of the tree, what every inode uses: compact/extended inodes,
 * inline data, chunk-based files, compressed files, compact indexes, big
 * pclusters, inline (ztailpacking) and interlaced pclusters, xattrs.
 * Errors as sd_erofs_read (images the reader refuses are refused here).
 */
struct sd_image_info;
int sd_erofs_info(const char *path, struct sd_image_info *out,
		  struct sd_error *err);

#endif
