/* SPDX-License-Identifier: MIT */
/*
 * writer_fplan.c — the plan of the uncompressed EROFS writer: size
 * groups, hashing only where a duplicate is possible, holes of chunked
 * files, deduplication and block allocation (see writer_flat.h).
 */
#include "formats/erofs/writer_flat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "formats/erofs/erofs_disk.h"

/* Bytes read first when probing a chunk for being all zero. */
#define PROBE_HEAD 64u

bool ew_all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int ew_read_exact(struct sd_stream *s, const struct sd_node *n, uint8_t *buf,
		  size_t len, struct sd_error *err)
{
	size_t got;
	int ret = sd_stream_read_full(s, buf, len, &got, err);

	if (!ret && got != len)
		ret = ew_node_error(err, SD_ERR_IO, n,
				    "file shrank while being read");
	return ret;
}

/* Whether @in (initial layout) owns data blocks or may (CHUNK_BASED). */
static bool has_blocks(const struct ew_inode *in)
{
	return in->layout == EROFS_INODE_CHUNK_BASED || in->size - in->tail > 0;
}

/* ---- pass 1 and 2: hash size-group members, find holes ----------- */

/* Read a hashed file once: SHA-256, XXH3-128, holes and inline tail. */
static int hash_file(struct ew_flat *fl, const struct sd_node *n,
		     struct ew_fworker *wk, struct sd_error *err)
{
	struct ew_state *w = fl->w;
	struct ew_inode *in = &w->ino[n->index];
	struct ew_fnode *f = &fl->f[n->index];
	struct sd_stream *s = NULL;
	struct sd_sha256 *h = sd_sha256_new();
	uint64_t off = 0;
	bool zero = true;
	int ret;

	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	XXH3_128bits_reset(wk->xxh);
	ret = sd_tree_open(w->tree, n, &s, err);
	while (!ret && off < in->size) {
		size_t len = in->size - off < EW_PIECE_SIZE
				     ? (size_t)(in->size - off)
				     : EW_PIECE_SIZE;

		ret = ew_read_exact(s, n, wk->buf, len, err);
		if (ret)
			break;
		sd_sha256_update(h, wk->buf, len);
		XXH3_128bits_update(wk->xxh, wk->buf, len);
		off += len;
		if (in->layout == EROFS_INODE_CHUNK_BASED) {
			zero = zero && ew_all_zero(wk->buf, len);
			if (off % EW_CHUNK_SIZE == 0 || off == in->size) {
				in->chunks[(off - 1) / EW_CHUNK_SIZE] =
					zero ? EROFS_NULL_ADDR : 0;
				zero = true;
			}
		}
		if (off == in->size && in->tail) {
			f->tail = malloc(in->tail);
			if (!f->tail)
				ret = sd_error_set(err, SD_ERR_NOMEM,
						   "out of memory");
			else
				memcpy(f->tail, wk->buf + len - in->tail,
				       in->tail);
		}
	}
	sd_stream_close(s);
	if (ret) {
		sd_sha256_free(h);
		return ret;
	}
	sd_sha256_final(h, f->sha);
	XXH128_canonicalFromHash((XXH128_canonical_t *)f->xxh,
				 XXH3_128bits_digest(wk->xxh));
	return SD_OK;
}

/* pread exactly @len bytes at @off of host file @path. */
static int pread_exact(int fd, const char *path, uint8_t *buf, size_t len,
		       uint64_t off, struct sd_error *err)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error_errno(err, SD_ERR_IO, errno, "%s: read",
					      path);
		if (n == 0)
			return sd_error_set(err, SD_ERR_IO,
					    "%s: file shrank "
					    "while being read",
					    path);
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SD_OK;
}

/* False if SEEK_DATA tells that bytes @off..@off+@len-1 of @fd are a
 * hole (so they read as zero); true if they may hold data. */
static bool in_data(int fd, uint64_t off, uint64_t len)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0)
		return errno != ENXIO; /* ENXIO: no data after @off */
	return (uint64_t)d < off + len;
}

/* Holes of an unhashed chunked host file: a chunk is read in full only
 * if SEEK_DATA finds data in it and its first bytes are zero. */
static int probe_host(struct ew_flat *fl, const struct sd_node *n, uint8_t *buf,
		      struct sd_error *err)
{
	struct ew_inode *in = &fl->w->ino[n->index];
	char *path = sd_node_src_path_dup(n);
	int fd;
	struct stat st;
	int ret = SD_OK;

	if (!path)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = sd_error_errno(err, SD_ERR_IO, errno, "%s: open", path);
		free(path);
		return ret;
	}
	if (fstat(fd, &st) != 0)
		ret = sd_error_errno(err, SD_ERR_IO, errno, "%s: stat", path);
	else if ((uint64_t)st.st_size != in->size)
		ret = sd_error_set(err, SD_ERR_IO,
				   "%s: file changed size "
				   "while being read",
				   path);
	for (uint32_t c = 0; !ret && c < in->nchunks; c++) {
		uint64_t coff = (uint64_t)c * EW_CHUNK_SIZE;
		size_t clen = in->size - coff < EW_CHUNK_SIZE
				      ? (size_t)(in->size - coff)
				      : EW_CHUNK_SIZE;
		size_t head = clen < PROBE_HEAD ? clen : PROBE_HEAD;
		bool zero;

		if (!in_data(fd, coff, clen)) {
			in->chunks[c] = EROFS_NULL_ADDR; /* a sparse hole */
			continue;
		}
		ret = pread_exact(fd, path, buf, head, coff, err);
		zero = !ret && ew_all_zero(buf, head);
		for (size_t p = head; !ret && zero && p < clen;) {
			size_t len = clen - p < EW_PIECE_SIZE ? clen - p
							      : EW_PIECE_SIZE;

			ret = pread_exact(fd, path, buf, len, coff + p, err);
			zero = !ret && ew_all_zero(buf, len);
			p += len;
		}
		in->chunks[c] = zero ? EROFS_NULL_ADDR : 0;
	}
	close(fd);
	free(path);
	return ret;
}

/* Holes of an unhashed chunked file of another content source: read it. */
static int probe_stream(struct ew_flat *fl, const struct sd_node *n,
			uint8_t *buf, struct sd_error *err)
{
	struct ew_inode *in = &fl->w->ino[n->index];
	struct sd_stream *s = NULL;
	uint64_t off = 0;
	bool zero = true;
	int ret = sd_tree_open(fl->w->tree, n, &s, err);

	while (!ret && off < in->size) {
		size_t len = in->size - off < EW_PIECE_SIZE
				     ? (size_t)(in->size - off)
				     : EW_PIECE_SIZE;

		ret = ew_read_exact(s, n, buf, len, err);
		if (ret)
			break;
		zero = zero && ew_all_zero(buf, len);
		off += len;
		if (off % EW_CHUNK_SIZE == 0 || off == in->size) {
			in->chunks[(off - 1) / EW_CHUNK_SIZE] =
				zero ? EROFS_NULL_ADDR : 0;
			zero = true;
		}
	}
	sd_stream_close(s);
	return ret;
}

struct prep {
	struct ew_flat *fl;
	uint32_t *items; /* node indices, tree order */
};

static int prep_one(void *ctx, size_t i, unsigned worker, struct sd_error *err)
{
	struct prep *p = ctx;
	struct ew_flat *fl = p->fl;
	const struct sd_node *n = fl->w->nodes[p->items[i]];
	struct ew_fworker *wk = &fl->wk[worker];

	if (fl->f[n->index].hashed)
		return hash_file(fl, n, wk, err);
	if (!fl->w->tree->source && sd_node_src_path(n, NULL, 0))
		return probe_host(fl, n, wk->buf, err);
	return probe_stream(fl, n, wk->buf, err);
}

/* ---- size groups ------------------------------------------------- */

static int by_size(const void *a, const void *b, void *ctx)
{
	const struct ew_inode *ino = ctx;
	const struct ew_inode *x = &ino[*(const uint32_t *)a];
	const struct ew_inode *y = &ino[*(const uint32_t *)b];

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->layout != y->layout)
		return x->layout < y->layout ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Mark the members of every (size, layout) group of two or more. */
static int mark_groups(struct ew_flat *fl, size_t *nhashed,
		       struct sd_error *err)
{
	struct ew_state *w = fl->w;
	uint32_t *c = malloc((w->tree->nfiles + 1) * sizeof(*c));
	size_t n = 0;

	if (!c)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < w->count; i++)
		if (w->nodes[i]->type == SD_NODE_FILE && has_blocks(&w->ino[i]))
			c[n++] = (uint32_t)i;
	qsort_r(c, n, sizeof(*c), by_size, w->ino);
	*nhashed = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && w->ino[c[j]].size == w->ino[c[i]].size &&
		       w->ino[c[j]].layout == w->ino[c[i]].layout)
			j++;
		if (j - i > 1)
			for (size_t k = i; k < j; k++)
				fl->f[c[k]].hashed = true;
		*nhashed += j - i > 1 ? j - i : 0;
		i = j;
	}
	free(c);
	return SD_OK;
}

/* ---- pass 3: deduplication ---------------------------------------- */

static int dedup(struct ew_flat *fl, size_t nhashed, struct sd_error *err)
{
	struct ew_state *w = fl->w;
	size_t cap = 16;
	uint32_t *slot; /* owner index + 1; 0: empty */

	while (cap < 2 * nhashed + 2)
		cap *= 2;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < w->count; i++) {
		struct ew_fnode *f = &fl->f[i];
		const struct ew_inode *in = &w->ino[i];
		uint64_t h;
		size_t k;

		if (!f->hashed)
			continue;
		memcpy(&h, f->sha, sizeof(h));
		for (k = (size_t)h & (cap - 1); slot[k];
		     k = (k + 1) & (cap - 1)) {
			const struct ew_inode *o = &w->ino[slot[k] - 1];

			if (o->size == in->size && o->layout == in->layout &&
			    !memcmp(fl->f[slot[k] - 1].sha, f->sha,
				    SD_SHA256_LEN))
				break;
		}
		if (slot[k])
			f->owner = slot[k];
		else
			slot[k] = (uint32_t)i + 1;
	}
	free(slot);
	return SD_OK;
}

/* ---- pass 4: allocation ------------------------------------------- */

/* A chunked file without holes is FLAT_PLAIN (writer.h). */
static void settle_chunked(struct ew_state *w, struct ew_inode *in)
{
	uint32_t holes = 0;

	for (uint32_t c = 0; c < in->nchunks; c++)
		holes += in->chunks[c] == EROFS_NULL_ADDR;
	if (holes) {
		w->any_chunked = true;
		return;
	}
	free(in->chunks);
	in->chunks = NULL;
	in->nchunks = 0;
	in->layout = EROFS_INODE_FLAT_PLAIN;
}

static int alloc_node(struct ew_flat *fl, size_t i, struct sd_error *err)
{
	struct ew_state *w = fl->w;
	struct ew_inode *in = &w->ino[i];
	const struct ew_fnode *f = &fl->f[i];
	int ret = SD_OK;

	in->blkaddr = 0;
	if (w->nodes[i]->type == SD_NODE_FILE && w->stats)
		w->stats->data_bytes_in += in->size;
	if (f->owner) {
		ew_share_data(w, in, f->owner - 1);
		return SD_OK;
	}
	if (in->layout == EROFS_INODE_CHUNK_BASED) {
		for (uint32_t c = 0; c < in->nchunks && !ret; c++) {
			uint64_t clen = in->size - (uint64_t)c * EW_CHUNK_SIZE;

			if (clen > EW_CHUNK_SIZE)
				clen = EW_CHUNK_SIZE;
			if (in->chunks[c] != EROFS_NULL_ADDR)
				ret = ew_alloc_blocks(
					w, (clen + EW_BLKSIZE - 1) / EW_BLKSIZE,
					&in->chunks[c], err);
		}
		return ret;
	}
	if (in->size - in->tail)
		ret = ew_alloc_blocks(
			w, (in->size - in->tail + EW_BLKSIZE - 1) / EW_BLKSIZE,
			&in->blkaddr, err);
	return ret;
}

int ew_flat_plan(struct ew_flat *fl, struct sd_error *err)
{
	struct ew_state *w = fl->w;
	struct prep p = {.fl = fl};
	size_t nhashed = 0, nprep = 0;
	int ret = mark_groups(fl, &nhashed, err);

	if (ret)
		return ret;
	p.items = malloc((w->tree->nfiles + 1) * sizeof(*p.items));
	if (!p.items)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < w->count && !ret; i++) {
		struct ew_inode *in = &w->ino[i];

		if (in->layout == EROFS_INODE_CHUNK_BASED) {
			in->chunks = calloc(in->nchunks, sizeof(*in->chunks));
			if (!in->chunks)
				ret = sd_error_set(err, SD_ERR_NOMEM,
						   "out of memory");
		}
		if (fl->f[i].hashed || in->layout == EROFS_INODE_CHUNK_BASED)
			p.items[nprep++] = (uint32_t)i;
	}
	if (!ret)
		ret = ew_parallel(fl->jobs, nprep, prep_one, &p, w->interrupted,
				  err);
	free(p.items);
	if (!ret)
		ret = dedup(fl, nhashed, err);
	/* Directories and long symlinks first, right after the metadata
	 * area: a walk reads them and the inodes, not the file data. */
	for (size_t i = 0; i < w->count && !ret; i++)
		if (w->nodes[i]->type != SD_NODE_FILE)
			ret = alloc_node(fl, i, err);
	for (size_t i = 0; i < w->count && !ret; i++) {
		if (w->nodes[i]->type != SD_NODE_FILE)
			continue;
		if (w->ino[i].layout == EROFS_INODE_CHUNK_BASED)
			settle_chunked(w, &w->ino[i]);
		ret = alloc_node(fl, i, err);
	}
	return ret;
}
