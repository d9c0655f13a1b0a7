/* SPDX-License-Identifier: MIT */
/*
 * writer_data.c — the EROFS writer's shared output helpers (pwrite,
 * inodes, block allocation) and the sequential writer of the nodes a
 * compressed image stores uncompressed (directories, symlinks, files
 * shorter than a block), called by writer_zpipe.c in tree pre-order
 * (see writer.h; uncompressed images use writer_flat.h).
 *
 * A file's content is streamed once: its whole blocks go to the data area
 * at the next free block while its SHA-256 is computed; if an earlier file
 * had the same size, digest and layout, the blocks just written are given
 * back (the next file overwrites them, the final truncate drops the rest)
 * and the inode points at the earlier file's blocks instead.
 */
#include "formats/erofs/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/stream.h"
#include "formats/erofs/erofs_disk.h"

/* Content index: open addressing over files that own data blocks. */
struct ew_dedup {
	size_t cap; /* power of two */
	struct dd_slot {
		uint8_t digest[SD_SHA256_LEN];
		uint64_t size;
		uint32_t owner; /* node index + 1; 0: empty */
	} * slots;
};

int ew_pwrite(int fd, const void *buf, size_t len, uint64_t off,
	      struct sd_error *err)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sd_error_errno(err, SD_ERR_OUTPUT,
					      n < 0 ? errno : ENOSPC,
					      "cannot write EROFS image at "
					      "offset %llu",
					      (unsigned long long)off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SD_OK;
}

int ew_node_error(struct sd_error *err, int code, const struct sd_node *node,
		  const char *what)
{
	char *path = sd_node_path_dup(node);
	int ret = sd_error_set(err, code, "/%s: %s", path ? path : "?", what);

	free(path);
	return ret;
}

int ew_alloc_blocks(struct ew_state *w, uint64_t n, uint32_t *first,
		    struct sd_error *err)
{
	if ((uint64_t)w->data_next + n > UINT32_MAX)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "EROFS image exceeds 2^32 blocks");
	*first = w->data_next;
	w->data_next += (uint32_t)n;
	return SD_OK;
}

static int write_blocks(struct ew_state *w, const uint8_t *data, uint64_t len,
			uint32_t *first, struct sd_error *err)
{
	uint64_t n = (len + EW_BLKSIZE - 1) / EW_BLKSIZE;
	int ret = ew_alloc_blocks(w, n, first, err);

	if (ret)
		return ret;
	return ew_pwrite(w->fd, data, (size_t)len,
			 (uint64_t)*first * EW_BLKSIZE, err);
}

int ew_write_meta(struct ew_state *w, const struct sd_node *n,
		  const uint8_t *tail, struct sd_error *err)
{
	struct ew_inode *in = &w->ino[n->index];
	uint32_t isize = in->extended ? EROFS_INODE_EXTENDED_SIZE
				      : EROFS_INODE_COMPACT_SIZE;
	bool z = in->layout == EROFS_INODE_COMPRESSED_COMPACT;
	uint64_t off = w->meta_base + (in->nid << EROFS_ISLOT_BITS);
	uint8_t buf[EROFS_INODE_EXTENDED_SIZE + 64 * EROFS_BLOCK_MAP_ENTRY_SIZE];
	size_t len = isize;
	int ret;

	if (w->defer_meta) {
		size_t rec = z ? in->meta_len - isize : in->tail;

		in->spool_off = sd_spool_offset(w->zspool);
		return rec ? sd_spool_append(w->zspool, tail, rec, err) : SD_OK;
	}
	memset(buf, 0, isize);
	ew_encode_inode(w, n, buf);
	for (uint32_t c = 0; c < in->nchunks; c++) {
		if (len == sizeof(buf)) {
			ret = ew_meta_put(w, off, buf, len, err);
			if (ret)
				return ret;
			off += len;
			len = 0;
		}
		put_le32(buf + len, in->chunks[c]);
		len += EROFS_BLOCK_MAP_ENTRY_SIZE;
	}
	ret = ew_meta_put(w, off, buf, len, err);
	off += len;
	if (!ret && z)
		ret = ew_meta_put(w, off, tail, in->meta_len - isize, err);
	else if (!ret && in->tail)
		ret = ew_meta_put(w, off, tail, in->tail, err);
	return ret;
}

/* Directory or symlink: @data of in->size bytes (blocks + inline tail). */
static int write_small(struct ew_state *w, const struct sd_node *n,
		       const uint8_t *data, struct sd_error *err)
{
	struct ew_inode *in = &w->ino[n->index];
	uint64_t blocks_len = in->size - in->tail;
	int ret = SD_OK;

	sd_sha256_update(w->digest, data, (size_t)in->size);
	in->blkaddr = 0;
	if (blocks_len)
		ret = write_blocks(w, data, blocks_len, &in->blkaddr, err);
	if (!ret)
		ret = ew_write_meta(w, n, data + blocks_len, err);
	return ret;
}

static int write_dir(struct ew_state *w, const struct sd_node *n,
		     struct sd_error *err)
{
	uint8_t *buf = calloc(w->ino[n->index].dir_blocks, EW_BLKSIZE);
	int ret;

	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ew_dir_encode(w, n, buf);
	ret = write_small(w, n, buf, err);
	free(buf);
	return ret;
}

static int write_symlink(struct ew_state *w, const struct sd_node *n,
			 struct sd_error *err)
{
	uint8_t *buf = calloc(1, EW_BLKSIZE);
	int ret;

	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (n->size >= EW_BLKSIZE || !n->target) {
		free(buf);
		return ew_node_error(err, SD_ERR_LIMIT, n,
				     "symlink target too long for EROFS");
	}
	memcpy(buf, n->target, (size_t)n->size);
	ret = write_small(w, n, buf, err);
	free(buf);
	return ret;
}

static struct dd_slot *dedup_find(struct ew_state *w, const uint8_t *digest,
				  uint64_t size, uint8_t layout)
{
	struct ew_dedup *d = w->dedup;
	uint64_t h;

	memcpy(&h, digest, sizeof(h));
	for (size_t i = (size_t)h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
		struct dd_slot *s = &d->slots[i];

		if (!s->owner)
			return s;
		if (s->size == size &&
		    !memcmp(s->digest, digest, SD_SHA256_LEN) &&
		    w->ino[s->owner - 1].layout == layout)
			return s;
	}
}

/* Read exactly @len bytes of @n's content. */
void ew_share_data(struct ew_state *w, struct ew_inode *in, uint32_t owner)
{
	const struct ew_inode *o = &w->ino[owner];

	in->blkaddr = o->blkaddr;
	if (in->chunks)
		memcpy(in->chunks, o->chunks,
		       in->nchunks * sizeof(*in->chunks));
	if (w->stats)
		w->stats->files_deduplicated++;
}

/*
 * Deduplication of a file just written from block @start on: when an
 * earlier file (tree order) had the same content, give the blocks back
 * and take that file's blocks (and chunk map); else own the content.
 */
static void share_or_own(struct ew_state *w, const struct sd_node *n,
			 const uint8_t *digest, uint32_t start)
{
	struct ew_inode *in = &w->ino[n->index];
	struct dd_slot *slot = dedup_find(w, digest, in->size, in->layout);

	if (slot->owner) {
		w->data_next = start; /* give the blocks back */
		ew_share_data(w, in, slot->owner - 1);
	} else {
		memcpy(slot->digest, digest, SD_SHA256_LEN);
		slot->size = in->size;
		slot->owner = n->index + 1;
	}
}

static int read_exact(struct sd_stream *s, const struct sd_node *n,
		      uint8_t *buf, size_t len, struct sd_error *err)
{
	size_t got;
	int ret = sd_stream_read_full(s, buf, len, &got, err);

	if (ret)
		return ret;
	if (got != len)
		return ew_node_error(err, SD_ERR_IO, n,
				     "file shrank while being read");
	return SD_OK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Stream @n's content into blocks (or chunks); the tail into @tail;
 * *@holes counts the all-zero chunks left out. */
static int store_content(struct ew_state *w, const struct sd_node *n,
			 struct sd_stream *s, uint8_t *buf, uint8_t *tail,
			 struct sd_sha256 *h, uint32_t *holes,
			 struct sd_error *err)
{
	struct ew_inode *in = &w->ino[n->index];
	uint64_t left = in->size;
	uint32_t c = 0;
	int ret = SD_OK;

	while (left && !ret) {
		size_t len = left < EW_CHUNK_SIZE ? (size_t)left
						  : EW_CHUNK_SIZE;
		size_t blocks_len = len;
		uint32_t first;

		ret = read_exact(s, n, buf, len, err);
		if (ret)
			break;
		sd_sha256_update(h, buf, len);
		left -= len;
		if (in->layout == EROFS_INODE_CHUNK_BASED) {
			if (all_zero(buf, len)) {
				in->chunks[c++] = EROFS_NULL_ADDR;
				(*holes)++;
				continue;
			}
			memset(buf + len, 0, EW_CHUNK_SIZE - len);
			ret = write_blocks(w, buf,
					   (len + EW_BLKSIZE - 1) &
						   ~(uint64_t)(EW_BLKSIZE - 1),
					   &first, err);
			in->chunks[c++] = first;
			continue;
		}
		if (!left && in->tail) {
			blocks_len = len - in->tail;
			memcpy(tail, buf + blocks_len, in->tail);
		} else if (!left) {
			memset(buf + len, 0, EW_CHUNK_SIZE - len);
			blocks_len = (len + EW_BLKSIZE - 1) &
				     ~(size_t)(EW_BLKSIZE - 1);
		}
		if (blocks_len) {
			ret = write_blocks(w, buf, blocks_len, &first, err);
			if (in->size - left == len)
				in->blkaddr = first;
		}
	}
	return ret;
}

static int write_file(struct ew_state *w, const struct sd_node *n, uint8_t *buf,
		      struct sd_error *err)
{
	struct ew_inode *in = &w->ino[n->index];
	uint32_t start = w->data_next;
	uint8_t tail[EW_BLKSIZE], digest[SD_SHA256_LEN];
	uint32_t holes = 0;
	struct sd_stream *s = NULL;
	struct sd_sha256 *h;
	int ret;

	if (w->interrupted && *w->interrupted)
		return sd_error_set(err, SD_ERR_INTERRUPTED,
				    "interrupted while writing EROFS image");
	if (in->layout == EROFS_INODE_CHUNK_BASED) {
		in->chunks = calloc(in->nchunks, sizeof(*in->chunks));
		if (!in->chunks)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	in->blkaddr = 0;
	h = sd_sha256_new();
	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sd_tree_open(w->tree, n, &s, err);
	if (!ret)
		ret = store_content(w, n, s, buf, tail, h, &holes, err);
	sd_stream_close(s);
	if (ret) {
		sd_sha256_free(h);
		return ret;
	}
	if (in->layout == EROFS_INODE_CHUNK_BASED && !holes) {
		/* no chunk to skip: the chunks lie back to back, so the
		 * file is FLAT_PLAIN (its reserved map stays a zero gap) */
		in->blkaddr = in->chunks[0];
		free(in->chunks);
		in->chunks = NULL;
		in->nchunks = 0;
		in->layout = EROFS_INODE_FLAT_PLAIN;
	} else if (in->layout == EROFS_INODE_CHUNK_BASED) {
		w->any_chunked = true;
	}
	sd_sha256_final(h, digest);
	sd_sha256_update(w->digest, digest, sizeof(digest));
	if (w->stats)
		w->stats->data_bytes_in += in->size;

	if (w->data_next != start || in->layout == EROFS_INODE_CHUNK_BASED)
		share_or_own(w, n, digest, start);
	return ew_write_meta(w, n, tail, err);
}

int ew_write_file_mem(struct ew_state *w, const struct sd_node *n,
		      uint8_t *data, const uint8_t *digest,
		      struct sd_error *err)
{
	struct ew_inode *in = &w->ino[n->index];
	uint64_t blocks_len = in->size - in->tail;
	uint32_t start = w->data_next;
	int ret = SD_OK;

	if (in->size >= EW_CHUNK_SIZE || in->layout == EROFS_INODE_CHUNK_BASED)
		return ew_node_error(err, SD_ERR_LIMIT, n,
				     "internal error: "
				     "file too large for an in-memory write");
	in->blkaddr = 0;
	if (blocks_len) {
		size_t padded = ((size_t)blocks_len + EW_BLKSIZE - 1) &
				~(size_t)(EW_BLKSIZE - 1);

		memset(data + blocks_len, 0, padded - (size_t)blocks_len);
		ret = write_blocks(w, data, padded, &in->blkaddr, err);
	}
	if (ret)
		return ret;
	sd_sha256_update(w->digest, digest, SD_SHA256_LEN);
	if (w->stats)
		w->stats->data_bytes_in += in->size;
	if (w->data_next != start)
		share_or_own(w, n, digest, start);
	return ew_write_meta(w, n, data + blocks_len, err);
}

int ew_dedup_begin(struct ew_state *w, struct sd_error *err)
{
	struct ew_dedup *dd = calloc(1, sizeof(*dd));

	if (!dd)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	dd->cap = 16;
	while (dd->cap < 2 * w->tree->nfiles + 2)
		dd->cap *= 2;
	dd->slots = calloc(dd->cap, sizeof(*dd->slots));
	if (!dd->slots) {
		free(dd);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	w->dedup = dd;
	return SD_OK;
}

void ew_dedup_end(struct ew_state *w)
{
	if (w->dedup)
		free(w->dedup->slots);
	free(w->dedup);
	w->dedup = NULL;
}

int ew_write_node(struct ew_state *w, const struct sd_node *n, uint8_t *buf,
		  struct sd_error *err)
{
	switch (n->type) {
	case SD_NODE_DIR: return write_dir(w, n, err);
	case SD_NODE_SYMLINK: return write_symlink(w, n, err);
	default: return write_file(w, n, buf, err);
	}
}
