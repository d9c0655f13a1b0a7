/* SPDX-License-Identifier: MIT */
/*
 * zcomp_zstd.c — zstd pclusters (see zcomp.h).
 *
 * What the kernel expects (fs/erofs/decompressor_zstd.c): a pcluster holds
 * one zstd frame, right-aligned (zero padding in front); it is decoded
 * with a window of at most 1 << (windowlog + 10) bytes from the
 * superblock's zstd record, until the extent's length is produced.  So the
 * encoder's windowLog is fixed to log2(cfg->dict_size); a frame whose
 * content is larger than the window carries a window descriptor instead
 * of a single-segment header, so it never needs a larger window.
 *
 * zstd has no fixed-output mode, so the input prefix is searched: each
 * attempt compresses a prefix into a scratch buffer twice the pcluster,
 * and the next prefix length is scaled by target / compressed size,
 * clamped between the longest prefix known to fit and the shortest known
 * not to.  The search stops when a frame fills at least 31/32 of the
 * pcluster, takes the whole input, or after MAX_TRIES attempts (keeping
 * the best fit).  Every step depends only on the input, so the result is
 * deterministic.
 */
#include "formats/erofs/zcomp.h"

#include <stdlib.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>

#define MAX_TRIES 12

struct zstd_state {
	ZSTD_CCtx *cctx;
	uint8_t *scratch;
	size_t scratch_cap;
};

static unsigned log2u(uint32_t v)
{
	unsigned n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static void *zstd_create(const struct ez_config *cfg)
{
	struct zstd_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cctx = ZSTD_createCCtx();
	s->scratch_cap = 2 * (size_t)cfg->pcluster + 1024;
	s->scratch = malloc(s->scratch_cap);
	if (!s->cctx || !s->scratch ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(
		    s->cctx, ZSTD_c_compressionLevel, cfg->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_windowLog,
						(int)log2u(cfg->dict_size))) ||
	    ZSTD_isError(
		    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 0))) {
		ZSTD_freeCCtx(s->cctx);
		free(s->scratch);
		free(s);
		return NULL;
	}
	return s;
}

static long zstd_destsize(void *state, const struct ez_config *cfg,
			  const uint8_t *src, size_t *srclen, uint8_t *dst,
			  size_t dstcap)
{
	struct zstd_state *s = state;
	size_t total = *srclen, lo = 0, lo_c = 0, hi = total + 1;
	size_t target = dstcap - dstcap / 64;
	size_t m = total < 3 * dstcap ? total : 3 * dstcap;
	size_t cap = dstcap * 2 + 512;

	(void)cfg;
	if (cap > s->scratch_cap)
		cap = s->scratch_cap;
	for (int tries = 0; tries < MAX_TRIES && lo + 1 < hi; tries++) {
		size_t c = ZSTD_compress2(s->cctx, s->scratch, cap, src, m);
		size_t next;

		if (ZSTD_isError(c)) {
			if (ZSTD_getErrorCode(c) != ZSTD_error_dstSize_tooSmall)
				return -1;
			c = cap + 1;
		}
		if (c <= dstcap) {
			memcpy(dst, s->scratch, c);
			lo = m;
			lo_c = c;
			if (m == total || c >= dstcap - dstcap / 32)
				break;
		} else {
			hi = m;
		}
		/* scale towards the target, stay strictly inside (lo, hi) */
		next = (size_t)((double)m * (double)target / (double)c);
		if (next <= lo)
			next = lo + (hi - lo) / 2;
		if (next >= hi)
			next = lo + (hi - lo) / 2;
		if (next <= lo)
			break;
		m = next;
	}
	if (!lo_c)
		return 0;
	*srclen = lo; /* dst holds the frame of the longest fit */
	return (long)lo_c;
}

static void zstd_destroy(void *state)
{
	struct zstd_state *s = state;

	if (!s)
		return;
	ZSTD_freeCCtx(s->cctx);
	free(s->scratch);
	free(s);
}

const struct ez_backend ez_backend_zstd = {
	.create = zstd_create,
	.destsize = zstd_destsize,
	.destroy = zstd_destroy,
	.library = "zstd",
	.version = ZSTD_versionString,
};
