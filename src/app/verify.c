/* SPDX-License-Identifier: MIT */
#include "app/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/rawrefs.h"
#include "app/verify_findings.h"
#include "app/verify_reg.h"
#include "app/verify_rootlinks.h"
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
	struct sd_hashmap *known;    /* hash -> id */
	const char **names;          /* id -> "<hash>-<name>" or hash */
	size_t nimage;               /* ids below this are in the image */
	size_t nresolve;             /* ids below this (and from nimage)
				      * are in another image of the union */
	size_t *owner;               /* id -> index in opts->others */
	uint8_t *other_seen;         /* id referenced already */
	uint8_t *below;              /* id held by an image not above */
	size_t nknown;               /* ids below this are known */
	bool has_candidates;         /* an explicit candidate set */
	struct sd_hashmap *absent;   /* manifest: did not exist */
	struct sd_hashmap *accepted; /* manifest: accepted as missing */
	struct sd_verify_result *res;
	size_t sdlen;
	/* The item being scanned and its findings so far: hash -> index in
	 * res->findings, so each (file, where, path) is reported once. */
	const struct sd_node *item_node;
	enum sd_refscan_what item_what;
	struct sd_hashmap *item_seen;
	/* Image paths the current top-level entry references (resolved
	 * hits), each once: ids in refs[0..nrefs), mark[id] set. */
	uint8_t *mark;
	int64_t *refs;
	size_t nrefs;
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
				size_t n = skip < sizeof(tmp) ? skip
							      : sizeof(tmp);
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
	while (end < got &&
	       !sd_storepath_name_problem(
		       buf + c->sdlen + 1 + SD_HASH_CHARS + 1,
		       end + 1 - (c->sdlen + 1 + SD_HASH_CHARS + 1)))
		end++;
	buf[end] = '\0';
	return buf;
}

static int add_finding(struct vctx *c, enum sd_finding_kind kind,
		       const struct sd_node *node, const char *where,
		       uint64_t offset, char *path, const char *reason,
		       struct sd_error *err)
{
	char *file = node ? sd_node_path_under(node, c->opts->store_dir) : NULL;
	return sd_verify_add_finding(c->res, kind, file, where, offset, path,
				     strdup(reason), err);
}

/* Remember that the current top-level entry references image path @id. */
static int note_ref(struct vctx *c, int64_t id, struct sd_error *err)
{
	(void)err;
	if (c->mark[id])
		return 0;
	c->mark[id] = 1;
	c->refs[c->nrefs++] = id;
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

/* Another image's path @id, referenced for the first time: an order
 * warning when only images above this one hold it. */
static int note_order(struct vctx *c, int64_t id, struct sd_error *err)
{
	size_t k = c->owner[id];
	if (!c->opts->others[k].above || c->below[id])
		return 0;
	struct sd_verify_result *r = c->res;
	if (!r->order_paths++) {
		r->order_path = full_name(c, NULL, id);
		if (!r->order_path)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		r->order_image = c->opts->others[k].image;
	}
	return 0;
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
	if (id >= 0 && (size_t)id < c->nimage) {
		c->res->references++;
		return note_ref(c, id, err);
	}
	if (id >= 0 && (size_t)id < c->nresolve) {
		struct sd_verify_resolved *o = &c->res->others[c->owner[id]];
		o->references++;
		if (!c->other_seen[id]) {
			c->other_seen[id] = 1;
			o->paths++;
			int rc = note_order(c, id, err);
			if (rc)
				return rc;
		}
		return note_ref(c, id, err);
	}
	if (sd_allowlist_has_hash(c->opts->allowed, s->hash)) {
		c->res->references++;
		return 0;
	}
	const char *where = what_str(h->what);
	bool accepted = c->accepted &&
			sd_hashmap_get(c->accepted, s->hash) != SD_HASHMAP_NONE;
	enum sd_finding_kind kind = SD_FINDING_VIOLATION;
	const char *category, *reason;
	/* with --base the whole union was searched: say so */
	bool uni = c->opts->nothers > 0;
	if (accepted) {
		category = "accepted-missing";
		reason = uni ? "reference to a store path that is in no "
			       "image of the union (it existed when the image "
			       "was packed and was accepted as missing then)"
			     : "reference to a store path that is not in the "
			       "image (it existed when the image was packed "
			       "and was accepted as missing then)";
	} else if (id >= 0) {
		category = "missing";
		reason = uni ? "reference to a store path that is in no image "
			       "of the union"
			     : "reference to a store path that is not in the "
			       "image";
	} else if (c->opts->strict) {
		category = "unknown-path";
		reason = uni ? "reference to a store path that is in no image "
			       "of the union (--strict)"
			     : "reference to a store path that is not in the "
			       "image (--strict)";
	} else if (c->absent &&
		   sd_hashmap_get(c->absent, s->hash) != SD_HASHMAP_NONE) {
		kind = SD_FINDING_WARNING;
		category = "absent-when-packed";
		reason = "mentions a store path that did not exist when the "
			 "image was packed (its manifest says so): not a "
			 "reference";
	} else if (c->has_candidates) {
		kind = SD_FINDING_WARNING;
		category = "not-a-candidate";
		reason = "mentions a store path that exists neither in the "
			 "image nor among the candidates (a documentation "
			 "example?)";
	} else {
		category = "unknown-path";
		reason =
			uni ? "reference to a store path that is in no image "
			      "of the union (to tell it from a documentation "
			      "example, verify --candidates, or pack "
			      "--embed-registration, whose manifest lists the "
			      "store)"
			    : "reference to a store path that is not in the "
			      "image (to tell it from a documentation example, "
			      "verify --candidates, or pack "
			      "--embed-registration, whose manifest lists the "
			      "store)";
	}
	char *path = NULL;
	if (id < 0 && c->res->nfindings < NAME_LOOKUP_LIMIT)
		path = path_at(c, h->node, h->what, s->offset);
	if (!path)
		path = full_name(c, s->hash, id);
	int rc =
		add_finding(c, kind, h->node, where, offset, path, reason, err);
	if (!rc)
		c->res->findings[c->res->nfindings - 1].category = category;
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

/* The embedded registration and manifest: exempt from the store path
 * name rule and not scanned. */
static bool is_embedded_registration(const struct sd_node *n)
{
	return n->type == SD_NODE_FILE &&
	       (!strcmp(n->name, SD_EMBEDDED_REGISTRATION) ||
		!strcmp(n->name, SD_EMBEDDED_MANIFEST));
}

/* Give the image's top-level store paths ids 0..nimage-1; entries that
 * are not store path names are violations. */
static int index_image(struct vctx *c, struct sd_error *err)
{
	const struct sd_node *root = c->tree->root;
	for (size_t i = 0; i < root->nchildren; i++) {
		struct sd_node *n = root->children[i];
		if (is_embedded_registration(n) || sd_verify_is_root_symlink(n))
			continue;
		c->res->npaths++;
		const char *why =
			sd_storepath_base_problem(n->name, n->name_len);
		if (!why) {
			c->names[c->nimage] = n->name;
			int rc = put_hash(c->known, n->name,
					  (int64_t)c->nimage++, err);
			if (rc)
				return rc;
			continue;
		}
		if (!strcmp(n->name, SD_EMBEDDED_REGISTRATION))
			why = "an embedded registration must be a regular file";
		if (!strcmp(n->name, SD_EMBEDDED_MANIFEST))
			why = "an embedded manifest must be a regular file";
		char *p = strdup(n->name);
		int rc = add_finding(c, SD_FINDING_VIOLATION, n, "entry", 0, p,
				     why, err);
		if (rc)
			return rc;
	}
	c->nknown = c->nimage;
	return 0;
}

/* The store paths of the other images of the union get the ids after the
 * image's own (a hash known already keeps its id). */
static int add_others(struct vctx *c, struct sd_error *err)
{
	const struct sd_verify_options *o = c->opts;
	struct sd_verify_result *r = c->res;
	r->others = calloc(o->nothers + 1, sizeof(*r->others));
	if (!r->others)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	r->nothers = o->nothers;
	for (size_t k = 0; k < o->nothers; k++) {
		r->others[k].image = o->others[k].image;
		for (size_t i = 0; i < o->others[k].nbases; i++) {
			const char *b = o->others[k].bases[i];
			if (strlen(b) < SD_HASH_CHARS ||
			    sd_storepath_hash_problem(b, SD_HASH_CHARS))
				continue;
			char key[SD_HASH_CHARS + 1];
			memcpy(key, b, SD_HASH_CHARS);
			key[SD_HASH_CHARS] = '\0';
			int64_t id = sd_hashmap_get(c->known, key);
			if (id != SD_HASHMAP_NONE) {
				/* resolved by an earlier other already */
				if (id >= (int64_t)c->nimage &&
				    !o->others[k].above)
					c->below[id] = 1;
				continue;
			}
			c->names[c->nknown] = b;
			c->owner[c->nknown] = k;
			c->below[c->nknown] = !o->others[k].above;
			int rc = put_hash(c->known, key, (int64_t)c->nknown++,
					  err);
			if (rc)
				return rc;
		}
	}
	c->nresolve = c->nknown;
	return 0;
}

/* A candidate (hash, basename or logical path) gets the next id unless
 * its hash is known already. */
static int add_candidate(struct vctx *c, const char *entry,
			 struct sd_error *err)
{
	const char *h = entry_hash(entry, c->opts->store_dir, c->sdlen);
	if (!h || sd_hashmap_get(c->known, h) != SD_HASHMAP_NONE)
		return 0;
	c->names[c->nknown] = h;
	return put_hash(c->known, h, (int64_t)c->nknown++, err);
}

/* Hash parts of manifest list @l into a new set *@out. */
static int hash_set(const struct sd_manifest *m, char **l, size_t n,
		    struct sd_hashmap **out, struct sd_error *err)
{
	*out = sd_hashmap_new();
	if (!*out)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++)
		rc = put_hash(*out, sd_manifest_entry_hash(m, l[i]), 1, err);
	return rc;
}

/* Candidates: --candidates, then the registered paths and references,
 * then the manifest's accepted paths (they existed). */
static int add_candidates(struct vctx *c, const struct sd_registration *reg,
			  struct sd_error *err)
{
	int rc = 0;
	const struct sd_manifest *m = c->res->manifest.m;
	for (size_t i = 0; !rc && m && i < m->naccepted; i++)
		rc = add_candidate(c, sd_manifest_entry_hash(m, m->accepted[i]),
				   err);
	for (size_t i = 0; !rc && i < c->opts->ncandidates; i++)
		rc = add_candidate(c, c->opts->candidates[i], err);
	for (size_t i = 0; !rc && reg && i < reg->nrecs; i++) {
		const struct sd_reg_record *r = &reg->recs[i];
		rc = add_candidate(c, r->path, err);
		for (size_t k = 0; !rc && k < r->nrefs; k++)
			rc = add_candidate(c, r->refs[k].path, err);
	}
	return rc;
}

/* Room for every id: image entries, candidates, registered paths. */
static size_t max_ids(const struct sd_tree *tree,
		      const struct sd_verify_options *opts,
		      const struct sd_registration *reg, size_t extra)
{
	size_t n = tree->root->nchildren + opts->ncandidates + 1 + extra;
	for (size_t i = 0; i < opts->nothers; i++)
		n += opts->others[i].nbases;
	for (size_t i = 0; reg && i < reg->nrecs; i++)
		n += 1 + reg->recs[i].nrefs;
	return n;
}

/* Image read errors while scanning or hashing: the image is corrupt. */
static int image_error(int rc, const char *image, struct sd_error *err)
{
	if (rc == SD_ERR_IO)
		rc = SD_ERR_CORRUPT;
	sd_error_prefix(err, rc, "%s", image);
	return rc;
}

/* Scan top-level entry @top; check it against its registration record. */
static int check_top(struct vctx *c, const struct sd_vreg *v,
		     struct sd_node *top, const char *image,
		     struct sd_error *err)
{
	c->nrefs = 0;
	int rc = sd_refscan_tree(c->tree, top, c->known, c->opts->store_dir,
				 on_hit, c, err);
	if (rc)
		return image_error(rc, image, err);
	const struct sd_reg_record *rec = sd_vreg_record(v, top);
	if (rec) {
		const char **scanned = calloc(c->nrefs + 1, sizeof(*scanned));
		if (!scanned)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < c->nrefs; i++)
			scanned[i] = c->names[c->refs[i]];
		rc = sd_vreg_compare_refs(v, top, rec, scanned, c->nrefs,
					  c->res, err);
		free(scanned);
		if (!rc) {
			rc = sd_vreg_check_nar(v, c->tree, top, rec, c->res,
					       err);
			if (rc && rc != SD_ERR_NOMEM)
				rc = image_error(rc, image, err);
		}
	}
	for (size_t i = 0; i < c->nrefs; i++)
		c->mark[c->refs[i]] = 0;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The known paths whose hashes occur in the raw bytes of @image. */
static int raw_refs(struct vctx *c, const char *image, struct sd_error *err)
{
	struct sd_verify_result *r = c->res;
	uint8_t *hit = calloc(c->nknown + 1, 1);
	if (!hit)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = sd_raw_refs_scan(image, c->known, c->nknown, hit, err);
	size_t n = 0;
	for (size_t id = 0; !rc && id < c->nknown; id++)
		n += hit[id];
	r->raw_refs = rc ? NULL : calloc(n + 1, sizeof(char *));
	if (!rc && !r->raw_refs)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t id = 0; !rc && id < c->nknown; id++) {
		if (!hit[id])
			continue;
		char *p = full_name(c, NULL, (int64_t)id);
		if (!p)
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		else
			r->raw_refs[r->nraw_refs++] = p;
	}
	free(hit);
	if (!rc) {
		qsort(r->raw_refs, r->nraw_refs, sizeof(char *), cmp_str);
		r->has_raw_refs = true;
	}
	return rc;
}

/* The largest manifest read out of an image. */
#define MANIFEST_MAX ((uint64_t)64 << 20)

/* Read and parse the image's embedded manifest, if it has one. */
static int load_manifest(const struct sd_tree *tree, const char *image,
			 struct sd_verify_manifest *out, struct sd_error *err)
{
	const struct sd_node *n = sd_node_child(
		tree->root, SD_EMBEDDED_MANIFEST, strlen(SD_EMBEDDED_MANIFEST));
	if (!n || n->type != SD_NODE_FILE)
		return 0;
	char name[4096];
	snprintf(name, sizeof(name), "%s:%s", image, SD_EMBEDDED_MANIFEST);
	char *text;
	size_t len;
	int rc = sd_vreg_read_root_file(tree, n, image, SD_EMBEDDED_MANIFEST,
					MANIFEST_MAX, &text, &len, err);
	if (rc)
		return rc;
	out->present = true;
	rc = sd_manifest_parse(text, len, name, &out->m, err);
	free(text);
	return rc;
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
	res->nfiles = tree->nfiles;
	res->ndirs = tree->ndirs;
	res->nsymlinks = tree->nsymlinks;
	res->bytes_scanned = tree->file_bytes;

	struct vctx c = {.opts = opts,
			 .tree = tree,
			 .res = res,
			 .sdlen = strlen(opts->store_dir)};
	struct sd_vreg v;
	rc = sd_vreg_init(&v, tree, path, opts, res, err);
	if (rc)
		goto out;
	rc = load_manifest(tree, path, &res->manifest, err);
	if (rc)
		goto out;
	const struct sd_manifest *man = res->manifest.m;
	c.has_candidates = opts->has_candidates;
	if (man &&
	    (hash_set(man, man->absent, man->nabsent, &c.absent, err) ||
	     hash_set(man, man->accepted, man->naccepted, &c.accepted, err))) {
		rc = err ? err->code : SD_ERR_NOMEM;
		goto out;
	}
	size_t ids = max_ids(tree, opts, v.reg, man ? man->naccepted : 0);
	c.known = sd_hashmap_new();
	c.item_seen = sd_hashmap_new();
	c.names = calloc(ids, sizeof(*c.names));
	c.mark = calloc(ids, 1);
	c.refs = calloc(ids, sizeof(*c.refs));
	c.owner = calloc(ids, sizeof(*c.owner));
	c.other_seen = calloc(ids, 1);
	c.below = calloc(ids, 1);
	if (!c.known || !c.item_seen || !c.names || !c.mark || !c.refs ||
	    !c.owner || !c.other_seen || !c.below) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = index_image(&c, err);
	if (!rc)
		rc = add_others(&c, err);
	if (!rc)
		rc = sd_verify_root_symlinks(tree, opts->store_dir, res, err);
	if (!rc)
		rc = add_candidates(&c, v.reg, err);
	if (!rc)
		rc = sd_vreg_check_presence(&v, tree, res, err);
	for (size_t i = 0; !rc && i < tree->root->nchildren; i++) {
		struct sd_node *top = tree->root->children[i];
		if (!is_embedded_registration(top) &&
		    !sd_verify_is_root_symlink(top))
			rc = check_top(&c, &v, top, path, err);
	}
	if (!rc && opts->raw_refs)
		rc = raw_refs(&c, path, err);
out:
	sd_vreg_release(&v);
	free(c.names);
	free(c.mark);
	free(c.refs);
	free(c.owner);
	free(c.other_seen);
	free(c.below);
	sd_hashmap_free(c.known);
	sd_hashmap_free(c.item_seen);
	sd_hashmap_free(c.absent);
	sd_hashmap_free(c.accepted);
	sd_tree_free(tree);
	if (rc)
		sd_verify_result_release(res); /* what was found before */
	return rc;
}

static void free_strings(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void sd_verify_result_release(struct sd_verify_result *res)
{
	for (size_t i = 0; i < res->nfindings; i++) {
		free(res->findings[i].file);
		free(res->findings[i].path);
		free(res->findings[i].reason);
	}
	free(res->findings);
	struct sd_verify_registration *reg = &res->reg;
	for (size_t i = 0; i < reg->nmismatches; i++)
		free(reg->mismatches[i].path);
	free(reg->mismatches);
	for (size_t i = 0; i < reg->ndiffs; i++) {
		struct sd_ref_difference *d = &reg->diffs[i];
		free(d->path);
		free_strings(d->scanned_only, d->nscanned_only);
		free_strings(d->registered_only, d->nregistered_only);
	}
	free(reg->diffs);
	free_strings(res->raw_refs, res->nraw_refs);
	free(res->others);
	free(res->order_path);
	sd_verify_root_symlinks_release(res);
	sd_manifest_free(res->manifest.m);
	memset(res, 0, sizeof(*res));
}
