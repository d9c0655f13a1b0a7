/* SPDX-License-Identifier: MIT */
/*
 * The EROFS writer with a compression cache (writer_z.h, writer_zcache.c):
 * for every compressor (and none, which has no segments and leaves the
 * cache alone) the image is byte-identical to the one written without a
 * cache whether the cache is cold, warm, partly emptied, damaged, off,
 * read-only or full, with 1 and 2 jobs; the warm cache is really used (hits, no misses), the
 * damaged one counts corrupt entries.  A value with a valid checksum but
 * a structure ewz_compress_segment never makes is rejected (and replaced
 * by the value compressed instead), and keys
 * follow the documented derivation.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/compcache.h"
#include "core/le.h"
#include "core/sha256.h"
#include "formats/erofs/erofs.h"
#include "formats/erofs/writer.h"
#include "formats/erofs/writer_z.h"
#include "cachehelpers.h"
#include "helpers.h"

#define MIB (1024u * 1024u)

TestSuite(erofs_cache, .init = th_setup, .fini = tt_teardown, .timeout = 600);

/* ---- data and trees ------------------------------------------------- */

/* Compressible text of @len bytes. */
static void *text(size_t len, unsigned seed)
{
	char *p = malloc(len + 64);
	size_t n = 0;

	cr_assert_not_null(p);
	for (unsigned i = 0; n < len; i++)
		n += (size_t)snprintf(p + n, 64, "entry %u of %u: %s\n", i,
				      seed, i % 5 ? "some text" : "other");
	return p;
}

/* Runs of random and repeated bytes. */
static void *mixed(size_t len, uint32_t seed)
{
	return th_mixed(len, seed, 2000, 20000);
}

/*
 * Every shape that matters: empty, shorter than a block, exactly N
 * blocks, N blocks and a tail, more than one segment (1 MiB), all zeros,
 * incompressible, a random run that ends before compressible data (a
 * raw run inside a segment), duplicate files of one and of several
 * segments, and two files whose last segments are equal (duplicate
 * tails: one cache entry serves both).
 */
static struct sd_tree *shapes_tree_plus(bool more)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *a = th_dir(t, NULL, "aaaa-shapes");
	struct sd_node *b = th_dir(t, NULL, "bbbb-again");
	uint8_t *x, *y;

	th_file_take(t, a, "empty", malloc(1), 0);
	th_file_take(t, a, "small", text(3000, 1), 3000);
	th_file_take(t, a, "blocks8", text(8 * 4096, 2), 8 * 4096);
	th_file_take(t, a, "blocks5-tail", text(5 * 4096 + 1234, 3),
		     5 * 4096 + 1234);
	th_file_take(t, a, "multi", mixed(2 * MIB + 300000, 4),
		     2 * MIB + 300000);
	th_file_take(t, a, "zeros", calloc(1, MIB + MIB / 2 + 100),
		     MIB + MIB / 2 + 100);
	th_random_file(t, a, "random", 200000, 5);
	th_random_file(t, a, "random-3blocks", 3 * 4096, 6);
	x = malloc(256 * 1024);
	cr_assert_not_null(x);
	th_random(x, 64 * 1024, 7);
	memset(x + 64 * 1024, 'z', 192 * 1024);
	th_file_take(t, a, "raw-then-zeros", x, 256 * 1024);
	th_file_take(t, a, "dup-one", text(40000, 8), 40000);
	th_file_take(t, b, "dup-one", text(40000, 8), 40000);
	th_file_take(t, a, "dup-multi", mixed(MIB + 5000, 9), MIB + 5000);
	th_file_take(t, b, "dup-multi", mixed(MIB + 5000, 9), MIB + 5000);
	/* same second segment, different first ones */
	x = mixed(MIB + 70000, 10);
	y = mixed(MIB + 70000, 11);
	memcpy(y + MIB, x + MIB, 70000);
	th_file_take(t, a, "tail-a", x, MIB + 70000);
	th_file_take(t, b, "tail-b", y, MIB + 70000);
	if (more) { /* two new files, last in tree order */
		struct sd_node *z = th_dir(t, NULL, "zzzz-new");

		th_file_take(t, z, "a", text(50000, 12), 50000);
		th_file_take(t, z, "b", text(60000, 13), 60000);
	}
	th_finalize(t);
	return t;
}

static struct sd_tree *shapes_tree(void)
{
	return shapes_tree_plus(false);
}

/* ---- writing -------------------------------------------------------- */

struct cfg {
	const char *comp;
	uint32_t pcluster;
	bool ztail;
};

/* Write @t to @name (returns its path, a tt_path buffer) with cache directory @cachedir (NULL: none); the
 * counters of the handle it used into @cnt (zeros without one). */
static const char *write_with(const struct sd_tree *t, const struct cfg *c,
			      unsigned jobs, const char *cachedir,
			      const char *name,
			      struct sd_compcache_counters *cnt)
{
	struct sd_write_stats st;
	struct sd_write_options o = {
		.compressor = c->comp,
		.level = -1,
		.jobs = jobs,
		.pcluster_size = c->pcluster,
		.ztailpacking = c->ztail,
	};

	th_write_cached(&sd_format_erofs, t, &o, cachedir, tt_path(name), &st,
			cnt);
	return tt_path(name);
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la, lb;

	cr_assert(strcmp(a, b), "comparing %s with itself", a);
	void *da = th_slurp(a, &la), *db = th_slurp(b, &lb);

	cr_assert_eq(la, lb, "%s and %s differ in size", a, b);
	cr_assert(!memcmp(da, db, la), "%s and %s differ", a, b);
	free(da);
	free(db);
}

/* Flip the byte in the middle of entry @path's value, or truncate the
 * entry to @keep bytes when @keep is not SIZE_MAX. */
static void damage(const char *path, size_t keep)
{
	size_t len;
	uint8_t *d = th_slurp(path, &len);

	cr_assert_gt(len, SD_COMPCACHE_HEADER_LEN);
	if (keep != SIZE_MAX) {
		cr_assert_eq(truncate(path, (off_t)keep), 0);
	} else {
		d[SD_COMPCACHE_HEADER_LEN +
		  (len - SD_COMPCACHE_HEADER_LEN) / 2] ^= 0x40;
		th_spit(path, d, len);
	}
	free(d);
}

/*
 * Everything for one configuration: no cache (1 and 2 jobs), cold (2
 * jobs), warm (1 and 2 jobs), partly emptied, damaged, repaired and a
 * cache that is off: every image the same bytes.
 */
static void cache_matrix(const struct sd_tree *t, const struct cfg *c)
{
	struct sd_compcache_counters k;
	char dir[300], offdir[512];
	char ref[512];
	char **e;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/cache-%u", tt_tmp, c->pcluster);
	snprintf(ref, sizeof(ref), "%s",
		 write_with(t, c, 1, NULL, "ref.img", &k));
	cr_assert_eq(k.hits + k.misses + k.puts, 0);
	assert_same_file(ref, write_with(t, c, 2, NULL, "nocache2.img", &k));

	/* cold */
	assert_same_file(ref, write_with(t, c, 2, dir, "cold.img", &k));
	cr_assert_gt(k.misses, 0, "%s: cold run had no misses", c->comp);
	cr_assert_gt(k.puts, 0, "%s: cold run stored nothing", c->comp);
	cr_assert_eq(k.corrupt, 0);
	e = th_cache_entries(dir, &n);
	cr_assert_gt(n, 4, "%s: only %zu entries", c->comp, n);
	th_cache_entries_free(e, n);

	/* warm: every segment from the cache */
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		assert_same_file(ref,
				 write_with(t, c, jobs, dir, "warm.img", &k));
		cr_assert_gt(k.hits, 0, "%s: warm run had no hits", c->comp);
		cr_assert_eq(k.misses, 0, "%s/%u jobs: warm run missed %llu",
			     c->comp, jobs, (unsigned long long)k.misses);
		cr_assert_eq(k.puts, 0);
		cr_assert_eq(k.corrupt, 0);
	}

	/* partly emptied: every other entry removed */
	e = th_cache_entries(dir, &n);
	for (size_t i = 0; i < n; i += 2)
		cr_assert_eq(unlink(e[i]), 0);
	th_cache_entries_free(e, n);
	assert_same_file(ref, write_with(t, c, 2, dir, "partial.img", &k));
	cr_assert_gt(k.hits, 0);
	cr_assert_gt(k.misses, 0);
	cr_assert_eq(k.puts, k.misses - k.present);

	/* damaged: flipped bytes in blocks and in records, truncations */
	e = th_cache_entries(dir, &n);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0)
			damage(e[i], SIZE_MAX);
		else if (i % 3 == 1)
			damage(e[i], SD_COMPCACHE_HEADER_LEN + 100);
	}
	th_cache_entries_free(e, n);
	assert_same_file(ref, write_with(t, c, 1, dir, "damaged.img", &k));
	cr_assert_gt(k.corrupt, 0, "%s: damage went unnoticed", c->comp);
	cr_assert_gt(k.hits, 0);

	/* the damaged entries were replaced */
	assert_same_file(ref, write_with(t, c, 2, dir, "repaired.img", &k));
	cr_assert_eq(k.misses, 0);
	cr_assert_eq(k.corrupt, 0);

	/* a cache that is off from the start (not a directory): no gets */
	snprintf(offdir, sizeof(offdir), "%s", tt_path("not-a-dir"));
	th_spit(offdir, "x", 1);
	assert_same_file(ref, write_with(t, c, 2, offdir, "off.img", &k));
	cr_assert_eq(k.hits + k.misses + k.puts + k.skipped, 0);
}

static void matrix_for(const char *comp)
{
	struct sd_tree *t = shapes_tree();
	const struct cfg small = {comp, 4096, false};
	const struct cfg big = {comp, 16384, true};

	cache_matrix(t, &small);
	/* another configuration: other keys, the same cache directory */
	cache_matrix(t, &big);
	sd_tree_free(t);
}

Test(erofs_cache, lz4)
{
	matrix_for("lz4");
}

Test(erofs_cache, lz4hc)
{
	matrix_for("lz4hc");
}

Test(erofs_cache, lzma)
{
	matrix_for("lzma");
}

Test(erofs_cache, zstd)
{
	matrix_for("zstd");
}

/*
 * A cache on a file system mounted read-only (a tmpfs remounted; root
 * only): its entries are still used, what it lacks cannot be stored, and
 * the image is the same bytes.
 */
Test(erofs_cache, read_only_cache)
{
	struct sd_tree *t = shapes_tree();
	const struct cfg c = {"lz4hc", 4096, false};
	struct sd_compcache_counters k, kro;
	char ref[512], mnt[512], dir[600], ro[512];
	bool same;
	char **e;
	size_t n;

	snprintf(mnt, sizeof(mnt), "%s", tt_path("ro"));
	snprintf(dir, sizeof(dir), "%s/cache", mnt);
	tt_mkdir("ro");
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64m") != 0)
		cr_skip_test("cannot mount a tmpfs here");
	snprintf(ref, sizeof(ref), "%s",
		 write_with(t, &c, 1, NULL, "ref.img", &k));
	write_with(t, &c, 2, dir, "cold.img", &k);
	e = th_cache_entries(dir, &n);
	for (size_t i = 0; i < n; i += 2)
		unlink(e[i]);
	th_cache_entries_free(e, n);
	if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0) {
		umount2(mnt, MNT_DETACH);
		cr_skip_test("cannot remount the tmpfs read-only");
	}
	snprintf(ro, sizeof(ro), "%s",
		 write_with(t, &c, 2, dir, "ro.img", &kro));
	{
		size_t la, lb;
		void *a = th_slurp(ref, &la), *b = th_slurp(ro, &lb);

		same = la == lb && !memcmp(a, b, la);
		free(a);
		free(b);
	}
	umount2(mnt, MNT_DETACH);
	cr_assert(same, "a read-only cache changed the image");
	/* off from its open: nothing can be written */
	cr_assert_eq(kro.hits + kro.misses + kro.puts, 0);
	sd_tree_free(t);
}

/*
 * A cache on a full file system (a small tmpfs filled up; root only): a
 * tree with two new files at its end gets every other segment from it,
 * the first new one's put fails (ENOSPC turns the cache off), the second
 * does not ask it, and the image is the same bytes.
 */
Test(erofs_cache, full_cache)
{
	struct sd_tree *t = shapes_tree(), *t2 = shapes_tree_plus(true);
	const struct cfg c = {"lz4hc", 4096, false};
	struct sd_compcache_counters k, kf;
	char ref[512], mnt[512], dir[600], fill[600], full[512];
	static uint8_t zero[65536];
	bool same;
	int fd;

	snprintf(mnt, sizeof(mnt), "%s", tt_path("full"));
	snprintf(dir, sizeof(dir), "%s/cache", mnt);
	snprintf(fill, sizeof(fill), "%s/filler", mnt);
	tt_mkdir("full");
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=16m") != 0)
		cr_skip_test("cannot mount a tmpfs here");
	snprintf(ref, sizeof(ref), "%s",
		 write_with(t2, &c, 1, NULL, "ref.img", &k));
	write_with(t, &c, 2, dir, "cold.img", &k);
	fd = open(fill, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	while (fd >= 0 && write(fd, zero, sizeof(zero)) > 0)
		;
	if (fd >= 0)
		close(fd);
	snprintf(full, sizeof(full), "%s",
		 write_with(t2, &c, 1, dir, "full.img", &kf));
	{
		size_t la, lb;
		void *a = th_slurp(ref, &la), *b = th_slurp(full, &lb);

		same = la == lb && !memcmp(a, b, la);
		free(a);
		free(b);
	}
	umount2(mnt, MNT_DETACH);
	cr_assert(same, "a full cache changed the image");
	cr_assert_eq(kf.hits, 17);
	cr_assert_eq(kf.misses, 1);
	cr_assert_eq(kf.puts, 0);
	/* the second new file's segment never asked the cache: it was off
	 * (not even a skipped get) */
	cr_assert_eq(kf.skipped, 0);
	sd_tree_free(t2);
	sd_tree_free(t);
}

/* No compressor, no segments: the cache is never asked. */
Test(erofs_cache, none_leaves_cache_alone)
{
	struct sd_tree *t = shapes_tree();
	const struct cfg c = {"none", 0, false};
	struct sd_compcache_counters k;
	const char *dir = tt_path("cache");
	char dirbuf[512];
	char ref[512];
	size_t n;

	snprintf(dirbuf, sizeof(dirbuf), "%s", dir);
	snprintf(ref, sizeof(ref), "%s",
		 write_with(t, &c, 1, NULL, "ref.img", &k));
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		assert_same_file(ref,
				 write_with(t, &c, jobs, dirbuf, "c.img", &k));
		cr_assert_eq(k.hits + k.misses + k.puts + k.skipped, 0);
	}
	char **e = th_cache_entries(dirbuf, &n);
	cr_assert_eq(n, 0);
	th_cache_entries_free(e, n);
	sd_tree_free(t);
}

/* ---- keys and values ------------------------------------------------ */

/* The key of the documented derivation, computed here from scratch. */
static void doc_key(const struct ez_config *cfg, const void *in, size_t len,
		    uint32_t tail_room, uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	uint8_t digest[SD_SHA256_LEN], desc[51], sha[SD_SHA256_LEN];
	char params[512], layout[64], lib[128], tmp[128];
	struct sd_sha256 *h = sd_sha256_new();
	struct sd_compcache_params p = {
		.format = "erofs",
		.kind = "segment",
		.compressor = ez_name(cfg),
		.library = lib,
		.level = cfg->level < 0 ? 0 : cfg->level,
		.block_size = cfg->pcluster,
		.layout = layout,
	};

	snprintf(lib, sizeof(lib), "%s", ez_library(cfg, tmp, sizeof(tmp)));
	snprintf(layout, sizeof(layout), "rules=1,blksize=4096,dict=%u",
		 cfg->dict_size);
	cr_assert_eq(sd_compcache_params(&p, params, sizeof(params), NULL), 0);
	sd_sha256_update(h, in, len);
	sd_sha256_final(h, digest);
	memcpy(desc, "segment", 7);
	put_le64(desc + 7, len);
	put_le32(desc + 15, tail_room);
	memcpy(desc + 19, digest, 32);
	h = sd_sha256_new();
	sd_sha256_update(h, desc, sizeof(desc));
	sd_sha256_final(h, sha);
	cr_assert_eq(sd_compcache_key(params, sha, key, NULL), 0);
}

Test(erofs_cache, params_and_key)
{
	struct ez_config cfg;
	char params[512], lib[128];
	uint8_t key[32], key2[32];
	static const char in[] = "some segment input";

	cr_assert_eq(ez_config_init(&cfg, "lz4hc", -1, 16384, NULL), 0);
	cr_assert_eq(ewz_cache_params(&cfg, "segment", false, params,
				      sizeof(params), NULL),
		     0);
	cr_assert(strstr(params, "format=erofs\nkind=segment\n"
				 "compressor=lz4hc\n"),
		  "%s", params);
	cr_assert(strstr(params, "\nlevel=9\n"), "%s", params);
	cr_assert(strstr(params, ez_library(&cfg, lib, sizeof(lib))), "%s",
		  params);
	cr_assert(!strncmp(lib, "lz4 1.", 6), "%s", lib);
	cr_assert_eq(ez_config_init(&cfg, "zstd", -1, 4096, NULL), 0);
	cr_assert(!strncmp(ez_library(&cfg, lib, sizeof(lib)), "zstd 1.", 7));
	cr_assert_eq(ez_config_init(&cfg, "lzma", -1, 4096, NULL), 0);
	cr_assert(
		!strncmp(ez_library(&cfg, lib, sizeof(lib)), "liblzma 5.", 10));
	cr_assert_eq(ewz_cache_params(&cfg, "segment", false, params,
				      sizeof(params), NULL),
		     0);
	cr_assert(strstr(params, "\nlevel=6\n"), "%s", params);

	/* the key from a digest equals the documented derivation */
	uint8_t digest[32];
	struct sd_sha256 *h = sd_sha256_new();
	sd_sha256_update(h, in, sizeof(in));
	sd_sha256_final(h, digest);
	cr_assert_eq(ewz_cache_key(params, sizeof(in), 7, digest, key, NULL),
		     0);
	doc_key(&cfg, in, sizeof(in), 7, key2);
	cr_assert(!memcmp(key, key2, 32));
	/* tail room and length are part of it */
	cr_assert_eq(ewz_cache_key(params, sizeof(in), 0, digest, key2, NULL),
		     0);
	cr_assert(memcmp(key, key2, 32));
}

/* ---- synthetic values for ewz_seg_decode ----------------------------- */

struct rec {
	uint32_t off, llen, clen, blocks, flags;
};

/*
 * A value for @n records: the blocks of each filled as the writer fills
 * them (compressed: clen bytes of 0xAA right-aligned; plain: llen bytes
 * of 0xBB at the start), then the records and the trailer.  Malloc'ed.
 */
static uint8_t *mkval(const struct rec *r, size_t n, size_t *vlen)
{
	uint32_t nblocks = 0, b = 0;
	uint8_t *v, *p;

	for (size_t i = 0; i < n; i++)
		nblocks += r[i].blocks;
	*vlen = (size_t)nblocks * 4096 + n * 16 + 12;
	v = calloc(1, *vlen);
	cr_assert_not_null(v);
	for (size_t i = 0; i < n; i++) {
		uint8_t *blk = v + (size_t)b * 4096;
		size_t room = (size_t)r[i].blocks * 4096;

		if (r[i].flags & 1)
			memset(blk, 0xBB, r[i].llen < 4096 ? r[i].llen : 4096);
		else if (r[i].clen <= room)
			memset(blk + room - r[i].clen, 0xAA, r[i].clen);
		b += r[i].blocks;
	}
	p = v + (size_t)nblocks * 4096;
	for (size_t i = 0; i < n; i++, p += 16) {
		put_le32(p, r[i].off);
		put_le32(p + 4, r[i].llen);
		put_le32(p + 8, r[i].clen);
		put_le16(p + 12, (uint16_t)r[i].blocks);
		put_le16(p + 14, (uint16_t)r[i].flags);
	}
	put_le32(p, (uint32_t)n);
	put_le32(p + 4, nblocks);
	memcpy(p + 8, "ewz1", 4);
	return v;
}

/* Whether the value of @r decodes for a segment of @len bytes. */
static bool accepts(const struct rec *r, size_t n, size_t len,
		    uint32_t tail_room, uint32_t pcluster)
{
	struct ewz_seg s = {0};
	size_t vlen;
	uint8_t *v = mkval(r, n, &vlen);
	bool ok =
		ewz_seg_decode(v, vlen, len, tail_room, 1 << 20, pcluster, &s);

	if (ok) {
		cr_assert_eq(s.data, v);
		cr_assert_eq(s.npcl, n);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(s.pcl[i].la, (1u << 20) + r[i].off);
		ewz_seg_free(&s);
	} else {
		free(v);
	}
	return ok;
}

Test(erofs_cache, decode_checks_structure)
{
	/* one compressed pcluster saving a block, then a raw tail */
	const struct rec good[] = {{0, 9000, 3000, 1, 0},
				   {9000, 100, 100, 1, 1}};
	cr_assert(accepts(good, 2, 9100, 0, 4096));
	/* wrong length, gaps, overlaps */
	cr_assert(!accepts(good, 2, 9101, 0, 4096));
	cr_assert(!accepts(good, 2, 9099, 0, 4096));
	const struct rec gap[] = {{0, 9000, 3000, 1, 0}, {9001, 99, 99, 1, 1}};
	cr_assert(!accepts(gap, 2, 9100, 0, 4096));
	const struct rec at1[] = {{1, 9099, 3000, 1, 0}};
	cr_assert(!accepts(at1, 1, 9100, 0, 4096));
	/* a raw piece shorter than a block before the end */
	const struct rec shortraw[] = {{0, 100, 100, 1, 1},
				       {100, 9000, 3000, 1, 0}};
	cr_assert(!accepts(shortraw, 2, 9100, 0, 4096));
	/* raw: clen must equal llen, one block */
	const struct rec rawclen[] = {{0, 4096, 4000, 1, 1}};
	cr_assert(!accepts(rawclen, 1, 4096, 0, 4096));
	const struct rec raw2[] = {{0, 4096, 4096, 2, 1}};
	cr_assert(!accepts(raw2, 1, 4096, 0, 16384));
	/* compressed: saves a block, blocks fit clen, clen > 0 */
	const struct rec nosave[] = {{0, 4096, 3000, 1, 0}};
	cr_assert(!accepts(nosave, 1, 4096, 0, 4096));
	/* ... unless it is the inline tail */
	cr_assert(accepts(nosave, 1, 4096, 3000, 4096));
	cr_assert(!accepts(nosave, 1, 4096, 2999, 4096));
	const struct rec fat[] = {{0, 20000, 3000, 2, 0}};
	cr_assert(!accepts(fat, 1, 20000, 0, 16384));
	const struct rec zero[] = {{0, 9000, 0, 1, 0}};
	cr_assert(!accepts(zero, 1, 9000, 0, 4096));
	const struct rec over[] = {{0, 9000, 5000, 1, 0}};
	cr_assert(!accepts(over, 1, 9000, 0, 4096));
	/* no more blocks than the pcluster size */
	const struct rec big[] = {{0, 30000, 8000, 2, 0}};
	cr_assert(accepts(big, 1, 30000, 0, 16384));
	cr_assert(!accepts(big, 1, 30000, 0, 4096));
	/* bad flags, no blocks */
	const struct rec flags[] = {{0, 9000, 3000, 1, 2}};
	cr_assert(!accepts(flags, 1, 9000, 0, 4096));
	const struct rec noblk[] = {{0, 9000, 3000, 0, 0}};
	cr_assert(!accepts(noblk, 1, 9000, 0, 4096));
	/* raw runs are whole pclusters (4 blocks here) unless at the end */
	const struct rec run2[] = {{0, 4096, 4096, 1, 1},
				   {4096, 4096, 4096, 1, 1},
				   {8192, 9000, 3000, 1, 0}};
	cr_assert(!accepts(run2, 3, 17192, 0, 16384));
	const struct rec run4[] = {{0, 4096, 4096, 1, 1},
				   {4096, 4096, 4096, 1, 1},
				   {8192, 4096, 4096, 1, 1},
				   {12288, 4096, 4096, 1, 1},
				   {16384, 9000, 3000, 1, 0}};
	cr_assert(accepts(run4, 5, 25384, 0, 16384));
	cr_assert(accepts(run2, 2, 8192, 0, 16384));
}

Test(erofs_cache, decode_checks_bytes)
{
	const struct rec good[] = {{0, 9000, 3000, 1, 0},
				   {9000, 100, 100, 1, 1}};
	struct ewz_seg s = {0};
	size_t vlen;
	uint8_t *v;

	/* a byte in the zero padding of the compressed block */
	v = mkval(good, 2, &vlen);
	v[10] = 1;
	cr_assert(!ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	free(v);
	/* behind the raw bytes */
	v = mkval(good, 2, &vlen);
	v[4096 + 200] = 1;
	cr_assert(!ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	free(v);
	/* trailer: magic, counts, length */
	v = mkval(good, 2, &vlen);
	v[vlen - 1] ^= 1;
	cr_assert(!ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	free(v);
	v = mkval(good, 2, &vlen);
	put_le32(v + vlen - 12, 3);
	cr_assert(!ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	put_le32(v + vlen - 12, 0);
	cr_assert(!ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	put_le32(v + vlen - 12, 2);
	put_le32(v + vlen - 8, 3);
	cr_assert(!ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	put_le32(v + vlen - 8, 2);
	cr_assert(!ewz_seg_decode(v, vlen - 1, 9100, 0, 0, 4096, &s));
	cr_assert(!ewz_seg_decode(v, 11, 9100, 0, 0, 4096, &s));
	cr_assert(!ewz_seg_decode(v, vlen, 0, 0, 0, 4096, &s));
	cr_assert(ewz_seg_decode(v, vlen, 9100, 0, 0, 4096, &s));
	ewz_seg_free(&s);
}

/*
 * A real entry, re-stored with a valid checksum but a structure the
 * writer never makes: the writer gets it, rejects it and compresses, so
 * the image is the same bytes.
 */
Test(erofs_cache, inconsistent_value_rejected)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *a = th_dir(t, NULL, "aaaa-one");
	const struct cfg c = {"lz4hc", 16384, false};
	size_t len = 100000, n, elen;
	void *content = text(len, 42);
	struct sd_compcache_counters k;
	struct ez_config cfg;
	uint8_t key[32], dkey[32];
	char **e;
	char ref[512];
	uint8_t *entry;

	th_file(t, a, "file", content, len);
	th_finalize(t);
	snprintf(ref, sizeof(ref), "%s",
		 write_with(t, &c, 1, NULL, "ref.img", &k));
	char dir0[512];
	snprintf(dir0, sizeof(dir0), "%s", tt_path("cache0"));
	assert_same_file(ref, write_with(t, &c, 1, dir0, "cold.img", &k));
	e = th_cache_entries(dir0, &n);
	cr_assert_eq(n, 1);
	entry = th_slurp(e[0], &elen);
	th_cache_entries_free(e, n);

	/* its name is the documented key */
	cr_assert_eq(ez_config_init(&cfg, "lz4hc", -1, 16384, NULL), 0);
	doc_key(&cfg, content, len, 0, dkey);
	memcpy(key, entry + 16, 32);
	cr_assert(!memcmp(key, dkey, 32));

	uint8_t *val = entry + SD_COMPCACHE_HEADER_LEN;
	size_t vlen = elen - SD_COMPCACHE_HEADER_LEN;
	uint32_t npcl = get_le32(val + vlen - 12);
	uint32_t nblocks = get_le32(val + vlen - 8);
#define R(i) ((size_t)nblocks * 4096 + (size_t)(i)*16)
	uint32_t padpcl = UINT32_MAX, padblk = 0, b = 0;
	cr_assert_gt(npcl, 1);
	for (uint32_t i = 0; i < npcl; i++) {
		uint32_t clen = get_le32(val + R(i) + 8);
		uint32_t blocks = get_le16(val + R(i) + 12);

		if (!(get_le16(val + R(i) + 14) & 1) && clen < blocks * 4096) {
			padpcl = i;
			padblk = b;
		}
		b += blocks;
	}
	cr_assert_neq(padpcl, UINT32_MAX,
		      "no compressed pcluster with padding");

	for (int m = 0; m < 5; m++) {
		uint8_t *bad = malloc(vlen);
		char dir[64];

		cr_assert_not_null(bad);
		memcpy(bad, val, vlen);
		switch (m) {
		case 0: /* the last pcluster one byte longer */
			put_le32(bad + R(npcl - 1) + 4,
				 get_le32(val + R(npcl - 1) + 4) + 1);
			break;
		case 1: /* a byte in a compressed pcluster's zero padding */
			bad[(size_t)padblk * 4096] ^= 0xff;
			break;
		case 2: /* a compressed pcluster marked plain */
			put_le16(bad + R(padpcl) + 14, 1);
			break;
		case 3: /* a shorter chain: the last record dropped */
			memmove(bad + R(npcl - 1), val + vlen - 12, 12);
			put_le32(bad + R(npcl - 1), npcl - 1);
			break;
		default: /* one block more */
			put_le16(bad + R(0) + 12,
				 (uint16_t)(get_le16(val + R(0) + 12) + 1));
			break;
		}
		snprintf(dir, sizeof(dir), "bad%d", m);
		char dirp[512];
		snprintf(dirp, sizeof(dirp), "%s", tt_path(dir));
		struct sd_compcache *cc;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_compcache_open(&cc, dirp, NULL, &err), 0);
		cr_assert(sd_compcache_put(cc, key, bad,
					   m == 3 ? vlen - 16 : vlen));
		sd_compcache_close(cc);
		assert_same_file(ref,
				 write_with(t, &c, 1, dirp, "bad.img", &k));
		/* the entry was read (a valid checksum) and not used */
		cr_assert_eq(k.hits, 1, "mutation %d", m);
		cr_assert_eq(k.misses, 0);
		cr_assert_eq(k.corrupt, 0);
		/* the compressed value replaced the bad one */
		e = th_cache_entries(dirp, &n);
		cr_assert_eq(n, 1);
		size_t glen;
		uint8_t *good = th_slurp(e[0], &glen);
		th_cache_entries_free(e, n);
		cr_assert_eq(glen, elen, "mutation %d: not replaced", m);
		cr_assert(!memcmp(good + SD_COMPCACHE_HEADER_LEN, val, vlen),
			  "mutation %d: not replaced", m);
		free(good);
		free(bad);
	}
#undef R
	free(entry);
	free(content);
	sd_tree_free(t);
}
