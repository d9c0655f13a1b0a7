/* SPDX-License-Identifier: MIT */
/*
 * Tests of app/sha256_batch.h: both engines give OpenSSL's one-shot
 * SHA-256 of every message, for lengths around SHA-256's 64-byte block
 * and padding edges and the tree's 4128-byte record, counts below, at and
 * past the lanes of a register (1-100), strides longer than the message;
 * FIPS 180-4's "abc" answer; and where intel-ipsec-mb is built in, AUTO
 * runs on it (the fast engine is the one pack --verity uses).
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "app/sha256_batch.h"
#include "core/hex.h"

static void one_shot(const uint8_t *msg, size_t len, uint8_t out[32])
{
	unsigned got = 0;
	cr_assert_eq(EVP_Digest(msg, len, out, &got, EVP_sha256(), NULL), 1);
	cr_assert_eq(got, 32u);
}

/* @n messages of @len bytes at stride @stride through @engine, each
 * against the one-shot digest. */
static void check(enum sd_sha256_engine engine, size_t len, size_t stride,
		  size_t n)
{
	uint8_t *msgs = malloc(stride * n);
	uint8_t *out = malloc(32 * n);
	cr_assert(msgs && out);
	for (size_t i = 0; i < stride * n; i++)
		msgs[i] = (uint8_t)((i * 2654435761u) >> 11 ^ len ^ n);
	struct sd_sha256_batch *b = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_sha256_batch_new(&b, engine, &err), 0, "%s", err.msg);
	cr_assert_eq(sd_sha256_batch_run(b, msgs, stride, len, n, out, &err), 0,
		     "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		uint8_t want[32];
		one_shot(msgs + i * stride, len, want);
		cr_assert(!memcmp(out + 32 * i, want, 32),
			  "%s: message %zu of %zu, %zu bytes, stride %zu",
			  sd_sha256_batch_engine(b), i, n, len, stride);
	}
	sd_sha256_batch_free(b);
	free(out);
	free(msgs);
}

static const size_t lens[] = {1,   31,  32,  55,  56,   63,   64,   65,
			      119, 120, 127, 128, 4096, 4128, 4129, 8200};
static const size_t counts[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 100};

Test(sha256_batch, engines_match_one_shot)
{
	enum sd_sha256_engine engines[] = {SD_SHA256_AUTO, SD_SHA256_OPENSSL};
	for (size_t e = 0; e < 2; e++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t c = 0;
			     c < sizeof(counts) / sizeof(counts[0]); c++) {
				check(engines[e], lens[l], lens[l], counts[c]);
				check(engines[e], lens[l], lens[l] + 13,
				      counts[c]);
			}
}

Test(sha256_batch, fips_abc)
{
	/* FIPS 180-4 example B.1; three copies, 5 bytes apart. */
	const uint8_t msgs[] = "abc\0\0abc\0\0abc";
	const char *want = "ba7816bf8f01cfea414140de5dae2223"
			   "b00361a396177a9cb410ff61f20015ad";
	enum sd_sha256_engine engines[] = {SD_SHA256_AUTO, SD_SHA256_OPENSSL};
	for (size_t e = 0; e < 2; e++) {
		struct sd_sha256_batch *b = NULL;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_sha256_batch_new(&b, engines[e], &err), 0);
		uint8_t out[3 * 32];
		cr_assert_eq(sd_sha256_batch_run(b, msgs, 5, 3, 3, out, &err),
			     0);
		for (int i = 0; i < 3; i++) {
			char hex[65];
			sd_hex_encode(out + 32 * i, 32, hex);
			cr_assert_str_eq(hex, want, "%s",
					 sd_sha256_batch_engine(b));
		}
		sd_sha256_batch_free(b);
	}
}

Test(sha256_batch, engine_names)
{
	struct sd_sha256_batch *b = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_sha256_batch_new(&b, SD_SHA256_OPENSSL, &err), 0);
	cr_assert_str_eq(sd_sha256_batch_engine(b), "openssl");
	sd_sha256_batch_free(b);
	cr_assert_eq(sd_sha256_batch_new(&b, SD_SHA256_AUTO, &err), 0);
#ifdef SD_HAVE_IPSEC_MB
	/* Every x86_64 CPU has a manager (SSE at least). */
	cr_assert(!strncmp(sd_sha256_batch_engine(b), "intel-ipsec-mb ", 15),
		  "AUTO runs on %s", sd_sha256_batch_engine(b));
#else
	cr_assert_str_eq(sd_sha256_batch_engine(b), "openssl");
#endif
	cr_log_info("AUTO engine: %s", sd_sha256_batch_engine(b));
	sd_sha256_batch_free(b);
}
