#include "app/registration.h"

#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/nar.h"
#include "closure/refscan.h"
#include "closure/regwrite.h"

/* Scan state: which closure paths one path refers to. */
struct refs {
	bool *seen;          /* per closure index */
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

/* References of @node by scanning, as indices into @cl->paths. */
static int scan_refs_of(const struct sd_tree *tree, struct sd_node *node,
			const struct sd_hashmap *cands, size_t npaths,
			struct refs *r, struct sd_error *err)
{
	memset(r->seen, 0, npaths * sizeof(*r->seen));
	r->n = 0;
	return sd_refscan_tree(tree, node, cands, NULL, on_ref, r, err);
}

int sd_app_registration(const struct sd_tree *tree,
			const struct sd_closure *cl, bool scan_refs,
			char **text, size_t *len, struct sd_error *err)
{
	size_t n = cl->npaths;
	struct sd_regwrite_path *recs = calloc(n + 1, sizeof(*recs));
	struct sd_hashmap *cands = NULL;
	struct refs r = {0};
	int rc = SD_OK;

	if (scan_refs) {
		cands = sd_hashmap_new();
		r.seen = calloc(n + 1, sizeof(*r.seen));
		r.list = calloc(n + 1, sizeof(*r.list));
		for (size_t i = 0; i < n && cands; i++) {
			int64_t old;
			rc = sd_hashmap_put(cands, cl->paths[i].sp->hash,
					    (int64_t)i, &old, err);
			if (rc)
				break;
		}
	}
	if (!rc && (!recs || (scan_refs && (!cands || !r.seen || !r.list))))
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");

	for (size_t i = 0; i < n && !rc; i++) {
		const struct sd_closure_path *p = &cl->paths[i];
		struct sd_node *node = sd_node_child(tree->root, p->sp->base,
						     p->sp->base_len);
		if (!node) {
			rc = sd_error_set(err, SD_ERR_INVALID,
					  "%s: not in the packed tree",
					  p->path);
			break;
		}
		struct sd_regwrite_path *rec = &recs[i];
		rec->path = p->path;
		rec->deriver = p->deriver;
		if (p->has_nar) {
			memcpy(rec->nar_sha256, p->nar_hash, 32);
			rec->nar_size = p->nar_size;
		} else {
			struct sd_nar_hash h;
			rc = sd_nar_hash(tree, node, &h, err);
			if (rc)
				break;
			memcpy(rec->nar_sha256, h.sha256, 32);
			rec->nar_size = h.size;
		}
		const size_t *idx = p->refs;
		size_t nrefs = p->nrefs;
		if (scan_refs) {
			rc = scan_refs_of(tree, node, cands, n, &r, err);
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
			refs[k] = cl->paths[idx[k]].path;
		rec->refs = refs;
		rec->nrefs = nrefs;
	}
	if (!rc)
		rc = sd_regwrite(recs, n, text, len, err);
	for (size_t i = 0; recs && i < n; i++)
		free((void *)recs[i].refs);
	free(recs);
	free(r.seen);
	free(r.list);
	sd_hashmap_free(cands);
	return rc;
}
