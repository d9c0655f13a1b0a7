/* SPDX-License-Identifier: MIT */
/*
 * writer_dir.c — encoding EROFS directories (see erofs_disk.h).
 *
 * Entries are the node's children plus "." and "..", all sorted bytewise
 * (memcmp, shorter first on a common prefix) as the kernel's binary search
 * and mkfs.erofs expect; the tree's children are sorted already, so "."
 * and ".." are merged in at their places.  Blocks are filled greedily in
 * that order: an entry goes into the current block while its dirent and
 * name still fit, else it starts the next block.
 */
#include "formats/erofs/writer.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"

struct dentry {
	const char *name;
	size_t len;
	const struct sd_node *node; /* the entry's inode */
};

/* memcmp order, shorter first on a common prefix. */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* Children sorting before @name (children are sorted). */
static size_t count_before(const struct sd_node *dir, const char *name,
			   size_t len)
{
	size_t lo = 0, hi = dir->nchildren;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sd_node *c = dir->children[mid];

		if (name_cmp(c->name, c->name_len, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Entry @i of @dir in sorted order, given the places of "." and "..". */
static struct dentry entry_at(const struct sd_node *dir, size_t i, size_t dot,
			      size_t dotdot)
{
	struct dentry e;
	const struct sd_node *c;

	/* Sorted: children[0..dot) "." children[dot..dotdot) ".." rest. */
	if (i == dot) {
		e.name = ".";
		e.len = 1;
		e.node = dir;
		return e;
	}
	if (i == dotdot + 1) {
		e.name = "..";
		e.len = 2;
		e.node = dir->parent ? dir->parent : dir;
		return e;
	}
	c = dir->children[i < dot ? i : i <= dotdot ? i - 1 : i - 2];
	e.name = c->name;
	e.len = c->name_len;
	e.node = c;
	return e;
}

static uint8_t file_type(const struct sd_node *n)
{
	switch (n->type) {
	case SD_NODE_DIR: return EROFS_FT_DIR;
	case SD_NODE_FILE: return EROFS_FT_REG_FILE;
	case SD_NODE_SYMLINK: return EROFS_FT_SYMLINK;
	default: return EROFS_FT_UNKNOWN;
	}
}

/*
 * Walk @dir's blocks; with @w and @buf, encode every block into @buf
 * (*@blocks * EW_BLKSIZE bytes, zeroed by the caller).  Returns the
 * directory size; *@blocks gets the block count.
 */
static uint64_t dir_walk(const struct ew_state *w, const struct sd_node *dir,
			 uint8_t *buf, uint32_t *blocks)
{
	size_t dot = count_before(dir, ".", 1);
	size_t dotdot = count_before(dir, "..", 2);
	size_t total = dir->nchildren + 2, i = 0;
	uint32_t blk = 0, len = 0;

	while (i < total) {
		/* Entries [i, j) form block blk. */
		size_t j = i;
		uint32_t bytes = 0;

		while (j < total) {
			struct dentry e = entry_at(dir, j, dot, dotdot);

			if (bytes + EROFS_DIRENT_SIZE + e.len > EW_BLKSIZE)
				break;
			bytes += (uint32_t)(EROFS_DIRENT_SIZE + e.len);
			j++;
		}
		if (buf) {
			uint8_t *b = buf + (size_t)blk * EW_BLKSIZE;
			uint32_t nameoff =
				(uint32_t)((j - i) * EROFS_DIRENT_SIZE);

			for (size_t k = i; k < j; k++) {
				struct dentry e = entry_at(dir, k, dot, dotdot);
				uint8_t *d = b + (k - i) * EROFS_DIRENT_SIZE;

				put_le64(d + EROFS_DIRENT_OFF_NID,
					 w->ino[e.node->index].nid);
				put_le16(d + EROFS_DIRENT_OFF_NAMEOFF,
					 (uint16_t)nameoff);
				d[EROFS_DIRENT_OFF_FILE_TYPE] =
					file_type(e.node);
				memcpy(b + nameoff, e.name, e.len);
				nameoff += (uint32_t)e.len;
			}
		}
		len = bytes;
		i = j;
		blk++;
	}
	*blocks = blk;
	return (uint64_t)(blk - 1) * EW_BLKSIZE + len;
}

uint64_t ew_dir_size(const struct sd_node *dir, uint32_t *blocks)
{
	return dir_walk(NULL, dir, NULL, blocks);
}

void ew_dir_encode(const struct ew_state *w, const struct sd_node *dir,
		   uint8_t *buf)
{
	uint32_t blocks;

	dir_walk(w, dir, buf, &blocks);
}
