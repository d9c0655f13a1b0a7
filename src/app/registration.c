/* SPDX-License-Identifier: MIT */
#include "app/registration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/nar.h"
#include "closure/refscan.h"
#include "closure/regwrite.h"
#include "closure/storepath.h"

/* One store path to register: a top-level node of the tree. */
struct item {
	struct sd_node *node;
	char *path;          /* logical store path (owned) */
	const char *deriver; /* or NULL */
	bool scan;           /* find the references by scanning */
	const size_t *refs;  /* else: indices into the items */
	size_t nrefs;
	const struct sd_closure_path *declared; /* narHash/narSize the
						   * closure's source gives, or
						   * NULL */
	/* A path a base holds (node NULL): the base's record, or NULL to
	 * take declared's narHash/narSize and refs. */
	const struct sd_reg_record *given;
	const struct sd_base_image *given_by; /* the base it is from */
};

/* Scan state: which items one item refers to. */
struct refs {
	bool *seen;
	size_t *list;
	size_t n;
};

static int on_ref(const struct sd_refscan_hit *hit, void *ctx,
		  struct sd_error *err)
{
	(void)err;
	struct refs *r = ctx;
	int64_t id = hit->scan->id;
	if (hit->scan->kind != SD_SCAN_HASH || id < 0 || r->seen[id])
		return 0;
	r->seen[id] = true;
	r->list[r->n++] = (size_t)id;
	return 0;
}

/*
 * The error for item @it whose files do not give the narHash/narSize its
 * closure's source (a registration, the Nix database) declares: a
 * registration must not pass on values its files contradict.
 */
static int mismatch(const struct item *it, const struct sd_nar_hash *h,
		    struct sd_error *err)
{
	char got[SD_NAR_NIX32_LEN + 1], want[SD_NAR_NIX32_LEN + 1];
	sd_nar_hash_nix32(h->sha256, got);
	sd_nar_hash_nix32(it->declared->nar_hash, want);
	return sd_error_set(err, SD_ERR_INVALID,
			    "%s: its files give narSize %llu and narHash %s, "
			    "but the closure's source declares narSize %llu "
			    "and narHash %s (the path changed since it was "
			    "registered, or the record is wrong)",
			    it->path, (unsigned long long)h->size, got,
			    (unsigned long long)it->declared->nar_size, want);
}

/* The basename of logical store path @path. */
static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/*
 * The narHash and narSize of @it: computed from its files (and checked
 * against what the closure's source declares), or, for a path a base
 * holds, its base's record, else what the closure's source declares.
 */
static int item_nar(const struct sd_tree *tree, const struct item *it,
		    struct sd_nar_hash *h, struct sd_error *err)
{
	if (it->given) {
		memcpy(h->sha256, it->given->nar_hash, sizeof(h->sha256));
		h->size = it->given->nar_size;
		return 0;
	}
	if (!it->node) {
		memcpy(h->sha256, it->declared->nar_hash, sizeof(h->sha256));
		h->size = it->declared->nar_size;
		return 0;
	}
	int rc = sd_nar_hash(tree, it->node, h, err);
	if (rc)
		return rc;
	if (it->declared &&
	    (h->size != it->declared->nar_size ||
	     memcmp(h->sha256, it->declared->nar_hash, sizeof(h->sha256))))
		return mismatch(it, h, err);
	return 0;
}

/*
 * The references of @it from its base's record into @rec: each must be a
 * path of the closure (a guest's --load-db needs every reference
 * registered).
 */
static int given_refs(const struct item *it, const struct item *items,
		      const struct sd_hashmap *cands,
		      struct sd_regwrite_path *rec, struct sd_error *err)
{
	const struct sd_reg_record *r = it->given;
	const char **refs = calloc(r->nrefs + 1, sizeof(*refs));
	if (!refs)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	rec->refs = refs;
	rec->nrefs = r->nrefs;
	for (size_t k = 0; k < r->nrefs; k++) {
		const char *ref = r->refs[k].path;
		const char *b = basename_of(ref);
		int64_t id = strlen(b) >= SD_HASH_CHARS
				     ? sd_hashmap_get(cands, b)
				     : SD_HASHMAP_NONE;
		if (id == SD_HASHMAP_NONE ||
		    strcmp(basename_of(items[id].path), b))
			return sd_error_set(
				err, SD_ERR_USAGE,
				"--base %s: its registration (%s:%zu) gives %s "
				"the reference %s, which is not in the closure",
				it->given_by->path, SD_EMBEDDED_REGISTRATION,
				r->refs[k].line, it->path, ref);
		refs[k] = items[id].path;
	}
	return 0;
}

/*
 * Register a path of the closure that the tree does not hold: the first
 * base holding it that has a record for it gives the record; else the
 * closure's source must declare its narHash.
 */
static int held_item(struct item *it, const struct sd_closure_path *p,
		     const struct sd_app_reg_options *o, struct sd_error *err)
{
	const struct sd_base_image *first = NULL;
	for (size_t b = 0; b < o->nbases; b++) {
		const struct sd_base_image *bi = &o->bases[b];
		if (!sd_base_image_has(bi, p->sp->base, p->sp->base_len))
			continue;
		if (!first)
			first = bi;
		const struct sd_reg_record *r =
			sd_base_image_record(bi, p->sp->base, p->sp->base_len);
		if (r) {
			it->given = r;
			it->given_by = bi;
			it->deriver = o->keep_derivers && r->deriver &&
						      *r->deriver
					      ? r->deriver
					      : NULL;
			return 0;
		}
	}
	if (!first)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: not in the packed tree", p->path);
	if (p->has_nar && !o->scan_refs)
		return 0; /* declared: narHash, narSize and edges */
	return sd_error_set(
		err, SD_ERR_USAGE,
		"--base %s holds %s, but %s, so the layer's registration "
		"cannot give its narHash: pack that base with "
		"--embed-registration (or give the closure with --db or a "
		"--registration that records narHashes)",
		first->path, p->path,
		first->reg ? "its embedded registration does not list it"
			   : "it has no embedded registration");
}

/*
 * Register @n items of @tree: NAR hash and size computed from the tree,
 * references given or found by scanning with the items' hash parts as
 * candidates.
 */
static int register_items(const struct sd_tree *tree, struct item *items,
			  size_t n, bool base16, char **text, size_t *len,
			  struct sd_error *err)
{
	struct sd_regwrite_path *recs = calloc(n + 1, sizeof(*recs));
	struct sd_hashmap *cands = sd_hashmap_new();
	struct refs r = {
		.seen = calloc(n + 1, sizeof(bool)),
		.list = calloc(n + 1, sizeof(size_t)),
	};
	int rc = SD_OK;
	if (!recs || !cands || !r.seen || !r.list)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t old;
		rc = sd_hashmap_put(cands, basename_of(items[i].path),
				    (int64_t)i, &old, err);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct item *it = &items[i];
		struct sd_regwrite_path *rec = &recs[i];
		struct sd_nar_hash h;
		rc = item_nar(tree, it, &h, err);
		if (rc)
			break;
		rec->path = it->path;
		rec->deriver = it->deriver;
		memcpy(rec->nar_sha256, h.sha256, 32);
		rec->nar_size = h.size;
		if (it->given) {
			rc = given_refs(it, items, cands, rec, err);
			if (rc)
				break;
			continue;
		}
		const size_t *idx = it->refs;
		size_t nrefs = it->nrefs;
		if (it->node && it->scan) {
			memset(r.seen, 0, n * sizeof(*r.seen));
			r.n = 0;
			rc = sd_refscan_tree(tree, it->node, cands, NULL,
					     on_ref, &r, err);
			if (rc)
				break;
			idx = r.list;
			nrefs = r.n;
		}
		const char **refs = calloc(nrefs + 1, sizeof(*refs));
		if (!refs) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; k < nrefs; k++)
			refs[k] = items[idx[k]].path;
		rec->refs = refs;
		rec->nrefs = nrefs;
	}
	if (!rc)
		rc = sd_regwrite(recs, n, base16, text, len, err);
	for (size_t i = 0; recs && i < n; i++)
		free((void *)recs[i].refs);
	free(recs);
	free(r.seen);
	free(r.list);
	sd_hashmap_free(cands);
	return rc;
}

static char *join(const char *dir, const char *base)
{
	size_t len = strlen(dir) + 1 + strlen(base) + 1;
	char *s = malloc(len);
	if (s)
		snprintf(s, len, "%s/%s", dir, base);
	return s;
}

static void free_items(struct item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		free(items[i].path);
	free(items);
}

int sd_app_registration(const struct sd_tree *tree, const struct sd_closure *cl,
			const struct sd_app_reg_options *o, char **text,
			size_t *len, struct sd_error *err)
{
	size_t n = cl->npaths;
	struct item *items = calloc(n + 1, sizeof(*items));
	int rc = items ? SD_OK
		       : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		const struct sd_closure_path *p = &cl->paths[i];
		items[i].node =
			sd_node_child(tree->root, p->sp->base, p->sp->base_len);
		items[i].path = strdup(p->path);
		items[i].deriver = o->keep_derivers ? p->deriver : NULL;
		/* closure->paths and items share indices. */
		items[i].scan = o->scan_refs;
		items[i].refs = p->refs;
		items[i].nrefs = p->nrefs;
		items[i].declared = p->has_nar ? p : NULL;
		if (!items[i].path)
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		else if (!items[i].node)
			rc = held_item(&items[i], p, o, err);
	}
	if (!rc)
		rc = register_items(tree, items, n, o->base16, text, len, err);
	free_items(items, n);
	return rc;
}

int sd_app_registration_of_image(const struct sd_tree *tree,
				 const char *store_dir, bool base16,
				 char **text, size_t *len, struct sd_error *err)
{
	size_t n = 0;
	struct sd_node *root = tree->root;
	struct item *items = calloc(root->nchildren + 1, sizeof(*items));
	int rc = items ? SD_OK
		       : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < root->nchildren && !rc; i++) {
		struct sd_node *c = root->children[i];
		if (sd_storepath_base_problem(c->name, c->name_len))
			continue; /* not a store path (an embedded registration) */
		items[n].node = c;
		items[n].scan = true;
		items[n].path = join(store_dir, c->name);
		if (!items[n++].path)
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	if (!rc)
		rc = register_items(tree, items, n, base16, text, len, err);
	free_items(items, n);
	return rc;
}
