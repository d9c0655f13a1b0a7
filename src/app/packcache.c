/* SPDX-License-Identifier: MIT */
/* packcache.c — the stat cache in a pack (packcache.h). */
#include "app/packcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "closure/scanner.h"
#include "closure/storepath.h"
#include "core/statcache.h"

enum { F_UNKNOWN, F_KNOWN, F_LEARNT };

struct pc_file {
	struct sd_node *node;
	char *rel; /* path below the group directory ("." for a file that
		      is the store path itself) */
	uint8_t state;
	bool empty; /* size 0: learnt without a read */
	uint8_t sha[SD_SHA256_LEN];
	const uint8_t *tok; /* known: into the group; learnt: own */
	size_t tlen;
	const uint8_t *content; /* NULL, or its node->size bytes (known:
				   into the group; learnt: own) */
	const uint8_t *extra;   /* the whole record extra, as stored */
	size_t extra_len;
	uint8_t *own;
};

struct pc_group {
	char *host; /* the store path's host path */
	struct sd_statcache_group *g;
	size_t first, n; /* its files in pc->files */
};

struct sd_packcache {
	struct sd_tree *tree;
	struct sd_compcache *cache;
	char *store_dir;
	const struct sd_stream_tap *prev_tap;
	void *prev_ctx;
	struct pc_file *files;
	size_t nfiles, cap;
	struct pc_group *groups;
	size_t ngroups;
	int64_t stable_before;
	pthread_mutex_t lock; /* guards state, sha, tok of learnt files */
	struct sd_packcache_counters cn;
};

/* SHA-256 of no bytes (FIPS 180-4's test vector). */
static const uint8_t empty_sha[SD_SHA256_LEN] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
	0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
	0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

/* The empty content's tokens: a complete, empty list. */
static const uint8_t no_tokens[1] = {0};

/* ---- tokens ------------------------------------------------------- */

struct tokvec {
	uint8_t *v; /* SD_PACKCACHE_TOKEN_LEN bytes each */
	size_t n, cap;
	bool overflow;
};

static int tok_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SD_HASH_CHARS);
}

/* Sort, merge duplicates (their flags or'ed); overflow past the limit. */
static void tok_compact(struct tokvec *t)
{
	if (t->overflow || t->n == 0)
		return;
	qsort(t->v, t->n, SD_PACKCACHE_TOKEN_LEN, tok_cmp);
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint8_t *cur = t->v + i * SD_PACKCACHE_TOKEN_LEN;
		uint8_t *last = t->v + (w - 1) * SD_PACKCACHE_TOKEN_LEN;
		if (w && memcmp(last, cur, SD_HASH_CHARS) == 0) {
			last[SD_HASH_CHARS] |= cur[SD_HASH_CHARS];
			continue;
		}
		if (w != i)
			memcpy(t->v + w * SD_PACKCACHE_TOKEN_LEN, cur,
			       SD_PACKCACHE_TOKEN_LEN);
		w++;
	}
	t->n = w;
	if (t->n > SD_PACKCACHE_MAX_TOKENS) {
		t->overflow = true;
		t->n = 0;
	}
}

static bool tok_add(struct tokvec *t, const char *hash, uint8_t flag)
{
	if (t->overflow)
		return true;
	if (t->n == t->cap) {
		/* compact before growing past four times the limit */
		if (t->cap >= 4 * SD_PACKCACHE_MAX_TOKENS) {
			tok_compact(t);
			if (t->overflow || t->n < t->cap)
				goto add;
		}
		size_t ncap = t->cap ? t->cap * 2 : 16;
		uint8_t *nv = realloc(t->v, ncap * SD_PACKCACHE_TOKEN_LEN);
		if (!nv)
			return false;
		t->v = nv;
		t->cap = ncap;
	}
add:
	if (t->overflow)
		return true;
	memcpy(t->v + t->n * SD_PACKCACHE_TOKEN_LEN, hash, SD_HASH_CHARS);
	t->v[t->n * SD_PACKCACHE_TOKEN_LEN + SD_HASH_CHARS] = flag;
	t->n++;
	return true;
}

/* The extra bytes of @t and @content (@clen bytes, or NULL) (malloc'ed)
 * into *@out, *@len; *@tlen: the token part's length. */
static bool tok_encode(struct tokvec *t, const uint8_t *content, size_t clen,
		       uint8_t **out, size_t *len, size_t *tlen)
{
	tok_compact(t);
	size_t n = 1 + t->n * SD_PACKCACHE_TOKEN_LEN;
	uint8_t *e = malloc(n + (content ? clen + 1 : 0));
	if (!e)
		return false;
	e[0] = t->overflow ? 1 : 0;
	if (t->n)
		memcpy(e + 1, t->v, t->n * SD_PACKCACHE_TOKEN_LEN);
	*tlen = n;
	if (content) {
		memcpy(e + n, content, clen);
		e[n + clen] = SD_PACKCACHE_CONTENT_MARK;
		n += clen + 1;
	}
	*out = e;
	*len = n;
	return true;
}

/* Do @len bytes at @e follow the format of packcache.h? */
static bool tok_valid(const uint8_t *e, size_t len)
{
	if (len < 1 || e[0] > 1 || (len - 1) % SD_PACKCACHE_TOKEN_LEN)
		return false;
	if (e[0] == 1)
		return len == 1;
	size_t n = (len - 1) / SD_PACKCACHE_TOKEN_LEN;
	if (n > SD_PACKCACHE_MAX_TOKENS)
		return false;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *t = e + 1 + i * SD_PACKCACHE_TOKEN_LEN;
		uint8_t f = t[SD_HASH_CHARS];
		if (f == 0 || f > 3)
			return false;
		if (i &&
		    memcmp(t - SD_PACKCACHE_TOKEN_LEN, t, SD_HASH_CHARS) >= 0)
			return false;
	}
	return true;
}

/* Split a record's extra bytes (@e, @len) of a file of @size bytes into
 * its token part (*@tlen bytes at @e) and its content (*@content, or
 * NULL); false when they do not follow packcache.h. */
static bool extra_split(const uint8_t *e, size_t len, uint64_t size,
			size_t *tlen, const uint8_t **content)
{
	*content = NULL;
	*tlen = len;
	if (len >= 2 && e[len - 1] == SD_PACKCACHE_CONTENT_MARK) {
		if (size == 0 || size > SD_PACKCACHE_MAX_CONTENT ||
		    len < size + 2)
			return false;
		*tlen = len - 1 - (size_t)size;
		*content = e + *tlen;
	}
	return tok_valid(e, *tlen);
}

/* ---- the tap ------------------------------------------------------ */

struct pc_stream {
	struct sd_stream base;
	struct sd_stream *inner;
	struct sd_packcache *pc;
	struct pc_file *f;
	struct sd_sha256 *h;
	struct sd_scanner *sc;
	struct tokvec tok;
	uint8_t *content; /* a small file's bytes as read, or NULL */
	uint64_t pos;
	bool dead; /* a read failed or the content is done */
};

static int on_token(const struct sd_scan_hit *hit, void *ctx,
		    struct sd_error *err)
{
	struct pc_stream *s = ctx;
	if (!tok_add(&s->tok, hit->hash, hit->kind == SD_SCAN_PATH ? 2 : 1))
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return 0;
}

/* Unknown, or a small file known without its content (recorded by an
 * older storedisk): its content is worth a record. */
static bool lacks(const struct pc_file *f)
{
	return f->state == F_UNKNOWN ||
	       (f->state == F_KNOWN && !f->content && f->node->size > 0 &&
		f->node->size <= SD_PACKCACHE_MAX_CONTENT);
}

/* The whole content went through: the file is learnt. */
static void commit(struct pc_stream *s)
{
	uint8_t sha[SD_SHA256_LEN];
	uint8_t *e;
	size_t len;

	size_t tlen;

	sd_sha256_final(s->h, sha);
	s->h = NULL;
	s->dead = true;
	if (!tok_encode(&s->tok, s->content, (size_t)s->pos, &e, &len, &tlen))
		return; /* out of memory: the file stays unknown */
	struct sd_packcache *pc = s->pc;
	pthread_mutex_lock(&pc->lock);
	if (lacks(s->f) && (s->f->state == F_UNKNOWN || s->content)) {
		memcpy(s->f->sha, sha, SD_SHA256_LEN);
		s->f->own = e;
		s->f->tok = e;
		s->f->tlen = tlen;
		s->f->content = s->content ? e + tlen : NULL;
		s->f->extra = e;
		s->f->extra_len = len;
		s->f->state = F_LEARNT;
		pc->cn.learnt++;
		e = NULL;
	}
	pthread_mutex_unlock(&pc->lock);
	free(e);
}

static int pc_read(struct sd_stream *st, void *buf, size_t len, size_t *got,
		   struct sd_error *err)
{
	struct pc_stream *s = (struct pc_stream *)st;
	int rc = sd_stream_read(s->inner, buf, len, got, err);
	if (rc) {
		s->dead = true;
		return rc;
	}
	if (s->dead || *got == 0)
		return 0;
	sd_sha256_update(s->h, buf, *got);
	if (s->content) {
		if (s->pos + *got > s->f->node->size) {
			free(s->content); /* longer than its size: none */
			s->content = NULL;
		} else {
			memcpy(s->content + s->pos, buf, *got);
		}
	}
	rc = sd_scanner_feed(s->sc, buf, *got, err);
	if (rc) {
		s->dead = true;
		return rc;
	}
	s->pos += *got;
	if (s->pos == s->f->node->size)
		commit(s);
	return 0;
}

static void pc_close(struct sd_stream *st)
{
	struct pc_stream *s = (struct pc_stream *)st;
	sd_stream_close(s->inner);
	sd_sha256_free(s->h);
	sd_scanner_free(s->sc);
	free(s->tok.v);
	free(s->content);
	free(s);
}

static bool needs_learning(struct sd_packcache *pc, const struct pc_file *f)
{
	pthread_mutex_lock(&pc->lock);
	bool ret = lacks(f);
	pthread_mutex_unlock(&pc->lock);
	return ret;
}

static int pc_wrap(void *ctx, const struct sd_node *node,
		   struct sd_stream *inner, struct sd_stream **out,
		   struct sd_error *err)
{
	struct sd_packcache *pc = ctx;
	struct sd_stream *mid = inner;
	if (pc->prev_tap) {
		int rc = pc->prev_tap->wrap(pc->prev_ctx, node, inner, &mid,
					    err);
		if (rc)
			return rc;
	}
	struct pc_file *f = node->user;
	*out = mid;
	if (!f || f->node != node || !needs_learning(pc, f))
		return 0;
	/* out of memory here only leaves the file unlearnt */
	struct pc_stream *s = calloc(1, sizeof(*s));
	if (!s || !(s->h = sd_sha256_new()) ||
	    sd_scanner_new(NULL, pc->store_dir, on_token, s, &s->sc, NULL)) {
		if (s)
			sd_sha256_free(s->h);
		free(s);
		return 0;
	}
	sd_scanner_every_window(s->sc, true);
	/* a small file's content is kept too (none if out of memory) */
	if (node->size > 0 && node->size <= SD_PACKCACHE_MAX_CONTENT)
		s->content = malloc((size_t)node->size);
	s->base.read = pc_read;
	s->base.close = pc_close;
	s->inner = mid;
	s->pc = pc;
	s->f = f;
	*out = &s->base;
	return 0;
}

static const struct sd_stream_tap pc_tap = {.wrap = pc_wrap};

/* ---- set-up ------------------------------------------------------- */

static struct pc_file *add_file(struct sd_packcache *pc)
{
	if (pc->nfiles == pc->cap) {
		size_t ncap = pc->cap ? pc->cap * 2 : 256;
		struct pc_file *nv = realloc(pc->files, ncap * sizeof(*nv));
		if (!nv)
			return NULL;
		pc->files = nv;
		pc->cap = ncap;
	}
	struct pc_file *f = &pc->files[pc->nfiles++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* Collect the host files below @n (relative path in @path, @len bytes). */
static int collect(struct sd_packcache *pc, struct sd_node *n, char *path,
		   size_t len, size_t cap)
{
	if (n->type == SD_NODE_FILE) {
		if (n->src_ident.ino == 0 && n->src_ident.dev == 0)
			return 0; /* not from the host */
		struct pc_file *f = add_file(pc);
		if (!f || !(f->rel = strndup(len ? path : ".", len ? len : 1)))
			return SD_ERR_NOMEM;
		f->node = n;
		return 0;
	}
	if (n->type != SD_NODE_DIR)
		return 0;
	for (size_t i = 0; i < n->nchildren; i++) {
		struct sd_node *c = n->children[i];
		size_t need = len + (len ? 1 : 0) + c->name_len;
		if (need + 1 > cap)
			return SD_ERR_LIMIT; /* deeper than any host path */
		size_t at = len;
		if (len)
			path[at++] = '/';
		memcpy(path + at, c->name, c->name_len);
		path[need] = '\0';
		int rc = collect(pc, c, path, need, cap);
		if (rc)
			return rc;
	}
	return 0;
}

int sd_packcache_new(struct sd_tree *tree, struct sd_compcache *cache,
		     const char *store_dir, struct sd_packcache **out,
		     struct sd_error *err)
{
	struct sd_packcache *pc = calloc(1, sizeof(*pc));
	char *path = malloc(SD_STATCACHE_MAX_NAME + 1);
	*out = NULL;
	if (pc)
		pthread_mutex_init(&pc->lock, NULL);
	if (!pc || !path || !(pc->store_dir = strdup(store_dir)))
		goto nomem;
	pc->tree = tree;
	pc->cache = cache;
	struct timespec now = {0};
	clock_gettime(CLOCK_REALTIME, &now);
	pc->stable_before =
		(int64_t)now.tv_sec * 1000000000 + now.tv_nsec - 2000000000ll;
	struct sd_node *root = tree->root;
	pc->groups = calloc(root->nchildren ? root->nchildren : 1,
			    sizeof(*pc->groups));
	if (!pc->groups)
		goto nomem;
	for (size_t i = 0; i < root->nchildren; i++) {
		struct sd_node *top = root->children[i];
		if (sd_storepath_base_problem(top->name, top->name_len))
			continue; /* an embedded file, a root link */
		char *host = sd_node_src_path_dup(top);
		if (!host)
			continue; /* not from the host */
		struct pc_group *g = &pc->groups[pc->ngroups++];
		g->host = host;
		g->first = pc->nfiles;
		path[0] = '\0';
		int rc = collect(pc, top, path, 0, SD_STATCACHE_MAX_NAME + 1);
		if (rc == SD_ERR_NOMEM)
			goto nomem;
		if (rc) { /* too deep to record: leave the group out */
			for (size_t k = g->first; k < pc->nfiles; k++)
				free(pc->files[k].rel);
			pc->nfiles = g->first;
			free(g->host);
			pc->ngroups--;
			continue;
		}
		g->n = pc->nfiles - g->first;
		if (sd_statcache_load(cache, host, &g->g, err))
			goto fail;
	}
	/* node->user: files are final now (no more reallocs) */
	for (size_t gi = 0; gi < pc->ngroups; gi++) {
		struct pc_group *g = &pc->groups[gi];
		for (size_t k = g->first; k < g->first + g->n; k++) {
			struct pc_file *f = &pc->files[k];
			f->node->user = f;
			pc->cn.files++;
			const struct sd_statcache_rec *r = sd_statcache_find(
				g->g, f->rel, &f->node->src_ident);
			if (f->node->size == 0) {
				/* never read: its digest is the empty one */
				memcpy(f->sha, empty_sha, SD_SHA256_LEN);
				f->tok = no_tokens;
				f->tlen = sizeof(no_tokens);
				f->extra = no_tokens;
				f->extra_len = sizeof(no_tokens);
				f->state = F_LEARNT;
				f->empty = true;
				if (r)
					pc->cn.known++;
				continue;
			}
			size_t tlen;
			const uint8_t *content;
			if (!r || !extra_split(r->extra, r->extra_len,
					       f->node->size, &tlen, &content))
				continue;
			memcpy(f->sha, r->sha256, SD_SHA256_LEN);
			f->tok = r->extra;
			f->tlen = tlen;
			f->content = content;
			f->extra = r->extra;
			f->extra_len = r->extra_len;
			f->state = F_KNOWN;
			pc->cn.known++;
		}
	}
	free(path);
	pc->prev_tap = tree->tap;
	pc->prev_ctx = tree->tap_ctx;
	tree->tap = &pc_tap;
	tree->tap_ctx = pc;
	*out = pc;
	return 0;
nomem:
	sd_error_set(err, SD_ERR_NOMEM, "out of memory");
fail:
	free(path);
	sd_packcache_free(pc);
	return SD_ERR_NOMEM;
}

/* ---- queries ------------------------------------------------------ */

bool sd_packcache_digest(void *ctx, const struct sd_node *node,
			 uint8_t sha[SD_SHA256_LEN])
{
	struct sd_packcache *pc = ctx;
	struct pc_file *f = node->user;
	if (!pc || !f || f->node != node)
		return false;
	pthread_mutex_lock(&pc->lock);
	bool ok = f->state != F_UNKNOWN;
	if (ok)
		memcpy(sha, f->sha, SD_SHA256_LEN);
	pthread_mutex_unlock(&pc->lock);
	return ok;
}

bool sd_packcache_content(void *ctx, const struct sd_node *node, void *buf)
{
	struct sd_packcache *pc = ctx;
	struct pc_file *f = node->user;
	if (!pc || !f || f->node != node)
		return false;
	pthread_mutex_lock(&pc->lock);
	bool ok = f->state != F_UNKNOWN && f->content;
	if (ok)
		memcpy(buf, f->content, (size_t)node->size);
	pthread_mutex_unlock(&pc->lock);
	return ok;
}

bool sd_packcache_tokens(const struct sd_packcache *pc,
			 const struct sd_node *node, const uint8_t **tok,
			 size_t *len)
{
	struct pc_file *f = node->user;
	if (!pc || !f || f->node != node || f->state != F_KNOWN)
		return false;
	*tok = f->tok;
	*len = f->tlen;
	return true;
}

void sd_packcache_counters(const struct sd_packcache *pc,
			   struct sd_packcache_counters *out)
{
	if (pc)
		*out = pc->cn;
	else
		memset(out, 0, sizeof(*out));
}

/* ---- storing ------------------------------------------------------ */

void sd_packcache_store(struct sd_packcache *pc)
{
	if (!pc || !sd_compcache_enabled(pc->cache))
		return;
	struct sd_statcache_rec *recs = NULL;
	size_t cap = 0;
	for (size_t gi = 0; gi < pc->ngroups; gi++) {
		struct pc_group *g = &pc->groups[gi];
		size_t n = 0, learnt = 0;
		if (g->n > cap) {
			free(recs);
			cap = g->n;
			recs = malloc(cap * sizeof(*recs));
			if (!recs)
				return;
		}
		for (size_t k = g->first; k < g->first + g->n; k++) {
			struct pc_file *f = &pc->files[k];
			if (f->state == F_UNKNOWN)
				continue;
			if (f->state == F_LEARNT && !f->empty)
				learnt++;
			struct sd_statcache_rec *r = &recs[n++];
			r->name = f->rel;
			r->id = f->node->src_ident;
			memcpy(r->sha256, f->sha, SD_SHA256_LEN);
			r->extra = f->extra;
			r->extra_len = (uint32_t)f->extra_len;
		}
		/* unchanged: nothing new, as many records as were found (an
		 * empty file's record is kept, never needed: it is not read) */
		if (learnt == 0 && n == sd_statcache_count(g->g))
			continue;
		if (sd_statcache_store(pc->cache, g->host, recs, n,
				       pc->stable_before))
			pc->cn.groups_stored++;
	}
	free(recs);
}

void sd_packcache_free(struct sd_packcache *pc)
{
	if (!pc)
		return;
	if (pc->tree && pc->tree->tap_ctx == pc) {
		pc->tree->tap = pc->prev_tap;
		pc->tree->tap_ctx = pc->prev_ctx;
	}
	for (size_t i = 0; i < pc->nfiles; i++) {
		if (pc->files[i].node &&
		    pc->files[i].node->user == &pc->files[i])
			pc->files[i].node->user = NULL;
		free(pc->files[i].rel);
		free(pc->files[i].own);
	}
	for (size_t gi = 0; gi < pc->ngroups; gi++) {
		free(pc->groups[gi].host);
		sd_statcache_group_free(pc->groups[gi].g);
	}
	free(pc->files);
	free(pc->groups);
	free(pc->store_dir);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}
