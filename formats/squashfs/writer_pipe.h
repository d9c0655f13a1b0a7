/* SPDX-License-Identifier: MIT */
/*
 * writer_pipe.h — the SquashFS writer's data pipeline (stage 1's threads).
 *
 * Every FILE node's content, in node->index order, is cut into "items",
 * the units libsquashfs 1.2's block processor (lib/sqfs/block_processor/
 * frontend.c) queues for a file of S bytes with block size B:
 *
 *   S == 0                   EMPTY
 *   S <  B                   TAIL
 *   S >= B, S % B == 0       DATA x S/B, SENTINEL
 *   S >  B, S % B != 0       DATA x S/B, SENTINEL, TAIL
 *
 * DATA is a full block, SENTINEL the zero-byte "last block" marker that
 * makes the block writer deduplicate the file's blocks, TAIL the last
 * S % B bytes, which go into a fragment block.  Items are numbered in that
 * order over all files (the "sequence").
 *
 * @jobs threads read the files (one file by one thread at a time, several
 * files at once, so the tree's tap scans on every thread), test each item
 * for all zeros (a sparse block), compress DATA items with their own copy
 * of the compressor and fingerprint what is stored; they also compress the
 * fragment blocks the caller submits.  With a compression cache they hash
 * the blocks and tails they read and look up and store the blocks and
 * fragment blocks they compress (writer_cache.h); with file digests too
 * (sd_write_options.file_digest), the thread that would open a file first
 * looks up its file entry, and on a hit makes the file's items from the
 * cache without opening it (from_cache set).  The calling thread is
 * one of the @jobs: it takes the items back in sequence order with sd_sqfs_pipe_wait()
 * and writes them, and whenever the item it waits for is not ready it runs
 * a task itself instead of sleeping; the other @jobs - 1 are worker
 * threads.  So @jobs 1 starts no thread: everything runs on the caller.  At most a fixed ring of items (a few dozen blocks, see
 * writer_pipe.c) is in memory at once: memory grows with the number of
 * files, not their bytes.
 */
#ifndef SD_FORMATS_SQUASHFS_WRITER_PIPE_H
#define SD_FORMATS_SQUASHFS_WRITER_PIPE_H

#include <stdbool.h>
#include <stdint.h>

#include <xxhash.h>

#include "core/error.h"
#include "core/sha256.h"
#include "formats/squashfs/writer.h"

enum sd_sqfs_item_kind {
	SD_SQI_DATA,
	SD_SQI_SENTINEL,
	SD_SQI_TAIL,
	SD_SQI_EMPTY,
};

/* One item, as the caller sees it once sd_sqfs_pipe_wait() returns it. */
struct sd_sqfs_item {
	struct sd_node *node;
	uint32_t block;             /* index of the block within the file */
	uint8_t kind;               /* enum sd_sqfs_item_kind */
	bool last;                  /* the file's last item */
	bool sparse;                /* DATA or TAIL whose bytes are all zero */
	bool compressed;            /* DATA stored compressed */
	uint32_t in_size;           /* content bytes (DATA: B, TAIL: S % B) */
	uint32_t size;              /* DATA: bytes to store */
	uint64_t hash;              /* DATA: XXH3-64 of the stored bytes;
				       TAIL: XXH3-64 of the content */
	const unsigned char *bytes; /* DATA: stored bytes; TAIL: content */
	bool has_sha;               /* DATA or TAIL not sparse, with a
				       cache: sha is set */
	uint8_t sha[SD_SHA256_LEN]; /* its content's SHA-256
				       (writer_cache.h) */
	bool from_cache;            /* made from the file's cache entries,
				       without reading it */

	/* pipeline-private */
	unsigned char *data, *out;
	uint64_t done; /* its sequence number once ready (atomic) */
};

/* A fragment block the caller has the pipeline compress. */
struct sd_sqfs_fblk {
	uint32_t index;      /* fragment table index */
	uint32_t size;       /* content bytes in data[] */
	uint32_t stored;     /* after compression: bytes to store */
	bool compressed;     /* stored bytes are out[], else data[] */
	uint64_t hash;       /* XXH3-64 of the stored bytes */
	unsigned char *data; /* block size bytes */
	unsigned char *out;  /* block size bytes */
	/* with a cache (writer_cache.h): the description of its tails so
	   far (the caller's, NULL when it is not cached), then, once
	   submitted, its SHA-256 */
	struct sd_sha256 *desc;
	bool cached;
	uint8_t desc_sha[SD_SHA256_LEN];
	/* pipeline-private */
	bool busy; /* queued or being compressed */
	struct sd_sqfs_fblk *qnext;
};

/*
 * Fingerprint of one non-empty file, for the dedup count: XXH3-128 over
 * its items' (kind, sparse, compressed, size, hash) in order, so files
 * with equal contents have equal keys (computed by writer_data.c from the
 * items' hashes, not from a second pass over the content).
 */
struct sd_sqfs_key {
	uint64_t size;
	XXH128_hash_t hash;
	uint32_t index; /* node->index */
};

struct sd_sqfs_pipe;

/*
 * Start the pipeline over @w's FILE nodes with @jobs (>= 1) threads, the
 * caller included (so @jobs - 1 worker threads).  SD_ERR_NOMEM, or SD_ERR_IO if a thread cannot be started.
 */
int sd_sqfs_pipe_start(struct sd_sqfs_wstate *w, unsigned jobs,
		       struct sd_sqfs_pipe **out, struct sd_error *err);

/* Total number of items (the sequence runs from 0 to this, exclusive). */
uint64_t sd_sqfs_pipe_count(const struct sd_sqfs_pipe *p);

/*
 * Wait until item @seq is ready (*@item set to it) or, if @fb is not
 * NULL, until @fb is compressed (*@item set to NULL), whichever comes
 * first; meanwhile run the pipeline's tasks on this thread.  @seq UINT64_MAX waits for @fb only.  Item @seq must not be
 * more than the ring's size past the oldest unreleased item: release
 * first (the caller writes in order, so it can).  Errors: the read or
 * compression error of the first failing file, if that file's items start
 * at or before @seq (so the error reported is always the first one in
 * tree order), SD_ERR_INTERRUPTED.
 */
int sd_sqfs_pipe_wait(struct sd_sqfs_pipe *p, uint64_t seq,
		      const struct sd_sqfs_fblk *fb, struct sd_sqfs_item **item,
		      struct sd_error *err);

/* Items the ring holds: at most this many are taken and not released. */
size_t sd_sqfs_pipe_ring(const struct sd_sqfs_pipe *p);

/* True once @fb, submitted with sd_sqfs_pipe_compress(), is compressed. */
bool sd_sqfs_pipe_compressed(struct sd_sqfs_pipe *p,
			     const struct sd_sqfs_fblk *fb);

/* The caller is done with item @seq (its buffers may be reused). */
void sd_sqfs_pipe_release(struct sd_sqfs_pipe *p, uint64_t seq);

/* Have a worker compress @fb (data[0..size)); wait for it as above. */
void sd_sqfs_pipe_compress(struct sd_sqfs_pipe *p, struct sd_sqfs_fblk *fb);

/* Stop and join the workers, free everything. NULL ok. */
void sd_sqfs_pipe_stop(struct sd_sqfs_pipe *p);

#endif
