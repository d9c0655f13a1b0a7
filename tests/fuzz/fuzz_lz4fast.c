/* SPDX-License-Identifier: MIT */
/*
 * fuzz_lz4fast.c — differential fuzz target for formats/codec/lz4fast.h:
 * the input is compressed by lz4fast and by liblz4 (the reference on a
 * 64-bit little-endian host with liblz4 1.9.4), LZ4_compress_default with
 * several capacities and LZ4_compress_destSize with several targets, and
 * any difference in return value, output bytes or consumed size aborts.
 * Every block must also decompress to its input, on any host.
 *
 * Input layout: byte 0 selects the shape — bit 0: tile the rest to
 * 65546 + (byte 1) bytes or to 128 KiB (bit 1), so short inputs reach
 * the byU32 table and its 64 KiB edge, each tile's first byte changed so
 * that the copies are not exact; bytes 1-2: a capacity and a target
 * (little-endian 16-bit); the rest: the data.
 */
#include <lz4.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/codec/lz4fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool reference_host(void)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
	UINTPTR_MAX > 0xffffffff
	return LZ4_versionNumber() == 10904;
#else
	return false;
#endif
}

static void roundtrip(const uint8_t *src, int n, const uint8_t *blk, int len)
{
	uint8_t *back = malloc(n > 0 ? (size_t)n : 1);

	if (!back)
		abort();
	if (LZ4_decompress_safe((const char *)blk, (char *)back, len, n) != n ||
	    (n > 0 && memcmp(back, src, (size_t)n) != 0))
		abort();
	free(back);
}

static int check_default(const uint8_t *src, int n, int cap)
{
	size_t sz = cap > 0 ? (size_t)cap : 1;
	uint8_t *a = malloc(sz), *b = malloc(sz);
	int ra, rb;

	if (!a || !b)
		abort();
	ra = sd_lz4fast_compress_default(src, a, n, cap);
	if (reference_host()) {
		rb = LZ4_compress_default((const char *)src, (char *)b, n, cap);
		if (ra != rb || (ra > 0 && memcmp(a, b, (size_t)ra) != 0))
			abort();
	}
	if (ra < 0 || (ra > 0 && ra > cap))
		abort();
	if (ra > 0)
		roundtrip(src, n, a, ra);
	free(a);
	free(b);
	return ra;
}

static void check_destsize(const uint8_t *src, int n, int target)
{
	size_t sz = target > 0 ? (size_t)target : 1;
	uint8_t *a = malloc(sz), *b = malloc(sz);
	int na = n, nb = n, ra, rb;

	if (!a || !b)
		abort();
	ra = sd_lz4fast_compress_destsize(src, a, &na, target);
	if (reference_host()) {
		rb = LZ4_compress_destSize((const char *)src, (char *)b, &nb,
					   target);
		if (ra != rb || na != nb ||
		    (ra > 0 && memcmp(a, b, (size_t)ra) != 0))
			abort();
	}
	if (ra < 0 || (ra > 0 && ra > target) || na < 0 || na > n)
		abort();
	if (ra > 0)
		roundtrip(src, na, a, ra);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *src;
	uint8_t *tiled = NULL;
	size_t n;
	unsigned shape, knob;
	int bound, exact;

	if (size < 3 || size > 1024 * 1024)
		return 0;
	shape = data[0];
	knob = (unsigned)data[1] | (unsigned)data[2] << 8;
	src = data + 3;
	n = size - 3;
	if ((shape & 1) && n > 0) {
		size_t want = shape & 2 ? 128 * 1024 : 65546 + data[1] % 4;

		tiled = malloc(want);
		if (!tiled)
			abort();
		for (size_t i = 0; i < want; i += n) {
			size_t l = want - i < n ? want - i : n;

			memcpy(tiled + i, src, l);
			tiled[i] ^= (uint8_t)(i / n);
		}
		src = tiled;
		n = want;
	}

	bound = sd_lz4fast_bound((int)n);
	if (bound != LZ4_compressBound((int)n))
		abort();
	exact = check_default(src, (int)n, bound);
	check_default(src, (int)n, exact);
	check_default(src, (int)n, exact - 1);
	check_default(src, (int)n, (int)(knob % (unsigned)(bound + 1)));
	check_destsize(src, (int)n, (int)(knob % (unsigned)(bound + 1)));
	check_destsize(src, (int)n, 1 + (int)(knob % 64));
	check_destsize(src, (int)n, 4096);
	check_destsize(src, (int)n, exact);
	check_destsize(src, (int)n, exact - 1);
	free(tiled);
	return 0;
}
