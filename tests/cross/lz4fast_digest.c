/* SPDX-License-Identifier: MIT */
/*
 * lz4fast_digest.c — one line per compression of a fixed set of inputs
 * (return value, consumed size, FNV-1a 64 of the block), for
 * test-lz4fast.sh: built natively against liblz4 (-DSD_LZ4_REFERENCE, the
 * reference bytes on x86_64) and for another architecture against
 * formats/codec/lz4fast.c (run under qemu-user), the two outputs must be
 * the same text.  No library but libc (and liblz4 for the reference), so
 * the cross build needs only the cross compiler.
 *
 * Inputs, from a seeded xorshift64*: sizes 0 to 20, short random mixes
 * (literals, zero runs, text, near and far copies), periodic data,
 * 65546..65548 bytes (the byU16/byU32 table edge), 128 KiB and 1 MiB.
 * Calls: LZ4_compress_default with capacity = bound, exact, exact - 1,
 * exact / 2, 4096; LZ4_compress_destSize with targets 1, 16, 64, 4096,
 * 65536 and exact - 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SD_LZ4_REFERENCE
#include <lz4.h>
#define BOUND(n) LZ4_compressBound(n)
#define DEFAULT(s, d, n, c) \
	LZ4_compress_default((const char *)(s), (char *)(d), n, c)
#define DESTSIZE(s, d, np, t) \
	LZ4_compress_destSize((const char *)(s), (char *)(d), np, t)
#else
#include "formats/codec/lz4fast.h"
#define BOUND(n) sd_lz4fast_bound(n)
#define DEFAULT(s, d, n, c) sd_lz4fast_compress_default(s, d, n, c)
#define DESTSIZE(s, d, np, t) sd_lz4fast_compress_destsize(s, d, np, t)
#endif

static uint64_t state = 0x243F6A8885A308D3ULL;

static uint64_t next(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ULL;
}

static size_t below(size_t n)
{
	return n ? (size_t)(next() % n) : 0;
}

static void mix(uint8_t *p, size_t n)
{
	static const char text[] = "/nix/store/ lib .so.6 squashfs erofs\n";
	size_t i = 0;

	while (i < n) {
		size_t len = 1 + below(below(4) ? 200 : 3000);

		if (len > n - i)
			len = n - i;
		switch (below(5)) {
		case 0:
			for (size_t k = 0; k < len; k++)
				p[i + k] = (uint8_t)next();
			break;
		case 1: memset(p + i, 0, len); break;
		case 2:
			for (size_t k = 0; k < len; k++)
				p[i + k] = (uint8_t)
					text[(i + k) % (sizeof(text) - 1)];
			break;
		default: {
			/* a copy from up to 90000 bytes back */
			size_t back = 1 + below(i < 90000 ? i : 90000);

			for (size_t k = 0; k < len; k++)
				p[i + k] = i + k >= back ? p[i + k - back]
							 : (uint8_t)next();
			break;
		}
		}
		i += len;
	}
}

static uint64_t fnv(const uint8_t *p, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static uint8_t *out;

static void run(const char *name, const uint8_t *src, int n)
{
	int bound = BOUND(n);
	int exact = DEFAULT(src, out, n, bound);
	const int caps[] = {bound, exact, exact - 1, exact / 2, 4096};
	const int targets[] = {1, 16, 64, 4096, 65536, exact - 1};

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int r = DEFAULT(src, out, n, caps[i]);

		printf("%s n=%d default cap=%d: %d %016llx\n", name, n, caps[i],
		       r, (unsigned long long)fnv(out, r > 0 ? r : 0));
	}
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		int in = n;
		int r = DESTSIZE(src, out, &in, targets[i]);

		printf("%s n=%d destSize target=%d: %d in=%d %016llx\n", name,
		       n, targets[i], r, in,
		       (unsigned long long)fnv(out, r > 0 ? r : 0));
	}
}

int main(void)
{
	size_t max = 1024 * 1024;
	uint8_t *buf = malloc(max);

	out = malloc((size_t)BOUND((int)max));
	if (!buf || !out)
		return 1;
	for (int n = 0; n <= 20; n++) {
		mix(buf, (size_t)n);
		run("tiny", buf, n);
	}
	for (int rep = 0; rep < 200; rep++) {
		size_t n = 1 + below(below(4) ? 3000 : 40000);

		mix(buf, n);
		run("mix", buf, (int)n);
	}
	for (size_t per = 1; per < 70000; per = per * 3 + below(3)) {
		size_t n = per * 3 + below(50);

		if (n > max)
			n = max;
		for (size_t k = 0; k < n; k++)
			buf[k] = k < per ? (uint8_t)next() : buf[k - per];
		run("periodic", buf, (int)n);
	}
	for (int n = 65546; n <= 65548; n++) {
		mix(buf, (size_t)n);
		run("edge", buf, n);
	}
	mix(buf, 128 * 1024);
	run("128k", buf, 128 * 1024);
	mix(buf, max);
	run("1m", buf, (int)max);
	free(buf);
	free(out);
	return 0;
}
