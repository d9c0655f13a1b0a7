/* SPDX-License-Identifier: MIT */
/*
 * writer_inodes.h — the file inodes of the SquashFS writer's data stage,
 * built as libsquashfs 1.2's block processor builds them
 * (lib/sqfs/block_processor/backend.c), and the dedup count.
 */
#ifndef SD_FORMATS_SQUASHFS_WRITER_INODES_H
#define SD_FORMATS_SQUASHFS_WRITER_INODES_H

#include <stddef.h>
#include <stdint.h>

#include <sqfs/inode.h>

#include "formats/squashfs/writer.h"
#include "formats/squashfs/writer_pipe.h"

/* A FILE inode of @size bytes: no blocks, no fragment (index and offset
 * 0xFFFFFFFF, as sqfs_block_processor_begin_file). SD_ERR_NOMEM. */
int sd_sqfs_file_inode(uint64_t size, sqfs_inode_generic_t **out);

/* An empty file's inode: no blocks, fragment index 0xFFFFFFFF, offset 0.
 * SD_ERR_NOMEM. */
int sd_sqfs_empty_inode(sqfs_inode_generic_t **out);

/* Set entry @index of the inode's block size list to @size (the on-disk
 * size word: bit 24 set for a raw block, 0 for a sparse one), growing the
 * list.  SD_ERR_NOMEM, SD_ERR_LIMIT. */
int sd_sqfs_set_block_size(sqfs_inode_generic_t **inode, uint32_t index,
			   uint32_t size);

/* Mark sparse files' inodes extended and record the skipped bytes (as
 * mksquashfs does); give extended file inodes nlink 1 and no xattrs. */
void sd_sqfs_fix_file_inodes(struct sd_sqfs_wstate *w);

/* Sort @keys (sizes 0 are empty files, ignored) and count the files whose
 * content equals (by size and XXH3-128) an earlier file's and whose inode
 * indeed shares that file's stored data: w->stats->files_deduplicated. */
void sd_sqfs_count_duplicates(struct sd_sqfs_wstate *w,
			      struct sd_sqfs_key *keys, size_t nkeys);

#endif
