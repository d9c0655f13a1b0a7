/* SPDX-License-Identifier: MIT */
/* source_paths.c — the closure is a given list of store paths. */
#include <string.h>

#include "closure/engine.h"
#include "closure/storepath.h"

static int run(struct sd_engine *e, const struct sd_pathlist *pl)
{
	const struct sd_store *st = e->st;
	for (size_t i = 0; i < pl->n; i++) {
		const struct sd_pathlist_entry *en = &pl->entries[i];
		const struct sd_store_path *sp =
			sd_store_find_base(st, en->base, strlen(en->base));
		if (sp) {
			sd_engine_reach(e, sp->index);
			continue;
		}
		bool allowed;
		if (!sd_engine_tolerated(e, en->base, &allowed))
			return sd_error_set(e->err, SD_ERR_MISSING,
					    "%s:%zu: %s is not in the store "
					    "(%s)",
					    en->file, en->line, en->path,
					    st->phys_dir);
		int rc = sd_engine_add_missing(e, en->base, en->path, NULL,
					       en->line, 0, allowed);
		if (rc)
			return rc;
	}
	for (size_t r = 0; r < e->nroots; r++)
		if (!e->seen[e->roots[r]])
			return sd_error_set(e->err, SD_ERR_MISSING,
					    "root %s/%s is not listed in %s",
					    st->store_dir,
					    st->paths[e->roots[r]].base,
					    pl->file);
	return 0;
}

int sd_engine_run_paths(struct sd_engine *e)
{
	const struct sd_pathlist *pl = e->o->paths;
	struct sd_pathlist *own = NULL;
	int rc;
	if (!pl) {
		if (!e->o->file)
			return sd_error_set(e->err, SD_ERR_USAGE,
					    "no store path list given");
		rc = sd_pathlist_load(e->o->file, e->st->store_dir, &own,
				      e->err);
		if (rc)
			return rc;
		pl = own;
	}
	rc = run(e, pl);
	sd_pathlist_free(own);
	return rc;
}
