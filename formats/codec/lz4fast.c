/* SPDX-License-Identifier: MIT */
/*
 * lz4fast.c — liblz4 1.9.4's fast block compressor, host-independent (see
 * lz4fast.h for why and for the source followed).
 *
 * The LZ4 block format (doc/lz4_Block_format.md): sequences of a token
 * (high nibble literal count, low nibble match length - 4, 15 meaning
 * "more in 255-bytes"), the literals, a little-endian 16-bit match
 * offset; the last sequence has literals only.  The last 5 bytes are
 * always literals and no match starts within the last 12 bytes.
 *
 * The match finder, as liblz4 runs it with a fresh state:
 *  - every position it visits is hashed and stored in the table; the
 *    position the table held is the one candidate, taken when its first
 *    4 bytes equal the current ones (and, with the byU32 table, it is at
 *    most 65535 bytes back; an empty slot reads as position 0);
 *  - without a match the search steps forward by 1 for the first 64
 *    misses, then by 2 for the next 64, and so on (step = attempts >> 6);
 *  - a match is extended backwards over equal bytes down to the end of
 *    the previous sequence, and forwards up to 5 bytes before the end;
 *  - after a match, position end-2 is stored and the end itself is tried
 *    at once as the start of a match with no literals.
 * The output limits are liblz4's, checked before each part is written:
 * limited (LZ4_compress_default below the bound) gives up with 0;
 * fill (LZ4_compress_destSize) ends the block with as many literals as fit.
 */
#include "formats/codec/lz4fast.h"

#include <stddef.h>
#include <string.h>

#define MIN_MATCH 4
#define LAST_LITERALS 5     /* the block always ends with 5 literals */
#define MATCH_FIND_LIMIT 12 /* no match starts in the last 12 bytes */
#define MIN_INPUT 13        /* shorter inputs are stored as literals */
#define MAX_DISTANCE 65535  /* the 16-bit offset */
#define SKIP_TRIGGER 6      /* the step grows every 1 << 6 misses */
#define SMALL_LIMIT 65547   /* 64 KiB + 11: the byU16 table below this */
#define HASH_LOG_SMALL 13   /* byU16: 8192 entries of 16 bits */
#define HASH_LOG_LARGE 12   /* byU32: 4096 entries of 32 bits */
#define RUN_MASK 15         /* a 4-bit length field's "continued" value */

enum mode {
	UNLIMITED, /* capacity >= bound: no checks needed */
	LIMITED,   /* return 0 when the block would not fit */
	FILL,      /* stop early with what fits */
};

union table {
	uint16_t small[1 << HASH_LOG_SMALL];
	uint32_t large[1 << HASH_LOG_LARGE];
};

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Little-endian loads: memcpy (one unaligned load), swapped when the host
 * is big-endian, so the value never depends on the host's byte order. */
static ALWAYS_INLINE uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static ALWAYS_INLINE uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* liblz4's LZ4_hash4 (byU16) and 64-bit little-endian LZ4_hash5 (byU32):
 * Knuth's multiplicative hash of the 4 bytes at @p, or a 64-bit one of
 * the 5 bytes at @p (shifted to the top of an 8-byte little-endian load;
 * 8 bytes must be readable). */
static ALWAYS_INLINE uint32_t hash_at(const uint8_t *p, bool small)
{
	if (small)
		return (load32(p) * 2654435761U) >> (32 - HASH_LOG_SMALL);
	return (uint32_t)(((load64(p) << 24) * 889523592379ULL) >>
			  (64 - HASH_LOG_LARGE));
}

static ALWAYS_INLINE uint32_t table_get(const union table *t, uint32_t h,
					bool small)
{
	return small ? t->small[h] : t->large[h];
}

static ALWAYS_INLINE void table_put(union table *t, uint32_t h, uint32_t pos,
				    bool small)
{
	if (small)
		t->small[h] = (uint16_t)pos;
	else
		t->large[h] = pos;
}

/* The number of equal bytes at @p and @m (m < p), counting no further
 * than @limit. */
static ALWAYS_INLINE size_t common_length(const uint8_t *p, const uint8_t *m,
					  const uint8_t *limit)
{
	const uint8_t *const start = p;

	while (limit - p >= 8) {
		uint64_t diff = load64(p) ^ load64(m);

		if (diff)
			return (size_t)(p - start) +
			       ((unsigned)__builtin_ctzll(diff) >> 3);
		p += 8;
		m += 8;
	}
	if (limit - p >= 4 && load32(p) == load32(m)) {
		p += 4;
		m += 4;
	}
	if (limit - p >= 2 && p[0] == m[0] && p[1] == m[1]) {
		p += 2;
		m += 2;
	}
	if (p < limit && *p == *m)
		p++;
	return (size_t)(p - start);
}

/* Write the continuation bytes of a length whose 4-bit field holds 15:
 * @rest (= length - 15) as 255s and a final byte below 255. */
static ALWAYS_INLINE uint8_t *put_length_rest(uint8_t *op, size_t rest)
{
	size_t full = rest / 255;

	memset(op, 255, full);
	op += full;
	*op++ = (uint8_t)(rest % 255);
	return op;
}

/* How many continuation bytes liblz4 budgets for a literal count of @n
 * (its last-literals check: (n + 240) / 255). */
static ALWAYS_INLINE size_t length_bytes(size_t n)
{
	return (n + 255 - RUN_MASK) / 255;
}

/*
 * One block of @n bytes (1 <= n <= SD_LZ4FAST_MAX_INPUT, n < SMALL_LIMIT
 * iff @small) from @src into @dst of capacity @cap (>= 1 for FILL).  For
 * FILL, *@consumed gets the number of input bytes the block holds.
 */
static ALWAYS_INLINE int compress_block(const uint8_t *const src,
					uint8_t *const dst, size_t n,
					int *consumed, ptrdiff_t cap,
					enum mode mode, bool small)
{
	union table t;
	const uint8_t *ip = src;
	const uint8_t *anchor = src; /* first byte not yet in a sequence */
	const uint8_t *const iend = src + n;
	/* a match must start before this (liblz4's mflimitPlusOne) and end
	 * no later than match_limit; only used when n >= MIN_INPUT (the
	 * conditions keep the pointers inside the input) */
	const uint8_t *const start_limit =
		n >= MIN_INPUT ? iend - MATCH_FIND_LIMIT + 1 : src;
	const uint8_t *const match_limit = n >= MIN_INPUT ? iend - LAST_LITERALS
							  : src;
	uint8_t *op = dst;
	uint8_t *const oend = dst + cap;
	uint32_t next_hash;

	memset(&t, 0, sizeof(t));
	if (n < MIN_INPUT)
		goto last_literals;

	table_put(&t, hash_at(ip, small), 0, small);
	ip++;
	next_hash = hash_at(ip, small);

	for (;;) {
		const uint8_t *match;
		uint8_t *token;

		/* Search forward for a candidate with 4 equal bytes. */
		{
			const uint8_t *next = ip;
			unsigned step = 1;
			unsigned attempts = 1U << SKIP_TRIGGER;

			for (;;) {
				uint32_t h = next_hash;
				uint32_t pos = (uint32_t)(next - src);
				uint32_t cand = table_get(&t, h, small);

				ip = next;
				next += step;
				step = attempts++ >> SKIP_TRIGGER;
				if (next > start_limit)
					goto last_literals;
				next_hash = hash_at(next, small);
				table_put(&t, h, pos, small);
				if (!small && cand + MAX_DISTANCE < pos)
					continue;
				match = src + cand;
				if (load32(match) == load32(ip))
					break;
			}
		}

		/* Extend it backwards over the pending literals. */
		while (ip > anchor && match > src && ip[-1] == match[-1]) {
			ip--;
			match--;
		}

		/* The token and the literals before the match. */
		{
			size_t lit = (size_t)(ip - anchor);

			token = op;
			/* liblz4: literals, their length bytes, offset,
			 * token and 5 last literals must fit */
			if (mode == LIMITED &&
			    oend - token <
				    (ptrdiff_t)(1 + lit + 2 + 1 +
						LAST_LITERALS + lit / 255))
				return 0;
			/* ... and with fill, a minimal match and the 8
			 * bytes that must follow it */
			if (mode == FILL &&
			    oend - token <
				    (ptrdiff_t)(1 + (lit + 240) / 255 + lit +
						2 + 1 + MATCH_FIND_LIMIT -
						MIN_MATCH))
				goto last_literals;
			op++;
			if (lit >= RUN_MASK) {
				*token = RUN_MASK << 4;
				op = put_length_rest(op, lit - RUN_MASK);
			} else {
				*token = (uint8_t)(lit << 4);
			}
			/* 8-byte copies while they stay inside both buffers
			 * (the input: ip <= iend - 12) */
			if (oend - op >= (ptrdiff_t)lit + 8) {
				uint8_t *const lend = op + lit;
				const uint8_t *from = anchor;

				do {
					memcpy(op, from, 8);
					op += 8;
					from += 8;
				} while (op < lend);
				op = lend;
			} else {
				memcpy(op, anchor, lit);
				op += lit;
			}
		}

encode_match:
		/* token is set, its literals written; ip and match point at
		 * the match */
		if (mode == FILL &&
		    oend - op < 2 + 1 + MATCH_FIND_LIMIT - MIN_MATCH) {
			op = token; /* too close to the end: drop the match */
			goto last_literals;
		}
		{
			size_t len;
			uint16_t offset = (uint16_t)(ip - match);

			op[0] = (uint8_t)offset;
			op[1] = (uint8_t)(offset >> 8);
			op += 2;
			len = common_length(ip + MIN_MATCH, match + MIN_MATCH,
					    match_limit);
			ip += len + MIN_MATCH;
			if (mode != UNLIMITED &&
			    oend - op < (ptrdiff_t)(1 + LAST_LITERALS +
						    (len + 240) / 255)) {
				size_t fit;

				if (mode == LIMITED)
					return 0;
				/* shorten the match to what its length
				 * bytes can say, leaving room for a token
				 * and 5 literals (liblz4 also clears the
				 * table entries of positions now past ip:
				 * they cannot change the output, which
				 * ends with last literals from here) */
				fit = RUN_MASK - 1 +
				      (size_t)(oend - op - 1 - LAST_LITERALS) *
					      255;
				ip -= len - fit;
				len = fit;
			}
			if (len >= RUN_MASK) {
				*token += RUN_MASK;
				op = put_length_rest(op, len - RUN_MASK);
			} else {
				*token += (uint8_t)len;
			}
		}
		anchor = ip;
		if (ip >= start_limit)
			break;

		/* Remember end-2, then try a match right at the end. */
		table_put(&t, hash_at(ip - 2, small), (uint32_t)(ip - 2 - src),
			  small);
		{
			uint32_t h = hash_at(ip, small);
			uint32_t pos = (uint32_t)(ip - src);
			uint32_t cand = table_get(&t, h, small);

			table_put(&t, h, pos, small);
			match = src + cand;
			if ((small || cand + MAX_DISTANCE >= pos) &&
			    load32(match) == load32(ip)) {
				token = op++;
				*token = 0;
				goto encode_match;
			}
		}
		ip++;
		next_hash = hash_at(ip, small);
	}

last_literals : {
	size_t run = (size_t)(iend - anchor);

	if (mode != UNLIMITED &&
	    oend - op < (ptrdiff_t)(1 + run + length_bytes(run))) {
		if (mode == LIMITED)
			return 0;
		/* the most literals a token, their length bytes and
			 * they fill */
		run = (size_t)(oend - op) - 1;
		run -= (run + 256 - RUN_MASK) / 256;
	}
	if (run >= RUN_MASK) {
		*op++ = RUN_MASK << 4;
		op = put_length_rest(op, run - RUN_MASK);
	} else {
		*op++ = (uint8_t)(run << 4);
	}
	memcpy(op, anchor, run);
	op += run;
	if (mode == FILL)
		*consumed = (int)(anchor + run - src);
}
	return (int)(op - dst);
}

/* The six instances: the mode and table type are constants in each. */
static int block_unlimited_small(const uint8_t *s, uint8_t *d, size_t n,
				 ptrdiff_t cap)
{
	return compress_block(s, d, n, NULL, cap, UNLIMITED, true);
}

static int block_unlimited_large(const uint8_t *s, uint8_t *d, size_t n,
				 ptrdiff_t cap)
{
	return compress_block(s, d, n, NULL, cap, UNLIMITED, false);
}

static int block_limited_small(const uint8_t *s, uint8_t *d, size_t n,
			       ptrdiff_t cap)
{
	return compress_block(s, d, n, NULL, cap, LIMITED, true);
}

static int block_limited_large(const uint8_t *s, uint8_t *d, size_t n,
			       ptrdiff_t cap)
{
	return compress_block(s, d, n, NULL, cap, LIMITED, false);
}

static int block_fill_small(const uint8_t *s, uint8_t *d, size_t n, int *c,
			    ptrdiff_t cap)
{
	return compress_block(s, d, n, c, cap, FILL, true);
}

static int block_fill_large(const uint8_t *s, uint8_t *d, size_t n, int *c,
			    ptrdiff_t cap)
{
	return compress_block(s, d, n, c, cap, FILL, false);
}

int sd_lz4fast_bound(int srcsize)
{
	if ((unsigned)srcsize > (unsigned)SD_LZ4FAST_MAX_INPUT)
		return 0;
	return srcsize + srcsize / 255 + 16;
}

int sd_lz4fast_compress_default(const uint8_t *src, uint8_t *dst, int srcsize,
				int dstcap)
{
	bool unlimited = dstcap >= sd_lz4fast_bound(srcsize);
	size_t n = (size_t)srcsize;

	if ((unsigned)srcsize > (unsigned)SD_LZ4FAST_MAX_INPUT)
		return 0;
	if (srcsize == 0) {
		if (!unlimited && dstcap <= 0)
			return 0;
		dst[0] = 0; /* one token: no literals */
		return 1;
	}
	if (unlimited)
		return srcsize < SMALL_LIMIT
			       ? block_unlimited_small(src, dst, n, dstcap)
			       : block_unlimited_large(src, dst, n, dstcap);
	if (dstcap < 0)
		dstcap = 0; /* liblz4 would return 0 before writing too */
	return srcsize < SMALL_LIMIT ? block_limited_small(src, dst, n, dstcap)
				     : block_limited_large(src, dst, n, dstcap);
}

int sd_lz4fast_compress_destsize(const uint8_t *src, uint8_t *dst, int *srcsize,
				 int target)
{
	int n = *srcsize;

	if (target >= sd_lz4fast_bound(n))
		return sd_lz4fast_compress_default(src, dst, n, target);
	if ((unsigned)n > (unsigned)SD_LZ4FAST_MAX_INPUT)
		return 0;
	if (target < 1)
		return 0;
	if (n == 0) {
		dst[0] = 0;
		*srcsize = 0;
		return 1;
	}
	return n < SMALL_LIMIT
		       ? block_fill_small(src, dst, (size_t)n, srcsize, target)
		       : block_fill_large(src, dst, (size_t)n, srcsize, target);
}
