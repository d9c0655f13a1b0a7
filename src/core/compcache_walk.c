/* SPDX-License-Identifier: MIT */
/*
 * compcache_walk.c — the compression cache's directory walks: stats and
 * prune (least recently used first).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/compcache.h"
#include "core/compcache_int.h"
#include "core/hex.h"

/* What a walk calls for each entry file and each temporary file it sees
 * in fan-out directory @dfd (@st from fstatat, not following links). */
struct walker {
	int (*entry)(struct walker *w, const uint8_t key[SD_COMPCACHE_KEY_LEN],
		     const struct stat *st);
	void (*temp)(struct walker *w, int dfd, const char *name,
		     const struct stat *st);
	struct sd_error *err;
};

/* Is @name an entry's name in fan-out directory @fan ("ab")?  Its key in
 * @key. */
static bool entry_name(const char *name, const char *fan,
		       uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	if (strlen(name) != 2 * SD_COMPCACHE_KEY_LEN ||
	    strncmp(name, fan, 2) != 0)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return sd_hex_decode(name, key, SD_COMPCACHE_KEY_LEN, NULL) == 0;
}

/* Walk one fan-out directory. */
static int walk_fan(struct sd_compcache *c, const char *fan, struct walker *w)
{
	int dfd = openat(c->vfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return SD_OK;
		return sd_error_errno(w->err, SD_ERR_IO, errno, "%s/v%d/%s",
				      c->dir, SD_COMPCACHE_VERSION, fan);
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return sd_error_errno(w->err, SD_ERR_IO, e, "%s/v%d/%s", c->dir,
				      SD_COMPCACHE_VERSION, fan);
	}
	int rc = SD_OK;
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	struct stat st;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = sd_error_errno(w->err, SD_ERR_IO, errno,
						    "%s/v%d/%s", c->dir,
						    SD_COMPCACHE_VERSION, fan);
			break;
		}
		bool tmp = !strncmp(de->d_name, CC_TMP_PREFIX,
				    strlen(CC_TMP_PREFIX));
		if (!tmp && !entry_name(de->d_name, fan, key))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile */
			rc = sd_error_errno(w->err, SD_ERR_IO, errno,
					    "%s/v%d/%s/%s", c->dir,
					    SD_COMPCACHE_VERSION, fan,
					    de->d_name);
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (tmp)
			w->temp(w, dfd, de->d_name, &st);
		else if ((rc = w->entry(w, key, &st)) != SD_OK)
			break;
	}
	closedir(d);
	return rc;
}

/* Walk every fan-out directory of @c (none when it has no DIR/v1). */
static int walk(struct sd_compcache *c, struct walker *w)
{
	char fan[3];

	if (c->vfd < 0)
		return SD_OK;
	for (unsigned i = 0; i < 256; i++) {
		snprintf(fan, sizeof(fan), "%02x", i);
		int rc = walk_fan(c, fan, w);
		if (rc)
			return rc;
	}
	return SD_OK;
}

static bool is_stale(const struct stat *st)
{
	return time(NULL) - st->st_mtime > CC_STALE_SECONDS;
}

struct stats_walker {
	struct walker w;
	struct sd_compcache_stats *st;
};

static int stats_entry(struct walker *w, const uint8_t key[32],
		       const struct stat *st)
{
	struct sd_compcache_stats *s = ((struct stats_walker *)w)->st;

	(void)key;
	if (s->entries == 0 || st->st_mtime < s->oldest)
		s->oldest = st->st_mtime;
	if (s->entries == 0 || st->st_mtime > s->newest)
		s->newest = st->st_mtime;
	s->entries++;
	s->bytes += (uint64_t)st->st_size;
	s->disk_bytes += (uint64_t)st->st_blocks * 512;
	return SD_OK;
}

static void stats_temp(struct walker *w, int dfd, const char *name,
		       const struct stat *st)
{
	struct sd_compcache_stats *s = ((struct stats_walker *)w)->st;

	(void)dfd;
	(void)name;
	s->temporary++;
	if (is_stale(st))
		s->stale++;
}

int sd_compcache_stats(struct sd_compcache *c, struct sd_compcache_stats *st,
		       struct sd_error *err)
{
	struct stats_walker sw = {{stats_entry, stats_temp, err}, st};

	memset(st, 0, sizeof(*st));
	st->recorded_valid = cc_read_usage(c, &st->recorded);
	int rc = walk(c, &sw.w);
	if (rc)
		memset(st, 0, sizeof(*st));
	return rc;
}

/* One entry as prune saw it. */
struct rec {
	int64_t mtime_ns;
	uint64_t bytes; /* disk usage */
	uint8_t key[SD_COMPCACHE_KEY_LEN];
};

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

struct prune_walker {
	struct walker w;
	struct rec *recs;
	size_t n, cap;
	uint64_t stale_removed;
};

static int prune_entry(struct walker *w, const uint8_t key[32],
		       const struct stat *st)
{
	struct prune_walker *p = (struct prune_walker *)w;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		struct rec *r = realloc(p->recs, cap * sizeof(*r));
		if (!r)
			return sd_error_set(w->err, SD_ERR_NOMEM,
					    "out of memory");
		p->recs = r;
		p->cap = cap;
	}
	struct rec *r = &p->recs[p->n++];
	r->mtime_ns =
		(int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	r->bytes = (uint64_t)st->st_blocks * 512;
	memcpy(r->key, key, SD_COMPCACHE_KEY_LEN);
	return SD_OK;
}

static void prune_temp(struct walker *w, int dfd, const char *name,
		       const struct stat *st)
{
	struct prune_walker *p = (struct prune_walker *)w;

	if (is_stale(st) && unlinkat(dfd, name, 0) == 0)
		p->stale_removed++;
}

/* Oldest first; ties by key. */
static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return memcmp(x->key, y->key, SD_COMPCACHE_KEY_LEN);
}

/* Remove the oldest of the @n entries @recs (sorted here) until their
 * disk usage is at most @max_bytes, going on past entries that cannot be
 * removed (counted in res->failed, the first one's error in @err); what
 * was done in @res. */
static int evict(struct sd_compcache *c, struct rec *recs, size_t n,
		 uint64_t max_bytes, struct sd_compcache_prune_result *res,
		 struct sd_error *err)
{
	uint64_t total = 0;
	size_t gone = 0;
	int rc = SD_OK;

	if (n) /* qsort(NULL, 0, ...) is undefined */
		qsort(recs, n, sizeof(*recs), rec_cmp);
	for (size_t i = 0; i < n; i++)
		total += recs[i].bytes;
	for (size_t i = 0; i < n && total > max_bytes; i++) {
		const struct rec *e = &recs[i];
		char rel[CC_REL_MAX];
		struct stat st;
		cc_entry_name(e->key, rel);
		int st_rc = fstatat(c->vfd, rel, &st, AT_SYMLINK_NOFOLLOW);
		if (st_rc == 0 && mtime_ns(&st) != e->mtime_ns)
			continue; /* used (or rewritten) since: kept */
		if (st_rc == 0 && unlinkat(c->vfd, rel, 0) == 0) {
			total -= e->bytes;
			res->removed++;
			res->removed_bytes += e->bytes;
			continue;
		}
		if (errno == ENOENT) {
			total -= e->bytes; /* removed meanwhile */
			gone++;
			continue;
		}
		/* keep going: the next entries may be removable; the first
		 * failure is the one reported */
		if (!res->failed)
			rc = sd_error_errno(err, SD_ERR_IO, errno,
					    "cannot remove %s/v%d/%s", c->dir,
					    SD_COMPCACHE_VERSION, rel);
		res->failed++;
	}
	res->kept = n - res->removed - gone;
	res->kept_bytes = total;
	/* the walk counted what this handle stored so far */
	atomic_store(&c->pending, 0);
	cc_record_usage(c, (int64_t)total, true, NULL);
	return rc;
}

int cc_prune(struct sd_compcache *c, uint64_t max_bytes,
	     struct sd_compcache_prune_result *r, bool wait,
	     struct sd_error *err)
{
	struct sd_compcache_prune_result res = {0};
	struct prune_walker pw = {
		{prune_entry, prune_temp, err}, NULL, 0, 0, 0};

	if (r)
		*r = res;
	if (c->vfd < 0)
		return SD_OK;
	/* one prune at a time; where the lock file cannot be made (a
	 * read-only cache) the removals say what is wrong */
	int lfd = openat(c->vfd, CC_LOCK_NAME,
			 O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) != 0 &&
	    errno == EWOULDBLOCK) {
		if (!wait) {
			close(lfd);
			return SD_OK; /* another process prunes right now */
		}
		if (c->on_wait)
			c->on_wait(c->on_wait_ctx);
		while (flock(lfd, LOCK_EX) != 0 && errno == EINTR)
			;
	}
	int rc = walk(c, &pw.w);
	res.stale_removed = pw.stale_removed;
	if (!rc)
		rc = evict(c, pw.recs, pw.n, max_bytes, &res, err);
	if (r)
		*r = res;
	free(pw.recs);
	if (lfd >= 0)
		close(lfd);
	return rc;
}

void sd_compcache_on_wait(struct sd_compcache *c, void (*fn)(void *ctx),
			  void *ctx)
{
	c->on_wait = fn;
	c->on_wait_ctx = ctx;
}

int sd_compcache_prune(struct sd_compcache *c, uint64_t max_bytes,
		       struct sd_compcache_prune_result *r,
		       struct sd_error *err)
{
	return cc_prune(c, max_bytes, r, true, err);
}
