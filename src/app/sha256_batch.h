/* SPDX-License-Identifier: MIT */
/*
 * sha256_batch.h — the SHA-256 digests (FIPS 180-4) of many messages of
 * one length at once: what a dm-verity tree is made of (one digest per
 * 4 KiB block, the salt first; verity.h).
 *
 * Two engines give the same digests:
 *   - intel-ipsec-mb (Debian's libipsec-mb, amd64; built in when meson
 *     finds it, -Dipsec_mb=auto): its multi-buffer job API
 *     (IMB_AUTH_SHA_256, intel-ipsec-mb.h) hashes up to 16 messages side
 *     by side in the lanes of the vector registers (AVX-512; 8 with AVX2,
 *     2 with the SHA extensions), the manager picked for the CPU at run
 *     time by init_mb_mgr_auto.  Measured on the bench machine (AMD EPYC,
 *     AVX-512 and SHA-NI), 4128-byte messages: 3.3-3.8 GB/s a core,
 *     against 1.5 GB/s for OpenSSL 3's one-message-at-a-time SHA-NI code.
 *   - OpenSSL's EVP SHA-256, one message after another: where the library
 *     is missing (other architectures) or its manager cannot start.
 *
 * One batch belongs to one thread (an intel-ipsec-mb manager is not
 * shared); make one per worker.
 */
#ifndef SD_APP_SHA256_BATCH_H
#define SD_APP_SHA256_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sd_sha256_batch;

enum sd_sha256_engine {
	SD_SHA256_AUTO,    /* intel-ipsec-mb when built in and usable */
	SD_SHA256_OPENSSL, /* OpenSSL's EVP, always (tests compare the two) */
};

/* A batch hasher on @engine: SD_ERR_NOMEM when memory or OpenSSL's
 * SHA-256 is missing.  SD_SHA256_AUTO falls back to OpenSSL silently. */
int sd_sha256_batch_new(struct sd_sha256_batch **out,
			enum sd_sha256_engine engine, struct sd_error *err);

/*
 * The digests of the @n messages of @len bytes each at @msgs,
 * @msgs + @stride, ..., @msgs + (n-1) @stride, into @out + 32 i (32 bytes
 * each, in message order).  SD_ERR_NOMEM ("SHA-256 failed") if the
 * engine reports an error; @out is then undefined.
 */
int sd_sha256_batch_run(struct sd_sha256_batch *b, const uint8_t *msgs,
			size_t stride, size_t len, size_t n, uint8_t *out,
			struct sd_error *err);

/* The engine @b runs on, for logs and benchmarks: "intel-ipsec-mb 1.3.0
 * (avx512)", "openssl". */
const char *sd_sha256_batch_engine(const struct sd_sha256_batch *b);

void sd_sha256_batch_free(struct sd_sha256_batch *b);

#endif
