/* SPDX-License-Identifier: MIT */
/*
 * writer_inode.c — encoding one EROFS inode (see erofs_disk.h).
 */
#include "formats/erofs/writer.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"

static uint16_t type_bits(const struct sd_node *n)
{
	switch (n->type) {
	case SD_NODE_DIR: return EROFS_S_IFDIR;
	case SD_NODE_SYMLINK: return EROFS_S_IFLNK;
	default: return EROFS_S_IFREG;
	}
}

void ew_encode_inode(const struct ew_state *w, const struct sd_node *node,
		     uint8_t *buf)
{
	const struct ew_inode *in = &w->ino[node->index];
	uint16_t mode = (uint16_t)(type_bits(node) | (node->mode & 07777));
	uint8_t u[4];

	/* i_u: chunk format for chunk-based files, compressed block count for
	 * compressed ones, else the first block. */
	if (in->layout == EROFS_INODE_CHUNK_BASED) {
		put_le16(u + EROFS_CHUNK_INFO_OFF_FORMAT, EW_CHUNKBITS);
		put_le16(u + EROFS_CHUNK_INFO_OFF_RESERVED, 0);
	} else if (in->layout == EROFS_INODE_COMPRESSED_COMPACT) {
		put_le32(u, in->zblocks);
	} else {
		put_le32(u, in->blkaddr);
	}

	if (!in->extended) {
		memset(buf, 0, EROFS_INODE_COMPACT_SIZE);
		put_le16(buf + EROFS_IC_OFF_FORMAT,
			 erofs_i_format(EROFS_INODE_LAYOUT_COMPACT,
					in->layout));
		put_le16(buf + EROFS_IC_OFF_MODE, mode);
		put_le16(buf + EROFS_IC_OFF_NLINK, (uint16_t)in->nlink);
		put_le32(buf + EROFS_IC_OFF_SIZE, (uint32_t)in->size);
		memcpy(buf + EROFS_IC_OFF_U, u, 4);
		put_le32(buf + EROFS_IC_OFF_INO, node->index + 1);
		put_le16(buf + EROFS_IC_OFF_UID, (uint16_t)node->uid);
		put_le16(buf + EROFS_IC_OFF_GID, (uint16_t)node->gid);
		return;
	}
	memset(buf, 0, EROFS_INODE_EXTENDED_SIZE);
	put_le16(buf + EROFS_IE_OFF_FORMAT,
		 erofs_i_format(EROFS_INODE_LAYOUT_EXTENDED, in->layout));
	put_le16(buf + EROFS_IE_OFF_MODE, mode);
	put_le64(buf + EROFS_IE_OFF_SIZE, in->size);
	memcpy(buf + EROFS_IE_OFF_U, u, 4);
	put_le32(buf + EROFS_IE_OFF_INO, node->index + 1);
	put_le32(buf + EROFS_IE_OFF_UID, node->uid);
	put_le32(buf + EROFS_IE_OFF_GID, node->gid);
	put_le64(buf + EROFS_IE_OFF_MTIME, (uint64_t)node->mtime);
	put_le32(buf + EROFS_IE_OFF_NLINK, in->nlink);
}
