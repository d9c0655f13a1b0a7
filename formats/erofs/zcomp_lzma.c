/* SPDX-License-Identifier: MIT */
/*
 * zcomp_lzma.c — microLZMA fixed-output compression (see zcomp.h).
 *
 * liblzma's microLZMA encoder is fixed-output by design: with LZMA_FINISH
 * it encodes as much input as fits into the output buffer and reports the
 * amount consumed in total_in.  The kernel decodes it with the
 * configured dictionary size, so the encoder uses exactly cfg->dict_size
 * (written to the superblock's lzma configuration record).  One
 * lzma_stream per compressor is re-initialised for every pcluster
 * (liblzma reuses its allocations).
 */
#include "formats/erofs/zcomp.h"

#include <stdlib.h>

#include <lzma.h>

struct lzma_state {
	lzma_stream strm;
	lzma_options_lzma opt;
};

static void *lzma_create(const struct ez_config *cfg)
{
	struct lzma_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->strm = (lzma_stream)LZMA_STREAM_INIT;
	if (lzma_lzma_preset(&s->opt, (uint32_t)cfg->level)) {
		free(s);
		return NULL;
	}
	s->opt.dict_size = cfg->dict_size;
	return s;
}

static long lzma_destsize(void *state, const struct ez_config *cfg,
			  const uint8_t *src, size_t *srclen, uint8_t *dst,
			  size_t dstcap)
{
	struct lzma_state *s = state;
	lzma_ret r;

	(void)cfg;
	if (lzma_microlzma_encoder(&s->strm, &s->opt) != LZMA_OK)
		return -1;
	s->strm.next_in = src;
	s->strm.avail_in = *srclen;
	s->strm.next_out = dst;
	s->strm.avail_out = dstcap;
	r = lzma_code(&s->strm, LZMA_FINISH);
	if (r != LZMA_STREAM_END && r != LZMA_OK)
		return r == LZMA_MEM_ERROR ? -1 : 0;
	*srclen -= s->strm.avail_in;
	return (long)(dstcap - s->strm.avail_out);
}

static void lzma_destroy(void *state)
{
	struct lzma_state *s = state;

	if (!s)
		return;
	lzma_end(&s->strm);
	free(s);
}

const struct ez_backend ez_backend_lzma = {
	.create = lzma_create,
	.destsize = lzma_destsize,
	.destroy = lzma_destroy,
	.library = "liblzma",
	.version = lzma_version_string,
};
