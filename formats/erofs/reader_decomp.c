/* SPDX-License-Identifier: MIT */
/*
 * reader_decomp.c — decoding one EROFS pcluster: lz4 (liblz4), microLZMA
 * (liblzma), raw deflate (zlib) and zstd (libzstd) (see reader_int.h).
 *
 * Each decoder must produce exactly the extent's length; a pcluster may
 * hold more (partial references), so decoding stops there.
 */
#include "formats/erofs/reader_int.h"

#include <limits.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "formats/erofs/erofs_disk.h"

static int lz4(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
	       const char **why)
{
	if (inlen > INT_MAX || outlen > INT_MAX) {
		*why = "lz4 pcluster too large";
		return -1;
	}
	int n = LZ4_decompress_safe_partial((const char *)in, (char *)out,
					    (int)inlen, (int)outlen,
					    (int)outlen);
	if (n < 0 || (size_t)n != outlen) {
		*why = "lz4 data corrupt";
		return -1;
	}
	return 0;
}

static int microlzma(const uint8_t *in, size_t inlen, uint8_t *out,
		     size_t outlen, const char **why)
{
	lzma_stream s = LZMA_STREAM_INIT;
	/* matches reach back at most outlen bytes */
	uint32_t dict = outlen < 4096 ? 4096 : (uint32_t)outlen;

	if (lzma_microlzma_decoder(&s, inlen, outlen, false, dict) != LZMA_OK) {
		*why = "cannot start the microLZMA decoder";
		return -1;
	}
	s.next_in = in;
	s.avail_in = inlen;
	s.next_out = out;
	s.avail_out = outlen;
	lzma_ret r = LZMA_OK;
	while (s.avail_out > 0 && r == LZMA_OK) {
		size_t before = s.avail_in + s.avail_out;
		r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_OK && s.avail_in + s.avail_out == before)
			break; /* no progress */
	}
	size_t produced = outlen - s.avail_out;
	lzma_end(&s);
	if (produced != outlen || (r != LZMA_OK && r != LZMA_STREAM_END)) {
		*why = "microLZMA data corrupt";
		return -1;
	}
	return 0;
}

static int deflate_raw(const uint8_t *in, size_t inlen, uint8_t *out,
		       size_t outlen, const char **why)
{
	z_stream s;

	memset(&s, 0, sizeof(s));
	if (inlen > UINT_MAX || outlen > UINT_MAX ||
	    inflateInit2(&s, -15) != Z_OK) {
		*why = "cannot start the deflate decoder";
		return -1;
	}
	s.next_in = (Bytef *)(uintptr_t)in;
	s.avail_in = (uInt)inlen;
	s.next_out = out;
	s.avail_out = (uInt)outlen;
	int r = Z_OK;
	while (s.avail_out > 0 && r == Z_OK)
		r = inflate(&s, Z_SYNC_FLUSH);
	size_t produced = outlen - s.avail_out;
	inflateEnd(&s);
	if (produced != outlen) {
		*why = "deflate data corrupt";
		return -1;
	}
	return 0;
}

static int zstd(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
		const char **why)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = {in, inlen, 0};
	ZSTD_outBuffer ob = {out, outlen, 0};
	int ret = 0;

	if (!d) {
		*why = "cannot start the zstd decoder";
		return -1;
	}
	/* bounded: each call consumes input or fills output, else stop */
	while (ob.pos < ob.size) {
		size_t ipos = ib.pos, opos = ob.pos;
		size_t r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r) || (r == 0 && ob.pos < ob.size) ||
		    (ib.pos == ipos && ob.pos == opos)) {
			ret = -1;
			break;
		}
	}
	ZSTD_freeDCtx(d);
	if (ret)
		*why = "zstd data corrupt";
	return ret;
}

int sd_erofs_decompress(unsigned alg, const uint8_t *in, size_t inlen,
			uint8_t *out, size_t outlen, bool zero_padding,
			uint32_t blksz, const char **why)
{
	if (zero_padding || alg != Z_EROFS_COMPRESSION_LZ4) {
		size_t lim = inlen < blksz ? inlen : blksz;
		size_t skip = 0;
		while (skip < lim && in[skip] == 0)
			skip++;
		if (skip == lim) {
			*why = "pcluster is all padding";
			return -1;
		}
		in += skip;
		inlen -= skip;
	}
	switch (alg) {
	case Z_EROFS_COMPRESSION_LZ4: return lz4(in, inlen, out, outlen, why);
	case Z_EROFS_COMPRESSION_LZMA:
		return microlzma(in, inlen, out, outlen, why);
	case Z_EROFS_COMPRESSION_DEFLATE:
		return deflate_raw(in, inlen, out, outlen, why);
	case Z_EROFS_COMPRESSION_ZSTD: return zstd(in, inlen, out, outlen, why);
	default: *why = "unknown compression algorithm"; return -1;
	}
}
