/* SPDX-License-Identifier: MIT */
/*
 * inode_read.c — one inode, its sizes checked before libsquashfs reads it
 * (see inode_read.h).
 *
 * On-disk layouts (little-endian) of the parts looked at here:
 *   every inode   type u16, mode u16, uid u16, gid u16, mtime u32,
 *                 inode number u32                               16 bytes
 *   file          blocks_start u32, fragment u32, fragment offset u32,
 *                 file_size u32, then one u32 per block          16 bytes
 *   extended file blocks_start u64, file_size u64, sparse u64, nlink u32,
 *                 fragment u32, fragment offset u32, xattr u32,
 *                 then one u32 per block                         40 bytes
 *   symlink       nlink u32, target_size u32, then the target
 *                 (extended: and an xattr index u32)              8 bytes
 *   extended dir  nlink u32, size u32, start_block u32, parent u32,
 *                 index count u16, offset u16, xattr u32         24 bytes
 *                 then per index entry: index u32, start_block u32,
 *                 name size - 1 u32, the name
 */
#include "formats/squashfs/inode_read.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include <sqfs/block.h>
#include <sqfs/error.h>
#include <sqfs/meta_reader.h>

#include "core/le.h"
#include "formats/squashfs/sqfserr.h"

#define BASE_BYTES 16
#define FILE_BYTES 16
#define EXT_FILE_BYTES 40
#define SLINK_BYTES 8
#define EXT_DIR_BYTES 24
#define DIR_INDEX_BYTES 12
#define DIR_INDEX_NAME_MAX 256 /* the kernel's SQUASHFS_NAME_LEN */
#define NO_FRAGMENT 0xFFFFFFFFu
/* Smallest metadata block on disk: 2-byte header and at least 1 byte. */
#define MIN_META_BLOCK_BYTES 3

/* One inode being checked. */
struct ictx {
	struct sd_sqfs_image *img;
	const char *where; /* for messages */
	struct sd_error *err;
	sqfs_u64 room; /* most bytes the inode table can hold from
			  the inode's metadata block on */
};

/* SD_ERR_CORRUPT "IMAGE: WHERE: reason". */
__attribute__((format(printf, 2, 3))) static int corrupt(const struct ictx *c,
							 const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sd_error_set(c->err, SD_ERR_CORRUPT, "%s: %s: %s", c->img->path,
			    c->where, why);
}

/* A libsquashfs error @sq while reading the inode table. */
static int read_failed(const struct ictx *c, int sq)
{
	if (sq == SQFS_ERROR_ALLOC)
		return sd_error_set(c->err, SD_ERR_NOMEM, "out of memory");
	return corrupt(c, "cannot read inode table: %s", sd_sqfs_strerror(sq));
}

/* The next @len bytes of the inode table. */
static int get(const struct ictx *c, void *buf, size_t len)
{
	int sq = sqfs_meta_reader_read(c->img->inodes, buf, len);

	return sq ? read_failed(c, sq) : SD_OK;
}

/* Read and drop @len bytes: proves that they are in the inode table. */
static int skip(const struct ictx *c, sqfs_u64 len)
{
	sqfs_u8 buf[4096];

	while (len > 0) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		int ret = get(c, buf, n);
		if (ret)
			return ret;
		len -= n;
	}
	return SD_OK;
}

/* Why @bytes of variable-size inode data are too many, or NULL. */
static const char *too_many(const struct ictx *c, sqfs_u64 bytes)
{
	if (bytes > c->room)
		return "more than the inode table can hold";
	if (bytes > SD_SQFS_MAX_INODE_PAYLOAD)
		return "more than the reader accepts";
	return NULL;
}

/*
 * A file's block list: one u32 per full block, and one for the tail
 * unless it lies in a fragment (counted as libsquashfs counts it, which
 * also gives the tail a block when the fragment offset is 0xFFFFFFFF).
 */
static int check_file(const struct ictx *c, bool ext)
{
	sqfs_u8 raw[EXT_FILE_BYTES];
	sqfs_u64 size, blocks, bs = c->img->super.block_size;
	sqfs_u32 frag, frag_off;
	const char *why;
	int ret = get(c, raw, ext ? EXT_FILE_BYTES : FILE_BYTES);

	if (ret)
		return ret;
	if (ext) {
		size = get_le64(raw + 8);
		frag = get_le32(raw + 28);
		frag_off = get_le32(raw + 32);
	} else {
		frag = get_le32(raw + 4);
		frag_off = get_le32(raw + 8);
		size = get_le32(raw + 12);
	}
	blocks = size / bs;
	if (size % bs != 0 && (frag == NO_FRAGMENT || frag_off == NO_FRAGMENT))
		blocks++;
	why = too_many(c, blocks * sizeof(sqfs_u32));
	if (why)
		return corrupt(c, "inode claims %llu data blocks, %s",
			       (unsigned long long)blocks, why);
	return skip(c, blocks * sizeof(sqfs_u32));
}

static int check_symlink(const struct ictx *c, bool ext)
{
	sqfs_u8 raw[SLINK_BYTES];
	const char *why;
	int ret = get(c, raw, sizeof(raw));

	if (ret)
		return ret;
	sqfs_u64 target = get_le32(raw + 4);
	why = too_many(c, target);
	if (why)
		return corrupt(c, "symlink inode claims a %llu-byte target, %s",
			       (unsigned long long)target, why);
	return skip(c, target + (ext ? sizeof(sqfs_u32) : 0));
}

/*
 * An extended directory's index (which libsquashfs reads only when the
 * listing size is not 0): each entry at least 13 bytes, names at most
 * DIR_INDEX_NAME_MAX bytes.
 */
static int check_dir_index(const struct ictx *c)
{
	sqfs_u8 raw[EXT_DIR_BYTES];
	const char *why;
	int ret = get(c, raw, sizeof(raw));

	if (ret)
		return ret;
	if (get_le32(raw + 4) == 0)
		return SD_OK;
	unsigned count = get_le16(raw + 16);
	sqfs_u64 total = (sqfs_u64)count * (DIR_INDEX_BYTES + 1);

	for (unsigned i = 0; i < count; i++) {
		why = too_many(c, total);
		if (why)
			return corrupt(c,
				       "directory inode claims %u index "
				       "entries, %s",
				       count, why);
		ret = get(c, raw, DIR_INDEX_BYTES);
		if (ret)
			return ret;
		sqfs_u64 name = (sqfs_u64)get_le32(raw + 8) + 1;
		if (name > DIR_INDEX_NAME_MAX)
			return corrupt(c,
				       "directory index entry %u has a "
				       "%llu-byte name (at most %u)",
				       i, (unsigned long long)name,
				       DIR_INDEX_NAME_MAX);
		total += name - 1; /* the 13 bytes were counted already */
		ret = skip(c, name);
		if (ret)
			return ret;
	}
	return SD_OK;
}

/* Check the variable-size part of the inode the reader is positioned at. */
static int check_inode(const struct ictx *c)
{
	sqfs_u8 raw[BASE_BYTES];
	int ret = get(c, raw, sizeof(raw));

	if (ret)
		return ret;
	switch (get_le16(raw)) {
	case SQFS_INODE_FILE: return check_file(c, false);
	case SQFS_INODE_EXT_FILE: return check_file(c, true);
	case SQFS_INODE_SLINK: return check_symlink(c, false);
	case SQFS_INODE_EXT_SLINK: return check_symlink(c, true);
	case SQFS_INODE_EXT_DIR: return check_dir_index(c);
	default: return SD_OK; /* fixed size, or unknown: libsquashfs refuses */
	}
}

int sd_sqfs_inode_read(struct sd_sqfs_image *img, sqfs_u64 ref,
		       const char *where, sqfs_inode_generic_t **out,
		       struct sd_error *err)
{
	const sqfs_super_t *s = &img->super;
	struct ictx c = {img, where, err, 0};
	sqfs_u64 block = ref >> 16;
	size_t offset = (size_t)(ref & 0xFFFF);
	int sq, ret;

	*out = NULL;
	/* image.c checked inode_table_start < directory_table_start */
	if (block >= s->directory_table_start - s->inode_table_start ||
	    offset >= SQFS_META_BLOCK_SIZE)
		return corrupt(&c, "inode reference outside the inode table");
	c.room = (s->directory_table_start - s->inode_table_start - block) /
		 MIN_META_BLOCK_BYTES * SQFS_META_BLOCK_SIZE;

	sq = sqfs_meta_reader_seek(img->inodes, s->inode_table_start + block,
				   offset);
	if (sq)
		return read_failed(&c, sq);
	ret = check_inode(&c);
	if (ret)
		return ret;
	sq = sqfs_meta_reader_read_inode(img->inodes, s, block, offset, out);
	if (sq) {
		*out = NULL;
		return read_failed(&c, sq);
	}
	return SD_OK;
}
