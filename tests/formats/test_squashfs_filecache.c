/* SPDX-License-Identifier: MIT */
/*
 * The SquashFS writer's file entries (formats/squashfs/writer_cache.h):
 * driven with a file_digest callback of the test's own (a table of
 * digests by node) and a tap that counts the files opened.  A warm cache
 * writes every file without opening it (files_from_cache), a cold one
 * none, a partly emptied one some; a file entry with an impossible
 * structure, a missing block entry or a file entry of another size is
 * never used (the file is read); the image bytes are the same as without
 * a cache in every case, with 1 and 2 jobs.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/compcache.h"
#include "core/le.h"
#include "formats/format.h"
#include "formats/squashfs/squashfs.h"
#include "formats/squashfs/writer_cache.h"
#include "cachehelpers.h"
#include "helpers.h"

#define BS 4096u

TestSuite(sqfilecache, .init = th_setup, .fini = tt_teardown, .timeout = 600);

/* @len bytes of text-like, compressible data from @seed. */
static void text(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)("abcdefgh ij\n"[(i / 3 + seed) % 12] +
					 ((i * seed) % 97 == 0));
}

/*
 * Every shape: empty files, files under a block, exactly N blocks, N
 * blocks and a tail, duplicates of both, a tail shared with a small
 * file, a file with raw (random) blocks, sparse blocks and an all-zero
 * tail, an all-zero file and an all-zero small file.  All NFILES files
 * can come from a warm cache.
 */
#define NFILES 14
static struct sd_tree *tree(void)
{
	struct sd_tree *t = sd_tree_new(1700000000);
	struct sd_node *d = th_dir(t, NULL, "pkg");
	size_t big = 300 * 1024 + 123;
	unsigned char *buf = calloc(1, big);

	cr_assert_not_null(buf);
	th_file(t, d, "empty-a", buf, 0);
	th_file(t, d, "empty-b", buf, 0);
	th_file(t, d, "zero-small", buf, 100);
	th_file(t, d, "zeros", buf, 4 * BS + 10);
	text(buf, big, 1);
	th_file(t, d, "small", buf, 700);
	th_file(t, d, "exact-3", buf, 3 * BS);
	th_file(t, d, "blocks-5-tail", buf + 100, 5 * BS + 333);
	th_file(t, d, "blocks-5-tail-dup", buf + 100, 5 * BS + 333);
	th_file(t, d, "tail-dup", buf + 100 + 5 * BS, 333);
	/* text, a random stretch (raw blocks), text */
	text(buf, big, 3);
	th_random(buf + 100 * 1024, 50 * 1024, 77);
	th_file(t, d, "big", buf, big);
	/* sparse: zero blocks in the middle and an all-zero tail */
	memset(buf, 0, 8 * BS + 500);
	text(buf, BS, 4);
	text(buf + 6 * BS, BS, 5);
	th_file(t, d, "sparse", buf, 8 * BS + 500);
	th_random_file(t, d, "random", 7 * BS + 1000, 42);
	th_random_file(t, d, "random-small", 3000, 43);
	text(buf, 2000, 9);
	th_file(t, d, "small-2", buf, 2000);
	free(buf);
	th_finalize(t);
	cr_assert_eq(t->nfiles, NFILES);
	return t;
}

static struct sd_node *find(struct sd_tree *t, const char *name)
{
	struct sd_node *d = t->root->children[0];

	for (size_t j = 0; j < d->nchildren; j++)
		if (!strcmp(d->children[j]->name, name))
			return d->children[j];
	cr_assert_fail("no %s", name);
	return NULL;
}

/* Write @t with cache @dir (NULL: none) and digests @k (NULL: none) into
 * @rel; its stats into @st. */
static void write_fc(const struct sd_tree *t, const char *comp, unsigned jobs,
		     const char *dir, struct th_known *k, const char *rel,
		     struct sd_write_stats *st)
{
	struct sd_write_options o = {
		.compressor = comp,
		.level = -1,
		.block_size = BS,
		.jobs = jobs,
		.file_digest = k ? th_known_digest : NULL,
		.file_digest_ctx = k,
	};

	th_write_cached(&sd_format_squashfs, t, &o, dir ? tt_path(dir) : NULL,
			tt_path(rel), st, NULL);
}

static void same_file(const char *a, const char *b, const char *what)
{
	size_t la, lb;
	void *da = th_slurp(tt_path(a), &la), *db = th_slurp(tt_path(b), &lb);

	cr_assert(la == lb && !memcmp(da, db, la), "%s: %s and %s differ", what,
		  a, b);
	free(da);
	free(db);
}

/* Remove every other entry file of cache @dir; returns how many. */
static unsigned remove_half(const char *dir)
{
	char v1[4096], sub[4200], p[4300];
	unsigned m = 0, n = 0;

	for (unsigned b = 0; b < 256; b++) {
		DIR *d;
		struct dirent *e;

		snprintf(v1, sizeof(v1), "%s/v1", tt_path(dir));
		snprintf(sub, sizeof(sub), "%s/%02x", v1, b);
		d = opendir(sub);
		while (d && (e = readdir(d))) {
			if (strlen(e->d_name) != 64 || m++ % 2)
				continue;
			snprintf(p, sizeof(p), "%s/%s", sub, e->d_name);
			cr_assert_eq(unlink(p), 0);
			n++;
		}
		if (d)
			closedir(d);
	}
	return n;
}

static const char *const comps[] = {"zstd", "gzip", "lz4", "xz"};

/* Cold, warm, partly emptied and refilled caches for every compressor at
 * 1 and 2 jobs. */
Test(sqfilecache, cold_warm_partial)
{
	struct sd_tree *t = tree();
	struct th_known k;
	struct sd_write_stats st;
	char dir[64], what[64];

	th_known_init(&k, t);
	for (size_t ci = 0; ci < sizeof(comps) / sizeof(comps[0]); ci++)
		for (unsigned jobs = 1; jobs <= 2; jobs++) {
			uint64_t bytes_in, dedup;

			snprintf(what, sizeof(what), "%s/%u", comps[ci], jobs);
			write_fc(t, comps[ci], jobs, NULL, NULL, "ref.img",
				 &st);
			cr_assert_eq(st.files_from_cache, 0);
			bytes_in = st.data_bytes_in;
			dedup = st.files_deduplicated;
			snprintf(dir, sizeof(dir), "c%zu-%u", ci, jobs);
			th_known_reset_opens(&k);
			k.after_read = true;
			write_fc(t, comps[ci], jobs, dir, &k, "cold.img", &st);
			k.after_read = false;
			same_file("ref.img", "cold.img", what);
			cr_assert_eq(st.files_from_cache, 0, "%s", what);
			cr_assert_eq(th_known_opened(&k), NFILES, "%s", what);

			th_known_reset_opens(&k);
			write_fc(t, comps[ci], jobs, dir, &k, "warm.img", &st);
			same_file("ref.img", "warm.img", what);
			cr_assert_eq(st.files_from_cache, NFILES, "%s: %llu",
				     what,
				     (unsigned long long)st.files_from_cache);
			cr_assert_eq(th_known_opened(&k), 0, "%s: %u opened",
				     what, th_known_opened(&k));
			cr_assert_eq(st.data_bytes_in, bytes_in, "%s", what);
			cr_assert_eq(st.files_deduplicated, dedup, "%s", what);

			cr_assert_gt(remove_half(dir), 0);
			th_known_reset_opens(&k);
			write_fc(t, comps[ci], jobs, dir, &k, "partial.img",
				 &st);
			same_file("ref.img", "partial.img", what);
			cr_assert_lt(st.files_from_cache, NFILES, "%s", what);
			cr_assert_gt(st.files_from_cache, 0, "%s", what);
			cr_assert_eq(th_known_opened(&k),
				     NFILES - st.files_from_cache, "%s", what);
			cr_assert_eq(st.data_bytes_in, bytes_in, "%s", what);

			write_fc(t, comps[ci], jobs, dir, &k, "again.img", &st);
			same_file("ref.img", "again.img", what);
			cr_assert_eq(st.files_from_cache, NFILES, "%s", what);
		}
	th_known_release(&k);
	sd_tree_free(t);
}

/* "none" stores no cache entries: nothing comes from the cache. */
Test(sqfilecache, none_uses_no_cache)
{
	struct sd_tree *t = tree();
	struct th_known k;
	struct sd_write_stats st;

	th_known_init(&k, t);
	write_fc(t, "none", 1, NULL, NULL, "ref.img", &st);
	write_fc(t, "none", 2, "c", &k, "cold.img", &st);
	write_fc(t, "none", 2, "c", &k, "warm.img", &st);
	same_file("ref.img", "warm.img", "none");
	cr_assert_eq(st.files_from_cache, 0);
	th_known_release(&k);
	sd_tree_free(t);
}

static void params_of(const char *comp, enum sd_sqfs_unit unit,
		      char params[SD_SQFS_CACHE_PARAMS_MAX])
{
	struct sd_write_options o = {
		.compressor = comp, .level = -1, .block_size = BS, .jobs = 1};
	struct sd_sqfs_comp sc;

	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, unit, params,
					  SD_SQFS_CACHE_PARAMS_MAX, NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
}

/* The file entry key of a file of @size bytes with digest @digest, as
 * writer_cache.h documents it. */
static void doc_file_key(const char *comp, uint64_t size,
			 const uint8_t digest[32], uint8_t key[32])
{
	char params[SD_SQFS_CACHE_PARAMS_MAX];
	uint8_t desc[44], s[32];

	params_of(comp, SD_SQFS_UNIT_FILE, params);
	cr_assert(strstr(params, "format=squashfs\nkind=file\n"), "%s", params);
	memcpy(desc, "file", 4);
	put_le64(desc + 4, size);
	memcpy(desc + 12, digest, 32);
	th_sha256(desc, sizeof(desc), s);
	cr_assert_eq(sd_compcache_key(params, s, key, NULL), 0);
}

/* The key of the block unit whose content has SHA-256 @digest. */
static void doc_block_key(const char *comp, const uint8_t digest[32],
			  uint8_t key[32])
{
	char params[SD_SQFS_CACHE_PARAMS_MAX];
	uint8_t desc[41], s[32];

	params_of(comp, SD_SQFS_UNIT_BLOCK, params);
	memcpy(desc, "block", 5);
	put_le32(desc + 5, BS);
	memcpy(desc + 9, digest, 32);
	th_sha256(desc, sizeof(desc), s);
	cr_assert_eq(sd_compcache_key(params, s, key, NULL), 0);
}

/*
 * The entry of "blocks-5-tail" is as documented.  Then with a warm cache,
 * for file "big" (unique content): its file entry with a kind byte of 2,
 * with a tail one byte longer, with its last block record dropped (all
 * re-stored with a valid checksum), the entry of one of its blocks
 * removed, "random"'s file entry (another size) under its key, a raw
 * block value whose stored bytes are all zero.  Each time that file is
 * read (one fewer from the cache) and the bytes are the same.
 */
Test(sqfilecache, bad_entries_never_used)
{
	struct sd_tree *t = tree();
	const char *comp = "zstd";
	struct th_known k;
	struct sd_write_stats st;
	char path[4400];
	uint8_t key[32], okey[32];
	struct sd_node *big, *rnd, *b5;
	size_t vlen;
	uint8_t *v, *val;

	th_known_init(&k, t);
	big = find(t, "big");
	rnd = find(t, "random");
	b5 = find(t, "blocks-5-tail");
	write_fc(t, comp, 1, NULL, NULL, "ref.img", &st);

	/* the documented layout */
	write_fc(t, comp, 1, "doc", &k, "cold.img", &st);
	doc_file_key(comp, b5->size, k.sha[b5->index], key);
	th_cache_entry_path(tt_path("doc"), key, path, sizeof(path));
	v = th_slurp(path, &vlen);
	val = v + SD_COMPCACHE_HEADER_LEN;
	vlen -= SD_COMPCACHE_HEADER_LEN;
	{
		size_t len;
		unsigned char *c = th_content(t, b5, &len);
		uint8_t s[32];

		cr_assert_eq(vlen, 5 * 33 + 4 + 32 + 333 + 8);
		for (unsigned i = 0; i < 5; i++) {
			cr_assert_eq(val[33 * i], 1);
			th_sha256(c + i * BS, BS, s);
			cr_assert(!memcmp(val + 33 * i + 1, s, 32));
		}
		cr_assert_eq(get_le32(val + 165), 333);
		th_sha256(c + 5 * BS, 333, s);
		cr_assert(!memcmp(val + 169, s, 32));
		cr_assert(!memcmp(val + 201, c + 5 * BS, 333));
		cr_assert_eq(get_le32(val + 534), 5);
		cr_assert(!memcmp(val + 538, "sqf1", 4));
		free(c);
	}
	free(v);

	doc_file_key(comp, big->size, k.sha[big->index], key);
	doc_file_key(comp, rnd->size, k.sha[rnd->index], okey);
	for (int m = 0; m < 12; m++) {
		char dir[32];
		struct sd_compcache *cc;
		struct sd_error err;
		void *ov;
		size_t olen;
		unsigned nblocks = (unsigned)(big->size / BS);

		snprintf(dir, sizeof(dir), "bad%d", m);
		write_fc(t, comp, 1 + (unsigned)(m % 2), dir, &k, "cold.img",
			 &st);
		sd_error_init(&err);
		cr_assert_eq(sd_compcache_open(&cc, tt_path(dir), NULL, &err),
			     0);
		cr_assert(sd_compcache_get(cc, key, &ov, &olen));
		val = ov;
		cr_assert_eq(olen, nblocks * 33 + 4 + 32 + big->size % BS + 8,
			     "%zu", olen);
		switch (m / 2) {
		case 0: /* a kind byte of 2 */
			val[33 * 3] = 2;
			cr_assert(sd_compcache_replace(cc, key, val, olen));
			break;
		case 1: /* the tail one byte longer */
			put_le32(val + 33 * nblocks,
				 (uint32_t)(big->size % BS + 1));
			cr_assert(sd_compcache_replace(cc, key, val, olen));
			break;
		case 2: /* the last block's record dropped */
			memmove(val + 33 * (nblocks - 1), val + 33 * nblocks,
				olen - 33 * nblocks);
			cr_assert(
				sd_compcache_replace(cc, key, val, olen - 33));
			break;
		case 3: { /* one block's entry gone */
			uint8_t bkey[32];

			doc_block_key(comp, val + 33 * 7 + 1, bkey);
			th_cache_entry_path(tt_path(dir), bkey, path,
					    sizeof(path));
			cr_assert_eq(unlink(path), 0, "%s", path);
			break;
		}
		case 4: { /* another file's entry */
			void *rv;
			size_t rlen;

			cr_assert(sd_compcache_get(cc, okey, &rv, &rlen));
			cr_assert(sd_compcache_replace(cc, key, rv, rlen));
			free(rv);
			break;
		}
		default: { /* a raw block value, all zero */
			uint8_t bkey[32], raw[12 + BS];
			void *bv;
			size_t blen;

			/* block 30: inside the random stretch, stored raw */
			doc_block_key(comp, val + 33 * 30 + 1, bkey);
			cr_assert(sd_compcache_get(cc, bkey, &bv, &blen));
			cr_assert_eq(blen, 12 + BS, "block 30 is not raw");
			cr_assert_eq(((uint8_t *)bv)[1], 0);
			memcpy(raw, bv, 12);
			memset(raw + 12, 0, BS);
			cr_assert(sd_compcache_replace(cc, bkey, raw,
						       sizeof(raw)));
			free(bv);
			break;
		}
		}
		free(ov);
		sd_compcache_close(cc);
		th_known_reset_opens(&k);
		write_fc(t, comp, 1 + (unsigned)(m % 2), dir, &k, "bad.img",
			 &st);
		same_file("ref.img", "bad.img", dir);
		cr_assert_eq(st.files_from_cache, NFILES - 1, "case %d: %llu",
			     m, (unsigned long long)st.files_from_cache);
		cr_assert(k.opens[big->index], "case %d", m);
		cr_assert_eq(th_known_opened(&k), 1, "case %d", m);
	}
	th_known_release(&k);
	sd_tree_free(t);
}

/* Without digests (no stat cache) nothing is written from the cache, and
 * a digest known for only some files serves only those. */
Test(sqfilecache, only_known_digests)
{
	struct sd_tree *t = tree();
	struct th_known k;
	struct sd_write_stats st;

	th_known_init(&k, t);
	write_fc(t, "gzip", 2, NULL, NULL, "ref.img", &st);
	write_fc(t, "gzip", 2, "c", &k, "cold.img", &st);
	write_fc(t, "gzip", 2, "c", &k, "warm.img", &st);
	cr_assert_eq(st.files_from_cache, NFILES, "%llu",
		     (unsigned long long)st.files_from_cache);
	write_fc(t, "gzip", 2, "c", NULL, "nodig.img", &st);
	same_file("ref.img", "nodig.img", "no digests");
	cr_assert_eq(st.files_from_cache, 0);
	k.have[find(t, "small")->index] = false;
	k.have[find(t, "big")->index] = false;
	th_known_reset_opens(&k);
	write_fc(t, "gzip", 2, "c", &k, "some.img", &st);
	same_file("ref.img", "some.img", "some digests");
	cr_assert_eq(st.files_from_cache, NFILES - 2, "%llu",
		     (unsigned long long)st.files_from_cache);
	cr_assert_eq(th_known_opened(&k), 2);
	th_known_release(&k);
	sd_tree_free(t);
}

/* file_content (the stat cache's record of a small file): contents by
 * node index, read before any counted write; given only once the file
 * was opened when k.after_read is set, as a stat cache learns them. */
struct contents {
	struct th_known k;
	void **data;
};

static bool content_of(void *ctx, const struct sd_node *n, void *buf)
{
	struct contents *c = ctx;

	if (!c->data[n->index] || (c->k.after_read && !c->k.opens[n->index]))
		return false;
	memcpy(buf, c->data[n->index], (size_t)n->size);
	return true;
}

static bool content_digest(void *ctx, const struct sd_node *n, uint8_t s[32])
{
	return th_known_digest(&((struct contents *)ctx)->k, n, s);
}

static void write_content(const struct sd_tree *t, struct contents *c,
			  bool give, unsigned jobs, const char *dir,
			  const char *rel, struct sd_write_stats *st)
{
	struct sd_compcache *cc;
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_compcache_open(&cc, tt_path(dir), NULL, &err), 0, "%s",
		     err.msg);
	struct sd_write_options o = {
		.compressor = "zstd",
		.level = -1,
		.block_size = BS,
		.jobs = jobs,
		.cache = cc,
		.file_digest = content_digest,
		.file_content = give ? content_of : NULL,
		.file_digest_ctx = c,
	};
	int fd = open(tt_path(rel), O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(sd_format_squashfs.write(t, &o, fd, NULL, st, &err), 0,
		     "%s", err.msg);
	close(fd);
	sd_compcache_close(cc);
}

/* Files shorter than a block whose content the caller records need no
 * file entry: a warm pack takes them from file_content without opening
 * them; without file_content they are read (their entries were never
 * stored); the image is the same bytes throughout. */
#define NSMALL \
	7 /* empty-a, empty-b, zero-small, small, tail-dup,
		    random-small, small-2 */
Test(sqfilecache, small_files_from_file_content)
{
	struct sd_tree *t = tree();
	struct contents c;
	struct sd_write_stats st;
	unsigned nsmall = 0;

	th_known_init(&c.k, t);
	c.data = calloc(t->count, sizeof(void *));
	cr_assert_not_null(c.data);
	for (size_t i = 0; i < t->count; i++) {
		const struct sd_node *n = t->root->children[0];
		for (size_t j = 0; j < n->nchildren; j++) {
			const struct sd_node *f = n->children[j];
			size_t len;
			if (f->index != i || f->size >= BS)
				continue;
			c.data[i] = th_content(t, f, &len);
			nsmall++;
		}
	}
	cr_assert_eq(nsmall, NSMALL);
	write_fc(t, "zstd", 2, NULL, NULL, "ref.img", &st);
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		char rel[32], dir[32];

		snprintf(dir, sizeof(dir), "c%u", jobs);
		c.k.after_read = true;
		th_known_reset_opens(&c.k);
		write_content(t, &c, true, jobs, dir, "cold.img", &st);
		same_file("ref.img", "cold.img", "cold");
		cr_assert_eq(st.files_from_cache, 0);
		c.k.after_read = false;
		th_known_reset_opens(&c.k);
		snprintf(rel, sizeof(rel), "warm%u.img", jobs);
		write_content(t, &c, true, jobs, dir, rel, &st);
		same_file("ref.img", rel, "warm with contents");
		cr_assert_eq(st.files_from_cache, NFILES, "%llu",
			     (unsigned long long)st.files_from_cache);
		cr_assert_eq(th_known_opened(&c.k), 0);
		/* without contents: the small files have no entries */
		th_known_reset_opens(&c.k);
		write_content(t, &c, false, jobs, dir, "nocontent.img", &st);
		same_file("ref.img", "nocontent.img", "warm without contents");
		cr_assert_eq(st.files_from_cache, NFILES - NSMALL, "%llu",
			     (unsigned long long)st.files_from_cache);
		cr_assert_eq(th_known_opened(&c.k), NSMALL);
	}
	for (size_t i = 0; i < t->count; i++)
		free(c.data[i]);
	free(c.data);
	th_known_release(&c.k);
	sd_tree_free(t);
}
