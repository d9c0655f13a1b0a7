/* SPDX-License-Identifier: MIT */
/*
 * cachehelpers.c — shared code of the compression-cache tests (see
 * cachehelpers.h).
 */
#include "cachehelpers.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sha256.h"
#include "core/stream.h"
#include "helpers.h"

static int count_open(void *ctx, const struct sd_node *n,
		      struct sd_stream *inner, struct sd_stream **out,
		      struct sd_error *err)
{
	struct th_known *k = ctx;

	(void)err;
	atomic_fetch_add(&k->opens[n->index], 1);
	*out = inner;
	return SD_OK;
}

static const struct sd_stream_tap counting_tap = {count_open};

void th_sha256(const void *data, size_t len, uint8_t out[32])
{
	struct sd_sha256 *h = sd_sha256_new();

	cr_assert_not_null(h);
	sd_sha256_update(h, data, len);
	sd_sha256_final(h, out);
}

static void learn(struct th_known *k, const struct sd_node *n)
{
	if (n->type == SD_NODE_FILE) {
		size_t len;
		void *d = th_content(k->t, n, &len);

		th_sha256(d, len, k->sha[n->index]);
		k->have[n->index] = true;
		free(d);
	}
	for (size_t i = 0; i < n->nchildren; i++)
		learn(k, n->children[i]);
}

void th_known_init(struct th_known *k, struct sd_tree *t)
{
	k->t = t;
	k->after_read = false;
	k->sha = calloc(t->count, 32);
	k->have = calloc(t->count, sizeof(bool));
	k->opens = calloc(t->count, sizeof(*k->opens));
	cr_assert(k->sha && k->have && k->opens);
	learn(k, t->root);
	t->tap = &counting_tap;
	t->tap_ctx = k;
}

bool th_known_digest(void *ctx, const struct sd_node *n, uint8_t sha[32])
{
	struct th_known *k = ctx;

	if (!k->have[n->index] || (k->after_read && !k->opens[n->index]))
		return false;
	memcpy(sha, k->sha[n->index], 32);
	return true;
}

void th_known_reset_opens(struct th_known *k)
{
	for (size_t i = 0; i < k->t->count; i++)
		k->opens[i] = 0;
}

static void print_opened(const struct th_known *k, const struct sd_node *n)
{
	if (k->opens[n->index])
		fprintf(stderr, "opened %s\n", n->name);
	for (size_t i = 0; i < n->nchildren; i++)
		print_opened(k, n->children[i]);
}

unsigned th_known_opened(const struct th_known *k)
{
	unsigned n = 0;

	for (size_t i = 0; i < k->t->count; i++)
		n += k->opens[i] ? 1 : 0;
	if (getenv("SD_TEST_VERBOSE"))
		print_opened(k, k->t->root);
	return n;
}

void th_known_release(struct th_known *k)
{
	free(k->sha);
	free(k->have);
	free(k->opens);
}

static bool is_bucket(const char *name)
{
	return strlen(name) == 2 && isxdigit((unsigned char)name[0]) &&
	       isxdigit((unsigned char)name[1]);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **th_cache_entries(const char *dir, size_t *n)
{
	char v1[4096], sub[4200];
	char **out = NULL;
	size_t cap = 0;
	DIR *d, *e;
	struct dirent *de, *fe;

	*n = 0;
	snprintf(v1, sizeof(v1), "%s/v1", dir);
	d = opendir(v1);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!is_bucket(de->d_name))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", v1, de->d_name);
		e = opendir(sub);
		cr_assert_not_null(e, "opendir %s", sub);
		while ((fe = readdir(e))) {
			size_t len = strlen(sub) + 66;

			if (strlen(fe->d_name) != 64)
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				out = realloc(out, cap * sizeof(*out));
				cr_assert_not_null(out);
			}
			out[*n] = malloc(len);
			cr_assert_not_null(out[*n]);
			snprintf(out[*n], len, "%s/%s", sub, fe->d_name);
			(*n)++;
		}
		closedir(e);
	}
	closedir(d);
	if (*n > 1) /* readdir order is not fixed */
		qsort(out, *n, sizeof(*out), by_path);
	return out;
}

void th_cache_entries_free(char **e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i]);
	free(e);
}

void th_cache_entry_path(const char *dir, const uint8_t key[32], char *out,
			 size_t size)
{
	char hex[65];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(out, size, "%s/v1/%.2s/%s", dir, hex, hex);
}

void th_write_cached(const struct sd_format *fmt, const struct sd_tree *t,
		     const struct sd_write_options *o, const char *cachedir,
		     const char *path, struct sd_write_stats *st,
		     struct sd_compcache_counters *cnt)
{
	struct sd_write_options with = *o;
	struct sd_compcache *cc = NULL;
	struct sd_error err;
	int fd, ret;

	sd_error_init(&err);
	if (cachedir)
		cr_assert_eq(sd_compcache_open(&cc, cachedir, NULL, &err), 0,
			     "open cache: %s", err.msg);
	with.cache = cc;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "create %s", path);
	ret = fmt->write(t, &with, fd, NULL, st, &err);
	close(fd);
	cr_assert_eq(ret, 0, "write %s (%s): %s", path, o->compressor, err.msg);
	if (cnt) {
		memset(cnt, 0, sizeof(*cnt));
		if (cc)
			sd_compcache_counters(cc, cnt);
	}
	sd_compcache_close(cc);
}
