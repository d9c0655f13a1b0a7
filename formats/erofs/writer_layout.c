/* SPDX-License-Identifier: MIT */
/*
 * writer_layout.c — stage 1 of the EROFS writer: inode forms, data
 * layouts and places in the metadata area (see writer.h).
 *
 * Inline rule (the kernel's): an inline tail must lie in the same block
 * as the end of its inode, i.e. (inode offset + inode size) % block +
 * tail <= block.  A tail that could never fit (longer than a block minus
 * the inode) and a size that is a block multiple (FLAT_INLINE would put
 * a whole block inline) make the node FLAT_PLAIN.  Uncompressed images
 * place every record (inode and its chunk map or inline tail) first fit
 * (writer_pack.c), so no inode crosses a block and a record that does
 * not fit in what is left of one block goes into an earlier one with
 * room, not into a gap.
 */
#include "formats/erofs/writer.h"

#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/writer_z.h"

static uint32_t subdirs(const struct sd_node *dir)
{
	uint32_t n = 0;

	for (size_t i = 0; i < dir->nchildren; i++)
		n += dir->children[i]->type == SD_NODE_DIR;
	return n;
}

static void choose_form(const struct ew_state *w, const struct sd_node *n,
			struct ew_inode *in)
{
	in->nlink = n->type == SD_NODE_DIR ? 2 + subdirs(n) : 1;
	in->extended = in->size > UINT32_MAX || n->mtime != w->build_time ||
		       n->uid > UINT16_MAX || n->gid > UINT16_MAX ||
		       in->nlink > UINT16_MAX;
}

static void choose_layout(const struct ew_state *w, const struct sd_node *n,
			  struct ew_inode *in, uint32_t isize)
{
	uint32_t tail = (uint32_t)(in->size % EW_BLKSIZE);

	in->tail = 0;
	in->nchunks = 0;
	if (n->type == SD_NODE_FILE && w->zcfg.alg != EZ_NONE &&
	    (in->size >= EW_BLKSIZE || (w->ztail && in->size > 0))) {
		/* a candidate: it may end up uncompressed (writer_zpipe.c) */
		in->layout = EROFS_INODE_COMPRESSED_COMPACT;
	} else if (n->type == SD_NODE_FILE && w->zcfg.alg == EZ_NONE &&
		   w->chunks_ok && in->size >= EW_CHUNKED_MIN) {
		in->layout = EROFS_INODE_CHUNK_BASED;
		in->nchunks = (uint32_t)((in->size + EW_CHUNK_SIZE - 1) /
					 EW_CHUNK_SIZE);
	} else if (tail != 0 && tail <= EW_BLKSIZE - isize) {
		in->layout = EROFS_INODE_FLAT_INLINE;
		in->tail = tail;
	} else {
		in->layout = EROFS_INODE_FLAT_PLAIN;
	}
}

/*
 * Uncompressed images: every node placed here, the data after the
 * metadata area.  Compressed images: forms and sizes only; the data area
 * starts at block 1 and the metadata area is placed after it once every
 * file's metadata size is known (ewz_write_meta_area).
 */
int ew_layout(struct ew_state *w, struct sd_error *err)
{
	struct ew_pack pack;
	uint64_t pos;

	ew_pack_init(&pack, (uint32_t)w->meta_start);
	for (size_t i = 0; i < w->count; i++) {
		const struct sd_node *n = w->nodes[i];
		struct ew_inode *in = &w->ino[i];
		uint32_t isize;
		uint64_t meta;

		if (n->type == SD_NODE_DIR)
			in->size = ew_dir_size(n, &in->dir_blocks);
		else
			in->size = n->size;
		choose_form(w, n, in);
		isize = in->extended ? EROFS_INODE_EXTENDED_SIZE
				     : EROFS_INODE_COMPACT_SIZE;
		choose_layout(w, n, in, isize);
		if (in->layout == EROFS_INODE_COMPRESSED_COMPACT)
			meta = isize + ewz_index_bytes(in->size);
		else
			meta = isize +
			       (uint64_t)in->nchunks *
				       EROFS_BLOCK_MAP_ENTRY_SIZE +
			       in->tail;
		if (meta > UINT32_MAX)
			return ew_node_error(err, SD_ERR_LIMIT, n,
					     "file too large for EROFS");
		in->meta_len = (uint32_t)meta;
		if (w->zcfg.alg == EZ_NONE)
			in->nid = ew_pack_place(&pack, in->meta_len) >>
				  EROFS_ISLOT_BITS;
	}
	if (w->zcfg.alg != EZ_NONE) {
		w->data_start = 1;
		w->data_next = 1;
		return SD_OK;
	}
	pos = pack.next * EW_BLKSIZE;
	w->meta_end = pos;
	if ((pos + EW_BLKSIZE - 1) / EW_BLKSIZE > UINT32_MAX)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "EROFS metadata too large (%llu bytes)",
				    (unsigned long long)pos);
	w->data_start = (uint32_t)((pos + EW_BLKSIZE - 1) / EW_BLKSIZE);
	w->data_next = w->data_start;
	return SD_OK;
}
