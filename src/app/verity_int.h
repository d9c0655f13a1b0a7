/* SPDX-License-Identifier: MIT */
/*
 * verity_int.h — what verity.c (read, check) and verity_build.c (append)
 * share: the level arithmetic, the block digest, an exact read.  Not a
 * public API: include only from src/app/verity*.c.
 */
#ifndef SD_APP_VERITY_INT_H
#define SD_APP_VERITY_INT_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "app/verity.h"

#define SD_VERITY_HASH_PER_BLOCK_BITS 7 /* 4096 / 32 digests a hash block */
#define SD_VERITY_MAX_LEVELS 10         /* 7 bits a level: 64 bits */

/*
 * The hash levels of a tree over @data_blocks blocks (cryptsetup's
 * lib/verity/verity_hash.c, hash_levels): n levels, level 0 hashing the
 * data and level n-1 a single block; start[i] is where level i begins, in
 * blocks after the superblock's block (the top level first, so start[n-1]
 * is 0), size[i] its blocks; blocks all of them.  One data block: n = 0.
 */
struct sd_verity_levels {
	unsigned n;
	uint64_t start[SD_VERITY_MAX_LEVELS], size[SD_VERITY_MAX_LEVELS];
	uint64_t blocks;
};

void sd_verity_levels_of(uint64_t data_blocks, struct sd_verity_levels *l);

/* SHA-256(@salt (32 bytes) || @block (4096 bytes)) into @out, with @ctx
 * (re)initialised; -1 when OpenSSL fails. */
int sd_verity_block_digest(EVP_MD_CTX *ctx, const uint8_t *salt,
			   const uint8_t *block, uint8_t out[SD_SHA256_LEN]);

/* A record: the salt, then a block; what one digest of the tree hashes.
 * Blocks are read into records (sd_verity_read_recs) so that one
 * sd_sha256_batch_run hashes many of them in place. */
#define SD_VERITY_REC (SD_SHA256_LEN + SD_VERITY_BLOCK)

/* Put @salt (32 bytes) at the start of each of the @n records at @rec. */
void sd_verity_recs_salt(uint8_t *rec, size_t n, const uint8_t *salt);

/* Read the @n blocks of @fd at @off into the records at @rec (after each
 * record's salt), with preadv; errors as sd_verity_read_at's. */
int sd_verity_read_recs(int fd, const char *path, uint8_t *rec, size_t n,
			uint64_t off, struct sd_error *err);

/* Read exactly @len bytes of @fd at @off; SD_ERR_IO naming @path, or
 * SD_ERR_CORRUPT ("the verity tree is cut short") if the file ends. */
int sd_verity_read_at(int fd, const char *path, void *buf, size_t len,
		      uint64_t off, struct sd_error *err);

#endif
