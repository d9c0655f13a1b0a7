/* SPDX-License-Identifier: MIT */
#include "closure/pathlist.h"

#include <stdlib.h>
#include <string.h>

#include "closure/lines.h"
#include "closure/storepath.h"

static int parse(struct sd_lines *l, const char *store_dir,
		 struct sd_pathlist *pl, struct sd_error *err)
{
	const char *s;
	size_t len, cap = 0;
	size_t dl = strlen(store_dir);

	while (sd_lines_next(l, &s, &len)) {
		sd_lines_trim(&s, &len);
		if (len == 0)
			continue;
		struct sd_spath sp;
		if (memchr(s, '\0', len))
			return sd_error_set(err, SD_ERR_INVALID,
					    "%s:%zu: line contains a NUL byte",
					    l->name, l->lineno);
		if (sd_storepath_parse(store_dir, s, len, false, &sp, err))
			return sd_error_prefix(err, SD_ERR_INVALID, "%s:%zu",
					       l->name, l->lineno);
		if (pl->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct sd_pathlist_entry *ne =
				realloc(pl->entries, ncap * sizeof(*ne));
			if (!ne)
				goto nomem;
			pl->entries = ne;
			cap = ncap;
		}
		struct sd_pathlist_entry *e = &pl->entries[pl->n];
		e->path = malloc(len + 1);
		if (!e->path)
			goto nomem;
		memcpy(e->path, s, len);
		e->path[len] = '\0';
		e->base = e->path + dl + 1;
		e->line = l->lineno;
		e->file = pl->file;
		pl->n++;
	}
	return 0;
nomem:
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory reading %s",
			    l->name);
}

static int run(struct sd_lines *l, const char *store_dir,
	       struct sd_pathlist **out, struct sd_error *err)
{
	struct sd_pathlist *pl = calloc(1, sizeof(*pl));
	int rc;
	if (!pl || !(pl->file = strdup(l->name))) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto done;
	}
	rc = parse(l, store_dir, pl, err);
done:
	sd_lines_release(l);
	if (rc) {
		sd_pathlist_free(pl);
		return rc;
	}
	*out = pl;
	return 0;
}

int sd_pathlist_load(const char *path, const char *store_dir,
		     struct sd_pathlist **out, struct sd_error *err)
{
	struct sd_lines l;
	int rc = sd_lines_init_file(&l, path, err);
	if (rc)
		return rc;
	return run(&l, store_dir, out, err);
}

int sd_pathlist_parse(const char *name, const char *data, size_t len,
		      const char *store_dir, struct sd_pathlist **out,
		      struct sd_error *err)
{
	struct sd_lines l;
	int rc = sd_lines_init_mem(&l, name, data, len, err);
	if (rc)
		return rc;
	return run(&l, store_dir, out, err);
}

void sd_pathlist_free(struct sd_pathlist *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->n; i++)
		free(pl->entries[i].path);
	free(pl->entries);
	free(pl->file);
	for (size_t i = 0; i < pl->nfiles; i++)
		free(pl->files[i]);
	free(pl->files);
	free(pl);
}
