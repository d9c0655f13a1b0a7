/* SPDX-License-Identifier: MIT */
/*
 * le.h — little-endian field access at the byte boundary.
 *
 * Both formats are little-endian; every on-disk structure we decode
 * ourselves (EROFS: formats/erofs/erofs_disk.h; the squashfs inodes of
 * formats/squashfs/inode_read.c) is read and written through these helpers
 * at a documented byte offset.  No C struct is ever overlaid on an image
 * buffer, so the code depends neither on host byte order nor on struct
 * packing or alignment.
 */
#ifndef SD_CORE_LE_H
#define SD_CORE_LE_H

#include <stdint.h>

/* The little-endian 16-bit value at @p. */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

/* The little-endian 32-bit value at @p. */
static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The little-endian 64-bit value at @p. */
static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Store @v little-endian in the 2 bytes at @p. */
static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Store @v little-endian in the 4 bytes at @p. */
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Store @v little-endian in the 8 bytes at @p. */
static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
