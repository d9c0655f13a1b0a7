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
 * SD_ERR_USAGE for @it, a path base @it->given_by holds beyond the
 * closure that a registered path refers to, when no base records it.
 */
static int no_record(const struct item *it, struct sd_error *err)
{
	return sd_error_set(
		err, SD_ERR_USAGE,
		"--base %s holds %s, which the layer refers to, but %s, so "
		"the layer's registration cannot give its narHash: pack that "
		"base with --embed-registration",
		it->given_by->path, it->path,
		it->given_by->reg ? "its embedded registration does not list it"
				  : "it has no embedded registration");
}

/*
 * The references of item @i as indices into @items (*@out, *@nout; the
 * list is @r's): scanned from the tree, taken from its base's record, or
 * the closure's edges.  A base record's reference to a path that is not
 * among the items is SD_ERR_USAGE naming it (a guest's --load-db needs
 * every reference registered).
 */
static int item_refs(const struct sd_tree *tree, const struct item *items,
		     size_t i, size_t n, const struct sd_hashmap *cands,
		     struct refs *r, const size_t **out, size_t *nout,
		     struct sd_error *err)
{
	const struct item *it = &items[i];
	*out = it->refs;
	*nout = it->nrefs;
	if (it->given) {
		const struct sd_reg_record *rec = it->given;
		/* each once: a record may repeat a reference, and r->list
		 * holds at most @n */
		memset(r->seen, 0, n * sizeof(*r->seen));
		r->n = 0;
		for (size_t k = 0; k < rec->nrefs; k++) {
			const char *b = basename_of(rec->refs[k].path);
			int64_t id = strlen(b) >= SD_HASH_CHARS
					     ? sd_hashmap_get(cands, b)
					     : SD_HASHMAP_NONE;
			if (id == SD_HASHMAP_NONE ||
			    strcmp(basename_of(items[id].path), b))
				return sd_error_set(
					err, SD_ERR_USAGE,
					"--base %s: its registration (%s:%zu) "
					"gives %s the reference %s, which is "
					"not in the closure",
					it->given_by->path,
					SD_EMBEDDED_REGISTRATION,
					rec->refs[k].line, it->path,
					rec->refs[k].path);
			if (!r->seen[id]) {
				r->seen[id] = true;
				r->list[r->n++] = (size_t)id;
			}
		}
	} else if (it->node && it->scan) {
		memset(r->seen, 0, n * sizeof(*r->seen));
		r->n = 0;
		int rc = sd_refscan_tree(tree, it->node, cands, NULL, on_ref, r,
					 err);
		if (rc)
			return rc;
	} else {
		return 0;
	}
	*out = r->list;
	*nout = r->n;
	return 0;
}

/*
 * Register the items of @tree that @n0 closure items (the first of @n)
 * reach: NAR hash and size computed from the tree (or a base's record),
 * references given or found by scanning with every item's hash part as
 * a candidate.  Items past @n0 are paths the bases hold beyond the
 * closure: registered only where a registered item refers to them.
 */
static int register_items(const struct sd_tree *tree, struct item *items,
			  size_t n0, size_t n, bool base16, char **text,
			  size_t *len, struct sd_error *err)
{
	struct sd_regwrite_path *recs = calloc(n + 1, sizeof(*recs));
	struct sd_hashmap *cands = sd_hashmap_new();
	size_t **ridx = calloc(n + 1, sizeof(*ridx));
	size_t *nridx = calloc(n + 1, sizeof(*nridx));
	bool *reach = calloc(n + 1, sizeof(*reach));
	size_t *todo = calloc(n + 1, sizeof(*todo));
	struct refs r = {
		.seen = calloc(n + 1, sizeof(bool)),
		.list = calloc(n + 1, sizeof(size_t)),
	};
	int rc = SD_OK;
	if (!recs || !cands || !ridx || !nridx || !reach || !todo || !r.seen ||
	    !r.list)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t old;
		rc = sd_hashmap_put(cands, basename_of(items[i].path),
				    (int64_t)i, &old, err);
	}
	/* What each registered item refers to, from the closure's items
	 * out to the base paths they reach. */
	size_t ntodo = 0;
	for (size_t i = 0; i < n0 && !rc; i++) {
		reach[i] = true;
		todo[ntodo++] = i;
	}
	while (ntodo && !rc) {
		size_t i = todo[--ntodo];
		const size_t *idx;
		size_t nrefs;
		rc = item_refs(tree, items, i, n, cands, &r, &idx, &nrefs, err);
		if (rc)
			break;
		ridx[i] = malloc((nrefs + 1) * sizeof(**ridx));
		if (!ridx[i]) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		if (nrefs) /* idx may be NULL then */
			memcpy(ridx[i], idx, nrefs * sizeof(*idx));
		nridx[i] = nrefs;
		for (size_t k = 0; k < nrefs; k++)
			if (!reach[idx[k]]) {
				reach[idx[k]] = true;
				todo[ntodo++] = idx[k];
			}
	}
	size_t nrecs = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!reach[i])
			continue;
		struct item *it = &items[i];
		struct sd_regwrite_path *rec = &recs[nrecs++];
		struct sd_nar_hash h;
		rc = it->node || it->given || it->declared
			     ? item_nar(tree, it, &h, err)
			     : no_record(it, err);
		if (rc)
			break;
		rec->path = it->path;
		rec->deriver = it->deriver;
		memcpy(rec->nar_sha256, h.sha256, 32);
		rec->nar_size = h.size;
		const char **refs = calloc(nridx[i] + 1, sizeof(*refs));
		if (!refs) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; k < nridx[i]; k++)
			refs[k] = items[ridx[i][k]].path;
		rec->refs = refs;
		rec->nrefs = nridx[i];
	}
	if (!rc)
		rc = sd_regwrite(recs, nrecs, base16, text, len, err);
	for (size_t i = 0; recs && i < nrecs; i++)
		free((void *)recs[i].refs);
	for (size_t i = 0; ridx && i < n; i++)
		free(ridx[i]);
	free(recs);
	free(ridx);
	free(nridx);
	free(reach);
	free(todo);
	free(r.seen);
	free(r.list);
	sd_hashmap_free(cands);
	return rc;
}

/* "<dir>/<base>" (malloc'ed), or NULL. */
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

/*
 * Append to *@items (@n closure items) one item for each store path a
 * base holds that the closure does not (*@m of them, the first base
 * holding a path giving its record): a closure given as a list of paths
 * (a layer of `storedisk layers`) refers into its bases without listing
 * the base paths, and the layer's registration must still cover what it
 * reaches.  Each takes the closure's store directory.
 */
static int add_base_items(const struct sd_closure *cl,
			  const struct sd_app_reg_options *o,
			  struct item **items, size_t n, size_t *m,
			  struct sd_error *err)
{
	const char *first = cl->paths[0].path;
	size_t dirlen = (size_t)(basename_of(first) - first);
	size_t cap = 0;
	for (size_t b = 0; b < o->nbases; b++)
		cap += o->bases[b].nbases;
	struct item *v = realloc(*items, (n + cap + 1) * sizeof(*v));
	if (!v)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	*items = v;
	memset(v + n, 0, (cap + 1) * sizeof(*v));
	struct sd_hashmap *seen = sd_hashmap_new();
	if (!seen)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = 0;
	for (size_t b = 0; b < o->nbases && !rc; b++) {
		const struct sd_base_image *bi = &o->bases[b];
		for (size_t k = 0; k < bi->nbases && !rc; k++) {
			const char *name = bi->bases[k];
			size_t len = strlen(name);
			char hash[SD_HASH_CHARS + 1];
			if (len < SD_HASH_CHARS)
				continue;
			memcpy(hash, name, SD_HASH_CHARS);
			hash[SD_HASH_CHARS] = '\0';
			if (sd_closure_find(cl, hash) >= 0 ||
			    sd_hashmap_get(seen, name) != SD_HASHMAP_NONE)
				continue;
			int64_t old;
			struct item *it = &v[n + *m];
			rc = sd_hashmap_put(seen, name, (int64_t)(n + *m), &old,
					    err);
			if (rc)
				break;
			it->path = malloc(dirlen + len + 1);
			if (!it->path) {
				rc = sd_error_set(err, SD_ERR_NOMEM,
						  "out of memory");
				break;
			}
			memcpy(it->path, first, dirlen);
			memcpy(it->path + dirlen, name, len + 1);
			(*m)++;
			/* the first base with a record for it gives it */
			it->given_by = bi;
			for (size_t c = b; c < o->nbases && !it->given; c++) {
				const struct sd_reg_record *r =
					sd_base_image_record(&o->bases[c], name,
							     len);
				if (r) {
					it->given = r;
					it->given_by = &o->bases[c];
				}
			}
			if (it->given && o->keep_derivers &&
			    it->given->deriver && *it->given->deriver)
				it->deriver = it->given->deriver;
		}
	}
	sd_hashmap_free(seen);
	return rc;
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
	size_t m = 0;
	if (!rc && o->scan_refs && o->nbases && n)
		rc = add_base_items(cl, o, &items, n, &m, err);
	if (!rc)
		rc = register_items(tree, items, n, n + m, o->base16, text, len,
				    err);
	free_items(items, n + m);
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
		rc = register_items(tree, items, n, n, base16, text, len, err);
	free_items(items, n);
	return rc;
}
