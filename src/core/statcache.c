/* SPDX-License-Identifier: MIT */
/* statcache.c — the stat cache's groups (statcache.h). */
#include "core/statcache.h"

#include <stdlib.h>
#include <string.h>

#include "core/le.h"

#define SC_MAGIC "sdstatv1"
#define SC_HEAD 12u
/* Bytes of a record besides its name and extra: name length, five
 * identity fields, SHA-256, extra length. */
#define SC_REC_FIXED (2u + 5u * 8u + SD_SHA256_LEN + 4u)
_Static_assert(SC_REC_FIXED == 78, "record layout of statcache.h");

struct sd_statcache_group {
	uint8_t *value; /* the entry's bytes: the records' extras */
	char *names;    /* the records' names, NUL-terminated */
	struct sd_statcache_rec *recs;
	size_t n;
};

/* The key of the group of @dir_path; false without a digest context. */
static bool group_key(const char *dir_path, uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	static const struct sd_compcache_params p = {
		.format = "stat",
		.kind = "group",
	};
	char params[160];
	uint8_t sha[SD_SHA256_LEN];
	bool ok = false;

	struct sd_sha256 *h = sd_sha256_new();
	if (h) {
		sd_sha256_update(h, dir_path, strlen(dir_path));
		sd_sha256_final(h, sha);
		ok = !sd_compcache_params(&p, params, sizeof(params), NULL) &&
		     !sd_compcache_key(params, sha, key, NULL);
	}
	return ok;
}

/* Compare names of @al and @bl bytes bytewise, a prefix first. */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/*
 * Parse @len bytes at @v into @g (records, names); false, with nothing
 * allocated, if any rule of statcache.h fails.
 */
static bool parse(struct sd_statcache_group *g, const uint8_t *v, size_t len)
{
	if (len < SC_HEAD || memcmp(v, SC_MAGIC, 8) != 0)
		return false;
	uint32_t n = get_le32(v + 8);
	/* every record takes at least SC_REC_FIXED + 1 bytes */
	if (n > (len - SC_HEAD) / (SC_REC_FIXED + 1))
		return false;
	/* names: at most len bytes with their NULs */
	struct sd_statcache_rec *recs = calloc(n ? n : 1, sizeof(*recs));
	char *names = malloc(len);
	if (!recs || !names)
		goto bad;
	size_t at = SC_HEAD, nat = 0;
	const char *prev = NULL;
	size_t prev_len = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sd_statcache_rec *r = &recs[i];
		if (len - at < SC_REC_FIXED + 1)
			goto bad;
		size_t nl = get_le16(v + at);
		if (nl == 0 || nl > SD_STATCACHE_MAX_NAME ||
		    len - at < SC_REC_FIXED + nl)
			goto bad;
		const char *name = (const char *)v + at + 2;
		if (memchr(name, '\0', nl))
			goto bad;
		if (prev && name_cmp(prev, prev_len, name, nl) >= 0)
			goto bad;
		prev = name;
		prev_len = nl;
		const uint8_t *f = v + at + 2 + nl;
		r->id.dev = get_le64(f);
		r->id.ino = get_le64(f + 8);
		r->id.size = get_le64(f + 16);
		r->id.mtime_ns = (int64_t)get_le64(f + 24);
		r->id.ctime_ns = (int64_t)get_le64(f + 32);
		memcpy(r->sha256, f + 40, SD_SHA256_LEN);
		uint32_t el = get_le32(f + 40 + SD_SHA256_LEN);
		at += SC_REC_FIXED + nl;
		if (el > SD_STATCACHE_MAX_EXTRA || len - at < el)
			goto bad;
		r->extra = el ? v + at : NULL;
		r->extra_len = el;
		at += el;
		memcpy(names + nat, name, nl);
		names[nat + nl] = '\0';
		r->name = names + nat;
		nat += nl + 1;
	}
	if (at != len)
		goto bad;
	g->recs = recs;
	g->names = names;
	g->n = n;
	return true;
bad:
	free(recs);
	free(names);
	return false;
}

int sd_statcache_load(struct sd_compcache *c, const char *dir_path,
		      struct sd_statcache_group **out, struct sd_error *err)
{
	struct sd_statcache_group *g = calloc(1, sizeof(*g));
	*out = NULL;
	if (!g)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	void *v = NULL;
	size_t len = 0;
	if (c && sd_compcache_enabled(c) && group_key(dir_path, key) &&
	    sd_compcache_get(c, key, &v, &len)) {
		if (parse(g, v, len))
			g->value = v;
		else
			free(v);
	}
	*out = g;
	return 0;
}

size_t sd_statcache_count(const struct sd_statcache_group *g)
{
	return g ? g->n : 0;
}

const struct sd_statcache_rec *
sd_statcache_find(const struct sd_statcache_group *g, const char *name,
		  const struct sd_file_ident *id)
{
	if (!g)
		return NULL;
	size_t lo = 0, hi = g->n, nl = strlen(name);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sd_statcache_rec *r = &g->recs[mid];
		int c = name_cmp(r->name, strlen(r->name), name, nl);
		if (c == 0) {
			const struct sd_file_ident *a = &r->id;
			return a->dev == id->dev && a->ino == id->ino &&
					       a->size == id->size &&
					       a->mtime_ns == id->mtime_ns &&
					       a->ctime_ns == id->ctime_ns
				       ? r
				       : NULL;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void sd_statcache_group_free(struct sd_statcache_group *g)
{
	if (!g)
		return;
	free(g->value);
	free(g->names);
	free(g->recs);
	free(g);
}

static int rec_cmp(const void *a, const void *b)
{
	const struct sd_statcache_rec *const *x = a, *const *y = b;
	return name_cmp((*x)->name, strlen((*x)->name), (*y)->name,
			strlen((*y)->name));
}

bool sd_statcache_store(struct sd_compcache *c, const char *dir_path,
			const struct sd_statcache_rec *recs, size_t n,
			int64_t stable_before_ns)
{
	if (!c || !sd_compcache_enabled(c) || n > UINT32_MAX)
		return false;
	const struct sd_statcache_rec **order =
		malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return false;
	size_t m = 0, len = SC_HEAD;
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const struct sd_statcache_rec *r = &recs[i];
		size_t nl = strlen(r->name);
		if (nl == 0 || nl > SD_STATCACHE_MAX_NAME ||
		    r->extra_len > SD_STATCACHE_MAX_EXTRA ||
		    (r->extra_len && !r->extra)) {
			ok = false;
			break;
		}
		if (r->id.mtime_ns >= stable_before_ns ||
		    r->id.ctime_ns >= stable_before_ns)
			continue; /* racy: not recorded */
		order[m++] = r;
		len += SC_REC_FIXED + nl + r->extra_len;
	}
	uint8_t *v = NULL;
	if (ok && len <= SD_COMPCACHE_MAX_VALUE)
		v = malloc(len);
	if (!v) {
		free(order);
		return false;
	}
	qsort(order, m, sizeof(*order), rec_cmp);
	memcpy(v, SC_MAGIC, 8);
	put_le32(v + 8, (uint32_t)m);
	size_t at = SC_HEAD;
	for (size_t i = 0; i < m && ok; i++) {
		const struct sd_statcache_rec *r = order[i];
		size_t nl = strlen(r->name);
		if (i && rec_cmp(&order[i - 1], &order[i]) == 0) {
			ok = false; /* a name twice */
			break;
		}
		put_le16(v + at, (uint16_t)nl);
		memcpy(v + at + 2, r->name, nl);
		uint8_t *f = v + at + 2 + nl;
		put_le64(f, r->id.dev);
		put_le64(f + 8, r->id.ino);
		put_le64(f + 16, r->id.size);
		put_le64(f + 24, (uint64_t)r->id.mtime_ns);
		put_le64(f + 32, (uint64_t)r->id.ctime_ns);
		memcpy(f + 40, r->sha256, SD_SHA256_LEN);
		put_le32(f + 40 + SD_SHA256_LEN, r->extra_len);
		at += SC_REC_FIXED + nl;
		if (r->extra_len)
			memcpy(v + at, r->extra, r->extra_len);
		at += r->extra_len;
	}
	free(order);
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	ok = ok && group_key(dir_path, key) &&
	     sd_compcache_replace(c, key, v, len);
	free(v);
	return ok;
}
