/* SPDX-License-Identifier: MIT */
/*
 * reader_inode.c — parsing and validating EROFS inodes (see reader_int.h).
 */
#include "formats/erofs/reader_int.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* FLAT_PLAIN / FLAT_INLINE: whole blocks at raw_blkaddr, inline tail. */
static int check_flat(const struct sd_erofs_image *img,
		      struct sd_erofs_inode *ino, struct sd_error *err)
{
	uint64_t nblocks = div_round_up(ino->size, img->blksz);
	uint64_t start = (uint64_t)ino->iu << img->blkszbits;

	if (ino->layout == EROFS_INODE_FLAT_PLAIN) {
		ino->nblocks_direct = nblocks;
		if (ino->size > 0 && !sd_erofs_in_image(img, start, ino->size))
			return sd_erofs_corrupt(img, ino->nid, err,
						"data block %u (+%llu bytes) "
						"beyond the image end",
						ino->iu,
						(unsigned long long)ino->size);
		return SD_OK;
	}
	ino->nblocks_direct = nblocks ? nblocks - 1 : 0;
	uint64_t direct = ino->nblocks_direct << img->blkszbits;
	if (direct > 0 && !sd_erofs_in_image(img, start, direct))
		return sd_erofs_corrupt(
			img, ino->nid, err,
			"data block %u "
			"(+%llu blocks) beyond the image end",
			ino->iu, (unsigned long long)ino->nblocks_direct);
	uint64_t tail = ino->size - direct;
	if (tail > 0 && !sd_erofs_in_image(img, ino->tail_off, tail))
		return sd_erofs_corrupt(img, ino->nid, err,
					"inline data "
					"(%llu bytes) beyond the image end",
					(unsigned long long)tail);
	if ((ino->tail_off & (img->blksz - 1)) + tail > img->blksz)
		return sd_erofs_corrupt(img, ino->nid, err,
					"inline data "
					"(%llu bytes) crosses a block "
					"boundary",
					(unsigned long long)tail);
	return SD_OK;
}

static int check_chunks(const struct sd_erofs_image *img,
			struct sd_erofs_inode *ino, struct sd_error *err)
{
	uint16_t fmt = (uint16_t)(ino->iu & 0xFFFF);
	unsigned unit;

	if (!(img->feature_incompat & EROFS_FEATURE_INCOMPAT_CHUNKED_FILE))
		return sd_erofs_corrupt(img, ino->nid, err,
					"chunk-based "
					"inode without the chunked-file "
					"feature");
	if (fmt & ~EROFS_CHUNK_FORMAT_ALL)
		return sd_erofs_corrupt(img, ino->nid, err,
					"unknown chunk "
					"format 0x%x",
					fmt);
	ino->chunkbits =
		img->blkszbits + (fmt & EROFS_CHUNK_FORMAT_BLKBITS_MASK);
	if (ino->chunkbits > 42)
		return sd_erofs_corrupt(img, ino->nid, err,
					"chunk size 2^%u "
					"too large",
					ino->chunkbits);
	ino->chunk_indexes = fmt & EROFS_CHUNK_FORMAT_INDEXES;
	unit = ino->chunk_indexes ? EROFS_CHUNK_INDEX_SIZE
				  : EROFS_BLOCK_MAP_ENTRY_SIZE;
	ino->chunk_map_off = (ino->tail_off + unit - 1) & ~(uint64_t)(unit - 1);
	ino->nchunks = div_round_up(ino->size, 1ull << ino->chunkbits);
	if (ino->nchunks > img->size / unit ||
	    !sd_erofs_in_image(img, ino->chunk_map_off, ino->nchunks * unit))
		return sd_erofs_corrupt(img, ino->nid, err,
					"chunk map of "
					"%llu entries beyond the image end",
					(unsigned long long)ino->nchunks);
	return SD_OK;
}

int sd_erofs_inode_load(const struct sd_erofs_image *img, uint64_t nid,
			struct sd_erofs_inode *ino, struct sd_error *err)
{
	uint8_t raw[EROFS_INODE_EXTENDED_SIZE];
	int ret;

	memset(ino, 0, sizeof(*ino));
	ino->nid = nid;
	if (nid >= img->max_nid)
		return sd_erofs_corrupt(img, nid, err,
					"nid beyond the image "
					"end");
	ino->off = img->meta_off + (nid << EROFS_ISLOT_BITS);
	ret = sd_erofs_pread(img, nid, "inode", raw, EROFS_INODE_COMPACT_SIZE,
			     ino->off, err);
	if (ret)
		return ret;
	uint16_t fmt = get_le16(raw + EROFS_IC_OFF_FORMAT);
	if (fmt & ~EROFS_I_ALL)
		return sd_erofs_corrupt(img, nid, err,
					"unknown inode format "
					"0x%x",
					fmt);
	ino->layout = (fmt >> EROFS_I_DATALAYOUT_BIT) & EROFS_I_DATALAYOUT_MASK;
	if (ino->layout >= EROFS_INODE_DATALAYOUT_MAX)
		return sd_erofs_corrupt(img, nid, err,
					"unknown data layout "
					"%u",
					ino->layout);
	ino->mode = get_le16(raw + EROFS_IC_OFF_MODE);
	ino->iu = get_le32(raw + EROFS_IC_OFF_U);
	if (((fmt >> EROFS_I_VERSION_BIT) & EROFS_I_VERSION_MASK) ==
	    EROFS_INODE_LAYOUT_EXTENDED) {
		ino->isize = EROFS_INODE_EXTENDED_SIZE;
		ret = sd_erofs_pread(img, nid, "inode", raw,
				     EROFS_INODE_EXTENDED_SIZE, ino->off, err);
		if (ret)
			return ret;
		ino->size = get_le64(raw + EROFS_IE_OFF_SIZE);
		ino->uid = get_le32(raw + EROFS_IE_OFF_UID);
		ino->gid = get_le32(raw + EROFS_IE_OFF_GID);
		uint64_t t = get_le64(raw + EROFS_IE_OFF_MTIME);
		ino->mtime = t > INT64_MAX ? INT64_MAX : (int64_t)t;
	} else {
		ino->isize = EROFS_INODE_COMPACT_SIZE;
		ino->size = get_le32(raw + EROFS_IC_OFF_SIZE);
		ino->uid = get_le16(raw + EROFS_IC_OFF_UID);
		ino->gid = get_le16(raw + EROFS_IC_OFF_GID);
		/* newer kernels: build time + the (once reserved) i_mtime */
		ino->mtime = img->build_time +
			     (int64_t)get_le32(raw + EROFS_IC_OFF_RESERVED);
	}
	ino->xattr_size = erofs_xattr_ibody_size(
		get_le16(raw + EROFS_IC_OFF_XATTR_ICOUNT));
	ino->tail_off = ino->off + ino->isize + ino->xattr_size;
	if (!sd_erofs_in_image(img, ino->off, ino->isize + ino->xattr_size))
		return sd_erofs_corrupt(img, nid, err,
					"inode and xattrs "
					"beyond the image end");
	if (ino->size > SD_EROFS_MAX_FILE_SIZE)
		return sd_erofs_corrupt(img, nid, err, "size %llu too large",
					(unsigned long long)ino->size);

	switch (ino->mode & EROFS_S_IFMT) {
	case EROFS_S_IFCHR:
	case EROFS_S_IFBLK:
	case EROFS_S_IFIFO:
	case EROFS_S_IFSOCK: return SD_OK; /* no data; i_u is rdev */
	case EROFS_S_IFREG:
	case EROFS_S_IFDIR:
	case EROFS_S_IFLNK: break;
	default:
		return sd_erofs_corrupt(img, nid, err,
					"unknown file type in "
					"mode 0%o",
					ino->mode);
	}
	switch (ino->layout) {
	case EROFS_INODE_FLAT_PLAIN:
	case EROFS_INODE_FLAT_INLINE: return check_flat(img, ino, err);
	case EROFS_INODE_CHUNK_BASED: return check_chunks(img, ino, err);
	default: return sd_erofs_z_init(img, ino, err);
	}
}
