/* SPDX-License-Identifier: MIT */
/*
 * writer_frag.c — fragment deduplication (see writer_frag.h).
 *
 * An open-addressing table of (hash, size) -> place, linear probing,
 * grown to keep it at most half full.
 */
#include "formats/squashfs/writer_frag.h"

#include <stdlib.h>
#include <string.h>

#include <sqfs/block.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/io.h>

#include "formats/squashfs/sqfserr.h"

struct chunk {
	uint64_t hash;
	uint32_t size, index, offset;
	bool used;
};

struct sd_sqfs_frags {
	struct sd_sqfs_wstate *w;
	sd_sqfs_fblk_find find;
	void *ctx;
	struct chunk *tab;
	size_t cap, n;
	/* one block read back from the image */
	unsigned char *cache, *scratch;
	uint32_t cache_index, cache_size;
	bool cache_valid;
};

struct sd_sqfs_frags *sd_sqfs_frags_new(struct sd_sqfs_wstate *w,
					sd_sqfs_fblk_find find, void *ctx)
{
	struct sd_sqfs_frags *fr = calloc(1, sizeof(*fr));

	if (!fr)
		return NULL;
	fr->w = w;
	fr->find = find;
	fr->ctx = ctx;
	fr->cap = 1024;
	fr->tab = calloc(fr->cap, sizeof(*fr->tab));
	fr->cache = malloc(w->comp.block_size);
	fr->scratch = malloc(w->comp.block_size);
	if (!fr->tab || !fr->cache || !fr->scratch) {
		sd_sqfs_frags_free(fr);
		return NULL;
	}
	return fr;
}

void sd_sqfs_frags_free(struct sd_sqfs_frags *fr)
{
	if (!fr)
		return;
	free(fr->tab);
	free(fr->cache);
	free(fr->scratch);
	free(fr);
}

static size_t slot_of(uint64_t hash, uint32_t size, size_t cap)
{
	return (size_t)((hash ^ ((uint64_t)size * 0x9E3779B97F4A7C15ULL)) &
			(cap - 1));
}

/* Read fragment block @index back from the image into the cache. */
static int load_block(struct sd_sqfs_frags *fr, uint32_t index,
		      struct sd_error *err)
{
	struct sd_sqfs_wstate *w = fr->w;
	uint32_t bs = w->comp.block_size;
	sqfs_fragment_t info;
	size_t size;
	int ret;

	if (fr->cache_valid && fr->cache_index == index)
		return SD_OK;
	fr->cache_valid = false;
	ret = sqfs_frag_table_lookup(w->frag, index, &info);
	if (ret)
		goto fail;
	size = SQFS_ON_DISK_BLOCK_SIZE(info.size);
	if (size > bs) {
		ret = SQFS_ERROR_CORRUPTED;
		goto fail;
	}
	if (SQFS_IS_BLOCK_COMPRESSED(info.size)) {
		sqfs_s32 got;

		ret = w->file->read_at(w->file, info.start_offset, fr->scratch,
				       size);
		if (ret)
			goto fail;
		got = w->comp.uncmp->do_block(w->comp.uncmp, fr->scratch, size,
					      fr->cache, bs);
		if (got <= 0) {
			ret = got ? got : SQFS_ERROR_OVERFLOW;
			goto fail;
		}
		size = (size_t)got;
	} else {
		ret = w->file->read_at(w->file, info.start_offset, fr->cache,
				       size);
		if (ret)
			goto fail;
	}
	fr->cache_size = (uint32_t)size;
	fr->cache_index = index;
	fr->cache_valid = true;
	return SD_OK;
fail:
	return sd_error_set(err, sd_sqfs_write_status(ret),
			    "cannot read fragment block %u back: %s",
			    (unsigned)index, sd_sqfs_strerror(ret));
}

/* 1 if @c's stored bytes equal @data, 0 if not, or an error. */
static int same_bytes(struct sd_sqfs_frags *fr, const struct chunk *c,
		      const unsigned char *data, struct sd_error *err)
{
	const struct sd_sqfs_fblk *fb = fr->find(fr->ctx, c->index);
	const unsigned char *have;
	uint32_t have_size;

	if (fb) {
		have = fb->data;
		have_size = fb->size;
	} else {
		int ret = load_block(fr, c->index, err);

		if (ret)
			return ret;
		have = fr->cache;
		have_size = fr->cache_size;
	}
	if (c->offset >= have_size || have_size - c->offset < c->size)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "fragment block %u is shorter than "
				    "written",
				    (unsigned)c->index);
	return memcmp(have + c->offset, data, c->size) == 0;
}

int sd_sqfs_frags_find(struct sd_sqfs_frags *fr, const unsigned char *data,
		       uint32_t size, uint64_t hash, uint32_t *index,
		       uint32_t *offset, struct sd_error *err)
{
	for (size_t i = slot_of(hash, size, fr->cap);;
	     i = (i + 1) & (fr->cap - 1)) {
		const struct chunk *c = &fr->tab[i];
		int ret;

		if (!c->used)
			return 0;
		if (c->hash != hash || c->size != size)
			continue;
		ret = same_bytes(fr, c, data, err);
		if (ret < 0)
			return ret;
		if (ret) {
			*index = c->index;
			*offset = c->offset;
			return 1;
		}
	}
}

static void put(struct chunk *tab, size_t cap, const struct chunk *c)
{
	size_t i = slot_of(c->hash, c->size, cap);

	while (tab[i].used)
		i = (i + 1) & (cap - 1);
	tab[i] = *c;
}

int sd_sqfs_frags_add(struct sd_sqfs_frags *fr, uint32_t size, uint64_t hash,
		      uint32_t index, uint32_t offset)
{
	struct chunk c = {hash, size, index, offset, true};

	if (2 * (fr->n + 1) > fr->cap) {
		size_t cap = 2 * fr->cap;
		struct chunk *tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return SD_ERR_NOMEM;
		for (size_t i = 0; i < fr->cap; i++) {
			if (fr->tab[i].used)
				put(tab, cap, &fr->tab[i]);
		}
		free(fr->tab);
		fr->tab = tab;
		fr->cap = cap;
	}
	put(fr->tab, fr->cap, &c);
	fr->n++;
	return SD_OK;
}
