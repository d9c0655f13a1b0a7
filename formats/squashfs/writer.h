/* SPDX-License-Identifier: MIT */
/*
 * writer.h — the SquashFS writer, split into its stages.
 *
 * sd_sqfs_write() (writer.c) validates the tree, sets up the compressor and
 * the output file, then runs the two stages below and finishes the
 * superblock.  The stages share struct sd_sqfs_wstate.
 *
 * Image layout (as mksquashfs): superblock, compressor options, data and
 * fragment blocks, inode table, directory table, fragment table, export
 * table, ID table, zero padding to a 4 KiB multiple.
 */
#ifndef SD_FORMATS_SQUASHFS_WRITER_H
#define SD_FORMATS_SQUASHFS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

#include "core/error.h"
#include "core/tree.h"
#include "formats/format.h"
#include "formats/squashfs/comp.h"
#include "formats/squashfs/writer_cache.h"

struct sd_sqfs_wstate {
	const struct sd_tree *tree;
	struct sd_node **nodes; /* all nodes, by node->index */
	size_t count;           /* tree->count */
	sqfs_file_t *file;      /* the output image */
	struct sd_sqfs_comp comp;
	struct sd_sqfs_cache cache; /* cache.cc NULL: none (writer_cache.h) */
	/* opts->file_digest and its context; NULL without a cache */
	bool (*file_digest)(void *ctx, const struct sd_node *node,
			    uint8_t sha[32]);
	/* opts->file_content (same context); NULL without a cache */
	bool (*file_content)(void *ctx, const struct sd_node *node, void *buf);
	void *file_digest_ctx;
	sqfs_super_t super;
	sqfs_frag_table_t *frag;       /* filled by the data stage */
	sqfs_inode_generic_t **inodes; /* FILE inodes, by node->index */
	volatile const int *interrupted;
	struct sd_write_stats *stats;
	/* opts->progress and what has been consumed (writer_data.c) */
	void (*progress)(void *ctx, uint64_t bytes_done, uint64_t files_done);
	void *progress_ctx;
	uint64_t done_bytes, done_files;
};

/* The image-wide entry point (sd_format_squashfs.write). */
int sd_sqfs_write(const struct sd_tree *tree,
		  const struct sd_write_options *opts, int fd,
		  volatile const int *interrupted, struct sd_write_stats *stats,
		  struct sd_error *err);

/* sd_sqfs_write() without the check of core/sdlimits.h: for tests that
 * need an image beyond the limits (tests/formats/test_hostile.c). */
int sd_sqfs_write_unchecked(const struct sd_tree *tree,
			    const struct sd_write_options *opts, int fd,
			    volatile const int *interrupted,
			    struct sd_write_stats *stats, struct sd_error *err);

/*
 * Stage 1: stream every FILE node's content, in tree order, through a
 * libsquashfs block processor on @jobs threads, the calling thread one of
 * them (writer_pipe.h); leaves a file inode
 * (blocks, fragment, size) in w->inodes[] and the fragment locations in
 * w->frag.  Identical contents end up stored once: libsquashfs' block
 * writer and fragment deduplication compare candidates byte for byte
 * (reading back from the image), so the first file in tree order owns the
 * data and later equal files point at the same blocks and fragment.  An
 * XXH3-128 over each file's blocks' hashes (writer_pipe.h, struct
 * sd_sqfs_key) counts those files for the stats.
 */
int sd_sqfs_write_data(struct sd_sqfs_wstate *w, unsigned jobs,
		       struct sd_error *err);

/*
 * Stage 2: inode and directory tables (post-order, so every directory
 * listing knows its children's inode locations), then the fragment, export
 * and ID tables; fills the superblock's table fields.
 */
int sd_sqfs_write_tables(struct sd_sqfs_wstate *w, struct sd_error *err);

/* An SD_ERR_* for a libsquashfs error code met while writing. */
int sd_sqfs_write_status(int sqfs_code);

#endif
