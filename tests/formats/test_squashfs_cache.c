/* SPDX-License-Identifier: MIT */
/*
 * The SquashFS writer with a compression cache (formats/squashfs/
 * writer_cache.h): the image is byte for byte the one written without a
 * cache, whatever the cache holds (nothing, everything, part, damaged or
 * inconsistent entries) and whatever the jobs; a warm cache is really used;
 * the keys are the documented ones.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/compcache.h"
#include "core/hex.h"
#include "core/le.h"
#include "core/sha256.h"
#include "formats/format.h"
#include "formats/squashfs/squashfs.h"
#include "formats/squashfs/writer_cache.h"
#include "cachehelpers.h"
#include "helpers.h"

#define BS 4096u

/* @len bytes of text-like, compressible data from @seed. */
static void text(unsigned char *buf, size_t len, unsigned seed)
{
	static const char *const words[] = {"store", "nix",  "closure",
					    "path",  "lib",  "share",
					    "bin",   "hash", "squashfs"};

	for (size_t i = 0; i < len;) {
		const char *w = words[(i / 7 + seed) % 9];

		for (size_t k = 0; w[k] && i < len; k++)
			buf[i++] = (unsigned char)w[k];
		if (i < len) {
			buf[i] = (seed + i) % 5 ? ' ' : '\n';
			i++;
		}
	}
}

/*
 * Every shape that matters: empty files, files under a block, exactly N
 * blocks, N blocks and a tail, a file over 1 MiB, all-zero blocks and an
 * all-zero tail, duplicate files, duplicate tails (in other files and as a
 * whole small file), incompressible random data, and enough small tails
 * for several fragment blocks.
 */
static struct sd_tree *cache_tree(void)
{
	struct sd_tree *t = sd_tree_new(1700000000);
	struct sd_node *d = th_dir(t, NULL, "pkg");
	size_t big = 1300 * 1024 + 123;
	unsigned char *buf = malloc(big), tail[333];
	char name[32];

	cr_assert_not_null(buf);
	th_file(t, d, "empty-a", buf, 0);
	th_file(t, d, "empty-b", buf, 0);
	text(buf, big, 1);
	th_file(t, d, "small", buf, 700);
	th_file(t, d, "exact-3", buf, 3 * BS);
	th_file(t, d, "blocks-5-tail", buf + 100, 5 * BS + 333);
	th_file(t, d, "blocks-5-tail-dup", buf + 100, 5 * BS + 333);
	/* the same tail after other blocks, and as a whole file */
	th_file(t, d, "tail-dup", buf + 100 + 5 * BS, 333);
	memcpy(tail, buf + 100 + 5 * BS, sizeof(tail));
	text(buf, 2 * BS, 9);
	memcpy(buf + 2 * BS, tail, sizeof(tail));
	th_file(t, d, "other-blocks-same-tail", buf, 2 * BS + 333);
	/* over 1 MiB: text, a random stretch, text */
	text(buf, big, 3);
	th_random(buf + 200 * 1024, 300 * 1024, 77);
	th_file(t, d, "big", buf, big);
	/* sparse: zero blocks in the middle and an all-zero tail */
	memset(buf, 0, 8 * BS + 500);
	text(buf, BS, 4);
	text(buf + 6 * BS, BS, 5);
	th_file(t, d, "sparse", buf, 8 * BS + 500);
	th_file(t, d, "zeros", buf + BS, 4 * BS);
	th_random_file(t, d, "random", 7 * BS + 1000, 42);
	th_random_file(t, d, "random-small", 3000, 43);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "s%02u", i);
		text(buf, 200 + 37 * i, i);
		th_file(t, d, name, buf, 200 + 37 * i);
	}
	free(buf);
	th_finalize(t);
	return t;
}

TestSuite(sqcache, .init = th_setup, .fini = tt_teardown, .timeout = 600);

static struct sd_compcache *open_cache(const char *rel)
{
	struct sd_compcache *c = NULL;

	cr_assert_eq(sd_compcache_open(&c, tt_path(rel), NULL, NULL), 0);
	cr_assert_not_null(c);
	return c;
}

static void write_image(const struct sd_tree *t, const char *comp,
			unsigned jobs, struct sd_compcache *cache,
			const char *rel, struct sd_write_stats *st)
{
	struct sd_write_options o = {
		.compressor = comp,
		.level = -1,
		.block_size = BS,
		.jobs = jobs,
		.cache = cache,
	};
	struct sd_error err;
	int fd = open(tt_path(rel), O_RDWR | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "create %s", rel);
	sd_error_init(&err);
	cr_assert_eq(sd_format_squashfs.write(t, &o, fd, NULL, st, &err), 0,
		     "%s: %s", comp, err.msg);
	close(fd);
}

static void assert_same_file(const char *a, const char *b, const char *what)
{
	size_t la, lb;
	void *da = th_slurp(tt_path(a), &la);
	void *db = th_slurp(tt_path(b), &lb);

	cr_assert(la == lb && memcmp(da, db, la) == 0, "%s: %s differs from %s",
		  what, b, a);
	free(da);
	free(db);
}

/*
 * Write with a new handle on the cache at @dir; the image must equal
 * "ref.sqfs" and the dedup count @dedup.  *@k gets the handle's counters.
 */
static void cached_write(const struct sd_tree *t, const char *comp,
			 unsigned jobs, const char *dir, uint64_t dedup,
			 const char *what, struct sd_compcache_counters *k)
{
	struct sd_compcache *c = open_cache(dir);
	struct sd_write_stats st;
	char label[96];

	write_image(t, comp, jobs, c, "img.sqfs", &st);
	sd_compcache_counters(c, k);
	sd_compcache_close(c);
	snprintf(label, sizeof(label), "%s, %s, jobs %u", comp, what, jobs);
	assert_same_file("ref.sqfs", "img.sqfs", label);
	cr_assert_eq(st.files_deduplicated, dedup, "%s: dedup %llu", label,
		     (unsigned long long)st.files_deduplicated);
}

/* Flip one byte of the file at @path at offset @off (from its end if
 * @off is negative). */
static void flip_byte(const char *path, long off)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	unsigned char b;

	cr_assert(fd >= 0 && fstat(fd, &st) == 0, "%s", path);
	if (off < 0)
		off += (long)st.st_size;
	cr_assert_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x20;
	cr_assert_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void each_compressor(const char *comp)
{
	struct sd_tree *t = cache_tree();
	struct sd_write_stats st;
	struct sd_compcache_counters k;
	bool none = strcmp(comp, "none") == 0;
	char **list;
	size_t n;

	write_image(t, comp, 1, NULL, "ref.sqfs", &st);
	uint64_t dedup = st.files_deduplicated;
	/* the one duplicate file (equal tails alone make no duplicate) */
	cr_assert_eq(dedup, 1, "%s: dedup %llu", comp,
		     (unsigned long long)dedup);
	struct sd_tree *r = th_read(tt_path("ref.sqfs"));
	th_assert_same(t, r);
	sd_tree_free(r);

	/* cold, jobs 2 */
	cached_write(t, comp, 2, "cache", dedup, "cold", &k);
	if (none) {
		/* "none" stores raw: no lookups, no entries */
		cr_assert(k.hits == 0 && k.misses == 0 && k.puts == 0,
			  "none: %llu hits, %llu misses, %llu puts",
			  (unsigned long long)k.hits,
			  (unsigned long long)k.misses,
			  (unsigned long long)k.puts);
		list = th_cache_entries(tt_path("cache"), &n);
		cr_assert_eq(n, 0);
		th_cache_entries_free(list, n);
		cached_write(t, comp, 1, "cache", dedup, "again", &k);
		sd_tree_free(t);
		return;
	}
	/* a duplicate's blocks are hits once the first copy's are stored,
	 * or misses found present when both threads compressed them */
	cr_assert(k.misses > 0 && k.puts + k.present == k.misses &&
			  k.corrupt == 0,
		  "%s cold: %llu hits, %llu misses, %llu puts", comp,
		  (unsigned long long)k.hits, (unsigned long long)k.misses,
		  (unsigned long long)k.puts);
	uint64_t units = k.hits + k.misses;

	/* warm, both job counts: every unit a hit */
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		cached_write(t, comp, jobs, "cache", dedup, "warm", &k);
		cr_assert(k.hits == units && k.misses == 0 && k.puts == 0,
			  "%s warm, jobs %u: %llu hits of %llu, %llu misses, "
			  "%llu puts",
			  comp, jobs, (unsigned long long)k.hits,
			  (unsigned long long)units,
			  (unsigned long long)k.misses,
			  (unsigned long long)k.puts);
	}

	/* partly emptied: every other entry removed */
	list = th_cache_entries(tt_path("cache"), &n);
	cr_assert(n > 4, "%s: %zu entries", comp, n);
	for (size_t i = 0; i < n; i += 2)
		cr_assert_eq(unlink(list[i]), 0, "%s", list[i]);
	th_cache_entries_free(list, n);
	cached_write(t, comp, 2, "cache", dedup, "partly emptied", &k);
	cr_assert(k.hits > 0 && k.misses > 0 && k.puts > 0,
		  "%s partial: %llu hits, %llu misses", comp,
		  (unsigned long long)k.hits, (unsigned long long)k.misses);
	cached_write(t, comp, 1, "cache", dedup, "refilled", &k);
	cr_assert(k.hits == units && k.misses == 0, "%s refilled", comp);

	/* damaged: a flipped byte in a value, in a header, a truncation */
	list = th_cache_entries(tt_path("cache"), &n);
	for (size_t i = 0; i < n; i += 3) {
		if (i % 9 == 0)
			flip_byte(list[i], 20);
		else if (i % 9 == 3)
			flip_byte(list[i], -1);
		else
			cr_assert_eq(truncate(list[i], 70), 0);
	}
	th_cache_entries_free(list, n);
	cached_write(t, comp, 2, "cache", dedup, "damaged", &k);
	cr_assert(k.corrupt > 0 && k.hits > 0,
		  "%s damaged: %llu corrupt, %llu hits", comp,
		  (unsigned long long)k.corrupt, (unsigned long long)k.hits);
	cached_write(t, comp, 1, "cache", dedup, "repaired", &k);
	cr_assert(k.hits == units && k.misses == 0 && k.corrupt == 0,
		  "%s repaired", comp);
	sd_tree_free(t);
}

Test(sqcache, gzip)
{
	each_compressor("gzip");
}
Test(sqcache, xz)
{
	each_compressor("xz");
}
Test(sqcache, lz4)
{
	each_compressor("lz4");
}
Test(sqcache, zstd)
{
	each_compressor("zstd");
}
Test(sqcache, none)
{
	each_compressor("none");
}

/*
 * A value whose checksum is right but whose structure is not what
 * compressing its unit gives (stored under the unit's real key with
 * sd_compcache_put) is not used: the image is still the same.
 */
Test(sqcache, inconsistent_values_are_refused)
{
	struct sd_tree *t = cache_tree();
	struct sd_write_stats st;
	struct sd_compcache_counters k;
	char **list;
	size_t n, bad = 0;

	write_image(t, "lz4", 1, NULL, "ref.sqfs", &st);
	cached_write(t, "lz4", 2, "cache", st.files_deduplicated, "cold", &k);
	uint64_t units = k.hits + k.misses, stored = k.puts;

	struct sd_compcache *c = open_cache("cache");
	list = th_cache_entries(tt_path("cache"), &n);
	for (size_t i = 0; i < n; i++) {
		const char *hex = strrchr(list[i], '/') + 1;
		uint8_t key[SD_COMPCACHE_KEY_LEN];
		uint8_t *v = NULL;
		size_t len = 0;

		cr_assert_eq(sd_hex_decode(hex, key, sizeof(key), NULL), 0);
		cr_assert(sd_compcache_get(c, key, (void **)&v, &len));
		cr_assert_geq(len, SD_SQFS_CACHE_VHDR);
		uint32_t content = get_le32(v + 4), stored = get_le32(v + 8);
		bool compressed = v[1] & 1;

		cr_assert_eq(len, SD_SQFS_CACHE_VHDR + stored);
		switch (i % 8) {
		case 0: v[0] ^= 3; break;    /* the other unit */
		case 1: v[1] ^= 1; break;    /* compressed <-> raw */
		case 2: v[1] |= 0x80; break; /* an unknown flag */
		case 3: v[3] = 1; break;     /* reserved */
		case 4: put_le32(v + 4, content + 1); break;
		case 5: put_le32(v + 8, stored - 1); break;
		case 6:
			if (compressed) {
				/* "compressed" to the content's size */
				v = realloc(v, SD_SQFS_CACHE_VHDR + content);
				cr_assert_not_null(v);
				memset(v + SD_SQFS_CACHE_VHDR, 0, content);
				put_le32(v + 8, content);
				len = SD_SQFS_CACHE_VHDR + content;
			} else {
				/* raw bytes that are not the content */
				v[SD_SQFS_CACHE_VHDR + stored / 2] ^= 1;
			}
			break;
		default: len--; break; /* one byte short */
		}
		cr_assert_eq(unlink(list[i]), 0);
		cr_assert(sd_compcache_put(c, key, v, len));
		bad++;
		free(v);
	}
	th_cache_entries_free(list, n);
	sd_compcache_close(c);
	cr_assert_eq(bad, stored);

	cached_write(t, "lz4", 2, "cache", st.files_deduplicated,
		     "inconsistent", &k);
	/* every value was found and checked out, then refused and replaced
	 * (a duplicate block may be replaced twice) */
	cr_assert(k.hits == units && k.misses == 0 && k.corrupt == 0 &&
			  k.puts >= stored && k.present == 0,
		  "%llu hits, %llu corrupt, %llu puts, %llu present of %llu",
		  (unsigned long long)k.hits, (unsigned long long)k.corrupt,
		  (unsigned long long)k.puts, (unsigned long long)k.present,
		  (unsigned long long)units);
	/* ... with good values: now used */
	cached_write(t, "lz4", 1, "cache", st.files_deduplicated, "replaced",
		     &k);
	cr_assert(k.hits == units && k.misses == 0 && k.puts == 0 &&
			  k.present == 0,
		  "replaced: %llu hits, %llu puts, %llu present",
		  (unsigned long long)k.hits, (unsigned long long)k.puts,
		  (unsigned long long)k.present);
	sd_tree_free(t);
}

/* The key of a unit whose description has SHA-256 @desc. */
static void unit_key(const char *comp, enum sd_sqfs_unit unit,
		     const uint8_t desc[SD_SHA256_LEN],
		     uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	struct sd_write_options o = {
		.compressor = comp, .level = -1, .block_size = BS, .jobs = 1};
	struct sd_sqfs_comp sc;
	char params[SD_SQFS_CACHE_PARAMS_MAX];

	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, unit, params, sizeof(params),
					  NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	cr_assert_eq(sd_compcache_key(params, desc, key, NULL), 0);
}

/*
 * The keys are derived from digests and lengths as writer_cache.h says (a
 * later stat index computes them without the content): a block's and a
 * fragment block's entries are found under the documented keys.
 */
Test(sqcache, keys_as_documented)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = th_dir(t, NULL, "k");
	unsigned char block[BS], tail1[100], tail2[250];
	uint8_t digest[SD_SHA256_LEN], desc[SD_SHA256_LEN];
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	unsigned char dbuf[64 + 2 * (4 + SD_SHA256_LEN)];
	struct sd_write_stats st;
	struct sd_compcache_counters k;
	size_t len, off;
	void *v;

	text(block, sizeof(block), 11);
	text(tail1, sizeof(tail1), 12);
	text(tail2, sizeof(tail2), 13);
	th_file(t, d, "a-block", block, sizeof(block));
	th_file(t, d, "b-tail", tail1, sizeof(tail1));
	th_file(t, d, "c-tail", tail2, sizeof(tail2));
	th_finalize(t);
	write_image(t, "zstd", 1, NULL, "ref.sqfs", &st);
	cached_write(t, "zstd", 1, "cache", 0, "cold", &k);
	cr_assert_eq(k.puts, 2);

	struct sd_compcache *c = open_cache("cache");

	/* block: SHA-256("block" le32(len) SHA-256(content)) */
	th_sha256(block, sizeof(block), digest);
	memcpy(dbuf, "block", 5);
	put_le32(dbuf + 5, BS);
	memcpy(dbuf + 9, digest, SD_SHA256_LEN);
	th_sha256(dbuf, 9 + SD_SHA256_LEN, desc);
	unit_key("zstd", SD_SQFS_UNIT_BLOCK, desc, key);
	cr_assert(sd_compcache_get(c, key, &v, &len), "block entry");
	cr_assert_eq(((uint8_t *)v)[0], SD_SQFS_UNIT_BLOCK);
	cr_assert_eq(((uint8_t *)v)[1], 1, "text is stored compressed");
	cr_assert_eq(get_le32((uint8_t *)v + 4), BS);
	cr_assert_eq(len, SD_SQFS_CACHE_VHDR + get_le32((uint8_t *)v + 8));
	free(v);

	/* fragment: SHA-256("fragment" {le32(len) SHA-256(tail)}...) */
	memcpy(dbuf, "fragment", 8);
	off = 8;
	put_le32(dbuf + off, sizeof(tail1));
	th_sha256(tail1, sizeof(tail1), dbuf + off + 4);
	off += 4 + SD_SHA256_LEN;
	put_le32(dbuf + off, sizeof(tail2));
	th_sha256(tail2, sizeof(tail2), dbuf + off + 4);
	off += 4 + SD_SHA256_LEN;
	th_sha256(dbuf, off, desc);
	unit_key("zstd", SD_SQFS_UNIT_FRAGMENT, desc, key);
	cr_assert(sd_compcache_get(c, key, &v, &len), "fragment entry");
	cr_assert_eq(((uint8_t *)v)[0], SD_SQFS_UNIT_FRAGMENT);
	cr_assert_eq(get_le32((uint8_t *)v + 4), sizeof(tail1) + sizeof(tail2));
	free(v);
	sd_compcache_close(c);
	sd_tree_free(t);
}

/* Parameters: the runtime library version, the level as used, the block
 * size and the compressor's options; every change is another string. */
Test(sqcache, params)
{
	struct sd_write_options o = {.level = -1, .block_size = BS, .jobs = 1};
	char p[4][SD_SQFS_CACHE_PARAMS_MAX], lib[64];
	struct sd_sqfs_comp sc;

	o.compressor = "zstd";
	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_BLOCK, p[0],
					  sizeof(p[0]), NULL),
		     0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_FRAGMENT, p[1],
					  sizeof(p[1]), NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	snprintf(lib, sizeof(lib), "zstd %s; libsquashfs ",
		 ZSTD_versionString());
	cr_assert(strstr(p[0], lib), "%s", p[0]);
	cr_assert(strstr(p[0], "level=15\n"), "default level: %s", p[0]);
	cr_assert(strstr(p[0], "kind=block\n") &&
		  strstr(p[1], "kind=fragment\n"));
	o.level = 3;
	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_BLOCK, p[2],
					  sizeof(p[2]), NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	cr_assert(strstr(p[2], "level=3\n"), "%s", p[2]);
	o.level = -1;
	o.block_size = 2 * BS;
	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_BLOCK, p[3],
					  sizeof(p[3]), NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			cr_assert_str_neq(p[i], p[j]);
	/* lz4: plain and HC differ; xz names its dictionary */
	o.compressor = "lz4";
	o.block_size = BS;
	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_BLOCK, p[0],
					  sizeof(p[0]), NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	o.level = 9;
	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_BLOCK, p[1],
					  sizeof(p[1]), NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	cr_assert(strstr(p[0], "level=0\n"), "%s", p[0]);
	cr_assert(strstr(p[1], "level=12\n"), "%s", p[1]);
	o.compressor = "xz";
	o.level = -1;
	cr_assert_eq(sd_sqfs_comp_setup(&o, &sc, NULL), 0);
	cr_assert_eq(sd_sqfs_cache_params(&sc, SD_SQFS_UNIT_BLOCK, p[2],
					  sizeof(p[2]), NULL),
		     0);
	sd_sqfs_comp_cleanup(&sc);
	cr_assert(strstr(p[2], "dict=8192,lc=3,lp=0,pb=2"), "%s", p[2]);
	cr_assert(strstr(p[2], "liblzma "), "%s", p[2]);
}

/* A read-only cache is off from its open: not even looked up. */
Test(sqcache, read_only_cache, .fini = tt_teardown_mount)
{
	struct sd_tree *t = cache_tree();
	struct sd_write_stats st;
	struct sd_compcache_counters k;

	write_image(t, "gzip", 1, NULL, "ref.sqfs", &st);
	tt_mount_tmpfs("64m");
	cached_write(t, "gzip", 2, "m/cache", st.files_deduplicated, "cold",
		     &k);
	cr_assert_gt(k.puts, 0);
	tt_remount_ro();
	cached_write(t, "gzip", 2, "m/cache", st.files_deduplicated,
		     "read-only", &k);
	cr_assert(k.hits == 0 && k.misses == 0 && k.skipped == 0,
		  "an off cache is not used: %llu hits, %llu skipped",
		  (unsigned long long)k.hits, (unsigned long long)k.skipped);
	sd_tree_free(t);
}

/* A cache that fills its file system mid-write turns off: same bytes. */
Test(sqcache, full_cache, .fini = tt_teardown_mount)
{
	struct sd_tree *t = cache_tree();
	struct sd_write_stats st;
	struct sd_compcache_counters k;

	write_image(t, "zstd", 1, NULL, "ref.sqfs", &st);
	tt_mount_tmpfs("96k");
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		struct sd_compcache *c = open_cache("m/cache");
		struct sd_write_stats st2;

		write_image(t, "zstd", jobs, c, "img.sqfs", &st2);
		sd_compcache_counters(c, &k);
		cr_assert_not(sd_compcache_enabled(c), "the cache turned off");
		cr_assert(jobs > 1 || k.puts > 0, "after %llu puts",
			  (unsigned long long)k.puts);
		sd_compcache_close(c);
		assert_same_file("ref.sqfs", "img.sqfs", "full cache");
		cr_assert_eq(st2.files_deduplicated, st.files_deduplicated);
	}
	sd_tree_free(t);
}
