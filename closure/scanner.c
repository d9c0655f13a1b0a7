/* SPDX-License-Identifier: MIT */
#include "closure/scanner.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "closure/nix32.h"
#include "closure/storepath.h"

struct sd_scanner {
	const struct sd_hashmap *cands;
	char *prefix; /* "<store-dir>/" or NULL */
	size_t prefix_len;
	size_t keep; /* longest match - 1: bytes carried over */
	bool every;  /* report every window (sd_scanner_every_window) */
	sd_scan_fn fn;
	void *ctx;
	uint64_t pos;         /* item offset of the next byte fed */
	unsigned char *carry; /* the last min(pos, keep) bytes */
	size_t carry_len;
	unsigned char *join; /* carry + head of the next chunk */
};

int sd_scanner_new(const struct sd_hashmap *candidates, const char *store_dir,
		   sd_scan_fn fn, void *ctx, struct sd_scanner **out,
		   struct sd_error *err)
{
	struct sd_scanner *sc = calloc(1, sizeof(*sc));
	if (!sc)
		goto nomem;
	sc->cands = candidates;
	sc->fn = fn;
	sc->ctx = ctx;
	size_t longest = SD_HASH_CHARS;
	if (store_dir) {
		size_t dl = strlen(store_dir);
		sc->prefix = malloc(dl + 2);
		if (!sc->prefix)
			goto nomem;
		memcpy(sc->prefix, store_dir, dl);
		sc->prefix[dl] = '/';
		sc->prefix[dl + 1] = '\0';
		sc->prefix_len = dl + 1;
		longest = sc->prefix_len + SD_HASH_CHARS + 1;
	}
	sc->keep = longest - 1;
	sc->carry = malloc(sc->keep);
	sc->join = malloc(2 * sc->keep);
	if (!sc->carry || !sc->join)
		goto nomem;
	*out = sc;
	return 0;
nomem:
	sd_scanner_free(sc);
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory (scanner)");
}

void sd_scanner_free(struct sd_scanner *sc)
{
	if (!sc)
		return;
	free(sc->prefix);
	free(sc->carry);
	free(sc->join);
	free(sc);
}

void sd_scanner_reset(struct sd_scanner *sc)
{
	sc->pos = 0;
	sc->carry_len = 0;
}

void sd_scanner_set_ctx(struct sd_scanner *sc, void *ctx)
{
	sc->ctx = ctx;
}

void sd_scanner_every_window(struct sd_scanner *sc, bool on)
{
	sc->every = on;
}

uint64_t sd_scanner_offset(const struct sd_scanner *sc)
{
	return sc->pos;
}

/*
 * Search @buf[0..n) whose first byte is at item offset @base.  Only
 * matches starting before @start_lim and ending after @end_min are
 * reported (the boundary pass uses this to skip matches it does not own).
 *
 * One pass serves both kinds: every window of 32 nix32 characters is
 * visited (Nix's skip never jumps over one), a bare hit is a visited
 * window that is a candidate, and a full-path hit is a visited window
 * with the prefix right before it and '-' right after it.  A full-path
 * match starts plen bytes before its window, so windows are visited up
 * to start_lim + plen.
 */
static int search(struct sd_scanner *sc, const unsigned char *buf, size_t n,
		  uint64_t base, size_t start_lim, size_t end_min,
		  struct sd_error *err)
{
	struct sd_scan_hit hit;
	const bool bare = sc->every ||
			  (sc->cands && sd_hashmap_count(sc->cands));
	const size_t plen = sc->prefix ? sc->prefix_len : 0;
	const size_t win_lim = sc->prefix ? start_lim + plen : start_lim;
	int rc;

	if (!bare && !sc->prefix)
		return 0;
	/* [i, good) is known to be nix32 characters. */
	size_t i = 0, good = 0;
	while (i + SD_HASH_CHARS <= n && i < win_lim) {
		size_t end = i + SD_HASH_CHARS;
		size_t j = end;
		while (j > good && sd_nix32_is_char(buf[j - 1]))
			j--;
		if (j > good) {
			/* buf[j - 1] is not nix32: skip past it. */
			i = good = j;
			continue;
		}
		good = end;
		if (bare && i < start_lim && end > end_min) {
			int64_t id =
				sc->cands
					? sd_hashmap_get(sc->cands,
							 (const char *)buf + i)
					: SD_HASHMAP_NONE;
			if (id != SD_HASHMAP_NONE || sc->every) {
				hit.kind = SD_SCAN_HASH;
				memcpy(hit.hash, buf + i, SD_HASH_CHARS);
				hit.hash[SD_HASH_CHARS] = '\0';
				hit.id = id;
				hit.offset = base + i;
				rc = sc->fn(&hit, sc->ctx, err);
				if (rc)
					return rc;
			}
		}
		if (sc->prefix && i >= plen && end < n && buf[end] == '-' &&
		    buf[i - 1] == '/' && i - plen < start_lim &&
		    end + 1 > end_min &&
		    memcmp(buf + i - plen, sc->prefix, plen) == 0) {
			hit.kind = SD_SCAN_PATH;
			memcpy(hit.hash, buf + i, SD_HASH_CHARS);
			hit.hash[SD_HASH_CHARS] = '\0';
			hit.id = sc->cands
					 ? sd_hashmap_get(sc->cands,
							  (const char *)buf + i)
					 : SD_HASHMAP_NONE;
			hit.offset = base + i - plen;
			rc = sc->fn(&hit, sc->ctx, err);
			if (rc)
				return rc;
		}
		i++;
	}
	return 0;
}

int sd_scanner_feed(struct sd_scanner *sc, const void *data, size_t len,
		    struct sd_error *err)
{
	const unsigned char *d = data;
	int rc;

	if (len == 0)
		return 0;
	if (sc->carry_len) {
		/* Matches that start in the carried tail and end here. */
		size_t head = len < sc->keep ? len : sc->keep;
		memcpy(sc->join, sc->carry, sc->carry_len);
		memcpy(sc->join + sc->carry_len, d, head);
		rc = search(sc, sc->join, sc->carry_len + head,
			    sc->pos - sc->carry_len, sc->carry_len,
			    sc->carry_len, err);
		if (rc)
			return rc;
	}
	rc = search(sc, d, len, sc->pos, len, 0, err);
	if (rc)
		return rc;

	/* Keep the last `keep` bytes of everything fed so far. */
	if (len >= sc->keep) {
		memcpy(sc->carry, d + len - sc->keep, sc->keep);
		sc->carry_len = sc->keep;
	} else {
		size_t old = sc->keep - len;
		if (old > sc->carry_len)
			old = sc->carry_len;
		memmove(sc->carry, sc->carry + sc->carry_len - old, old);
		memcpy(sc->carry + old, d, len);
		sc->carry_len = old + len;
	}
	sc->pos += len;
	return 0;
}
