/* SPDX-License-Identifier: MIT */
/*
 * writer_zgroup.c — before the compressed pipeline starts: the compressed
 * files of more than one segment that share their size with another one
 * are hashed (in parallel, writer_flat.h's ew_parallel), so that a
 * duplicate among them is known before it is read for compression and is
 * never compressed (see writer_zpipe.h).  Only such files can duplicate a
 * multi-segment file; smaller duplicates are found while reading.  A file
 * whose digest the caller knows (sd_write_options.file_digest, a stat
 * cache) is not read for it.
 */
#include "formats/erofs/writer_zpipe.h"

#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/writer_flat.h"

struct zg_hash {
	struct zpipe *z;
	uint8_t **bufs; /* one EW_CHUNK_SIZE buffer per worker */
};

static int hash_one(void *ctx, size_t i, unsigned worker, struct sd_error *err)
{
	struct zg_hash *g = ctx;
	struct ew_state *w = g->z->w;
	struct zgroup_ent *e = &g->z->grp[i];
	const struct sd_node *n = w->nodes[e->node];
	uint64_t size = e->size, off = 0;
	struct sd_stream *s = NULL;
	struct sd_sha256 *h;
	int ret;

	/* a digest the caller knows needs no read */
	if (w->file_digest && w->file_digest(w->file_digest_ctx, n, e->digest))
		return SD_OK;
	h = sd_sha256_new();
	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sd_tree_open(w->tree, n, &s, err);
	while (!ret && off < size) {
		size_t len = size - off < EW_CHUNK_SIZE ? (size_t)(size - off)
							: EW_CHUNK_SIZE;

		ret = ew_read_exact(s, n, g->bufs[worker], len, err);
		if (!ret)
			sd_sha256_update(h, g->bufs[worker], len);
		off += len;
	}
	sd_stream_close(s);
	if (ret) {
		sd_sha256_free(h);
		return ret;
	}
	sd_sha256_final(h, e->digest);
	return SD_OK;
}

/* Order by size, then digest, then node (tree order). */
static int cmp_content(const void *a, const void *b)
{
	const struct zgroup_ent *x = a, *y = b;
	int c;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	c = memcmp(x->digest, y->digest, SD_SHA256_LEN);
	if (c)
		return c;
	return x->node < y->node ? -1 : x->node > y->node;
}

static int cmp_size(const void *a, const void *b)
{
	const struct zgroup_ent *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static int cmp_node(const void *a, const void *b)
{
	const struct zgroup_ent *x = a, *y = b;

	return x->node < y->node ? -1 : x->node > y->node;
}

int zgroup_prehash(struct zpipe *z, struct sd_error *err)
{
	struct ew_state *w = z->w;
	size_t seg = ewz_segment_size(w->zcfg.pcluster), n = 0, keep = 0;
	unsigned jobs = w->jobs ? w->jobs : 1;
	struct zgroup_ent *all;
	struct zg_hash g = {.z = z};
	int ret = SD_OK;

	for (size_t i = 0; i < w->count; i++)
		if (w->ino[i].layout == EROFS_INODE_COMPRESSED_COMPACT &&
		    w->ino[i].size > seg)
			n++;
	if (n < 2)
		return SD_OK;
	all = calloc(n, sizeof(*all));
	if (!all)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < w->count; i++)
		if (w->ino[i].layout == EROFS_INODE_COMPRESSED_COMPACT &&
		    w->ino[i].size > seg) {
			all[n].node = (uint32_t)i;
			all[n++].size = w->ino[i].size;
		}
	/* keep those whose size occurs twice or more */
	qsort(all, n, sizeof(*all), cmp_size);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = all[i].size;
		bool shared = (i > 0 && all[i - 1].size == s) ||
			      (i + 1 < n && all[i + 1].size == s);

		if (shared)
			all[keep++] = all[i];
	}
	if (!keep) {
		free(all);
		return SD_OK;
	}
	qsort(all, keep, sizeof(*all), cmp_node);
	z->grp = all;
	z->ngrp = keep;
	if (jobs > keep)
		jobs = (unsigned)keep;
	g.bufs = calloc(jobs, sizeof(*g.bufs));
	if (!g.bufs)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (unsigned i = 0; i < jobs && !ret; i++)
		if (!(g.bufs[i] = malloc(EW_CHUNK_SIZE)))
			ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!ret)
		ret = ew_parallel(jobs, keep, hash_one, &g, w->interrupted,
				  err);
	for (unsigned i = 0; i < jobs; i++)
		free(g.bufs[i]);
	free(g.bufs);
	if (ret)
		return ret;
	/* the first of equal contents (tree order) owns them */
	qsort(all, keep, sizeof(*all), cmp_content);
	for (size_t i = 1; i < keep; i++)
		if (all[i].size == all[i - 1].size &&
		    !memcmp(all[i].digest, all[i - 1].digest, SD_SHA256_LEN))
			all[i].owner = all[i - 1].owner ? all[i - 1].owner
							: all[i - 1].node + 1;
	qsort(all, keep, sizeof(*all), cmp_node);
	return SD_OK;
}
