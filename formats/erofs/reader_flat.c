/* SPDX-License-Identifier: MIT */
/*
 * reader_flat.c — mapping the uncompressed data layouts (FLAT_PLAIN,
 * FLAT_INLINE, CHUNK_BASED) to image bytes (see reader_int.h).
 */
#include "formats/erofs/reader_int.h"

#include "formats/erofs/erofs_disk.h"

static int map_chunk(const struct sd_erofs_image *img,
		     const struct sd_erofs_inode *ino, uint64_t la,
		     uint64_t *pa, uint64_t *len, bool *hole,
		     struct sd_error *err)
{
	uint64_t chunk = la >> ino->chunkbits;
	uint64_t csize = 1ull << ino->chunkbits;
	uint64_t within = la & (csize - 1);
	uint64_t end = (chunk + 1) << ino->chunkbits;
	uint8_t e[EROFS_CHUNK_INDEX_SIZE];
	uint32_t blkaddr;
	int ret;

	if (end > ino->size)
		end = ino->size;
	*len = end - la;
	if (ino->chunk_indexes) {
		ret = sd_erofs_pread(
			img, ino->nid, "chunk index", e, EROFS_CHUNK_INDEX_SIZE,
			ino->chunk_map_off + chunk * EROFS_CHUNK_INDEX_SIZE,
			err);
		blkaddr = get_le32(e + EROFS_CHUNK_INDEX_OFF_BLKADDR);
	} else {
		ret = sd_erofs_pread(img, ino->nid, "chunk block map", e,
				     EROFS_BLOCK_MAP_ENTRY_SIZE,
				     ino->chunk_map_off +
					     chunk * EROFS_BLOCK_MAP_ENTRY_SIZE,
				     err);
		blkaddr = get_le32(e);
	}
	if (ret)
		return ret;
	if (blkaddr == EROFS_NULL_ADDR) {
		*hole = true;
		return SD_OK;
	}
	*pa = ((uint64_t)blkaddr << img->blkszbits) + within;
	if (!sd_erofs_in_image(img, *pa, *len))
		return sd_erofs_corrupt(img, ino->nid, err,
					"chunk %llu: data "
					"block %u beyond the image end",
					(unsigned long long)chunk, blkaddr);
	return SD_OK;
}

int sd_erofs_map_flat(const struct sd_erofs_image *img,
		      const struct sd_erofs_inode *ino, uint64_t la,
		      uint64_t *pa, uint64_t *len, bool *hole,
		      struct sd_error *err)
{
	*hole = false;
	*pa = 0;
	*len = 0;
	if (la >= ino->size)
		return sd_erofs_corrupt(img, ino->nid, err,
					"read at %llu "
					"beyond the file size",
					(unsigned long long)la);
	if (ino->layout == EROFS_INODE_CHUNK_BASED)
		return map_chunk(img, ino, la, pa, len, hole, err);

	/* ranges were checked against the image by sd_erofs_inode_load */
	uint64_t direct = ino->nblocks_direct << img->blkszbits;
	if (direct > ino->size)
		direct = ino->size;
	if (la < direct) {
		*pa = ((uint64_t)ino->iu << img->blkszbits) + la;
		*len = direct - la;
	} else {
		*pa = ino->tail_off + (la - direct);
		*len = ino->size - la;
	}
	return SD_OK;
}
