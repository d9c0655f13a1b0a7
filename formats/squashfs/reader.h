/*
 * reader.h — the SquashFS reader (sd_format_squashfs.read).
 *
 * Builds a finalised tree from an image: directories are walked with an
 * explicit stack (no recursion), a directory inode met twice is a loop,
 * nesting is capped at SD_SQFS_MAX_DEPTH, entry counts at
 * SD_SQFS_MAX_NODES per image and SD_SQFS_MAX_DIR_ENTRIES per directory;
 * names are validated by sd_tree_add and duplicates by sd_tree_finalize.
 * Devices, FIFOs and sockets become SD_NODE_OTHER.  Anything malformed is
 * SD_ERR_CORRUPT naming the image and what failed.
 */
#ifndef SD_FORMATS_SQUASHFS_READER_H
#define SD_FORMATS_SQUASHFS_READER_H

#include "core/error.h"
#include "core/tree.h"

#define SD_SQFS_MAX_DEPTH 4096
#define SD_SQFS_MAX_NODES (1u << 24)
#define SD_SQFS_MAX_DIR_ENTRIES (1u << 22)

int sd_sqfs_read(const char *path, struct sd_tree **out,
		 struct sd_error *err);

#endif
