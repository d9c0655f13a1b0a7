/* SPDX-License-Identifier: MIT */
/*
 * writer_flat.h — stage 2 of the EROFS writer for uncompressed images,
 * in two passes over a layout that is fixed before any data is copied.
 *
 * Plan (writer_fplan.c, ew_flat_plan):
 *   1. Size groups.  Only a file that owns data blocks (a whole block,
 *      or a CHUNK_BASED candidate) can share them, and only with a file
 *      of the same size and initial layout: files alone in their
 *      (size, layout) group are never hashed.  The members of a group of
 *      two or more are read once (in parallel) for their SHA-256, their
 *      all-zero chunks and their inline tail.
 *   2. Holes of the other CHUNK_BASED candidates: each 1 MiB chunk is
 *      probed in the same parallel pass (host files: a chunk SEEK_DATA
 *      finds no data in is zero, else its first bytes are read, and only
 *      if those are zero the whole chunk; other sources: the file is
 *      read).  A candidate without an all-zero chunk becomes FLAT_PLAIN
 *      (writer.h).  Should a chunk found zero hold data when it is
 *      copied, the file changed while being packed: SD_ERR_IO.
 *   3. Deduplication, in tree order: a hashed file whose (size, layout,
 *      SHA-256) equals an earlier file's uses that file's blocks.
 *   4. Allocation at the next free block, in tree order: first every
 *      directory and long symlink (so they follow the metadata area and
 *      a cold metadata walk reads one region), then every owning file.
 * Copy (writer_fcopy.c, ew_flat_copy): every node is then written to its
 * precomputed place by opts->jobs workers (writer_par.c), files in pieces
 * read through the tree's content source and written with pwrite; each
 * inode is written with its inline tail.  Nothing depends on which worker
 * wrote what, so the bytes do not depend on jobs.
 *
 * UUID digest: every node gets the XXH3-128 of its data (directory
 * entries, symlink target, file content; hashed files in the plan pass,
 * the others while their data passes through the copy), and the derived
 * UUID hashes these in tree order with the metadata area (writer.c).
 */
#ifndef SD_FORMATS_EROFS_WRITER_FLAT_H
#define SD_FORMATS_EROFS_WRITER_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sha256.h"
#include "core/stream.h"
#include "formats/erofs/writer.h"

#define EW_PIECE_SIZE (256u << 10) /* copy buffer; divides a chunk */
#define EW_XXH_LEN 16

/* What the flat writer knows about one node (by node->index). */
struct ew_fnode {
	uint32_t owner; /* duplicate: owner's index + 1; else 0 */
	bool hashed;    /* in a size group: sha, xxh set by plan */
	uint8_t *tail;  /* hashed with a tail: its in->tail bytes */
	uint8_t sha[SD_SHA256_LEN];
	uint8_t xxh[EW_XXH_LEN]; /* XXH3-128 of the data, canonical form */
};

/* Per-worker scratch. */
struct ew_fworker {
	uint8_t *buf; /* EW_PIECE_SIZE bytes */
	void *xxh;    /* XXH3_state_t */
};

struct ew_flat {
	struct ew_state *w;
	struct ew_fnode *f;    /* by node index */
	struct ew_fworker *wk; /* w->jobs of them */
	unsigned jobs;
};

/* Passes 1-4 above: fills the ew_fnode array, the final layouts, every
 * block address and chunk map, w->any_chunked and the stats. */
int ew_flat_plan(struct ew_flat *fl, struct sd_error *err);

/* Write every node's data and inode at its place; fills the XXH3
 * digests not yet known. */
int ew_flat_copy(struct ew_flat *fl, struct sd_error *err);

bool ew_all_zero(const uint8_t *p, size_t len);

/*
 * Run fn(@ctx, i, worker, err) for every i in 0..@n-1 on up to @jobs
 * threads (worker < @jobs names the caller's per-thread scratch), items
 * handed out in increasing order.  After a failure no new item starts;
 * the error reported is that of the smallest failing item, so it does
 * not depend on @jobs.  @interrupted (may be NULL) is polled before each
 * item: SD_ERR_INTERRUPTED.
 */
int ew_parallel(unsigned jobs, size_t n,
		int (*fn)(void *ctx, size_t i, unsigned worker,
			  struct sd_error *err),
		void *ctx, volatile const int *interrupted,
		struct sd_error *err);

#endif
