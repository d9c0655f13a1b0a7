/* SPDX-License-Identifier: MIT */
/*
 * Tests of the stat cache (core/statcache.h): records found only for the
 * same identity, racy records left out, groups replaced, damaged or
 * foreign values ignored, no cache or one that is off.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compcache.h"
#include "core/le.h"
#include "core/statcache.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sdstatcache");
}

TestSuite(statcache, .init = setup, .fini = tt_teardown);

static struct sd_compcache *open_cache(void)
{
	struct sd_compcache *c;
	cr_assert_eq(sd_compcache_open(&c, tt_path("cache"), NULL, NULL), 0);
	cr_assert(sd_compcache_enabled(c));
	return c;
}

#define NOW 2000000000000000000ll /* 2033, in ns */

static struct sd_statcache_rec rec(const char *name, uint64_t ino, uint8_t b)
{
	struct sd_statcache_rec r = {
		.name = name,
		.id = {.dev = 7,
		       .ino = ino,
		       .size = 100 + ino,
		       .mtime_ns = 1000000000,
		       .ctime_ns = NOW - 5000000000ll},
	};
	memset(r.sha256, b, sizeof(r.sha256));
	return r;
}

Test(statcache, stored_records_are_found_for_the_same_identity_only)
{
	struct sd_compcache *c = open_cache();
	static const uint8_t tok[] = {1, 2, 3};
	struct sd_statcache_rec r[3] = {rec("lib/b", 2, 0xbb),
					rec("a", 1, 0xaa),
					rec("lib/a", 3, 0xcc)};
	r[1].extra = tok;
	r[1].extra_len = sizeof(tok);
	cr_assert(sd_statcache_store(c, "/s/p", r, 3, NOW));

	struct sd_statcache_group *g;
	cr_assert_eq(sd_statcache_load(c, "/s/p", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 3);
	const struct sd_statcache_rec *f = sd_statcache_find(g, "a", &r[1].id);
	cr_assert_not_null(f);
	cr_assert_eq(f->sha256[0], 0xaa);
	cr_assert_eq(f->extra_len, 3);
	cr_assert_eq(memcmp(f->extra, tok, 3), 0);
	f = sd_statcache_find(g, "lib/a", &r[2].id);
	cr_assert(f && f->sha256[31] == 0xcc && f->extra_len == 0);
	cr_assert_not_null(sd_statcache_find(g, "lib/b", &r[0].id));
	cr_assert_null(sd_statcache_find(g, "lib", &r[0].id));
	cr_assert_null(sd_statcache_find(g, "lib/c", &r[0].id));
	/* any field of the identity that differs: not found */
	for (int field = 0; field < 5; field++) {
		struct sd_file_ident id = r[0].id;
		switch (field) {
		case 0: id.dev++; break;
		case 1: id.ino++; break;
		case 2: id.size--; break;
		case 3: id.mtime_ns++; break;
		case 4: id.ctime_ns++; break;
		}
		cr_assert_null(sd_statcache_find(g, "lib/b", &id), "field %d",
			       field);
	}
	sd_statcache_group_free(g);
	/* another directory's group is another key */
	cr_assert_eq(sd_statcache_load(c, "/s/p/", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 0);
	sd_statcache_group_free(g);
	sd_compcache_close(c);
}

Test(statcache, racy_records_are_left_out_and_groups_replaced)
{
	struct sd_compcache *c = open_cache();
	struct sd_statcache_rec r[3] = {rec("old", 1, 1), rec("new-m", 2, 2),
					rec("new-c", 3, 3)};
	r[1].id.mtime_ns = NOW; /* not older than stable_before */
	r[2].id.ctime_ns = NOW + 1;
	cr_assert(sd_statcache_store(c, "/s/q", r, 3, NOW));
	struct sd_statcache_group *g;
	cr_assert_eq(sd_statcache_load(c, "/s/q", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 1);
	cr_assert_not_null(sd_statcache_find(g, "old", &r[0].id));
	cr_assert_null(sd_statcache_find(g, "new-m", &r[1].id));
	sd_statcache_group_free(g);

	/* a later store replaces the group */
	struct sd_statcache_rec r2 = rec("other", 9, 9);
	cr_assert(sd_statcache_store(c, "/s/q", &r2, 1, NOW));
	cr_assert_eq(sd_statcache_load(c, "/s/q", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 1);
	cr_assert_null(sd_statcache_find(g, "old", &r[0].id));
	cr_assert_not_null(sd_statcache_find(g, "other", &r2.id));
	sd_statcache_group_free(g);

	/* invalid records store nothing */
	struct sd_statcache_rec bad[2] = {rec("x", 1, 1), rec("x", 2, 2)};
	cr_assert_not(sd_statcache_store(c, "/s/q", bad, 2, NOW));
	bad[1].name = "";
	cr_assert_not(sd_statcache_store(c, "/s/q", bad, 2, NOW));
	cr_assert_eq(sd_statcache_load(c, "/s/q", &g, NULL), 0);
	cr_assert_not_null(sd_statcache_find(g, "other", &r2.id));
	sd_statcache_group_free(g);
	sd_compcache_close(c);
}

/* The key statcache.c uses for the group of @dir. */
static void group_key(const char *dir, uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	static const struct sd_compcache_params p = {.format = "stat",
						     .kind = "group"};
	char params[160];
	uint8_t sha[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();
	sd_sha256_update(h, dir, strlen(dir));
	sd_sha256_final(h, sha);
	cr_assert_eq(sd_compcache_params(&p, params, sizeof(params), NULL), 0);
	cr_assert_eq(sd_compcache_key(params, sha, key, NULL), 0);
}

Test(statcache, foreign_or_broken_values_are_ignored)
{
	struct sd_compcache *c = open_cache();
	struct sd_statcache_rec r[2] = {rec("a", 1, 1), rec("b", 2, 2)};
	cr_assert(sd_statcache_store(c, "/s/r", r, 2, NOW));
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	group_key("/s/r", key);
	void *v;
	size_t len;
	cr_assert(sd_compcache_get(c, key, &v, &len));
	uint8_t *good = v;
	/* every truncation and an extension by one byte are refused */
	for (size_t cut = 0; cut < len; cut++) {
		cr_assert(sd_compcache_replace(c, key, good, cut));
		struct sd_statcache_group *g;
		cr_assert_eq(sd_statcache_load(c, "/s/r", &g, NULL), 0);
		cr_assert_eq(sd_statcache_count(g), 0, "cut %zu", cut);
		sd_statcache_group_free(g);
	}
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, good, len);
	longer[len] = 0;
	cr_assert(sd_compcache_replace(c, key, longer, len + 1));
	struct sd_statcache_group *g;
	cr_assert_eq(sd_statcache_load(c, "/s/r", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 0);
	sd_statcache_group_free(g);
	/* names out of order: swap the first bytes of "a" and "b" */
	memcpy(longer, good, len);
	size_t a_at = 12 + 2, b_at = 12 + 78 + 1 + 2;
	cr_assert_eq(longer[a_at], 'a');
	cr_assert_eq(longer[b_at], 'b');
	longer[a_at] = 'b';
	longer[b_at] = 'a';
	cr_assert(sd_compcache_replace(c, key, longer, len));
	cr_assert_eq(sd_statcache_load(c, "/s/r", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 0);
	sd_statcache_group_free(g);
	/* a huge record count */
	memcpy(longer, good, len);
	put_le32(longer + 8, 0xffffffffu);
	cr_assert(sd_compcache_replace(c, key, longer, len));
	cr_assert_eq(sd_statcache_load(c, "/s/r", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 0);
	sd_statcache_group_free(g);
	/* the good value again is found again */
	cr_assert(sd_compcache_replace(c, key, good, len));
	cr_assert_eq(sd_statcache_load(c, "/s/r", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 2);
	sd_statcache_group_free(g);
	free(longer);
	free(v);
	sd_compcache_close(c);
}

Test(statcache, no_cache_or_an_off_one_has_no_records)
{
	struct sd_statcache_group *g;
	struct sd_statcache_rec r = rec("a", 1, 1);
	cr_assert_eq(sd_statcache_load(NULL, "/s", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 0);
	cr_assert_null(sd_statcache_find(g, "a", &r.id));
	sd_statcache_group_free(g);
	cr_assert_not(sd_statcache_store(NULL, "/s", &r, 1, NOW));

	FILE *f = fopen(tt_path("file"), "w");
	cr_assert_not_null(f);
	fclose(f);
	struct sd_compcache *c;
	cr_assert_eq(sd_compcache_open(&c, tt_path("file"), NULL, NULL), 0);
	cr_assert_not(sd_compcache_enabled(c));
	cr_assert_not(sd_statcache_store(c, "/s", &r, 1, NOW));
	cr_assert_eq(sd_statcache_load(c, "/s", &g, NULL), 0);
	cr_assert_eq(sd_statcache_count(g), 0);
	sd_statcache_group_free(g);
	sd_compcache_close(c);
}

Test(statcache, replace_keeps_the_recorded_usage_right)
{
	struct sd_compcache *c = open_cache();
	struct sd_statcache_rec r = rec("a", 1, 1);
	for (int i = 0; i < 20; i++)
		cr_assert(sd_statcache_store(c, "/s/u", &r, 1, NOW));
	sd_compcache_close(c);
	c = open_cache();
	struct sd_compcache_stats st;
	cr_assert_eq(sd_compcache_stats(c, &st, NULL), 0);
	cr_assert_eq(st.entries, 1);
	cr_assert(st.recorded_valid);
	cr_assert_eq(st.recorded, st.disk_bytes, "recorded %llu, on disk %llu",
		     (unsigned long long)st.recorded,
		     (unsigned long long)st.disk_bytes);
	sd_compcache_close(c);
}
