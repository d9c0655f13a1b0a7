/* SPDX-License-Identifier: MIT */
#include "app/packscan.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/nix32.h"
#include "closure/scanner.h"
#include "closure/storepath.h"

/* A possible finding, as the scanner saw it. */
struct raw_hit {
	uint32_t node; /* node index */
	enum sd_refscan_what what;
	uint64_t offset; /* of the hash part */
	enum sd_packscan_kind kind;
	int64_t id; /* OUTSIDE: store index */
	char hash[33];
};

struct hitvec {
	struct raw_hit *v;
	size_t n, cap;
};

struct sd_packscan {
	struct sd_tree *tree;
	const struct sd_packscan_opts *o;
	size_t sdlen;
	struct sd_node **nodes; /* by index */
	uint8_t *inscope;       /* by index: inside a store path */
	uint8_t *scanned;       /* by index: content read whole */
	pthread_mutex_t lock;   /* guards scanned and hits */
	struct hitvec hits;     /* committed */
	struct sd_packscan_finding *findings;
	size_t nfindings;
};

static int push_hit(struct hitvec *h, const struct raw_hit *r)
{
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 16;
		struct raw_hit *nv = realloc(h->v, ncap * sizeof(*nv));
		if (!nv)
			return SD_ERR_NOMEM;
		h->v = nv;
		h->cap = ncap;
	}
	h->v[h->n++] = *r;
	return 0;
}

/* Is a reference to hash part @hash (NUL-terminated) resolved: in the
 * closure, or held by another image (opts->held)? */
static bool resolved(const struct sd_packscan *ps, const char *hash)
{
	return sd_closure_find(ps->o->cl, hash) >= 0 ||
	       (ps->o->held && ps->o->held(ps->o->held_ctx, hash));
}

/* Keep a scanner hit if it can become a finding. */
static int classify(const struct sd_packscan *ps, const struct sd_scan_hit *s,
		    uint32_t node, enum sd_refscan_what what,
		    struct hitvec *out, struct sd_error *err)
{
	struct raw_hit r = {.node = node, .what = what, .id = s->id};
	if (s->kind == SD_SCAN_PATH) {
		if (s->id != SD_HASHMAP_NONE)
			return 0; /* its bare hit does the work */
		r.kind = SD_PACKSCAN_ABSENT;
		r.offset = s->offset + ps->sdlen + 1;
	} else {
		if (resolved(ps, s->hash))
			return 0;
		r.kind = SD_PACKSCAN_OUTSIDE;
		r.offset = s->offset;
	}
	memcpy(r.hash, s->hash, sizeof(r.hash));
	if (push_hit(out, &r))
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- the tap ------------------------------------------------------ */

struct tap_stream {
	struct sd_stream base;
	struct sd_stream *inner;
	struct sd_packscan *ps;
	const struct sd_node *node;
	struct sd_scanner *sc;
	struct hitvec hits; /* of this read, committed at its end */
	uint64_t pos;
	bool dead; /* a read failed: commit nothing */
};

static int tap_on_hit(const struct sd_scan_hit *hit, void *ctx,
		      struct sd_error *err)
{
	struct tap_stream *t = ctx;
	return classify(t->ps, hit, t->node->index, SD_REFSCAN_CONTENT,
			&t->hits, err);
}

/* The whole content went through this stream: it is the node's scan. */
static int tap_commit(struct tap_stream *t, struct sd_error *err)
{
	struct sd_packscan *ps = t->ps;
	int rc = 0;
	pthread_mutex_lock(&ps->lock);
	if (!ps->scanned[t->node->index]) {
		ps->scanned[t->node->index] = 1;
		for (size_t i = 0; !rc && i < t->hits.n; i++)
			rc = push_hit(&ps->hits, &t->hits.v[i]);
	}
	pthread_mutex_unlock(&ps->lock);
	t->dead = true; /* nothing more to do */
	if (rc)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return 0;
}

static int tap_read(struct sd_stream *s, void *buf, size_t len, size_t *got,
		    struct sd_error *err)
{
	struct tap_stream *t = (struct tap_stream *)s;
	int rc = sd_stream_read(t->inner, buf, len, got, err);
	if (rc) {
		t->dead = true;
		return rc;
	}
	if (t->dead)
		return 0;
	if (*got) {
		rc = sd_scanner_feed(t->sc, buf, *got, err);
		if (rc) {
			t->dead = true;
			return rc;
		}
		t->pos += *got;
	}
	if (t->pos == t->node->size)
		return tap_commit(t, err);
	return 0;
}

static void tap_close(struct sd_stream *s)
{
	struct tap_stream *t = (struct tap_stream *)s;
	sd_stream_close(t->inner);
	sd_scanner_free(t->sc);
	free(t->hits.v);
	free(t);
}

static bool needs_scan(struct sd_packscan *ps, const struct sd_node *node)
{
	if (!ps->inscope[node->index])
		return false;
	pthread_mutex_lock(&ps->lock);
	bool done = ps->scanned[node->index];
	pthread_mutex_unlock(&ps->lock);
	return !done;
}

static int tap_wrap(void *ctx, const struct sd_node *node,
		    struct sd_stream *inner, struct sd_stream **out,
		    struct sd_error *err)
{
	struct sd_packscan *ps = ctx;
	if (!needs_scan(ps, node)) {
		*out = inner;
		return 0;
	}
	struct tap_stream *t = calloc(1, sizeof(*t));
	if (!t)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = sd_scanner_new(ps->o->st->by_hash, ps->o->st->store_dir,
				tap_on_hit, t, &t->sc, err);
	if (rc) {
		free(t);
		return rc;
	}
	t->base.read = tap_read;
	t->base.close = tap_close;
	t->inner = inner;
	t->ps = ps;
	t->node = node;
	*out = &t->base;
	return 0;
}

static const struct sd_stream_tap tap = {.wrap = tap_wrap};

/* ---- set-up ------------------------------------------------------- */

static int collect(struct sd_node *node, void *ctx)
{
	struct sd_packscan *ps = ctx;
	ps->nodes[node->index] = node;
	if (node->parent && node->parent->parent)
		ps->inscope[node->index] = ps->inscope[node->parent->index];
	else if (node->parent)
		ps->inscope[node->index] =
			!sd_storepath_base_problem(node->name, node->name_len);
	return 0;
}

int sd_packscan_new(struct sd_tree *tree, const struct sd_packscan_opts *opts,
		    struct sd_packscan **out, struct sd_error *err)
{
	struct sd_packscan *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	size_t n = tree->count ? tree->count : 1;
	ps->tree = tree;
	ps->o = opts;
	ps->sdlen = strlen(opts->st->store_dir);
	ps->nodes = calloc(n, sizeof(*ps->nodes));
	ps->inscope = calloc(n, 1);
	ps->scanned = calloc(n, 1);
	if (!ps->nodes || !ps->inscope || !ps->scanned) {
		free(ps->nodes);
		free(ps->inscope);
		free(ps->scanned);
		free(ps);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&ps->lock, NULL);
	sd_tree_walk(tree->root, collect, ps);
	tree->tap = &tap;
	tree->tap_ctx = ps;
	*out = ps;
	return 0;
}

static void detach(struct sd_packscan *ps)
{
	if (ps->tree && ps->tree->tap_ctx == ps) {
		ps->tree->tap = NULL;
		ps->tree->tap_ctx = NULL;
	}
	ps->tree = NULL;
}

void sd_packscan_free(struct sd_packscan *ps)
{
	if (!ps)
		return;
	detach(ps);
	for (size_t i = 0; i < ps->nfindings; i++)
		free(ps->findings[i].file);
	free(ps->findings);
	free(ps->hits.v);
	free(ps->nodes);
	free(ps->inscope);
	free(ps->scanned);
	pthread_mutex_destroy(&ps->lock);
	free(ps);
}

bool sd_packscan_skip(struct sd_packscan *ps, const struct sd_node *node,
		      const uint8_t *tok, size_t len)
{
	/* 33 bytes a token: 32 characters, flags (1 occurs, 2 full path) */
	enum { TOK = SD_HASH_CHARS + 1 };
	if (!ps || !ps->tree || node->type != SD_NODE_FILE ||
	    node->index >= ps->tree->count || ps->nodes[node->index] != node ||
	    !ps->inscope[node->index])
		return false;
	if (len < 1 || tok[0] != 0 || (len - 1) % TOK)
		return false;
	for (size_t at = 1; at < len; at += TOK) {
		const char *hash = (const char *)tok + at;
		uint8_t flags = tok[at + SD_HASH_CHARS];
		for (size_t k = 0; k < SD_HASH_CHARS; k++)
			if (!sd_nix32_is_char((unsigned char)hash[k]))
				return false;
		int64_t id = sd_hashmap_get(ps->o->st->by_hash, hash);
		if (id != SD_HASHMAP_NONE) {
			char h[SD_HASH_CHARS + 1];
			memcpy(h, hash, SD_HASH_CHARS);
			h[SD_HASH_CHARS] = '\0';
			if (!resolved(ps, h))
				return false; /* OUTSIDE */
		} else if (flags & 2) {
			return false; /* ABSENT */
		}
	}
	pthread_mutex_lock(&ps->lock);
	ps->scanned[node->index] = 1;
	pthread_mutex_unlock(&ps->lock);
	return true;
}

/* ---- finishing ---------------------------------------------------- */

struct item_ctx {
	struct sd_packscan *ps;
	uint32_t node;
	enum sd_refscan_what what;
};

static int item_on_hit(const struct sd_scan_hit *hit, void *ctx,
		       struct sd_error *err)
{
	struct item_ctx *x = ctx;
	return classify(x->ps, hit, x->node, x->what, &x->ps->hits, err);
}

/* Read @node whole through the tap (nobody else did). */
static int drain(struct sd_packscan *ps, struct sd_node *node,
		 unsigned char *buf, struct sd_error *err)
{
	struct sd_stream *s = NULL;
	int rc = sd_tree_open(ps->tree, node, &s, err);
	while (!rc) {
		size_t got = 0;
		rc = sd_stream_read(s, buf, SD_REFSCAN_BUF, &got, err);
		if (!rc && got == 0)
			break;
	}
	sd_stream_close(s);
	if (rc) {
		char *path = sd_node_path_under(node, ps->o->st->store_dir);
		sd_error_prefix(err, rc, "scanning %s", path ? path : "?");
		free(path);
	}
	return rc;
}

/* Names below the store paths, symlink targets, unread contents. */
static int scan_rest(struct sd_packscan *ps, struct sd_error *err)
{
	struct item_ctx x = {.ps = ps};
	struct sd_scanner *sc = NULL;
	unsigned char *buf = malloc(SD_REFSCAN_BUF);
	int rc = buf ? sd_scanner_new(ps->o->st->by_hash, ps->o->st->store_dir,
				      item_on_hit, &x, &sc, err)
		     : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < ps->tree->count; i++) {
		struct sd_node *n = ps->nodes[i];
		if (!ps->inscope[i])
			continue;
		x.node = (uint32_t)i;
		if (n->parent != ps->tree->root) {
			x.what = SD_REFSCAN_NAME;
			sd_scanner_reset(sc);
			rc = sd_scanner_feed(sc, n->name, n->name_len, err);
		}
		if (!rc && n->type == SD_NODE_SYMLINK && n->target) {
			x.what = SD_REFSCAN_TARGET;
			sd_scanner_reset(sc);
			rc = sd_scanner_feed(sc, n->target, strlen(n->target),
					     err);
		}
		if (!rc && n->type == SD_NODE_FILE && !ps->scanned[i])
			rc = drain(ps, n, buf, err);
	}
	sd_scanner_free(sc);
	free(buf);
	return rc;
}

static int what_rank(enum sd_refscan_what w)
{
	return w == SD_REFSCAN_NAME ? 0 : 1;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct raw_hit *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (what_rank(x->what) != what_rank(y->what))
		return what_rank(x->what) - what_rank(y->what);
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return strcmp(x->hash, y->hash);
}

static const struct sd_node *top_of(const struct sd_node *n)
{
	while (n->parent && n->parent->parent)
		n = n->parent;
	return n;
}

int sd_packscan_finish(struct sd_packscan *ps, struct sd_error *err)
{
	int rc = scan_rest(ps, err);
	if (rc)
		return rc;
	struct hitvec *h = &ps->hits;
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), cmp_hit);
	ps->findings = calloc(h->n ? h->n : 1, sizeof(*ps->findings));
	struct sd_hashmap *seen = sd_hashmap_new();
	if (!ps->findings || !seen) {
		sd_hashmap_free(seen);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	const struct sd_node *top = NULL;
	for (size_t i = 0; !rc && i < h->n; i++) {
		const struct raw_hit *r = &h->v[i];
		const struct sd_node *node = ps->nodes[r->node];
		if (top_of(node) != top) {
			top = top_of(node);
			sd_hashmap_free(seen);
			seen = sd_hashmap_new();
			if (!seen)
				return sd_error_set(err, SD_ERR_NOMEM,
						    "out of memory");
		}
		int64_t old;
		if (sd_hashmap_get(seen, r->hash) != SD_HASHMAP_NONE)
			continue;
		rc = sd_hashmap_put(seen, r->hash, 1, &old, err);
		if (rc)
			break;
		struct sd_packscan_finding *f = &ps->findings[ps->nfindings];
		f->kind = r->kind;
		f->file = sd_node_path_under(node, ps->o->st->store_dir);
		if (!f->file) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		ps->nfindings++;
		f->what = r->what;
		f->offset = r->offset;
		memcpy(f->hash, r->hash, sizeof(f->hash));
		if (r->kind == SD_PACKSCAN_OUTSIDE) {
			f->sp = &ps->o->st->paths[r->id];
			f->accepted =
				ps->o->allow_missing ||
				sd_allowlist_has_hash(ps->o->allow, r->hash);
		}
	}
	sd_hashmap_free(seen);
	free(h->v);
	memset(h, 0, sizeof(*h));
	detach(ps);
	return rc;
}

const struct sd_packscan_finding *
sd_packscan_findings(const struct sd_packscan *ps, size_t *n)
{
	*n = ps->nfindings;
	return ps->findings;
}

int sd_packscan_refusal(const struct sd_packscan *ps, struct sd_error *err)
{
	size_t bad = 0;
	const struct sd_packscan_finding *first = NULL;
	for (size_t i = 0; i < ps->nfindings; i++) {
		const struct sd_packscan_finding *f = &ps->findings[i];
		if (f->kind != SD_PACKSCAN_OUTSIDE || f->accepted)
			continue;
		if (!first)
			first = f;
		bad++;
	}
	if (!first)
		return 0;
	return sd_error_set(err, SD_ERR_MISSING,
			    "%zu reference%s to store paths that are in the "
			    "store but not in the closure (the first: %s "
			    "refers to %s/%s): put them in the closure, "
			    "pack over a --base image that holds them (a "
			    "layer goes over every layer below it), or accept "
			    "them with --allow-missing or --allow FILE",
			    bad, bad == 1 ? "" : "s", first->file,
			    ps->o->st->store_dir, first->sp->base);
}
