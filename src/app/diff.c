/* SPDX-License-Identifier: MIT */
/* diff.c — sd_diff_trees: entry-by-entry comparison of two trees. */
#include "app/diff.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK (1 << 16)

struct dctx {
	const struct sd_tree *ta, *tb;
	const struct sd_diff_options *opts;
	struct sd_diff_stats *stats;
	char *ba, *bb;
};

static int report(struct dctx *d, const struct sd_diff_item *it)
{
	if (it->kind == SD_DIFF_ADDED)
		d->stats->added++;
	else if (it->kind == SD_DIFF_REMOVED)
		d->stats->removed++;
	else
		d->stats->changed++;
	return d->opts->report ? d->opts->report(d->opts->ctx, it) : 0;
}

/*
 * Compare two file contents; *@same false with *@offset the first byte
 * that differs (or the length of the shorter one).
 */
static int compare_content(struct dctx *d, const struct sd_node *a,
			   const struct sd_node *b, bool *same,
			   uint64_t *offset, struct sd_error *err)
{
	struct sd_stream *sa = NULL, *sb = NULL;
	int rc = sd_tree_open(d->ta, a, &sa, err);
	if (!rc)
		rc = sd_tree_open(d->tb, b, &sb, err);
	uint64_t pos = 0;
	*same = true;
	while (!rc) {
		size_t ga, gb;
		rc = sd_stream_read_full(sa, d->ba, CHUNK, &ga, err);
		if (!rc)
			rc = sd_stream_read_full(sb, d->bb, CHUNK, &gb, err);
		if (rc)
			break;
		size_t n = ga < gb ? ga : gb;
		size_t i = 0;
		while (i < n && d->ba[i] == d->bb[i])
			i++;
		if (i < n || ga != gb) {
			*same = false;
			*offset = pos + i;
			break;
		}
		if (ga == 0)
			break;
		pos += ga;
	}
	sd_stream_close(sa);
	sd_stream_close(sb);
	return rc;
}

static int compare_node(struct dctx *d, const struct sd_node *a,
			const struct sd_node *b, struct sd_error *err);

/* Merge the sorted children of two directories. */
static int compare_children(struct dctx *d, const struct sd_node *a,
			    const struct sd_node *b, struct sd_error *err)
{
	size_t i = 0, j = 0;
	while (i < a->nchildren || j < b->nchildren) {
		const struct sd_node *ca = i < a->nchildren ? a->children[i]
							    : NULL;
		const struct sd_node *cb = j < b->nchildren ? b->children[j]
							    : NULL;
		int cmp;
		if (!ca)
			cmp = 1;
		else if (!cb)
			cmp = -1;
		else {
			size_t n = ca->name_len < cb->name_len ? ca->name_len
							       : cb->name_len;
			cmp = memcmp(ca->name, cb->name, n);
			if (!cmp)
				cmp = ca->name_len < cb->name_len
					      ? -1
					      : ca->name_len > cb->name_len;
		}
		int rc;
		if (cmp < 0) {
			struct sd_diff_item it = {.kind = SD_DIFF_REMOVED,
						  .a = ca};
			rc = report(d, &it);
			i++;
		} else if (cmp > 0) {
			struct sd_diff_item it = {.kind = SD_DIFF_ADDED,
						  .b = cb};
			rc = report(d, &it);
			j++;
		} else {
			rc = compare_node(d, ca, cb, err);
			i++;
			j++;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int compare_node(struct dctx *d, const struct sd_node *a,
			const struct sd_node *b, struct sd_error *err)
{
	if (d->opts->interrupted && *d->opts->interrupted)
		return sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
	if (d->opts->same && d->opts->same(d->opts->ctx, a, b))
		return 0;
	struct sd_diff_item it = {.kind = SD_DIFF_CHANGED, .a = a, .b = b};
	if (a->type != b->type)
		it.fields |= SD_DIFF_TYPE;
	if (a->mode != b->mode)
		it.fields |= SD_DIFF_MODE;
	if (a->uid != b->uid || a->gid != b->gid)
		it.fields |= SD_DIFF_OWNER;
	if (a->mtime != b->mtime)
		it.fields |= SD_DIFF_MTIME;
	if (a->type == b->type && a->type == SD_NODE_SYMLINK &&
	    strcmp(a->target ? a->target : "", b->target ? b->target : ""))
		it.fields |= SD_DIFF_TARGET;
	if (a->type == b->type && a->type == SD_NODE_FILE) {
		if (a->size != b->size)
			it.fields |= SD_DIFF_SIZE;
		bool same;
		int rc = compare_content(d, a, b, &same, &it.offset, err);
		if (rc)
			return rc;
		if (!same)
			it.fields |= SD_DIFF_CONTENT;
	}
	if (it.fields) {
		int rc = report(d, &it);
		if (rc)
			return rc;
	}
	if (a->type == SD_NODE_DIR && b->type == SD_NODE_DIR)
		return compare_children(d, a, b, err);
	return 0;
}

int sd_diff_trees(const struct sd_tree *a, const struct sd_tree *b,
		  const struct sd_diff_options *opts,
		  struct sd_diff_stats *stats, struct sd_error *err)
{
	static const struct sd_diff_options none;
	memset(stats, 0, sizeof(*stats));
	struct dctx d = {
		.ta = a, .tb = b, .opts = opts ? opts : &none, .stats = stats};
	d.ba = malloc(CHUNK);
	d.bb = malloc(CHUNK);
	int rc = (d.ba && d.bb)
			 ? compare_node(&d, a->root, b->root, err)
			 : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	free(d.ba);
	free(d.bb);
	return rc;
}
