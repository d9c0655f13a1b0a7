/* SPDX-License-Identifier: MIT */
/*
 * writer_dirindex.c — the directory lookup index of the SquashFS writer
 * (see writer_dirindex.h).
 */
#include "formats/squashfs/writer_dirindex.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/dir.h>

#include "core/error.h"

uint64_t sd_sqfs_dirindex_cost(size_t n, const size_t *hdr, size_t nhdr,
			       const size_t *sel, size_t nsel)
{
	uint64_t cost = 0;
	size_t h = 0;

	/* segment j covers the entries [start, end): entry 0 up to the
	 * first indexed header, then from each indexed header to the next */
	for (size_t j = 0; j <= nsel; j++) {
		uint64_t start = j ? sel[j - 1] : 0;
		uint64_t end = j < nsel ? sel[j] : n;
		uint64_t len = end - start;
		/* index entries read: up to and including the first that
		 * names a later entry (all of them in the last segment) */
		uint64_t idx =
			nsel == 0 ? 0 : 2 * (uint64_t)(j < nsel ? j + 1 : nsel);

		/* the entry at distance d from the segment start costs
		 * 2 (d + 1) entry reads: sum = len (len + 1) */
		cost += len * idx + len * (len + 1);
		/* each header read on the way: one read per later target */
		while (h < nhdr && hdr[h] < start)
			h++;
		for (; h < nhdr && hdr[h] < end; h++)
			cost += end - hdr[h];
	}
	return cost;
}

/* The first header at or after each of the k evenly spaced targets. */
static size_t spread(size_t n, const size_t *hdr, size_t nhdr, size_t k,
		     size_t *sel)
{
	size_t nsel = 0, c = 1;

	for (size_t i = 1; i <= k; i++) {
		uint64_t target = (uint64_t)i * n / (k + 1);

		while (c < nhdr && hdr[c] < target)
			c++;
		if (c == nhdr)
			break;
		sel[nsel++] = hdr[c++];
	}
	return nsel;
}

size_t sd_sqfs_dirindex_choose(size_t n, const size_t *hdr, size_t nhdr,
			       size_t *sel)
{
	size_t *try;
	size_t best_n = 0, k = 1, step = 1;
	uint64_t best;

	if (nhdr < 2)
		return 0;
	try = malloc(nhdr * sizeof(*try));
	if (!try)
		return 0; /* no index: a valid (if slower) directory */
	best = sd_sqfs_dirindex_cost(n, hdr, nhdr, NULL, 0);
	while (k < nhdr) {
		size_t m = spread(n, hdr, nhdr, k, try);
		uint64_t c = sd_sqfs_dirindex_cost(n, hdr, nhdr, try, m);

		if (c < best) {
			best = c;
			best_n = m;
			memcpy(sel, try, m * sizeof(*sel));
		}
		/* k = 1, 2, 3, 4, 5, 6, 7, 8, then about 1.25x apart */
		step = k >= 8 ? k / 4 : 1;
		k += step;
	}
	free(try);
	return best_n;
}

/* One index entry of libsquashfs' in-memory form: the fixed part of
 * sqfs_dir_index_t (host-endian) and the name that follows it.  Only the
 * name's size is needed (a struct ending in a flexible array cannot be a
 * member, so the fixed part is not kept). */
#define IENT_FIXED offsetof(sqfs_dir_index_t, name)

struct ient {
	const sqfs_u8 *name;
	size_t len;   /* name bytes (the stored size + 1) */
	size_t bytes; /* the whole entry */
};

static int next_ient(const sqfs_u8 *p, size_t left, struct ient *e)
{
	sqfs_u32 size;

	if (left < IENT_FIXED)
		return SD_ERR_INVALID;
	memcpy(&size, p + offsetof(sqfs_dir_index_t, size), sizeof(size));
	e->len = (size_t)size + 1;
	if (e->len > left - IENT_FIXED)
		return SD_ERR_INVALID;
	e->name = p + IENT_FIXED;
	e->bytes = IENT_FIXED + e->len;
	return SD_OK;
}

/* Fill hdr[] with the entry position of each index entry's header (the
 * children are sorted, so one forward pass matches the names). */
static int header_positions(const sqfs_inode_generic_t *dir,
			    const struct sd_node *node, size_t *hdr,
			    size_t count)
{
	const sqfs_u8 *p = (const sqfs_u8 *)dir->extra;
	size_t left = dir->payload_bytes_used, child = 0;

	for (size_t i = 0; i < count; i++) {
		struct ient e;

		if (next_ient(p, left, &e))
			return SD_ERR_INVALID;
		while (child < node->nchildren &&
		       (node->children[child]->name_len != e.len ||
			memcmp(node->children[child]->name, e.name, e.len)))
			child++;
		if (child == node->nchildren)
			return SD_ERR_INVALID;
		hdr[i] = child;
		p += e.bytes;
		left -= e.bytes;
	}
	return hdr[0] == 0 ? SD_OK : SD_ERR_INVALID;
}

/* Keep only the index entries whose header starts at a chosen entry. */
static void keep(sqfs_inode_generic_t *dir, const size_t *hdr, size_t count,
		 const size_t *sel, size_t nsel)
{
	sqfs_u8 *base = (sqfs_u8 *)dir->extra, *src = base, *dst = base;
	size_t left = dir->payload_bytes_used, s = 0;

	for (size_t i = 0; i < count; i++) {
		struct ient e;

		if (next_ient(src, left, &e))
			break; /* not met: header_positions read them all */
		if (s < nsel && hdr[i] == sel[s]) {
			memmove(dst, src, e.bytes);
			dst += e.bytes;
			s++;
		}
		src += e.bytes;
		left -= e.bytes;
	}
	dir->payload_bytes_used = (sqfs_u32)(dst - base);
	dir->data.dir_ext.inodex_count = (sqfs_u16)nsel;
}

static void make_basic(sqfs_inode_generic_t *dir)
{
	sqfs_inode_dir_ext_t ext = dir->data.dir_ext;

	memset(&dir->data.dir, 0, sizeof(dir->data.dir));
	dir->base.type = SQFS_INODE_DIR;
	dir->data.dir.start_block = ext.start_block;
	dir->data.dir.nlink = ext.nlink;
	dir->data.dir.size = (sqfs_u16)ext.size;
	dir->data.dir.offset = ext.offset;
	dir->data.dir.parent_inode = ext.parent_inode;
	dir->payload_bytes_used = 0;
}

int sd_sqfs_dirindex_apply(sqfs_inode_generic_t *dir,
			   const struct sd_node *node)
{
	size_t count, nsel = 0, *hdr = NULL, *sel = NULL;

	if (dir->base.type != SQFS_INODE_EXT_DIR)
		return SD_ERR_INVALID;
	count = dir->data.dir_ext.inodex_count;
	if (count > 0) {
		hdr = malloc(count * sizeof(*hdr));
		sel = malloc(count * sizeof(*sel));
		if (!hdr || !sel) {
			free(hdr);
			free(sel);
			return SD_ERR_NOMEM;
		}
		if (header_positions(dir, node, hdr, count)) {
			free(hdr);
			free(sel);
			return SD_ERR_INVALID;
		}
		nsel = sd_sqfs_dirindex_choose(node->nchildren, hdr, count,
					       sel);
	}
	keep(dir, hdr, count, sel, nsel);
	free(hdr);
	free(sel);
	dir->data.dir_ext.xattr_idx = 0xFFFFFFFF;
	if (nsel == 0 && dir->data.dir_ext.size <= 0xFFFF)
		make_basic(dir);
	return SD_OK;
}
