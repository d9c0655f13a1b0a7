/* SPDX-License-Identifier: MIT */
/* regions.c — byte-to-structure maps of golden images (see regions.h). */
#include "regions.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "util.h"

/* A class per byte: paint() fills [from, to) with class @c (later paints
 * win), collect() turns the painted map into offset lists. */
struct map {
	uint8_t *cls;
	size_t len;
	const char *names[SW_MAX_REGIONS];
	unsigned nnames;
};

static unsigned class_of(struct map *m, const char *name)
{
	for (unsigned i = 0; i < m->nnames; i++)
		if (!strcmp(m->names[i], name))
			return i;
	if (m->nnames >= SW_MAX_REGIONS)
		sw_die("more than %d regions", SW_MAX_REGIONS);
	m->names[m->nnames] = name;
	return m->nnames++;
}

static void paint(struct map *m, uint64_t from, uint64_t to, const char *name)
{
	if (!m)
		return; /* the EROFS walk's first pass only finds inodes */
	unsigned c = class_of(m, name);

	if (to > m->len)
		to = m->len;
	for (uint64_t i = from; i < to; i++)
		m->cls[i] = (uint8_t)c;
}

static void collect(struct map *m, struct sw_regions *out)
{
	unsigned index[SW_MAX_REGIONS];

	memset(out, 0, sizeof(*out));
	for (unsigned c = 0; c < m->nnames; c++) {
		size_t n = 0;
		for (size_t i = 0; i < m->len; i++)
			n += m->cls[i] == c;
		if (n == 0)
			continue;
		index[c] = (unsigned)out->n;
		struct sw_region *r = &out->r[out->n++];
		r->name = m->names[c];
		r->offsets = malloc(n * sizeof(size_t));
		if (!r->offsets)
			sw_die("out of memory");
		for (size_t i = 0; i < m->len; i++)
			if (m->cls[i] == c)
				r->offsets[r->count++] = i;
	}
	/* Reuse the class map as the region-of-byte map. */
	for (size_t i = 0; i < m->len; i++)
		m->cls[i] = (uint8_t)index[m->cls[i]];
	out->of_byte = m->cls;
}

static void map_init(struct map *m, size_t len, const char *rest)
{
	memset(m, 0, sizeof(*m));
	m->cls = calloc(len ? len : 1, 1);
	m->len = len;
	if (!m->cls)
		sw_die("out of memory");
	class_of(m, rest); /* class 0: what nothing else claims */
}

void sw_regions_release(struct sw_regions *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->r[i].offsets);
	free(r->of_byte);
	memset(r, 0, sizeof(*r));
}

/* ---- squashfs ------------------------------------------------------- */

#define SQFS_NONE UINT64_MAX

/* A table of @entries entries of @entry_size bytes stored in metadata
 * blocks whose u64 start offsets form the index at @index: the blocks run
 * from the first pointer to the end of the index. */
static void sqfs_table(struct map *m, const uint8_t *img, uint64_t index,
		       uint64_t entries, uint64_t entry_size, const char *name)
{
	if (index == SQFS_NONE || entries == 0 || index + 8 > m->len)
		return;
	uint64_t nblocks = (entries * entry_size + 8191) / 8192;
	uint64_t first = get_le64(img + index);

	if (first > index)
		first = index;
	paint(m, first, index + nblocks * 8, name);
}

void sw_regions_squashfs(const uint8_t *img, size_t len, struct sw_regions *out)
{
	struct map m;

	if (len < 96 || get_le32(img) != 0x73717368u)
		sw_die("the golden image is not a squashfs image");
	uint32_t inodes = get_le32(img + 4), frags = get_le32(img + 16);
	uint16_t ids = get_le16(img + 26);
	uint64_t bytes_used = get_le64(img + 40), id_table = get_le64(img + 48);
	uint64_t inode_table = get_le64(img + 64),
		 dir_table = get_le64(img + 72);
	uint64_t frag_table = get_le64(img + 80),
		 export_table = get_le64(img + 88);

	map_init(&m, len, "padding after bytes_used");
	paint(&m, 0, bytes_used, "directory table");
	paint(&m, 96, inode_table, "data and fragment blocks");
	paint(&m, inode_table, dir_table, "inode table");
	/* Fragment entries are 16 bytes, export entries 8 (one inode
	 * reference per inode), id entries 4. */
	sqfs_table(&m, img, frag_table, frags, 16, "fragment table");
	sqfs_table(&m, img, export_table, inodes, 8, "export table");
	sqfs_table(&m, img, id_table, ids, 4, "id table");
	paint(&m, 0, 96, "superblock");
	collect(&m, out);
}

/* ---- EROFS ---------------------------------------------------------- */

#define EROFS_SB 1024
#define EROFS_LAYOUT_FLAT_PLAIN 0
#define EROFS_LAYOUT_COMPRESSED_FULL 1
#define EROFS_LAYOUT_FLAT_INLINE 2
#define EROFS_LAYOUT_COMPRESSED_COMPACT 3
#define EROFS_LAYOUT_CHUNK_BASED 4

struct erofs_walk {
	const uint8_t *img;
	size_t len;
	unsigned blkbits;
	uint64_t meta;   /* byte offset of meta_blkaddr */
	uint64_t *queue; /* nids seen, in walk order */
	size_t nq, cap;
	uint64_t *sorted; /* their byte positions, ascending (second pass) */
};

/* The position of the next inode after the one at @pos (or the end). */
static uint64_t next_inode(const struct erofs_walk *w, uint64_t pos)
{
	for (size_t i = 0; i < w->nq; i++)
		if (w->sorted[i] > pos)
			return w->sorted[i];
	return w->len;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void push_nid(struct erofs_walk *w, uint64_t nid)
{
	for (size_t i = 0; i < w->nq; i++)
		if (w->queue[i] == nid)
			return;
	if (w->nq == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->queue = realloc(w->queue, w->cap * sizeof(uint64_t));
		if (!w->queue)
			sw_die("out of memory");
	}
	w->queue[w->nq++] = nid;
}

/* Queue the inodes named by the dirents of one directory block (or
 * inline tail) of @size bytes at @blk (erofs_fs.h: struct erofs_dirent,
 * 12 bytes; the first nameoff / 12 is the entry count). */
static void dir_block(struct erofs_walk *w, const uint8_t *blk, size_t size)
{
	if (size < 12)
		return;
	size_t n = get_le16(blk + 8) / 12;

	for (size_t i = 0; i < n && (i + 1) * 12 <= size; i++) {
		const uint8_t *d = blk + 12 * i;
		size_t off = get_le16(d + 8);
		size_t end = i + 1 < n ? get_le16(d + 12 + 8) : size;
		if (off > end || end > size)
			continue;
		size_t nl = strnlen((const char *)blk + off, end - off);
		if ((nl == 1 && blk[off] == '.') ||
		    (nl == 2 && !memcmp(blk + off, "..", 2)))
			continue;
		push_nid(w, get_le64(d));
	}
}

static void erofs_inode(struct erofs_walk *w, struct map *m, uint64_t nid)
{
	uint64_t pos = w->meta + nid * 32;
	const uint8_t *in = w->img + pos;

	if (pos + 64 > w->len)
		return;
	uint16_t format = get_le16(in), icount = get_le16(in + 2),
		 mode = get_le16(in + 4);
	bool extended = format & 1;
	unsigned layout = (format >> 1) & 7;
	uint64_t size = extended ? get_le64(in + 8) : get_le32(in + 8);
	uint32_t iu = get_le32(in + 16);
	uint64_t core = extended ? 64 : 32;
	uint64_t xattrs = icount ? 12 + 4 * (uint64_t)(icount - 1) : 0;
	uint64_t tail_at = pos + core + xattrs;
	uint64_t bs = 1ull << w->blkbits;
	bool is_dir = (mode & 0170000) == 0040000;

	paint(m, pos, tail_at, "inode cores");
	if (layout == EROFS_LAYOUT_FLAT_PLAIN ||
	    layout == EROFS_LAYOUT_FLAT_INLINE) {
		uint64_t full = layout == EROFS_LAYOUT_FLAT_PLAIN
					? (size + bs - 1) / bs
					: size / bs;
		uint64_t at = (uint64_t)iu << w->blkbits;
		uint64_t tail = layout == EROFS_LAYOUT_FLAT_INLINE ? size % bs
								   : 0;
		const char *what = is_dir ? "directory blocks" : "file data";
		if (full && iu != 0)
			paint(m, at, at + full * bs, what);
		if (tail)
			paint(m, tail_at, tail_at + tail,
			      is_dir ? "directory tails" : "inline tails");
		if (!is_dir || m)
			return;
		for (uint64_t b = 0; b < full && at + (b + 1) * bs <= w->len;
		     b++)
			dir_block(w, w->img + at + b * bs,
				  (size_t)(size - b * bs < bs ? size - b * bs
							      : bs));
		if (tail && tail_at + tail <= w->len)
			dir_block(w, w->img + tail_at, (size_t)tail);
	} else if (layout == EROFS_LAYOUT_CHUNK_BASED) {
		uint64_t chunk = bs << (iu & 31);
		uint64_t entry = (iu & 32) ? 8 : 4;
		paint(m, tail_at,
		      tail_at + entry * ((size + chunk - 1) / chunk),
		      "cluster and chunk indexes");
	} else if (layout == EROFS_LAYOUT_COMPRESSED_FULL ||
		   layout == EROFS_LAYOUT_COMPRESSED_COMPACT) {
		/* The 8-byte map header (8-byte aligned) and the indexes; a
		 * full index (8 bytes per 4 KiB lcluster) bounds the compact
		 * one, and the inline pcluster of ztailpacking follows. */
		uint64_t at = (tail_at + 7) & ~7ull;
		uint64_t end = at + 8 + 8 * ((size + bs - 1) / bs);
		if (at + 8 <= w->len)
			end += get_le16(w->img + at + 2); /* h_idata_size */
		if (m && end > next_inode(w, pos))
			end = next_inode(w, pos);
		paint(m, tail_at, end, "cluster and chunk indexes");
	}
}

void sw_regions_erofs(const uint8_t *img, size_t len, struct sw_regions *out)
{
	struct map m;
	struct erofs_walk w = {.img = img, .len = len};

	if (len < EROFS_SB + 128 || get_le32(img + EROFS_SB) != 0xE0F5E1E2u)
		sw_die("the golden image is not an EROFS image");
	w.blkbits = img[EROFS_SB + 12];
	w.meta = (uint64_t)get_le32(img + EROFS_SB + 40) << w.blkbits;
	map_init(&m, len, "other (compressed data, padding)");
	push_nid(&w, get_le16(img + EROFS_SB + 14));
	/* First pass: find every inode through the directories; second:
	 * paint each, its indexes bounded by the next inode. */
	for (size_t i = 0; i < w.nq; i++)
		erofs_inode(&w, NULL, w.queue[i]);
	w.sorted = malloc(w.nq * sizeof(uint64_t));
	if (!w.sorted)
		sw_die("out of memory");
	for (size_t i = 0; i < w.nq; i++)
		w.sorted[i] = w.meta + w.queue[i] * 32;
	qsort(w.sorted, w.nq, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < w.nq; i++)
		erofs_inode(&w, &m, w.queue[i]);
	paint(&m, EROFS_SB, EROFS_SB + 128, "superblock");
	free(w.queue);
	free(w.sorted);
	collect(&m, out);
}
