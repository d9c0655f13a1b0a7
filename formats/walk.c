/* SPDX-License-Identifier: MIT */
/*
 * walk.c — the directory walk both image readers share (see walk.h).
 */
#include "formats/walk.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/sdlimits.h"

void sd_walk_init(struct sd_walk *w, const struct sd_walk_ops *ops, void *ctx)
{
	*w = (struct sd_walk){.ops = ops, .ctx = ctx};
}

static void drop(const struct sd_walk *w, void *inode)
{
	if (inode && w->ops->drop)
		w->ops->drop(inode);
}

void sd_walk_release(struct sd_walk *w)
{
	while (w->sp > 0)
		drop(w, w->stack[--w->sp].inode);
	free(w->stack);
	w->stack = NULL;
	w->cap = 0;
	w->nodes = 0;
	sd_u64set_release(&w->seen);
}

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

int sd_walk_push(struct sd_walk *w, const struct sd_walk_dir *dir,
		 struct sd_error *err)
{
	char what[96];
	int ret = SD_OK;

	if (dir->depth > SD_LIMIT_DEPTH) {
		snprintf(what, sizeof(what),
			 "directories nested deeper than "
			 "%u levels",
			 SD_LIMIT_DEPTH);
		ret = w->ops->corrupt(w->ctx, dir, what, err);
	}
	if (!ret) {
		int added = sd_u64set_add(&w->seen, dir->id);
		if (added < 0)
			ret = nomem(err);
		else if (added == 0)
			ret = w->ops->corrupt(w->ctx, dir,
					      "directory loop "
					      "(directory reached twice)",
					      err);
	}
	if (!ret && w->sp == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct sd_walk_dir *n = realloc(w->stack, cap * sizeof(*n));
		if (n) {
			w->stack = n;
			w->cap = cap;
		} else {
			ret = nomem(err);
		}
	}
	if (ret) {
		drop(w, dir->inode);
		return ret;
	}
	w->stack[w->sp++] = *dir;
	return SD_OK;
}

int sd_walk_entry(struct sd_walk *w, const struct sd_walk_dir *dir,
		  size_t *entries, struct sd_error *err)
{
	if (++*entries > SD_LIMIT_DIR_ENTRIES || ++w->nodes > SD_LIMIT_NODES)
		return w->ops->corrupt(w->ctx, dir, "too many entries", err);
	return SD_OK;
}

int sd_walk_run(struct sd_walk *w, struct sd_error *err)
{
	int ret = SD_OK;

	while (!ret && w->sp > 0) {
		struct sd_walk_dir dir = w->stack[--w->sp];
		ret = w->ops->list(w->ctx, &dir, err);
		drop(w, dir.inode);
	}
	return ret;
}

int sd_walk_finish(struct sd_walk *w, struct sd_tree *tree, const char *path,
		   int ret, struct sd_tree **out, struct sd_error *err)
{
	sd_walk_release(w);
	if (!ret) {
		ret = sd_tree_finalize(tree, err);
		if (ret && ret != SD_ERR_NOMEM) {
			sd_error_prefix(err, SD_ERR_CORRUPT, "%s", path);
			if (err)
				err->code = SD_ERR_CORRUPT;
			ret = SD_ERR_CORRUPT;
		}
	}
	if (ret) {
		sd_tree_free(tree);
		return ret;
	}
	*out = tree;
	return SD_OK;
}
