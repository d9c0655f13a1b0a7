/* SPDX-License-Identifier: MIT */
/*
 * writer_inodes.c — file inodes of the SquashFS writer's data stage and
 * the dedup count (see writer_inodes.h).
 */
#include "formats/squashfs/writer_inodes.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/block.h>

int sd_sqfs_file_inode(uint64_t size, sqfs_inode_generic_t **out)
{
	sqfs_inode_generic_t *ino = calloc(1, sizeof(*ino));

	if (!ino)
		return SD_ERR_NOMEM;
	ino->base.type = SQFS_INODE_FILE;
	sqfs_inode_set_frag_location(ino, 0xFFFFFFFF, 0xFFFFFFFF);
	sqfs_inode_set_file_size(ino, size);
	*out = ino;
	return SD_OK;
}

int sd_sqfs_empty_inode(sqfs_inode_generic_t **out)
{
	sqfs_inode_generic_t *ino = calloc(1, sizeof(*ino));

	if (!ino)
		return SD_ERR_NOMEM;
	ino->base.type = SQFS_INODE_FILE;
	ino->data.file.blocks_start = 0;
	ino->data.file.fragment_index = 0xFFFFFFFF;
	ino->data.file.fragment_offset = 0;
	ino->data.file.file_size = 0;
	*out = ino;
	return SD_OK;
}

int sd_sqfs_set_block_size(sqfs_inode_generic_t **inode, uint32_t index,
			   uint32_t size)
{
	size_t need = ((size_t)index + 1) * sizeof(sqfs_u32);
	size_t avail = (*inode)->payload_bytes_available;

	if (avail < need) {
		size_t n = avail ? avail : 4 * sizeof(sqfs_u32);
		sqfs_inode_generic_t *grown;

		while (n < need)
			n *= 2;
		if (n > 0xFFFFFFFFu)
			return SD_ERR_LIMIT;
		grown = realloc(*inode, sizeof(**inode) + n);
		if (!grown)
			return SD_ERR_NOMEM;
		*inode = grown;
		grown->payload_bytes_available = (sqfs_u32)n;
	}
	(*inode)->extra[index] = size;
	if (need >= (*inode)->payload_bytes_used)
		(*inode)->payload_bytes_used = (sqfs_u32)need;
	return SD_OK;
}

static int key_cmp(const void *a, const void *b)
{
	const struct sd_sqfs_key *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->hash.high64 != y->hash.high64)
		return x->hash.high64 < y->hash.high64 ? -1 : 1;
	if (x->hash.low64 != y->hash.low64)
		return x->hash.low64 < y->hash.low64 ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

/* True if two file inodes point at the very same stored data. */
static bool same_data(const sqfs_inode_generic_t *a,
		      const sqfs_inode_generic_t *b)
{
	sqfs_u64 sa = 0, sb = 0;
	sqfs_u32 fa, oa, fb, ob;
	size_t n = sqfs_inode_get_file_block_count(a);
	bool any_stored = false;

	if (n != sqfs_inode_get_file_block_count(b) ||
	    memcmp(a->extra, b->extra, n * sizeof(sqfs_u32)) != 0)
		return false;
	sqfs_inode_get_frag_location(a, &fa, &oa);
	sqfs_inode_get_frag_location(b, &fb, &ob);
	if (fa != fb || (fa != 0xFFFFFFFF && oa != ob))
		return false;
	for (size_t i = 0; i < n; i++)
		any_stored |= !SQFS_IS_SPARSE_BLOCK(a->extra[i]);
	sqfs_inode_get_file_block_start(a, &sa);
	sqfs_inode_get_file_block_start(b, &sb);
	return !any_stored || sa == sb;
}

void sd_sqfs_count_duplicates(struct sd_sqfs_wstate *w,
			      struct sd_sqfs_key *keys, size_t nkeys)
{
	size_t n = 0;

	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].size > 0)
			keys[n++] = keys[i];
	}
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	for (size_t i = 1, owner = 0; i < n; i++) {
		const struct sd_sqfs_key *k = &keys[i];
		const struct sd_sqfs_key *o = &keys[owner];

		if (k->size != o->size || k->hash.high64 != o->hash.high64 ||
		    k->hash.low64 != o->hash.low64) {
			owner = i;
			continue;
		}
		if (same_data(w->inodes[o->index], w->inodes[k->index]))
			w->stats->files_deduplicated++;
	}
}

void sd_sqfs_fix_file_inodes(struct sd_sqfs_wstate *w)
{
	uint32_t bs = w->comp.block_size;

	for (size_t i = 0; i < w->count; i++) {
		sqfs_inode_generic_t *ino = w->inodes[i];
		if (!ino)
			continue;
		size_t n = sqfs_inode_get_file_block_count(ino);
		uint64_t size = w->nodes[i]->size, sparse = 0;
		for (size_t b = 0; b < n; b++) {
			uint64_t off = (uint64_t)b * bs;
			uint64_t len = size - off < bs ? size - off : bs;
			if (SQFS_IS_SPARSE_BLOCK(ino->extra[b]))
				sparse += len;
		}
		if (sparse)
			sqfs_inode_make_extended(ino);
		if (ino->base.type == SQFS_INODE_EXT_FILE) {
			ino->data.file_ext.sparse = sparse;
			ino->data.file_ext.nlink = 1;
			ino->data.file_ext.xattr_idx = 0xFFFFFFFF;
		}
	}
}
