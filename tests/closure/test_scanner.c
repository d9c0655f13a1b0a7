/* Tests of the streaming reference scanner and the tree scanner. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void scan_split(struct sd_scanner *sc, struct hits *h,
		       const char *data, size_t len, size_t split)
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
	struct hits h = { 0 };
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
	struct hits h = { 0 }, ref = { 0 };
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
	snprintf(part, sizeof(part),
		 "zz%s%s/nix/store/%s-other /nix/store/%sX", hb, ha, hc, hb);
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

static int stop(const struct sd_scan_hit *hit, void *ctx,
		struct sd_error *err)
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

Test(refscan, names_targets_contents, .init = ct_setup,
     .fini = ct_teardown)
{
	struct sd_hashmap *m = cands();
	char top[64], rel[256], buf[256];
	/* The top node's own name contains ha: must not be reported. */
	snprintf(top, sizeof(top), "%s-pkg", ha);
	ct_mkdir(top);
	snprintf(rel, sizeof(rel), "%s/share/%s-doc", top, hb);
	ct_mkdir(rel);
	snprintf(rel, sizeof(rel), "%s/link", top);
	snprintf(buf, sizeof(buf), "/nix/store/%s-dep/lib", hb);
	ct_symlink(buf, rel);
	/* A big file with a hash straddling the 256 KiB read boundary. */
	size_t big = SD_REFSCAN_BUF + 100;
	char *data = malloc(big);
	memset(data, '_', big);
	memcpy(data + SD_REFSCAN_BUF - 10, ha, 32);
	snprintf(rel, sizeof(rel), "%s/big", top);
	ct_write(rel, data, big);
	free(data);
	snprintf(rel, sizeof(rel), "%s/clean", top);
	ct_write(rel, "nothing here", (size_t)-1);

	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *node;
	struct sd_error err;
	cr_assert_eq(sd_hosttree_add(t, t->root, top, ct_path(top), &node,
				     &err), 0, "%s", err.msg);
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "%s", err.msg);

	struct thits th = { 0 };
	cr_assert_eq(sd_refscan_tree(t, node, m, "/nix/store", tcollect, &th,
				     &err), 0, "%s", err.msg);
	char p[256];
	for (size_t i = 0; i < th.n; i++)
		cr_assert_neq(th.v[i].what == SD_REFSCAN_NAME &&
			      !strcmp(th.v[i].path, top), 1,
			      "top name scanned");
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
