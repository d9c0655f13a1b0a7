/* SPDX-License-Identifier: MIT */
/*
 * reader.h — the SquashFS reader (sd_format_squashfs.read).
 *
 * Builds a finalised tree from an image: directories are walked by the
 * readers' shared walk (formats/walk.h: an explicit stack, no recursion;
 * a directory inode number met twice is a loop; nesting and entry counts
 * capped by core/sdlimits.h); names are validated by sd_tree_add and
 * duplicates by sd_tree_finalize.
 * Devices, FIFOs and sockets become SD_NODE_OTHER.  Anything malformed is
 * SD_ERR_CORRUPT naming the image and what failed.
 */
#ifndef SD_FORMATS_SQUASHFS_READER_H
#define SD_FORMATS_SQUASHFS_READER_H

#include "core/error.h"
#include "core/tree.h"

int sd_sqfs_read(const char *path, struct sd_tree **out, struct sd_error *err);

#endif
