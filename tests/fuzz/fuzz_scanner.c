/* SPDX-License-Identifier: MIT */
/*
 * fuzz_scanner.c — differential fuzz target for the reference scanner
 * (closure/scanner.h) against a plain reference implementation of Nix's
 * rule: every window of 32 nix32 characters that is a candidate hash is a
 * bare hit, every "/nix/store/" + 32 nix32 characters + "-" a full-path
 * hit.  The item is fed in chunks whose sizes come from the input, so
 * matches straddle chunk boundaries.  Input layout: byte 0 = chunk-size
 * seed, byte 1 = candidate count (mod 4), then 32 bytes per candidate
 * (a nix32 character as it is, any other byte mapped onto the alphabet),
 * then the item.  The two hit lists
 * (kind, offset, hash) must be equal as multisets; otherwise abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char nix32[] = "0123456789abcdfghijklmnpqrsvwxyz";
static const char store[] = "/nix/store";

struct hit {
	int kind;
	uint64_t offset;
	char hash[33];
};

struct hits {
	struct hit *v;
	size_t n, cap;
};

static void add(struct hits *h, int kind, uint64_t offset, const char *hash)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = realloc(h->v, h->cap * sizeof *h->v);
		if (!h->v)
			abort();
	}
	struct hit *x = &h->v[h->n++];
	memset(x, 0, sizeof *x);
	x->kind = kind;
	x->offset = offset;
	memcpy(x->hash, hash, 32);
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return memcmp(x->hash, y->hash, 32);
}

static int on_hit(const struct sd_scan_hit *hit, void *ctx,
		  struct sd_error *err)
{
	(void)err;
	add(ctx, hit->kind, hit->offset, hit->hash);
	return 0;
}

static int is_nix32(uint8_t c)
{
	return c && memchr(nix32, c, 32) != NULL;
}

static int all_nix32(const uint8_t *p)
{
	for (int i = 0; i < 32; i++)
		if (!is_nix32(p[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned seed = data[0], ncand = data[1] % 4;
	data += 2;
	size -= 2;
	struct sd_hashmap *cands = sd_hashmap_new();
	if (!cands)
		return 0;
	for (unsigned i = 0; i < ncand && size >= 32; i++) {
		char key[32];
		for (int j = 0; j < 32; j++)
			key[j] = is_nix32(data[j]) ? (char)data[j]
						   : nix32[data[j] % 32];
		if (sd_hashmap_put(cands, key, i, NULL, NULL))
			abort();
		data += 32;
		size -= 32;
	}

	/* The reference: every window, no skipping. */
	struct hits want = {0}, got = {0};
	size_t slen = strlen(store);
	for (size_t i = 0; i + 32 <= size; i++) {
		if (all_nix32(data + i) &&
		    sd_hashmap_get(cands, (const char *)data + i) !=
			    SD_HASHMAP_NONE)
			add(&want, SD_SCAN_HASH, i, (const char *)data + i);
		if (i + slen + 1 + 32 + 1 <= size &&
		    !memcmp(data + i, store, slen) && data[i + slen] == '/' &&
		    all_nix32(data + i + slen + 1) &&
		    data[i + slen + 1 + 32] == '-')
			add(&want, SD_SCAN_PATH, i,
			    (const char *)data + i + slen + 1);
	}

	struct sd_scanner *sc;
	struct sd_error err;
	sd_error_init(&err);
	if (sd_scanner_new(cands, store, on_hit, &got, &sc, &err))
		abort();
	sd_scanner_reset(sc);
	size_t at = 0;
	while (at < size) {
		size_t chunk = 1 + (seed * 7 + at * 13) % 97;
		seed = seed * 1103515245u + 12345u;
		if (chunk > size - at)
			chunk = size - at;
		if (sd_scanner_feed(sc, data + at, chunk, &err))
			abort();
		at += chunk;
	}
	if (sd_scanner_offset(sc) != size)
		abort();

	if (want.n != got.n)
		abort();
	if (want.n) {
		qsort(want.v, want.n, sizeof *want.v, cmp_hit);
		qsort(got.v, got.n, sizeof *got.v, cmp_hit);
	}
	for (size_t i = 0; i < want.n; i++)
		if (cmp_hit(&want.v[i], &got.v[i]))
			abort();
	free(want.v);
	free(got.v);
	sd_scanner_free(sc);
	sd_hashmap_free(cands);
	return 0;
}
