/* SPDX-License-Identifier: MIT */
/* Tests of the streaming reference scanner and the tree scanner. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/nix32.h"
#include "closure/refscan.h"
#include "closure/scanner.h"
#include "core/hosttree.h"
#include "core/tree.h"
#include "helpers.h"

#define MAXHITS 64

struct hits {
	struct sd_scan_hit v[MAXHITS];
	size_t n;
};

static int collect(const struct sd_scan_hit *hit, void *ctx,
		   struct sd_error *err)
{
	(void)err;
	struct hits *h = ctx;
	cr_assert_lt(h->n, MAXHITS);
	h->v[h->n++] = *hit;
	return 0;
}

static char ha[33], hb[33], hc[33];

static struct sd_hashmap *cands(void)
{
	ct_hash("a", ha);
	ct_hash("b", hb);
	ct_hash("c", hc);
	struct sd_hashmap *m = sd_hashmap_new();
	cr_assert_not_null(m);
	cr_assert_eq(sd_hashmap_put(m, ha, 0, NULL, NULL), 0);
	cr_assert_eq(sd_hashmap_put(m, hb, 1, NULL, NULL), 0);
	return m;
}

/* Sort hits by (offset, kind) so split feeds compare equal. */
static int cmp_hit(const void *a, const void *b)
{
	const struct sd_scan_hit *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void scan_split(struct sd_scanner *sc, struct hits *h, const char *data,
		       size_t len, size_t split)
{
	h->n = 0;
	sd_scanner_set_ctx(sc, h);
	sd_scanner_reset(sc);
	cr_assert_eq(sd_scanner_feed(sc, data, split, NULL), 0);
	cr_assert_eq(sd_scanner_feed(sc, data + split, len - split, NULL), 0);
	qsort(h->v, h->n, sizeof(h->v[0]), cmp_hit);
}

Test(scanner, bare_hashes_and_non_candidates)
{
	struct sd_hashmap *m = cands();
	struct hits h = {0};
	struct sd_scanner *sc;
	cr_assert_eq(sd_scanner_new(m, NULL, collect, &h, &sc, NULL), 0);
	char data[512];
	/* a bare, b after a nix32 run, c (not a candidate) */
	snprintf(data, sizeof(data), "xx%s..zz%s:%s", ha, hb, hc);
	scan_split(sc, &h, data, strlen(data), strlen(data));
	cr_assert_eq(h.n, 2);
	cr_assert_eq(h.v[0].kind, SD_SCAN_HASH);
	cr_assert_str_eq(h.v[0].hash, ha);
	cr_assert_eq(h.v[0].id, 0);
	cr_assert_eq(h.v[0].offset, 2);
	cr_assert_str_eq(h.v[1].hash, hb);
	cr_assert_eq(h.v[1].id, 1);
	cr_assert_eq(h.v[1].offset, 2 + 32 + 4);
	sd_scanner_free(sc);
	sd_hashmap_free(m);
}

Test(scanner, every_split_position)
{
	struct sd_hashmap *m = cands();
	struct hits h = {0}, ref = {0};
	struct sd_scanner *sc;
	cr_assert_eq(sd_scanner_new(m, "/nix/store", collect, &h, &sc, NULL),
		     0);
	char data[1024];
	size_t len = 0;
	char part[256];
	snprintf(part, sizeof(part), "#!/bin/sh\nexec /nix/store/%s-foo/bin/x",
		 ha);
	memcpy(data, part, strlen(part));
	len = strlen(part);
	data[len++] = '\0';
	snprintf(part, sizeof(part), "zz%s%s/nix/store/%s-other /nix/store/%sX",
		 hb, ha, hc, hb);
	memcpy(data + len, part, strlen(part));
	len += strlen(part);

	scan_split(sc, &ref, data, len, len);
	/* hits: a (path + bare), b bare, a bare (adjacent to b), c path,
	 * b bare (no '-' after it: not a path hit) */
	size_t nb = 0, np = 0;
	for (size_t i = 0; i < ref.n; i++) {
		if (ref.v[i].kind == SD_SCAN_HASH)
			nb++;
		else
			np++;
	}
	cr_assert_eq(nb, 4, "bare hits: %zu", nb);
	cr_assert_eq(np, 2, "path hits: %zu", np);
	/* full path hit offset = start of "/nix/store/" */
	cr_assert_eq(ref.v[0].kind, SD_SCAN_PATH);
	cr_assert_eq(ref.v[0].offset, strlen("#!/bin/sh\nexec "));
	cr_assert_str_eq(ref.v[0].hash, ha);
	cr_assert_eq(ref.v[0].id, 0);
	cr_assert_eq(ref.v[1].kind, SD_SCAN_HASH);
	cr_assert_eq(ref.v[1].offset, strlen("#!/bin/sh\nexec /nix/store/"));
	for (size_t i = 0; i < ref.n; i++)
		if (!strcmp(ref.v[i].hash, hc)) {
			cr_assert_eq(ref.v[i].kind, SD_SCAN_PATH);
			cr_assert_eq(ref.v[i].id, SD_HASHMAP_NONE);
		}

	for (size_t split = 0; split <= len; split++) {
		scan_split(sc, &h, data, len, split);
		cr_assert_eq(h.n, ref.n, "split %zu: %zu hits", split, h.n);
		for (size_t i = 0; i < h.n; i++) {
			cr_assert_eq(h.v[i].offset, ref.v[i].offset,
				     "split %zu", split);
			cr_assert_eq(h.v[i].kind, ref.v[i].kind);
			cr_assert_str_eq(h.v[i].hash, ref.v[i].hash);
			cr_assert_eq(h.v[i].id, ref.v[i].id);
		}
	}

	/* Byte by byte, and in chunks of every size. */
	for (size_t chunk = 1; chunk <= 50; chunk++) {
		h.n = 0;
		sd_scanner_set_ctx(sc, &h);
		sd_scanner_reset(sc);
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			cr_assert_eq(sd_scanner_feed(sc, data + off, n, NULL),
				     0);
		}
		qsort(h.v, h.n, sizeof(h.v[0]), cmp_hit);
		cr_assert_eq(h.n, ref.n, "chunk %zu", chunk);
		for (size_t i = 0; i < h.n; i++)
			cr_assert_eq(h.v[i].offset, ref.v[i].offset);
	}
	sd_scanner_free(sc);
	sd_hashmap_free(m);
}

static int stop(const struct sd_scan_hit *hit, void *ctx, struct sd_error *err)
{
	(void)hit;
	(*(int *)ctx)++;
	return sd_error_set(err, SD_ERR_MISSING, "stop");
}

Test(scanner, callback_error_stops)
{
	struct sd_hashmap *m = cands();
	struct sd_scanner *sc;
	int calls = 0;
	cr_assert_eq(sd_scanner_new(m, NULL, stop, &calls, &sc, NULL), 0);
	char data[128];
	snprintf(data, sizeof(data), "%s %s", ha, hb);
	struct sd_error err;
	cr_assert_eq(sd_scanner_feed(sc, data, strlen(data), &err),
		     SD_ERR_MISSING);
	cr_assert_eq(calls, 1);
	sd_scanner_free(sc);
	sd_hashmap_free(m);
}

/* ---- tree scanning ---- */

struct thit {
	char path[256];
	enum sd_refscan_what what;
	enum sd_scan_kind kind;
	uint64_t offset;
	char hash[33];
};

struct thits {
	struct thit v[MAXHITS];
	size_t n;
};

static int tcollect(const struct sd_refscan_hit *hit, void *ctx,
		    struct sd_error *err)
{
	(void)err;
	struct thits *t = ctx;
	cr_assert_lt(t->n, MAXHITS);
	struct thit *x = &t->v[t->n++];
	sd_node_path(hit->node, x->path, sizeof(x->path));
	x->what = hit->what;
	x->kind = hit->scan->kind;
	x->offset = hit->scan->offset;
	memcpy(x->hash, hit->scan->hash, 33);
	return 0;
}

static const struct thit *find(const struct thits *t, const char *path,
			       enum sd_refscan_what what,
			       enum sd_scan_kind kind)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].path, path) && t->v[i].what == what &&
		    t->v[i].kind == kind)
			return &t->v[i];
	return NULL;
}

Test(refscan, names_targets_contents, .init = ct_setup, .fini = tt_teardown)
{
	struct sd_hashmap *m = cands();
	char top[64], rel[256], buf[256];
	/* The top node's own name contains ha: must not be reported. */
	snprintf(top, sizeof(top), "%s-pkg", ha);
	tt_mkdir(top);
	snprintf(rel, sizeof(rel), "%s/share/%s-doc", top, hb);
	tt_mkdir(rel);
	snprintf(rel, sizeof(rel), "%s/link", top);
	snprintf(buf, sizeof(buf), "/nix/store/%s-dep/lib", hb);
	tt_symlink(buf, rel);
	/* A big file with a hash straddling the 256 KiB read boundary. */
	size_t big = SD_REFSCAN_BUF + 100;
	char *data = malloc(big);
	memset(data, '_', big);
	memcpy(data + SD_REFSCAN_BUF - 10, ha, 32);
	snprintf(rel, sizeof(rel), "%s/big", top);
	tt_write(rel, data, big, 0644);
	free(data);
	snprintf(rel, sizeof(rel), "%s/clean", top);
	tt_write(rel, "nothing here", (size_t)-1, 0644);

	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *node;
	struct sd_error err;
	cr_assert_eq(sd_hosttree_add(t, t->root, top, tt_path(top), &node,
				     &err),
		     0, "%s", err.msg);
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "%s", err.msg);

	struct thits th = {0};
	cr_assert_eq(sd_refscan_tree(t, node, m, "/nix/store", tcollect, &th,
				     &err),
		     0, "%s", err.msg);
	char p[256];
	for (size_t i = 0; i < th.n; i++)
		cr_assert_neq(th.v[i].what == SD_REFSCAN_NAME &&
				      !strcmp(th.v[i].path, top),
			      1, "top name scanned");
	snprintf(p, sizeof(p), "%s/share/%s-doc", top, hb);
	const struct thit *x = find(&th, p, SD_REFSCAN_NAME, SD_SCAN_HASH);
	cr_assert_not_null(x, "name hit");
	cr_assert_eq(x->offset, 0);
	cr_assert_str_eq(x->hash, hb);
	snprintf(p, sizeof(p), "%s/link", top);
	x = find(&th, p, SD_REFSCAN_TARGET, SD_SCAN_HASH);
	cr_assert_not_null(x, "target hit");
	cr_assert_eq(x->offset, strlen("/nix/store/"));
	x = find(&th, p, SD_REFSCAN_TARGET, SD_SCAN_PATH);
	cr_assert_not_null(x, "target path hit");
	cr_assert_eq(x->offset, 0);
	snprintf(p, sizeof(p), "%s/big", top);
	x = find(&th, p, SD_REFSCAN_CONTENT, SD_SCAN_HASH);
	cr_assert_not_null(x, "content hit");
	cr_assert_eq(x->offset, SD_REFSCAN_BUF - 10);
	cr_assert_str_eq(x->hash, ha);
	cr_assert_eq(th.n, 4, "%zu hits", th.n);

	sd_tree_free(t);
	sd_hashmap_free(m);
}

/* ---- randomised comparison with a naive scanner ---- */

#define BIGHITS 4096

struct bighits {
	struct sd_scan_hit v[BIGHITS];
	size_t n;
};

static int bcollect(const struct sd_scan_hit *hit, void *ctx,
		    struct sd_error *err)
{
	(void)err;
	struct bighits *h = ctx;
	cr_assert_lt(h->n, BIGHITS);
	h->v[h->n++] = *hit;
	return 0;
}

/* Every window, checked directly. */
static void naive(const struct sd_hashmap *m, const char *sdir, const char *d,
		  size_t n, bool every, struct bighits *out)
{
	size_t pl = strlen(sdir) + 1;
	out->n = 0;
	for (size_t i = 0; i + 32 <= n; i++) {
		bool all = true;
		for (size_t k = 0; k < 32; k++)
			all = all && sd_nix32_is_char((unsigned char)d[i + k]);
		if (all &&
		    (every || sd_hashmap_get(m, d + i) != SD_HASHMAP_NONE)) {
			struct sd_scan_hit *h = &out->v[out->n++];
			h->kind = SD_SCAN_HASH;
			h->offset = i;
			memcpy(h->hash, d + i, 32);
			h->hash[32] = '\0';
		}
	}
	for (size_t i = 0; i + pl + 33 <= n; i++) {
		if (memcmp(d + i, sdir, pl - 1) || d[i + pl - 1] != '/')
			continue;
		bool all = true;
		for (size_t k = 0; k < 32; k++)
			all = all &&
			      sd_nix32_is_char((unsigned char)d[i + pl + k]);
		if (all && d[i + pl + 32] == '-') {
			struct sd_scan_hit *h = &out->v[out->n++];
			h->kind = SD_SCAN_PATH;
			h->offset = i;
			memcpy(h->hash, d + i + pl, 32);
			h->hash[32] = '\0';
		}
	}
	qsort(out->v, out->n, sizeof(out->v[0]), cmp_hit);
}

Test(scanner, random_against_naive)
{
	const char *sdirs[] = {"/nix/store",
			       "/a/very/long/store/directory/name/for/tests"};
	struct sd_hashmap *m = sd_hashmap_new();
	char hashes[40][33];
	for (int i = 0; i < 40; i++) {
		char seed[16];
		snprintf(seed, sizeof(seed), "h%d", i);
		ct_hash(seed, hashes[i]);
		if (i < 30) /* 10 hashes are not candidates */
			cr_assert_eq(
				sd_hashmap_put(m, hashes[i], i, NULL, NULL), 0);
	}
	static struct bighits want, got;
	uint32_t x = 42;
	size_t n = 20000;
	char *d = malloc(n);
	for (int round = 0; round < 40; round++) {
		const char *sdir = sdirs[round % 2];
		/* rounds 20..39: every window (sd_scanner_every_window) */
		bool every = round >= 20;
		size_t pos = 0;
		while (pos < n) {
			x = x * 1103515245u + 12345u;
			unsigned r = (x >> 16) % 10;
			char piece[256];
			size_t len;
			if (r < 2)
				len = (size_t)snprintf(piece, sizeof(piece),
						       "%s/%s-", sdir,
						       hashes[(x >> 8) % 40]);
			else if (r < 4)
				len = (size_t)snprintf(piece, sizeof(piece),
						       "%s",
						       hashes[(x >> 8) % 40]);
			else if (r < 6) {
				len = 1 + (x >> 4) % 8;
				for (size_t k = 0; k < len; k++)
					piece[k] =
						sd_nix32_alphabet[(x >> k) % 32];
			} else {
				len = 1 + (x >> 4) % 3;
				for (size_t k = 0; k < len; k++)
					piece[k] =
						"-/e\n\0"[(x >> (k + 3)) % 5];
			}
			if (len > n - pos)
				len = n - pos;
			memcpy(d + pos, piece, len);
			pos += len;
		}
		naive(m, sdir, d, n, every, &want);
		cr_assert_gt(want.n, 10);
		struct sd_scanner *sc;
		cr_assert_eq(sd_scanner_new(m, sdir, bcollect, &got, &sc, NULL),
			     0);
		sd_scanner_every_window(sc, every);
		got.n = 0;
		for (size_t off = 0; off < n;) {
			x = x * 1103515245u + 12345u;
			size_t c =
				1 + (x >> 16) % (round % 20 < 10 ? 70 : 5000);
			if (c > n - off)
				c = n - off;
			cr_assert_eq(sd_scanner_feed(sc, d + off, c, NULL), 0);
			off += c;
		}
		qsort(got.v, got.n, sizeof(got.v[0]), cmp_hit);
		cr_assert_eq(got.n, want.n, "round %d: %zu vs %zu", round,
			     got.n, want.n);
		for (size_t i = 0; i < got.n; i++) {
			cr_assert_eq(got.v[i].offset, want.v[i].offset);
			cr_assert_eq(got.v[i].kind, want.v[i].kind);
			cr_assert_str_eq(got.v[i].hash, want.v[i].hash);
			if (got.v[i].kind == SD_SCAN_HASH)
				cr_assert_eq(got.v[i].id,
					     sd_hashmap_get(m, got.v[i].hash));
		}
		sd_scanner_free(sc);
	}
	free(d);
	sd_hashmap_free(m);
}

Test(hashmap, grow_and_lookup)
{
	struct sd_hashmap *m = sd_hashmap_new();
	char k[33];
	for (int i = 0; i < 5000; i++) {
		char seed[16];
		snprintf(seed, sizeof(seed), "k%d", i);
		ct_hash(seed, k);
		cr_assert_eq(sd_hashmap_put(m, k, i, NULL, NULL), 0);
	}
	cr_assert_eq(sd_hashmap_count(m), 5000);
	for (int i = 0; i < 5000; i++) {
		char seed[16];
		snprintf(seed, sizeof(seed), "k%d", i);
		ct_hash(seed, k);
		cr_assert_eq(sd_hashmap_get(m, k), i);
	}
	int64_t prev;
	cr_assert_eq(sd_hashmap_put(m, k, 1, &prev, NULL), 0);
	cr_assert_eq(prev, 4999);
	cr_assert_eq(sd_hashmap_get(m, k), 4999);
	ct_hash("absent", k);
	cr_assert_eq(sd_hashmap_get(m, k), SD_HASHMAP_NONE);
	cr_assert_eq(sd_hashmap_put(m, k, -2, NULL, NULL), SD_ERR_INVALID);
	sd_hashmap_free(m);
}

/* The hash map across its growth: small maps have no prefilter, large ones
 * build it from the keys already in (closure/hashmap.c); every key put
 * before and after that point is found with its id, and keys never put
 * (same first four characters or not) are misses. */
Test(hashmap, grows_past_the_prefilter)
{
	struct sd_hashmap *m = sd_hashmap_new();
	cr_assert_not_null(m);
	enum { N = 20000 };
	char key[40], other[40];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "in-%d", i);
		char h[33];
		ct_hash(key, h);
		int64_t old = 0;
		cr_assert_eq(sd_hashmap_put(m, h, i, &old, NULL), 0);
		cr_assert_eq(old, SD_HASHMAP_NONE);
		if (i % 997 == 0) { /* every key so far, at every size */
			for (int j = 0; j <= i; j += 61) {
				snprintf(other, sizeof(other), "in-%d", j);
				ct_hash(other, h);
				cr_assert_eq(sd_hashmap_get(m, h), j);
			}
		}
	}
	cr_assert_eq(sd_hashmap_count(m), N);
	int misses = 0;
	for (int i = 0; i < N; i++) {
		char h[33];
		snprintf(key, sizeof(key), "out-%d", i);
		ct_hash(key, h);
		misses += sd_hashmap_get(m, h) == SD_HASHMAP_NONE;
		snprintf(key, sizeof(key), "in-%d", i);
		ct_hash(key, h);
		cr_assert_eq(sd_hashmap_get(m, h), i);
		int64_t old = 0;
		cr_assert_eq(sd_hashmap_put(m, h, N + i, &old, NULL), 0);
		cr_assert_eq(old, i); /* a second put keeps the first id */
	}
	cr_assert_eq(misses, N);
	sd_hashmap_free(m);
}
