/* SPDX-License-Identifier: MIT */
/*
 * zcomp_lz4.c — lz4 and lz4hc fixed-output compression (see zcomp.h).
 *
 * lz4: LZ4_compress_destSize (a fresh state on every call), or where
 * liblz4's fast compressor does not write the reference bytes
 * (sd_lz4fast_needed(): big-endian or 32-bit hosts) our
 * sd_lz4fast_compress_destsize, which writes liblz4 1.9.4's x86_64 bytes
 * on every host (formats/codec/lz4fast.h).
 * lz4hc: one LZ4_streamHC_t per compressor, started with
 * LZ4_resetStreamHC_fast before every pcluster so that each pcluster is an
 * independent block.  A fast reset does not clear the 256 KiB match
 * tables; it moves the stream's index base past everything seen before, so
 * stale entries lie below the new window and are never used: the output
 * equals that of a freshly initialised state (mkfs.erofs pays a full
 * LZ4_initStreamHC, i.e. a 256 KiB memset, per pcluster).
 */
#include "formats/erofs/zcomp.h"

#include <limits.h>
#include <stdlib.h>

#include <lz4.h>
#include <lz4hc.h>

#include "formats/codec/lz4fast.h"

static void *lz4_create(const struct ez_config *cfg)
{
	static int token;

	(void)cfg;
	return &token; /* stateless */
}

static long lz4_destsize(void *state, const struct ez_config *cfg,
			 const uint8_t *src, size_t *srclen, uint8_t *dst,
			 size_t dstcap)
{
	int in = *srclen > INT_MAX / 2 ? INT_MAX / 2 : (int)*srclen;
	int n;

	(void)state;
	(void)cfg;
	if (sd_lz4fast_needed())
		n = sd_lz4fast_compress_destsize(src, dst, &in, (int)dstcap);
	else
		n = LZ4_compress_destSize((const char *)src, (char *)dst, &in,
					  (int)dstcap);
	if (n <= 0)
		return 0;
	*srclen = (size_t)in;
	return n;
}

static void lz4_destroy(void *state)
{
	(void)state;
}

const struct ez_backend ez_backend_lz4 = {
	.create = lz4_create,
	.destsize = lz4_destsize,
	.destroy = lz4_destroy,
	.library = "lz4",
	.version = LZ4_versionString,
};

static void *lz4hc_create(const struct ez_config *cfg)
{
	(void)cfg;
	return LZ4_createStreamHC(); /* allocated and initialised */
}

static long lz4hc_destsize(void *state, const struct ez_config *cfg,
			   const uint8_t *src, size_t *srclen, uint8_t *dst,
			   size_t dstcap)
{
	LZ4_streamHC_t *s = state;
	int in = *srclen > INT_MAX / 2 ? INT_MAX / 2 : (int)*srclen;
	int n;

	LZ4_resetStreamHC_fast(s, cfg->level);
	n = LZ4_compress_HC_continue_destSize(s, (const char *)src, (char *)dst,
					      &in, (int)dstcap);
	if (n <= 0)
		return 0;
	*srclen = (size_t)in;
	return n;
}

static void lz4hc_destroy(void *state)
{
	LZ4_freeStreamHC(state);
}

const struct ez_backend ez_backend_lz4hc = {
	.create = lz4hc_create,
	.destsize = lz4hc_destsize,
	.destroy = lz4hc_destroy,
	.library = "lz4",
	.version = LZ4_versionString,
};
