/* SPDX-License-Identifier: MIT */
/*
 * Tests of the compression cache (core/compcache.h): keys, hits and misses,
 * damaged entries, concurrent threads and processes, a read-only and a
 * full cache directory, LRU eviction and prune.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/compcache.h"
#include "core/hex.h"
#include "core/le.h"
#include "core/sha256.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sdcompcache");
}

/* A key for test item @i (the parameters "test", the SHA-256 of @i). */
static void key_of(unsigned i, uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	uint8_t sha[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();

	cr_assert_not_null(h);
	sd_sha256_update(h, &i, sizeof(i));
	sd_sha256_final(h, sha);
	cr_assert_eq(sd_compcache_key("test", sha, key, NULL), 0);
}

/* @len bytes that depend on @key and @len (xorshift). */
static void value_of(const uint8_t key[SD_COMPCACHE_KEY_LEN], size_t len,
		     uint8_t *out)
{
	uint64_t x = get_le64(key) ^ len ^ 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = (uint8_t)x;
	}
}

static struct sd_compcache *open_cache(const char *rel, uint64_t max)
{
	struct sd_compcache_options opt = {.max_bytes = max};
	struct sd_compcache *c;

	cr_assert_eq(sd_compcache_open(&c, tt_path(rel), &opt, NULL), 0);
	cr_assert_not_null(c);
	cr_assert(sd_compcache_enabled(c), "%s",
		  sd_compcache_warning(c) ? sd_compcache_warning(c) : "");
	return c;
}

/* The file of @key's entry in cache @rel. */
static const char *entry_file(const char *rel,
			      const uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	char hex[2 * SD_COMPCACHE_KEY_LEN + 1], r[512];

	sd_hex_encode(key, SD_COMPCACHE_KEY_LEN, hex);
	snprintf(r, sizeof(r), "%s/v%d/%.2s/%s", rel, SD_COMPCACHE_VERSION, hex,
		 hex);
	return tt_path(r);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Put item @i with a value of @len bytes; assert it is stored. */
static void put_item(struct sd_compcache *c, unsigned i, size_t len)
{
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	uint8_t *v = malloc(len ? len : 1);

	cr_assert_not_null(v);
	key_of(i, key);
	value_of(key, len, v);
	cr_assert(sd_compcache_put(c, key, v, len), "put %u", i);
	free(v);
}

/* Is item @i a hit with exactly its value of @len bytes? */
static bool hit_item(struct sd_compcache *c, unsigned i, size_t len)
{
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	void *got;
	size_t n;

	key_of(i, key);
	if (!sd_compcache_get(c, key, &got, &n)) {
		cr_assert_null(got);
		cr_assert_eq(n, 0);
		return false;
	}
	uint8_t *want = malloc(len ? len : 1);
	cr_assert_not_null(want);
	value_of(key, len, want);
	bool same = n == len && !memcmp(got, want, len);
	free(want);
	free(got);
	cr_assert(same, "item %u: a hit with other bytes", i);
	return true;
}

/* Count the files whose name starts with @prefix below cache @rel/v1. */
static unsigned count_files(const char *rel, const char *prefix)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "find '%s/v%d' -type f -name '%s*' | wc -l",
		 tt_path(rel), SD_COMPCACHE_VERSION, prefix);
	FILE *p = popen(cmd, "r");
	unsigned n = 0;
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

/* --- keys --------------------------------------------------------------- */

Test(key, derivation_is_documented, .init = setup, .fini = tt_teardown)
{
	static const char domain[] = "storedisk compcache key v1";
	uint8_t sha[SD_SHA256_LEN], key[32], want[32], len[8];

	for (int i = 0; i < SD_SHA256_LEN; i++)
		sha[i] = (uint8_t)i;
	cr_assert_eq(SD_COMPCACHE_VERSION, 1);
	cr_assert_eq(sd_compcache_key("format=erofs\n", sha, key, NULL), 0);
	struct sd_sha256 *h = sd_sha256_new();
	put_le64(len, strlen("format=erofs\n"));
	sd_sha256_update(h, domain, sizeof(domain)); /* with its NUL */
	sd_sha256_update(h, len, 8);
	sd_sha256_update(h, "format=erofs\n", strlen("format=erofs\n"));
	sd_sha256_update(h, sha, sizeof(sha));
	sd_sha256_final(h, want);
	cr_assert_arr_eq(key, want, 32);
	/* not the plain SHA-256 of anything we would hash elsewhere */
	cr_assert_arr_neq(key, sha, 32);
}

Test(key, every_parameter_separates, .init = setup, .fini = tt_teardown)
{
	const struct sd_compcache_params base = {
		.format = "erofs",
		.kind = "file",
		.compressor = "lz4hc",
		.library = "lz4 1.9.4",
		.level = 12,
		.block_size = 4096,
		.layout = "",
	};
	struct sd_compcache_params v[9];
	for (int i = 0; i < 9; i++)
		v[i] = base;
	v[1].format = "squashfs";
	v[2].kind = "block";
	v[3].compressor = "lz4";
	v[4].library = "lz4 1.9.3";
	v[5].level = 9;
	v[6].block_size = 65536;
	v[7].layout = "ztailpacking";
	v[8].level = -12; /* zstd's negative levels */
	uint8_t sha[SD_SHA256_LEN] = {1}, sha2[SD_SHA256_LEN] = {2};
	uint8_t keys[10][32];
	char buf[512];
	for (int i = 0; i < 9; i++) {
		cr_assert_eq(sd_compcache_params(&v[i], buf, sizeof(buf), NULL),
			     0);
		cr_assert_eq(sd_compcache_key(buf, sha, keys[i], NULL), 0);
	}
	cr_assert_eq(sd_compcache_params(&base, buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "format=erofs\nkind=file\ncompressor=lz4hc\n"
			      "library=lz4 1.9.4\nlevel=12\nblock-size=4096\n"
			      "layout=\n");
	cr_assert_eq(sd_compcache_key(buf, sha2, keys[9], NULL), 0);
	for (int i = 0; i < 10; i++)
		for (int j = i + 1; j < 10; j++)
			cr_assert_arr_neq(keys[i], keys[j], 32,
					  "keys %d and %d collide", i, j);
	/* the same parameters give the same key */
	uint8_t again[32];
	cr_assert_eq(sd_compcache_key(buf, sha, again, NULL), 0);
	cr_assert_arr_eq(again, keys[0], 32);
}

Test(key, params_refuse_newline_and_small_buffer, .init = setup,
     .fini = tt_teardown)
{
	struct sd_compcache_params p = {.format = "erofs\nkind=block"};
	struct sd_error err;
	char buf[256] = "x";

	sd_error_init(&err);
	cr_assert_eq(sd_compcache_params(&p, buf, sizeof(buf), &err),
		     SD_ERR_INVALID);
	cr_assert_str_eq(buf, "");
	p.format = "erofs";
	cr_assert_eq(sd_compcache_params(&p, buf, 10, &err), SD_ERR_LIMIT);
	cr_assert_str_eq(buf, "");
	/* NULL strings count as "" */
	cr_assert_eq(sd_compcache_params(&p, buf, sizeof(buf), NULL), 0);
	cr_assert_not_null(strstr(buf, "kind=\n"));
}

/* --- get and put -------------------------------------------------------- */

Test(store, miss_put_hit_reopen, .init = setup, .fini = tt_teardown)
{
	/* created with its parents */
	struct sd_compcache *c = open_cache("a/b/cache", 0);
	struct sd_compcache_counters k;

	cr_assert(exists(tt_path("a/b/cache/storedisk-cache")));
	cr_assert(exists(tt_path("a/b/cache/CACHEDIR.TAG")));
	cr_assert_not(hit_item(c, 1, 1000));
	put_item(c, 1, 1000);
	cr_assert(hit_item(c, 1, 1000));
	put_item(c, 2, 0); /* an empty value */
	cr_assert(hit_item(c, 2, 0));
	put_item(c, 1, 1000); /* there already */
	sd_compcache_counters(c, &k);
	cr_assert_eq(k.hits, 2);
	cr_assert_eq(k.misses, 1);
	cr_assert_eq(k.hit_bytes, 1000);
	cr_assert_eq(k.puts, 2);
	cr_assert_eq(k.put_bytes, 1000);
	cr_assert_eq(k.present, 1);
	cr_assert_eq(k.corrupt, 0);
	cr_assert_null(sd_compcache_warning(c));
	sd_compcache_close(c);

	c = open_cache("a/b/cache", 0);
	cr_assert(hit_item(c, 1, 1000));
	cr_assert(hit_item(c, 2, 0));
	cr_assert_not(hit_item(c, 3, 0));
	sd_compcache_close(c);
	cr_assert_eq(count_files("a/b/cache", ".tmp."), 0);
}

Test(store, hit_touches_mtime, .init = setup, .fini = tt_teardown)
{
	struct sd_compcache *c = open_cache("c", 0);
	uint8_t key[32];
	struct stat st;

	put_item(c, 7, 10);
	key_of(7, key);
	const char *f = entry_file("c", key);
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, f, old, 0), 0);
	cr_assert(hit_item(c, 7, 10));
	cr_assert_eq(stat(f, &st), 0);
	cr_assert_gt(st.st_mtime, 1000000000, "mtime %ld", (long)st.st_mtime);
	sd_compcache_close(c);
}

/* A hit leaves a recent mtime alone (SD_COMPCACHE_TOUCH_SECONDS) and
 * touches one from the future. */
Test(store, hit_keeps_recent_mtime, .init = setup, .fini = tt_teardown)
{
	struct sd_compcache *c = open_cache("c", 0);
	uint8_t key[32];
	struct stat st;
	time_t now = time(NULL);

	put_item(c, 8, 10);
	key_of(8, key);
	const char *f = entry_file("c", key);
	struct timespec recent[2] = {{now - SD_COMPCACHE_TOUCH_SECONDS / 2, 0},
				     {now - SD_COMPCACHE_TOUCH_SECONDS / 2, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, f, recent, 0), 0);
	cr_assert(hit_item(c, 8, 10));
	cr_assert_eq(stat(f, &st), 0);
	cr_assert_eq(st.st_mtime, recent[1].tv_sec, "mtime %ld",
		     (long)st.st_mtime);
	struct timespec future[2] = {{now + 86400, 0}, {now + 86400, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, f, future, 0), 0);
	cr_assert(hit_item(c, 8, 10));
	cr_assert_eq(stat(f, &st), 0);
	cr_assert_leq(st.st_mtime, time(NULL), "mtime %ld", (long)st.st_mtime);
	sd_compcache_close(c);
}

Test(store, recorded_usage_matches_disk, .init = setup, .fini = tt_teardown)
{
	struct sd_compcache *c = open_cache("c", 0);
	struct sd_compcache_stats s;

	for (unsigned i = 0; i < 20; i++)
		put_item(c, i, 3000 * i);
	sd_compcache_close(c);
	struct sd_compcache_options opt = {.must_exist = true};
	cr_assert_eq(sd_compcache_open(&c, tt_path("c"), &opt, NULL), 0);
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert_eq(s.entries, 20);
	cr_assert(s.recorded_valid);
	cr_assert_eq(s.recorded, s.disk_bytes);
	cr_assert_eq(s.bytes, 20 * SD_COMPCACHE_HEADER_LEN + 3000 * 190);
	cr_assert_eq(s.temporary, 0);
	sd_compcache_close(c);
}

/* --- damaged entries ---------------------------------------------------- */

/* Damage item 1's entry with @how, then: a miss, the file removed, and a
 * new put stored and hit. */
static void damaged(void (*how)(const char *path, size_t at), size_t at)
{
	struct sd_compcache *c = open_cache("c", 0);
	struct sd_compcache_counters k;
	uint8_t key[32];

	put_item(c, 1, 5000);
	key_of(1, key);
	const char *f = entry_file("c", key);
	how(f, at);
	cr_assert_not(hit_item(c, 1, 5000), "damage at %zu not detected", at);
	cr_assert_not(exists(f), "damaged entry (%zu) not removed", at);
	sd_compcache_counters(c, &k);
	cr_assert_eq(k.corrupt, 1);
	put_item(c, 1, 5000);
	cr_assert(hit_item(c, 1, 5000));
	sd_compcache_close(c);
	tt_teardown();
	setup();
}

static void flip_bit(const char *path, size_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, (off_t)at), 1);
	b ^= 0x10;
	cr_assert_eq(pwrite(fd, &b, 1, (off_t)at), 1);
	close(fd);
}

static void truncate_to(const char *path, size_t at)
{
	cr_assert_eq(truncate(path, (off_t)at), 0);
}

static void append_byte(const char *path, size_t at)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	(void)at;
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "", 1), 1);
	close(fd);
}

Test(corrupt, every_header_field_and_the_value, .init = setup,
     .fini = tt_teardown)
{
	/* magic, version, header length, key (first and last byte), value
	 * length (low and high byte), checksum, value (first, middle,
	 * last) */
	static const size_t at[] = {0,  7,  8,  12, 16,   47,  48,
				    55, 56, 63, 64, 2564, 5063};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		damaged(flip_bit, at[i]);
}

Test(corrupt, truncated_or_extended, .init = setup, .fini = tt_teardown)
{
	static const size_t at[] = {0, 1, 63, 64, 65, 5063};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		damaged(truncate_to, at[i]);
	damaged(append_byte, 0);
}

Test(corrupt, another_keys_entry, .init = setup, .fini = tt_teardown)
{
	struct sd_compcache *c = open_cache("c", 0);
	uint8_t k1[32], k2[32];
	char cmd[2048];

	put_item(c, 1, 100);
	key_of(1, k1);
	key_of(2, k2);
	/* item 1's whole, valid entry under item 2's name */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'",
		 entry_file("c", k2), entry_file("c", k1), entry_file("c", k2));
	cr_assert_eq(system(cmd), 0);
	cr_assert_not(hit_item(c, 2, 100));
	cr_assert_not(exists(entry_file("c", k2)));
	cr_assert(hit_item(c, 1, 100));
	sd_compcache_close(c);
}

Test(corrupt, another_version_is_never_returned, .init = setup,
     .fini = tt_teardown)
{
	struct sd_compcache *c = open_cache("c", 0);
	uint8_t key[32], h[64], v[100];

	put_item(c, 1, sizeof(v));
	key_of(1, key);
	value_of(key, sizeof(v), v);
	/* a well-formed entry of version 2, checksum right */
	int fd = open(entry_file("c", key), O_RDWR);
	cr_assert_eq(pread(fd, h, 64, 0), 64);
	put_le32(h + 8, 2);
	put_le64(h + 56,
		 XXH3_64bits_withSeed(v, sizeof(v), XXH3_64bits(h, 56)));
	cr_assert_eq(pwrite(fd, h, 64, 0), 64);
	close(fd);
	cr_assert_not(hit_item(c, 1, sizeof(v)));
	/* and the same with version 1 is accepted: the checksum above is
	 * computed as the cache does */
	put_item(c, 1, sizeof(v));
	fd = open(entry_file("c", key), O_RDWR);
	cr_assert_eq(pread(fd, h, 64, 0), 64);
	cr_assert_eq(get_le64(h + 56),
		     XXH3_64bits_withSeed(v, sizeof(v), XXH3_64bits(h, 56)));
	close(fd);
	cr_assert(hit_item(c, 1, sizeof(v)));
	sd_compcache_close(c);
}

Test(corrupt, symlink_or_fifo_under_an_entry_name, .init = setup,
     .fini = tt_teardown)
{
	struct sd_compcache *c = open_cache("c", 0);
	uint8_t k1[32], k2[32];

	put_item(c, 1, 100);
	key_of(1, k1);
	key_of(2, k2);
	const char *f1 = entry_file("c", k1);
	char f2[1024];
	snprintf(f2, sizeof(f2), "%s", entry_file("c", k2));
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", f2);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0755);
	/* a symlink to a valid entry is not followed, and goes */
	cr_assert_eq(symlink(f1, f2), 0);
	cr_assert_not(hit_item(c, 2, 100));
	cr_assert_not(exists(f2));
	cr_assert(exists(f1), "the symlink's target was removed");
	/* a FIFO: a miss at once (no wait for a writer), and replaced */
	cr_assert_eq(mkfifo(f2, 0644), 0);
	cr_assert_not(hit_item(c, 2, 100));
	cr_assert_eq(mkfifo(f2, 0644), 0);
	put_item(c, 2, 100);
	cr_assert(hit_item(c, 2, 100));
	sd_compcache_close(c);
}

/* --- concurrency -------------------------------------------------------- */

struct worker {
	struct sd_compcache *c;
	unsigned seed, nkeys, rounds;
	size_t len; /* 0: a length per key */
	unsigned bad;
	bool pruner; /* empties the cache every 4th round: puts again */
};

static size_t len_for(const struct worker *w, unsigned k)
{
	return w->len ? w->len : 1 + (k * 7919u) % 200000u;
}

/* Gets and puts in a random order; every hit must be exactly the value. */
static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned s = w->seed;

	for (unsigned r = 0; r < w->rounds; r++) {
		if (w->pruner && r % 4 == 0 &&
		    sd_compcache_prune(w->c, 0, NULL, NULL) != 0)
			w->bad++;
		s = s * 1103515245u + 12345u;
		unsigned k = (s >> 8) % w->nkeys;
		uint8_t key[32];
		void *got;
		size_t n, len = len_for(w, k);
		key_of(k, key);
		if (sd_compcache_get(w->c, key, &got, &n)) {
			uint8_t *want = malloc(len);
			value_of(key, len, want);
			if (n != len || memcmp(got, want, len))
				w->bad++;
			free(want);
			free(got);
		} else {
			uint8_t *v = malloc(len);
			value_of(key, len, v);
			if (!sd_compcache_put(w->c, key, v, len))
				w->bad++;
			free(v);
		}
	}
	return NULL;
}

static void run_threads(unsigned nkeys, size_t len)
{
	struct sd_compcache *c = open_cache("c", 0);
	struct worker w[6];
	pthread_t t[6];
	struct sd_compcache_counters k;

	for (unsigned i = 0; i < 6; i++) {
		w[i] = (struct worker){c, i + 1, nkeys, 150, len, 0, i == 0};
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].bad, 0, "thread %u saw %u bad results", i,
			     w[i].bad);
	}
	sd_compcache_counters(c, &k);
	cr_assert_eq(k.corrupt, 0, "a torn entry was seen");
	cr_assert_eq(k.hits + k.misses, 6 * 150);
	cr_assert_gt(k.hits, 0);
	cr_assert(sd_compcache_enabled(c));
	sd_compcache_close(c);
	cr_assert_eq(count_files("c", ".tmp."), 0);
}

Test(concurrent, threads_one_key, .init = setup, .fini = tt_teardown)
{
	run_threads(1, 256 << 10);
}

Test(concurrent, threads_many_keys, .init = setup, .fini = tt_teardown)
{
	run_threads(40, 0);
}

/* Four processes, each with its own handle on one cache. */
static void run_processes(unsigned nkeys, size_t len)
{
	pid_t pid[4];

	/* the directory is set up by the first open of whichever child:
	 * they race for it too */
	for (unsigned i = 0; i < 4; i++) {
		pid[i] = fork();
		cr_assert_geq(pid[i], 0);
		if (pid[i] == 0) {
			struct sd_compcache *c;
			struct sd_compcache_counters k;
			if (sd_compcache_open(&c, tt_path("c"), NULL, NULL) ||
			    !sd_compcache_enabled(c))
				_exit(10);
			struct worker w = {.c = c,
					   .seed = 100 + i,
					   .nkeys = nkeys,
					   .rounds = 150,
					   .len = len,
					   .pruner = i == 0};
			work(&w);
			sd_compcache_counters(c, &k);
			sd_compcache_close(c);
			_exit(w.bad ? 11 : k.corrupt ? 12 : 0);
		}
	}
	for (unsigned i = 0; i < 4; i++) {
		int status;
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "child %u: status %#x (10 open, 11 bad hit or put, "
			  "12 torn entry)",
			  i, status);
	}
	struct sd_compcache *c = open_cache("c", 0);
	struct sd_compcache_stats s;
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert_leq(s.entries, nkeys);
	cr_assert_gt(s.entries, 0);
	cr_assert_eq(s.temporary, 0);
	for (unsigned i = 0; i < nkeys; i++) {
		struct worker w = {.nkeys = nkeys, .len = len};
		hit_item(c, i, len_for(&w, i)); /* a hit is exact */
	}
	sd_compcache_close(c);
}

Test(concurrent, processes_one_key, .init = setup, .fini = tt_teardown)
{
	run_processes(1, 256 << 10);
}

Test(concurrent, processes_many_keys, .init = setup, .fini = tt_teardown)
{
	run_processes(40, 0);
}

/* --- a directory that cannot be used ------------------------------------ */

/* Off, with one warning containing @what; gets miss and puts do nothing,
 * and the warning stays the same. */
static void assert_off(struct sd_compcache *c, const char *what)
{
	struct sd_compcache_counters k0, k;

	cr_assert_not(sd_compcache_enabled(c));
	const char *w = sd_compcache_warning(c);
	cr_assert_not_null(w);
	cr_assert_not_null(strstr(w, what), "warning: %s", w);
	cr_assert_not_null(strstr(w, "not used"), "warning: %s", w);
	char first[SD_ERROR_MSG_MAX];
	snprintf(first, sizeof(first), "%s", w);
	sd_compcache_counters(c, &k0);
	uint8_t key[32] = {0}, v[10] = {0};
	void *got;
	size_t n;
	for (int i = 0; i < 5; i++) {
		key[0] = (uint8_t)i;
		cr_assert_not(sd_compcache_put(c, key, v, sizeof(v)));
		cr_assert_not(sd_compcache_get(c, key, &got, &n));
		cr_assert_null(got);
	}
	sd_compcache_counters(c, &k);
	cr_assert_eq(k.skipped, k0.skipped + 10);
	cr_assert_eq(k.puts, k0.puts);
	cr_assert_str_eq(sd_compcache_warning(c), first);
}

Test(degrade, read_only_file_system, .init = setup, .fini = tt_teardown_mount)
{
	tt_mount_tmpfs("4m");
	struct sd_compcache *c = open_cache("m/cache", 0);
	put_item(c, 1, 100);
	sd_compcache_close(c);
	tt_remount_ro();
	/* an existing cache */
	cr_assert_eq(sd_compcache_open(&c, tt_path("m/cache"), NULL, NULL), 0);
	assert_off(c, "Read-only file system");
	sd_compcache_close(c);
	/* one to be created */
	cr_assert_eq(sd_compcache_open(&c, tt_path("m/new"), NULL, NULL), 0);
	assert_off(c, "Read-only file system");
	sd_compcache_close(c);
}

Test(degrade, no_permission, .init = setup, .fini = tt_teardown)
{
	/* root passes permission bits: check as nobody in a child */
	tt_mkdir("ro");
	struct sd_compcache *c = open_cache("ro/cache", 0);
	put_item(c, 1, 100);
	sd_compcache_close(c);
	cr_assert_eq(chmod(tt_tmp, 0755), 0);
	cr_assert_eq(chmod(tt_path("ro"), 0755), 0);
	if (geteuid() != 0) {
		/* not root: the permission bits suffice */
		cr_assert_eq(chmod(tt_path("ro/cache/v1"), 0555), 0);
		cr_assert_eq(chmod(tt_path("ro"), 0555), 0);
	}
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(20);
		if (sd_compcache_open(&c, tt_path("ro/cache"), NULL, NULL) ||
		    sd_compcache_enabled(c) ||
		    !strstr(sd_compcache_warning(c), "Permission denied"))
			_exit(21);
		uint8_t key[32] = {0};
		void *got;
		size_t n;
		if (sd_compcache_put(c, key, "x", 1) ||
		    sd_compcache_get(c, key, &got, &n))
			_exit(22);
		sd_compcache_close(c);
		if (sd_compcache_open(&c, tt_path("ro/new"), NULL, NULL) ||
		    sd_compcache_enabled(c) ||
		    !strstr(sd_compcache_warning(c), "Permission denied"))
			_exit(23);
		sd_compcache_close(c);
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child: status %#x (20 setuid, 21 open, 22 get/put, 23 "
		  "create)",
		  status);
}

Test(degrade, not_a_cache_is_left_alone, .init = setup, .fini = tt_teardown)
{
	struct sd_compcache *c;
	struct sd_error err;

	tt_mkdir("home");
	tt_write("home/notes.txt", "mine", (size_t)-1, 0644);
	cr_assert_eq(sd_compcache_open(&c, tt_path("home"), NULL, NULL), 0);
	assert_off(c, "not a storedisk cache");
	sd_compcache_close(c);
	cr_assert_not(exists(tt_path("home/v1")));
	cr_assert_not(exists(tt_path("home/storedisk-cache")));
	/* a file in the way */
	cr_assert_eq(sd_compcache_open(&c, tt_path("home/notes.txt"), NULL,
				       NULL),
		     0);
	assert_off(c, "not a directory");
	sd_compcache_close(c);
	/* maintenance: errors, not warnings */
	struct sd_compcache_options strict = {.must_exist = true};
	sd_error_init(&err);
	cr_assert_eq(sd_compcache_open(&c, tt_path("home"), &strict, &err),
		     SD_ERR_USAGE);
	cr_assert_null(c);
	cr_assert_not_null(strstr(err.msg, "not a storedisk cache"), "%s",
			   err.msg);
	cr_assert_eq(sd_compcache_open(&c, tt_path("none"), &strict, &err),
		     SD_ERR_USAGE);
	cr_assert_not_null(strstr(err.msg, "no such directory"), "%s", err.msg);
	cr_assert_not(exists(tt_path("none")));
}

Test(degrade, full_file_system, .init = setup, .fini = tt_teardown_mount)
{
	tt_mount_tmpfs("256k");
	struct sd_compcache *c = open_cache("m/cache", 0);
	uint8_t key[32];
	uint8_t *v = malloc(40000);
	unsigned i;

	cr_assert_not_null(v);
	for (i = 0; i < 100; i++) {
		key_of(i, key);
		value_of(key, 40000, v);
		if (!sd_compcache_put(c, key, v, 40000))
			break;
	}
	free(v);
	cr_assert_lt(i, 100, "a 256 KiB tmpfs took 4 MB");
	cr_assert_gt(i, 0);
	assert_off(c, "No space left on device");
	cr_assert_eq(count_files("m/cache", ".tmp."), 0);
	sd_compcache_close(c);
	/* what was stored before is intact */
	struct sd_compcache_options strict = {.must_exist = true};
	cr_assert_eq(sd_compcache_open(&c, tt_path("m/cache"), &strict, NULL),
		     0);
	cr_assert(hit_item(c, 0, 40000));
	sd_compcache_close(c);
}

/* --- eviction ----------------------------------------------------------- */

/* Disk usage of item @i's entry in cache "c". */
static uint64_t disk_of(unsigned i)
{
	uint8_t key[32];
	struct stat st;

	key_of(i, key);
	cr_assert_eq(stat(entry_file("c", key), &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* Items 0..n-1 of 20000 bytes, item i last used at 1000 + i. */
static struct sd_compcache *aged_items(unsigned n, uint64_t max)
{
	struct sd_compcache *c = open_cache("c", max);
	uint8_t key[32];

	for (unsigned i = 0; i < n; i++) {
		put_item(c, i, 20000);
		key_of(i, key);
		struct timespec t[2] = {{1000 + i, 0}, {1000 + i, 0}};
		cr_assert_eq(utimensat(AT_FDCWD, entry_file("c", key), t, 0),
			     0);
	}
	return c;
}

Test(lru, prune_removes_least_recently_used, .init = setup, .fini = tt_teardown)
{
	struct sd_compcache *c = aged_items(10, 0);
	struct sd_compcache_prune_result r;
	uint64_t keep = 0;

	/* item 0 is used now: the most recent */
	cr_assert(hit_item(c, 0, 20000));
	/* room for items 0, 6, 7, 8, 9 */
	keep = disk_of(0) + disk_of(6) + disk_of(7) + disk_of(8) + disk_of(9);
	cr_assert_eq(sd_compcache_prune(c, keep, &r, NULL), 0);
	cr_assert_eq(r.removed, 5);
	cr_assert_eq(r.kept, 5);
	cr_assert_eq(r.kept_bytes, keep);
	for (unsigned i = 1; i <= 5; i++)
		cr_assert_not(hit_item(c, i, 20000), "item %u kept", i);
	cr_assert(hit_item(c, 0, 20000));
	for (unsigned i = 6; i < 10; i++)
		cr_assert(hit_item(c, i, 20000), "item %u removed", i);
	/* the usage recorded is what is left */
	struct sd_compcache_stats s;
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert(s.recorded_valid);
	cr_assert_eq(s.recorded, keep);
	cr_assert_eq(s.disk_bytes, keep);
	sd_compcache_close(c);
}

Test(lru, close_keeps_the_limit, .init = setup, .fini = tt_teardown)
{
	uint64_t one;
	{
		struct sd_compcache *c = open_cache("probe", 0);
		put_item(c, 0, 20000);
		sd_compcache_close(c);
		uint8_t key[32];
		struct stat st;
		key_of(0, key);
		cr_assert_eq(stat(entry_file("probe", key), &st), 0);
		one = (uint64_t)st.st_blocks * 512;
	}
	/* a limit of 8 entries; 12 stored: close prunes to 90% (7) */
	struct sd_compcache *c = aged_items(12, 8 * one);
	sd_compcache_close(c);
	c = open_cache("c", 0);
	struct sd_compcache_stats s;
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert_eq(s.entries, 7, "%llu entries",
		     (unsigned long long)s.entries);
	cr_assert_leq(s.disk_bytes, 8 * one - 8 * one / 10);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_not(hit_item(c, i, 20000), "old item %u kept", i);
	for (unsigned i = 5; i < 12; i++)
		cr_assert(hit_item(c, i, 20000), "new item %u removed", i);
	sd_compcache_close(c);
	/* under the limit: close removes nothing */
	c = open_cache("c", 8 * one);
	sd_compcache_close(c);
	c = open_cache("c", 0);
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert_eq(s.entries, 7);
	sd_compcache_close(c);
}

Test(prune, empties_and_removes_stale_temporaries, .init = setup,
     .fini = tt_teardown)
{
	struct sd_compcache *c = aged_items(5, 0);
	struct sd_compcache_prune_result r;
	struct sd_compcache_stats s;
	uint8_t key[32];
	char hex[65], rel[256];

	key_of(0, key);
	sd_hex_encode(key, 32, hex);
	snprintf(rel, sizeof(rel), "c/v1/%.2s/.tmp.1.1", hex);
	tt_write(rel, "stale", (size_t)-1, 0644);
	struct timespec t[2] = {{1000, 0}, {1000, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, tt_path(rel), t, 0), 0);
	snprintf(rel, sizeof(rel), "c/v1/%.2s/.tmp.1.2", hex);
	tt_write(rel, "in progress", (size_t)-1, 0644);
	snprintf(rel, sizeof(rel), "c/v1/%.2s/README", hex);
	tt_write(rel, "not ours", (size_t)-1, 0644);
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert_eq(s.entries, 5);
	cr_assert_eq(s.temporary, 2);
	cr_assert_eq(s.stale, 1);
	cr_assert_eq(s.oldest, 1000);
	cr_assert_eq(s.newest, 1004);

	cr_assert_eq(sd_compcache_prune(c, 0, &r, NULL), 0);
	cr_assert_eq(r.removed, 5);
	cr_assert_eq(r.kept, 0);
	cr_assert_eq(r.kept_bytes, 0);
	cr_assert_eq(r.stale_removed, 1);
	cr_assert_eq(sd_compcache_stats(c, &s, NULL), 0);
	cr_assert_eq(s.entries, 0);
	cr_assert_eq(s.temporary, 1);
	cr_assert_eq(s.recorded, 0);
	cr_assert(exists(tt_path(rel)), "a file not ours was removed");
	cr_assert(exists(tt_path("c/storedisk-cache")));
	sd_compcache_close(c);
}
