#include "app/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/allowlist.h"
#include "closure/hashmap.h"
#include "closure/nix32.h"
#include "closure/refscan.h"
#include "closure/storepath.h"
#include "formats/format.h"

/* Candidate ids: image paths first, then the candidate list. */
struct vctx {
	const struct sd_verify_options *opts;
	const struct sd_tree *tree;
	struct sd_hashmap *known;       /* hash -> id */
	const char **names;             /* id -> "<hash>-<name>" or hash */
	size_t nimage;                  /* ids below this are in the image */
	struct sd_verify_result *res;
	size_t cap;
	size_t sdlen;
	/* The item being scanned and its findings so far: hash -> index in
	 * res->findings, so each (file, where, path) is reported once. */
	const struct sd_node *item_node;
	enum sd_refscan_what item_what;
	struct sd_hashmap *item_seen;
};

/* Past this many findings, names of unknown paths are not read back. */
#define NAME_LOOKUP_LIMIT 1000

static const char *what_str(enum sd_refscan_what w)
{
	switch (w) {
	case SD_REFSCAN_NAME: return "name";
	case SD_REFSCAN_TARGET: return "symlink target";
	default: return "content";
	}
}

/*
 * Read the store path name that follows a full-path hit (for the report):
 * "<hash>-<name chars>" from the item at @offset.
 */
static char *path_at(const struct vctx *c, const struct sd_node *node,
		     enum sd_refscan_what what, uint64_t offset)
{
	size_t want = c->sdlen + 1 + SD_BASE_MAX;
	char *buf = calloc(1, want + 1);
	if (!buf)
		return NULL;
	size_t got = 0;
	if (what == SD_REFSCAN_CONTENT) {
		struct sd_stream *s;
		if (sd_tree_open(c->tree, node, &s, NULL) == 0) {
			uint64_t skip = offset;
			char tmp[4096];
			while (skip) {
				size_t n = skip < sizeof(tmp) ? skip : sizeof(tmp);
				size_t r = 0;
				if (sd_stream_read_full(s, tmp, n, &r, NULL) ||
				    r != n)
					break;
				skip -= n;
			}
			if (!skip)
				sd_stream_read_full(s, buf, want, &got, NULL);
			sd_stream_close(s);
		}
	} else {
		const char *src = what == SD_REFSCAN_NAME ? node->name
							  : node->target;
		size_t len = what == SD_REFSCAN_NAME ? node->name_len
						     : (size_t)node->size;
		if (offset < len) {
			got = len - offset < want ? len - offset : want;
			memcpy(buf, src + offset, got);
		}
	}
	buf[got] = '\0';
	/* Keep "<store-dir>/<hash>-<name chars>". */
	size_t end = c->sdlen + 1 + SD_HASH_CHARS + 1;
	if (got < end) {
		free(buf);
		return NULL;
	}
	while (end < got && !sd_storepath_name_problem(buf + c->sdlen + 1 +
						       SD_HASH_CHARS + 1,
						       end + 1 - (c->sdlen + 1 +
							   SD_HASH_CHARS + 1)))
		end++;
	buf[end] = '\0';
	return buf;
}

static int add_finding(struct vctx *c, enum sd_finding_kind kind,
		       const struct sd_node *node, const char *where,
		       uint64_t offset, char *path, const char *reason,
		       struct sd_error *err)
{
	struct sd_verify_result *r = c->res;
	if (r->nfindings == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct sd_finding *nf =
			realloc(r->findings, cap * sizeof(*nf));
		if (!nf) {
			free(path);
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		}
		r->findings = nf;
		c->cap = cap;
	}
	struct sd_finding *f = &r->findings[r->nfindings++];
	f->kind = kind;
	f->file = node ? sd_node_path_under(node, c->opts->store_dir) : NULL;
	f->where = where;
	f->offset = offset;
	f->count = 1;
	f->path = path;
	f->reason = strdup(reason);
	if (kind == SD_FINDING_VIOLATION)
		r->nviolations++;
	else
		r->nwarnings++;
	return 0;
}

static char *full_name(const struct vctx *c, const char *hash, int64_t id)
{
	const char *base = id >= 0 ? c->names[id] : hash;
	size_t len = c->sdlen + 1 + strlen(base) + 1;
	char *s = malloc(len);
	if (s)
		snprintf(s, len, "%s/%s", c->opts->store_dir, base);
	return s;
}

static int on_hit(const struct sd_refscan_hit *h, void *vctx,
		  struct sd_error *err)
{
	struct vctx *c = vctx;
	const struct sd_scan_hit *s = h->scan;

	int64_t id = sd_hashmap_get(c->known, s->hash);
	/*
	 * A known hash is found bare wherever it occurs, full path or not, so
	 * full-path hits only matter for hashes nobody listed.  Offsets are
	 * those of the hash part in both cases.
	 */
	uint64_t offset = s->offset;
	if (s->kind == SD_SCAN_PATH) {
		if (id >= 0)
			return 0;
		offset += c->sdlen + 1;
	}
	if (h->node != c->item_node || h->what != c->item_what) {
		c->item_node = h->node;
		c->item_what = h->what;
		if (sd_hashmap_count(c->item_seen)) {
			sd_hashmap_free(c->item_seen);
			c->item_seen = sd_hashmap_new();
			if (!c->item_seen)
				return sd_error_set(err, SD_ERR_NOMEM,
						    "out of memory");
		}
	}
	int64_t seen = sd_hashmap_get(c->item_seen, s->hash);
	if (seen != SD_HASHMAP_NONE) {
		c->res->findings[seen].count++;
		return 0;
	}
	if ((id >= 0 && (size_t)id < c->nimage) ||
	    sd_allowlist_has_hash(c->opts->allowed, s->hash)) {
		c->res->references++;
		return 0;
	}
	const char *where = what_str(h->what);
	int rc;
	if (id >= 0) {
		rc = add_finding(c, SD_FINDING_VIOLATION, h->node, where,
				 offset, full_name(c, s->hash, id),
				 "reference to a store path that is not in the "
				 "image",
				 err);
	} else {
		/* A full path that is neither in the image nor a candidate. */
		char *path = NULL;
		if (c->res->nfindings < NAME_LOOKUP_LIMIT)
			path = path_at(c, h->node, h->what, s->offset);
		if (!path)
			path = full_name(c, s->hash, -1);
		if (c->opts->has_candidates)
			rc = add_finding(c, SD_FINDING_WARNING, h->node, where,
					 offset, path,
					 "mentions a store path that exists "
					 "neither in the image nor among the "
					 "candidates (a documentation example?)",
					 err);
		else
			rc = add_finding(c, SD_FINDING_VIOLATION, h->node,
					 where, offset, path,
					 "reference to a store path that is not "
					 "in the image",
					 err);
	}
	if (rc)
		return rc;
	int64_t old;
	return sd_hashmap_put(c->item_seen, s->hash,
			      (int64_t)c->res->nfindings - 1, &old, err);
}

/* Hash part of a list entry: a bare hash, a basename or a full path. */
static const char *entry_hash(const char *e, const char *store_dir,
			      size_t sdlen)
{
	if (!strncmp(e, store_dir, sdlen) && e[sdlen] == '/')
		e += sdlen + 1;
	if (strlen(e) < SD_HASH_CHARS ||
	    sd_storepath_hash_problem(e, SD_HASH_CHARS))
		return NULL;
	return e;
}

static int put_hash(struct sd_hashmap *m, const char *hash, int64_t id,
		    struct sd_error *err)
{
	char key[SD_HASH_CHARS + 1];
	memcpy(key, hash, SD_HASH_CHARS);
	key[SD_HASH_CHARS] = '\0';
	int64_t old;
	return sd_hashmap_put(m, key, id, &old, err);
}

int sd_verify_image(const char *path, const struct sd_verify_options *opts,
		    struct sd_verify_result *res, struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	const struct sd_format *fmt;
	int rc = sd_format_detect(path, &fmt, err);
	if (rc)
		return rc;
	struct sd_tree *tree = NULL;
	rc = fmt->read(path, &tree, err);
	if (rc)
		return rc;
	res->format = fmt->name;
	res->npaths = tree->root->nchildren;
	res->nfiles = tree->nfiles;
	res->ndirs = tree->ndirs;
	res->nsymlinks = tree->nsymlinks;
	res->bytes_scanned = tree->file_bytes;

	struct vctx c = {.opts = opts, .tree = tree, .res = res,
			 .sdlen = strlen(opts->store_dir)};
	c.known = sd_hashmap_new();
	c.item_seen = sd_hashmap_new();
	c.names = calloc(tree->root->nchildren + opts->ncandidates + 1,
			 sizeof(*c.names));
	if (!c.known || !c.item_seen || !c.names) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < tree->root->nchildren; i++) {
		struct sd_node *n = tree->root->children[i];
		const char *why = sd_storepath_base_problem(n->name,
							    n->name_len);
		if (why) {
			char *p = strdup(n->name);
			rc = add_finding(&c, SD_FINDING_VIOLATION, n, "entry",
					 0, p, why, err);
			if (rc)
				goto out;
			continue;
		}
		c.names[c.nimage] = n->name;
		rc = put_hash(c.known, n->name, (int64_t)c.nimage++, err);
		if (rc)
			goto out;
	}
	size_t next = c.nimage;
	for (size_t i = 0; i < opts->ncandidates; i++) {
		const char *h = entry_hash(opts->candidates[i],
					   opts->store_dir, c.sdlen);
		if (!h || sd_hashmap_get(c.known, h) != SD_HASHMAP_NONE)
			continue;
		c.names[next] = h;
		rc = put_hash(c.known, h, (int64_t)next++, err);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < tree->root->nchildren; i++) {
		rc = sd_refscan_tree(tree, tree->root->children[i], c.known,
				     opts->store_dir, on_hit, &c, err);
		if (rc) {
			if (rc == SD_ERR_IO)
				rc = SD_ERR_CORRUPT;
			sd_error_prefix(err, rc, "%s", path);
			goto out;
		}
	}
out:
	free(c.names);
	sd_hashmap_free(c.known);
	sd_hashmap_free(c.item_seen);
	sd_tree_free(tree);
	return rc;
}

void sd_verify_result_release(struct sd_verify_result *res)
{
	for (size_t i = 0; i < res->nfindings; i++) {
		free(res->findings[i].file);
		free(res->findings[i].path);
		free(res->findings[i].reason);
	}
	free(res->findings);
	memset(res, 0, sizeof(*res));
}
