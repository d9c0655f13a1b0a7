/* SPDX-License-Identifier: MIT */
/*
 * sha256.h — SHA-256 through libcrypto (never our own implementation).
 */
#ifndef SD_CORE_SHA256_H
#define SD_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/hex.h"

#define SD_SHA256_LEN 32

struct sd_sha256;

struct sd_sha256 *sd_sha256_new(void);
void sd_sha256_update(struct sd_sha256 *h, const void *data, size_t len);
/* Write the digest and free the context. */
void sd_sha256_final(struct sd_sha256 *h, uint8_t out[SD_SHA256_LEN]);
/* Free without finishing (NULL ok). */
void sd_sha256_free(struct sd_sha256 *h);

/* Digest of a whole host file; SD_ERR_IO naming @path on failure. */
int sd_sha256_file(const char *path, uint8_t out[SD_SHA256_LEN],
		   struct sd_error *err);

#endif
