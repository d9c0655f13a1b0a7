/* SPDX-License-Identifier: MIT */
/*
 * writer_frag.h — fragment deduplication for the SquashFS writer.
 *
 * Every fragment stored so far is remembered by (XXH3-64 of its content,
 * size) with its place (fragment block index, byte offset).  A new tail is
 * a duplicate only if its bytes equal a remembered fragment's byte for
 * byte, as libsquashfs 1.2's block processor decides
 * (lib/sqfs/block_processor/block_processor.c, chunk_info_equals): the
 * remembered bytes come from a fragment block still in memory (the one
 * being filled, or one not yet written) or are read back from the image
 * and decompressed (one block cached).  Memory: one entry a fragment.
 */
#ifndef SD_FORMATS_SQUASHFS_WRITER_FRAG_H
#define SD_FORMATS_SQUASHFS_WRITER_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/squashfs/writer.h"
#include "formats/squashfs/writer_pipe.h"

struct sd_sqfs_frags;

/*
 * Where fragment block contents not yet in the image are: called with a
 * fragment block index, returns that block or NULL (then it is read back
 * from the image).
 */
typedef const struct sd_sqfs_fblk *(*sd_sqfs_fblk_find)(void *ctx,
							uint32_t index);

/* NULL on allocation failure. */
struct sd_sqfs_frags *sd_sqfs_frags_new(struct sd_sqfs_wstate *w,
					sd_sqfs_fblk_find find, void *ctx);

void sd_sqfs_frags_free(struct sd_sqfs_frags *fr);

/*
 * Look up a tail of @size bytes (@hash its XXH3-64).  Returns 1 and its
 * place if an equal fragment is stored, 0 if not, or an SD_ERR_* (with
 * @err set) if reading a stored block back failed.
 */
int sd_sqfs_frags_find(struct sd_sqfs_frags *fr, const unsigned char *data,
		       uint32_t size, uint64_t hash, uint32_t *index,
		       uint32_t *offset, struct sd_error *err);

/* Remember a fragment stored at (@index, @offset). SD_ERR_NOMEM. */
int sd_sqfs_frags_add(struct sd_sqfs_frags *fr, uint32_t size, uint64_t hash,
		      uint32_t index, uint32_t offset);

#endif
