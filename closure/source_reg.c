/* SPDX-License-Identifier: MIT */
/* source_reg.c — closure edges from a validity registration. */
#include <stdlib.h>
#include <string.h>

#include "closure/engine.h"
#include "closure/hashmap.h"
#include "closure/storepath.h"

struct regctx {
	struct sd_engine *e;
	const struct sd_registration *reg;
	struct sd_hashmap *by_hash; /* hash part -> record index */
};

/* The record for store path @sp, or NULL. */
static const struct sd_reg_record *record_of(const struct regctx *x,
					     const struct sd_store_path *sp)
{
	int64_t i = sd_hashmap_get(x->by_hash, sp->hash);
	if (i == SD_HASHMAP_NONE)
		return NULL;
	const struct sd_reg_record *r = &x->reg->recs[i];
	if (strcmp(r->base, sp->base) != 0)
		return NULL;
	return r;
}

static int expand(struct regctx *x, size_t s)
{
	struct sd_engine *e = x->e;
	const struct sd_store *st = e->st;
	const struct sd_reg_record *r = e->rec[s];
	size_t dl = strlen(st->store_dir);

	for (size_t k = 0; k < r->nrefs; k++) {
		const struct sd_reg_ref *ref = &r->refs[k];
		const char *base = ref->path + dl + 1;
		const struct sd_store_path *t =
			sd_store_find_base(st, base, strlen(base));
		if (!t) {
			bool allowed;
			if (!sd_engine_tolerated(e, base, &allowed))
				return sd_error_set(
					e->err, SD_ERR_MISSING,
					"%s:%zu: reference %s of %s is not in "
					"the store (%s)",
					r->file, ref->line, ref->path, r->path,
					st->phys_dir);
			int rc = sd_engine_add_missing(e, base, ref->path,
						       r->path, ref->line, 0,
						       allowed);
			if (rc)
				return rc;
			continue;
		}
		const struct sd_reg_record *tr = record_of(x, t);
		if (!tr)
			return sd_error_set(e->err, SD_ERR_INVALID,
					    "%s:%zu: reference %s of %s has no "
					    "record of its own (incomplete "
					    "registration)",
					    r->file, ref->line, ref->path,
					    r->path);
		int rc = sd_graph_add_edge(&e->g, s, t->index, e->err);
		if (rc)
			return rc;
		e->rec[t->index] = tr;
		sd_engine_reach(e, t->index);
	}
	return 0;
}

static int run(struct regctx *x)
{
	struct sd_engine *e = x->e;
	const struct sd_registration *reg = x->reg;
	int rc;

	x->by_hash = sd_hashmap_new();
	if (!x->by_hash)
		return sd_error_set(e->err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < reg->nrecs; i++) {
		rc = sd_hashmap_put(x->by_hash, reg->recs[i].base, (int64_t)i,
				    NULL, e->err);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < e->nroots; i++) {
		const struct sd_store_path *sp = &e->st->paths[e->roots[i]];
		const struct sd_reg_record *r = record_of(x, sp);
		if (!r)
			return sd_error_set(e->err, SD_ERR_MISSING,
					    "root %s/%s is not registered in "
					    "%s",
					    e->st->store_dir, sp->base,
					    reg->file);
		e->rec[sp->index] = r;
		sd_engine_reach(e, sp->index);
	}
	while (e->qhead < e->qtail) {
		rc = expand(x, e->queue[e->qhead++]);
		if (rc)
			return rc;
	}
	return 0;
}

int sd_engine_run_registration(struct sd_engine *e)
{
	struct regctx x = {.e = e, .reg = e->o->reg};
	struct sd_registration *own = NULL;
	int rc;

	if (!x.reg) {
		if (!e->o->file)
			return sd_error_set(e->err, SD_ERR_USAGE,
					    "no registration file given");
		rc = sd_registration_load(e->o->file, e->st->store_dir, &own,
					  e->err);
		if (rc)
			return rc;
		x.reg = own;
	}
	rc = run(&x);
	/* Records are referenced by e->rec only while the engine runs; the
	 * result copies what it needs, but build_result runs later, so an
	 * owned registration must stay alive: hand it to the engine. */
	sd_hashmap_free(x.by_hash);
	if (rc) {
		sd_registration_free(own);
		return rc;
	}
	e->own_reg = own;
	return 0;
}
