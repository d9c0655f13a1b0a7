/* SPDX-License-Identifier: MIT */
/*
 * formats/codec/lz4fast.h against liblz4 (1.9.4 on Debian 12): on a host
 * where liblz4 writes the reference bytes (64-bit little-endian), every
 * input below gives the same return value, the same output bytes and the
 * same consumed input size from sd_lz4fast_compress_default as from
 * LZ4_compress_default (capacity = bound, = the exact compressed size, one
 * less, one more, half, and small values) and from
 * sd_lz4fast_compress_destsize as from LZ4_compress_destSize (targets 1 to
 * 64, 4096, 8192, 65536, the bound and one less).  Inputs: empty, 1 to 20
 * bytes, zeros, random, text, periodic data with periods 1 to 70000, the
 * 64 KiB table limit (65546..65548 bytes), 128 KiB and 1 MiB mixes, and
 * many short random mixes, all from a seeded PRNG; for 150 short mixes,
 * every capacity and target from 0 to the bound.  Every block also
 * decompresses (LZ4_decompress_safe) to its input, and lz4fast never
 * writes past the capacity (exactly sized heap buffers, under ASan).
 * Elsewhere (liblz4 is not the reference there) only the round trips and
 * the bounds are checked.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "formats/codec/lz4fast.h"

/* liblz4 is the reference on 64-bit little-endian hosts. */
static bool host_is_reference(void)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
	UINTPTR_MAX > 0xffffffff
	return LZ4_versionNumber() == 10904;
#else
	return false;
#endif
}

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s ? s : 0x9E3779B97F4A7C15ULL;
}

/* xorshift64* */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static const char *const words[] = {
	"the ",     "store ", "path ",     "nix ",    "/nix/store/",
	"lib",      ".so.6",  "squashfs ", "erofs ",  "image ",
	"block ",   "\n",     "\t",        "0123456", "abcdefghij",
	"closure ", "hash ",  "sha256-",   "{",       "}\n",
};

static void fill_text(uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *w =
			words[rng_below(sizeof(words) / sizeof(words[0]))];
		size_t l = strlen(w);

		if (l > n - i)
			l = n - i;
		memcpy(p + i, w, l);
		i += l;
	}
}

/* Segments of random bytes, zero runs, text, low-entropy bytes and copies
 * of earlier data at near and far distances. */
static void fill_mix(uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t len = 1 + rng_below(rng_below(4) == 0 ? 4000 : 300);

		if (len > n - i)
			len = n - i;
		switch (rng_below(6)) {
		case 0:
			for (size_t k = 0; k < len; k++)
				p[i + k] = (uint8_t)rng();
			break;
		case 1:
			memset(p + i, rng_below(3) ? 0 : (int)rng_below(256),
			       len);
			break;
		case 2: fill_text(p + i, len); break;
		case 3:
			for (size_t k = 0; k < len; k++)
				p[i + k] = (uint8_t)('a' + rng_below(4));
			break;
		default:
			if (i == 0) {
				memset(p, 7, len);
			} else {
				size_t back =
					1 + rng_below(i < 100000 ? i : 100000);

				for (size_t k = 0; k < len; k++)
					p[i + k] = p[i + k - back];
			}
			break;
		}
		i += len;
	}
}

static size_t cases; /* comparisons made, for the log */

static uint8_t *alloc_exact(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	cr_assert(p);
	return p;
}

static void check_roundtrip(const uint8_t *src, size_t n, const uint8_t *blk,
			    int blen, const char *what)
{
	uint8_t *back = alloc_exact(n);
	int got = LZ4_decompress_safe((const char *)blk, (char *)back, blen,
				      (int)n);

	cr_assert_eq(got, (int)n, "%s: decompresses to %d bytes, not %zu", what,
		     got, n);
	cr_assert(n == 0 || memcmp(back, src, n) == 0,
		  "%s: decompresses to other bytes", what);
	free(back);
}

/* Both LZ4_compress_default calls with capacity @cap; returns the size. */
static int compare_default(const uint8_t *src, int n, int cap, const char *name)
{
	char what[160];
	size_t bufsize = cap > 0 ? (size_t)cap : 0;
	uint8_t *ours = alloc_exact(bufsize);
	int r_ours = sd_lz4fast_compress_default(src, ours, n, cap);

	snprintf(what, sizeof(what), "%s: default n=%d cap=%d", name, n, cap);
	if (host_is_reference()) {
		uint8_t *ref = alloc_exact(bufsize);
		int r_ref = LZ4_compress_default((const char *)src, (char *)ref,
						 n, cap);

		cr_assert_eq(r_ours, r_ref, "%s: returns %d, liblz4 %d", what,
			     r_ours, r_ref);
		cr_assert(r_ref <= 0 || memcmp(ours, ref, (size_t)r_ref) == 0,
			  "%s: other bytes than liblz4", what);
		free(ref);
	}
	cr_assert(r_ours >= 0 && r_ours <= (cap > 0 ? cap : 0), "%s: %d", what,
		  r_ours);
	if (r_ours > 0)
		check_roundtrip(src, (size_t)n, ours, r_ours, what);
	else
		cr_assert(cap < sd_lz4fast_bound(n), "%s: failed", what);
	free(ours);
	cases++;
	return r_ours;
}

static void compare_destsize(const uint8_t *src, int n, int target,
			     const char *name)
{
	char what[160];
	size_t bufsize = target > 0 ? (size_t)target : 0;
	uint8_t *ours = alloc_exact(bufsize);
	int in_ours = n;
	int r_ours = sd_lz4fast_compress_destsize(src, ours, &in_ours, target);

	snprintf(what, sizeof(what), "%s: destSize n=%d target=%d", name, n,
		 target);
	if (host_is_reference()) {
		uint8_t *ref = alloc_exact(bufsize);
		int in_ref = n;
		int r_ref = LZ4_compress_destSize((const char *)src,
						  (char *)ref, &in_ref, target);

		cr_assert_eq(r_ours, r_ref, "%s: returns %d, liblz4 %d", what,
			     r_ours, r_ref);
		cr_assert_eq(in_ours, in_ref, "%s: consumed %d, liblz4 %d",
			     what, in_ours, in_ref);
		cr_assert(r_ref <= 0 || memcmp(ours, ref, (size_t)r_ref) == 0,
			  "%s: other bytes than liblz4", what);
		free(ref);
	}
	cr_assert(r_ours >= 0 && r_ours <= (target > 0 ? target : 0), "%s",
		  what);
	cr_assert(in_ours >= 0 && in_ours <= n, "%s", what);
	if (r_ours > 0)
		check_roundtrip(src, (size_t)in_ours, ours, r_ours, what);
	free(ours);
	cases++;
}

/* Every capacity and target of the file comment for one input. */
static void compare_all(const uint8_t *src, size_t len, const char *name)
{
	int n = (int)len;
	int bound = sd_lz4fast_bound(n);
	int exact;
	static const int small_caps[] = {0, 1, 2, 5, 13, 16, 17, 100};
	static const int targets[] = {4096, 8192, 65536};

	cr_assert_eq(bound, LZ4_compressBound(n));
	exact = compare_default(src, n, bound, name);
	cr_assert_gt(exact, 0, "%s: n=%d", name, n);
	compare_default(src, n, exact, name);
	compare_default(src, n, exact - 1, name);
	compare_default(src, n, exact + 1, name);
	compare_default(src, n, exact / 2, name);
	compare_default(src, n, bound - 1, name);
	for (size_t i = 0; i < sizeof(small_caps) / sizeof(small_caps[0]); i++)
		compare_default(src, n, small_caps[i], name);
	for (int t = 1; t <= 64; t++)
		compare_destsize(src, n, t, name);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		compare_destsize(src, n, targets[i], name);
	compare_destsize(src, n, exact, name);
	compare_destsize(src, n, exact - 1, name);
	compare_destsize(src, n, bound, name);
	compare_destsize(src, n, bound - 1, name);
	compare_destsize(src, n, 0, name);
}

Test(lz4fast, reference_host)
{
	if (!host_is_reference())
		cr_skip_test("liblz4 %s on this host is not the reference "
			     "(only round trips are checked)",
			     LZ4_versionString());
	cr_assert(!sd_lz4fast_needed() || getenv("SD_LZ4FAST_FORCED"),
		  "a reference host must keep liblz4");
}

Test(lz4fast, tiny_inputs)
{
	uint8_t buf[32] = {0};

	rng_seed(1);
	compare_all(buf, 0, "empty");
	for (size_t n = 1; n <= 20; n++) {
		for (int kind = 0; kind < 3; kind++) {
			if (kind == 0)
				memset(buf, 0, n);
			else if (kind == 1)
				fill_text(buf, n);
			else
				for (size_t i = 0; i < n; i++)
					buf[i] = (uint8_t)rng();
			compare_all(buf, n, "tiny");
		}
	}
}

Test(lz4fast, uniform_inputs)
{
	static const size_t sizes[] = {13,    64,    4096,  65535,
				       65546, 65547, 65548, 200000};

	rng_seed(2);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = alloc_exact(sizes[i]);

		memset(p, 0, sizes[i]);
		compare_all(p, sizes[i], "zeros");
		for (size_t k = 0; k < sizes[i]; k++)
			p[k] = (uint8_t)rng();
		compare_all(p, sizes[i], "random");
		fill_text(p, sizes[i]);
		compare_all(p, sizes[i], "text");
		free(p);
	}
}

Test(lz4fast, periodic_inputs)
{
	static const size_t periods[] = {1,     2,     3,     4,    5,    6,
					 7,     8,     9,     11,   12,   13,
					 15,    16,    17,    31,   64,   70,
					 255,   256,   1000,  4095, 4096, 65534,
					 65535, 65536, 65537, 70000};

	rng_seed(3);
	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		size_t per = periods[i];
		size_t n = per * 3 + rng_below(100);
		uint8_t *p;

		if (n > 3 * 65536)
			n = 3 * 65536 + rng_below(1000);
		p = alloc_exact(n);
		/* half random, half one letter; then all random (its only
		 * matches are a period back: 65535 is the longest
		 * distance, 65536 one too long) */
		for (int variant = 0; variant < 2; variant++) {
			for (size_t k = 0; k < per && k < n; k++)
				p[k] = (uint8_t)(variant || rng_below(2) ? rng()
									 : 'x');
			for (size_t k = per; k < n; k++)
				p[k] = p[k - per];
			compare_all(p, n, "periodic");
			/* a short one too (the small table) */
			if (n > 60000)
				compare_all(p, 60000, "periodic-short");
		}
		free(p);
	}
}

Test(lz4fast, table_limit_edge)
{
	rng_seed(4);
	for (size_t n = 65546; n <= 65548; n++) {
		for (int rep = 0; rep < 3; rep++) {
			uint8_t *p = alloc_exact(n);

			fill_mix(p, n);
			compare_all(p, n, "64k-edge");
			free(p);
		}
	}
}

Test(lz4fast, large_inputs)
{
	static const size_t sizes[] = {128 * 1024, 128 * 1024, 1024 * 1024};

	rng_seed(5);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = alloc_exact(sizes[i]);

		fill_mix(p, sizes[i]);
		compare_all(p, sizes[i], "large");
		free(p);
	}
}

Test(lz4fast, many_short_mixes)
{
	size_t before = cases;

	rng_seed(6);
	for (int rep = 0; rep < 2000; rep++) {
		size_t n = 1 + rng_below(rng_below(3) ? 2000 : 20000);
		uint8_t *p = alloc_exact(n);

		fill_mix(p, n);
		compare_all(p, n, "mix");
		free(p);
	}
	cr_log_info("%zu comparisons", cases - before);
}

/* Back-to-back copies from exactly 65535 and 65536 bytes back and from
 * close by, with few literals between: the byU32 table's distance limit
 * is met both in the search and right after a match. */
Test(lz4fast, far_matches)
{
	rng_seed(8);
	for (int rep = 0; rep < 6; rep++) {
		size_t n = 140000 + rng_below(70000);
		uint8_t *p = alloc_exact(n);
		size_t i = 0;

		while (i < n) {
			size_t len = 4 + rng_below(40);
			size_t kind = rng_below(6);
			size_t back = kind == 0   ? 65535
				      : kind == 1 ? 65536
				      : kind == 2 ? 65534
						  : 1 + rng_below(64);

			if (len > n - i)
				len = n - i;
			if (kind == 5 || back > i) {
				for (size_t k = 0; k < len && k < 3; k++)
					p[i + k] = (uint8_t)rng();
				len = len < 3 ? len : 1 + rng_below(3);
				if (back > i && kind != 5)
					len = len < n - i ? len : n - i;
			} else {
				for (size_t k = 0; k < len; k++)
					p[i + k] = p[i + k - back];
			}
			i += len;
		}
		compare_all(p, n, "far");
		free(p);
	}
}

/* Every capacity and target from 0 to the bound, for short inputs: each
 * of liblz4's margins is met exactly somewhere. */
Test(lz4fast, capacity_sweep)
{
	rng_seed(7);
	for (int rep = 0; rep < 150; rep++) {
		size_t n = 1 + rng_below(400);
		uint8_t *p = alloc_exact(n);
		int bound = sd_lz4fast_bound((int)n);

		fill_mix(p, n);
		for (int cap = 0; cap <= bound; cap++) {
			compare_default(p, (int)n, cap, "sweep");
			compare_destsize(p, (int)n, cap, "sweep");
		}
		free(p);
	}
}

Test(lz4fast, bad_arguments)
{
	uint8_t src[16] = {0}, dst[64];
	int n = -1;

	cr_assert_eq(sd_lz4fast_compress_default(src, dst, -1, 64), 0);
	cr_assert_eq(sd_lz4fast_compress_default(src, dst, 16, -5), 0);
	cr_assert_eq(sd_lz4fast_compress_destsize(src, dst, &n, 64), 0);
	cr_assert_eq(n, -1);
	n = 16;
	cr_assert_eq(sd_lz4fast_compress_destsize(src, dst, &n, -1), 0);
	cr_assert_eq(n, 16);
	cr_assert_eq(sd_lz4fast_bound(SD_LZ4FAST_MAX_INPUT + 1), 0);
	cr_assert_eq(sd_lz4fast_bound(-1), 0);
}
