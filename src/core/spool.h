/* SPDX-License-Identifier: MIT */
/*
 * spool.h — file contents of a sequential input, kept for later reading.
 *
 * Inputs read as one pass over a stream (a tar or `nix-store --export`
 * stream, possibly stdin) cannot be read again, but the tree they produce is
 * read later by the format writers.  A spool appends every file's bytes to
 * one unlinked temporary file ($TMPDIR, else /tmp; gone when the spool is
 * released, even after a crash) and serves them back as the content source
 * of the tree: a FILE node's content is node->size bytes at offset
 * node->src_id of the spool.
 */
#ifndef SD_CORE_SPOOL_H
#define SD_CORE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

struct sd_spool;

/* Create an empty spool backed by an unlinked temporary file. */
int sd_spool_new(struct sd_spool **out, struct sd_error *err);

/* Free the spool (closing its file).  NULL ok. */
void sd_spool_free(struct sd_spool *sp);

/* The offset the next appended byte gets (the bytes spooled so far). */
uint64_t sd_spool_offset(const struct sd_spool *sp);

/* Append @len bytes (buffered; SD_ERR_IO naming the spool on failure). */
int sd_spool_append(struct sd_spool *sp, const void *data, size_t len,
		    struct sd_error *err);

/*
 * Append @len zero bytes (a sparse hole): a few are buffered, more are
 * left as a hole in the temporary file, which reads as zeros.
 * SD_ERR_LIMIT when the spool would pass 2^63 - 1 bytes.
 */
int sd_spool_append_zeros(struct sd_spool *sp, uint64_t len,
			  struct sd_error *err);

/*
 * Read @len bytes at spool offset @off (appended before; pending bytes
 * are flushed first).  SD_ERR_IO naming the spool on failure.  Not for a
 * spool attached to a tree.
 */
int sd_spool_read(struct sd_spool *sp, uint64_t off, void *buf, size_t len,
		  struct sd_error *err);

/*
 * Flush the spool and make it @tree's content source; the tree then owns
 * the spool (sd_tree_free releases it).  FILE nodes without in-memory
 * content must have src_id = their offset in the spool.
 */
int sd_spool_attach(struct sd_spool *sp, struct sd_tree *tree,
		    struct sd_error *err);

#endif
