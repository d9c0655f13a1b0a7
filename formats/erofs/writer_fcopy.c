/* SPDX-License-Identifier: MIT */
/*
 * writer_fcopy.c — the copy pass of the uncompressed EROFS writer: every
 * node's data and inode written at the place the plan gave it, by
 * parallel workers (see writer_flat.h).
 */
#include "formats/erofs/writer_flat.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "formats/erofs/erofs_disk.h"

static void set_xxh(struct ew_fnode *f, XXH128_hash_t h)
{
	XXH128_canonicalFromHash((XXH128_canonical_t *)f->xxh, h);
}

/* Directory or symlink: @data of in->size bytes (blocks + inline tail). */
static int copy_small(struct ew_flat *fl, const struct sd_node *n,
		      const uint8_t *data, struct sd_error *err)
{
	struct ew_state *w = fl->w;
	const struct ew_inode *in = &w->ino[n->index];
	uint64_t blocks_len = in->size - in->tail;
	int ret = SD_OK;

	set_xxh(&fl->f[n->index], XXH3_128bits(data, (size_t)in->size));
	if (blocks_len)
		ret = ew_pwrite(w->fd, data, (size_t)blocks_len,
				(uint64_t)in->blkaddr * EW_BLKSIZE, err);
	if (!ret)
		ret = ew_write_meta(w, n, data + blocks_len, err);
	return ret;
}

static int copy_dir(struct ew_flat *fl, const struct sd_node *n,
		    struct sd_error *err)
{
	uint8_t *buf = calloc(fl->w->ino[n->index].dir_blocks, EW_BLKSIZE);
	int ret;

	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ew_dir_encode(fl->w, n, buf);
	ret = copy_small(fl, n, buf, err);
	free(buf);
	return ret;
}

static int copy_symlink(struct ew_flat *fl, const struct sd_node *n,
			struct sd_error *err)
{
	if (n->size >= EW_BLKSIZE || !n->target)
		return ew_node_error(err, SD_ERR_LIMIT, n,
				     "symlink target too long for EROFS");
	return copy_small(fl, n, (const uint8_t *)n->target, err);
}

/* Image offset of content byte @off of a file with blocks, or 0 for a
 * byte in a hole (CHUNK_BASED). */
static uint64_t image_off(const struct ew_inode *in, uint64_t off)
{
	uint32_t blk;

	if (in->layout != EROFS_INODE_CHUNK_BASED)
		return (uint64_t)in->blkaddr * EW_BLKSIZE + off;
	blk = in->chunks[off / EW_CHUNK_SIZE];
	if (blk == EROFS_NULL_ADDR)
		return 0;
	return (uint64_t)blk * EW_BLKSIZE + off % EW_CHUNK_SIZE;
}

/* One piece of @n's content at @off: its block part to the image (a hole
 * must still be zero), its inline part into @tail. */
static int put_piece(struct ew_flat *fl, const struct sd_node *n,
		     const uint8_t *buf, size_t len, uint64_t off,
		     uint8_t *tail, struct sd_error *err)
{
	const struct ew_inode *in = &fl->w->ino[n->index];
	uint64_t bend = in->size - in->tail; /* end of the block part */
	size_t blen = off + len <= bend ? len : (size_t)(bend - off);
	uint64_t at;

	if (off + len > bend)
		memcpy(tail + (off + blen - bend), buf + blen, len - blen);
	if (!blen)
		return SD_OK;
	at = image_off(in, off);
	if (at)
		return ew_pwrite(fl->w->fd, buf, blen, at, err);
	if (!ew_all_zero(buf, blen))
		return ew_node_error(err, SD_ERR_IO, n,
				     "file changed while being read");
	return SD_OK;
}

static int copy_file(struct ew_flat *fl, const struct sd_node *n,
		     struct ew_fworker *wk, struct sd_error *err)
{
	struct ew_state *w = fl->w;
	const struct ew_inode *in = &w->ino[n->index];
	struct ew_fnode *f = &fl->f[n->index];
	uint8_t tail[EW_BLKSIZE];
	struct sd_stream *s = NULL;
	uint64_t off = 0;
	int ret;

	if (f->owner || in->size == 0) {
		/* a duplicate: the owner wrote the blocks, the plan read
		 * the tail and the digest */
		if (in->size == 0)
			set_xxh(f, XXH3_128bits(NULL, 0));
		return ew_write_meta(w, n, f->tail, err);
	}
	if (!f->hashed)
		XXH3_128bits_reset(wk->xxh);
	ret = sd_tree_open(w->tree, n, &s, err);
	while (!ret && off < in->size) {
		size_t len = in->size - off < EW_PIECE_SIZE
				     ? (size_t)(in->size - off)
				     : EW_PIECE_SIZE;

		ret = ew_read_exact(s, n, wk->buf, len, err);
		if (ret)
			break;
		if (!f->hashed)
			XXH3_128bits_update(wk->xxh, wk->buf, len);
		ret = put_piece(fl, n, wk->buf, len, off, tail, err);
		off += len;
	}
	sd_stream_close(s);
	if (ret)
		return ret;
	if (!f->hashed)
		set_xxh(f, XXH3_128bits_digest(wk->xxh));
	return ew_write_meta(w, n, tail, err);
}

static int copy_one(void *ctx, size_t i, unsigned worker, struct sd_error *err)
{
	struct ew_flat *fl = ctx;
	const struct sd_node *n = fl->w->nodes[i];

	switch (n->type) {
	case SD_NODE_DIR: return copy_dir(fl, n, err);
	case SD_NODE_SYMLINK: return copy_symlink(fl, n, err);
	default: {
		int ret = copy_file(fl, n, &fl->wk[worker], err);
		if (!ret)
			ew_progress(fl->w, fl->w->ino[n->index].size, 1,
				    worker == 0);
		return ret;
	}
	}
}

int ew_flat_copy(struct ew_flat *fl, struct sd_error *err)
{
	int ret = ew_parallel(fl->jobs, fl->w->count, copy_one, fl,
			      fl->w->interrupted, err);
	/* Only worker 0 reports as it goes, and it may have copied no file
	 * (a small store, the other workers quicker): the totals once more,
	 * from the calling thread. */
	if (!ret)
		ew_progress(fl->w, 0, 0, true);
	return ret;
}

/*
 * Allocate the image's blocks before the copy: ext4's delayed allocation
 * otherwise reserves every block as each page is first written, which
 * took about a tenth of the pack's CPU time on a 2.4 GB store
 * (user+sys 3.0 s instead of 3.3 s).  The blocks read as zero until
 * written, as the holes did; a file system without fallocate(2), or one
 * that cannot reserve the room, is simply written as before (a write
 * then fails with its own error).
 */
static void reserve(const struct ew_state *w)
{
	if (w->data_next > 1)
		(void)fallocate(w->fd, 0, 0,
				(off_t)((uint64_t)w->data_next * EW_BLKSIZE));
}

/* Stage 2 for uncompressed images (writer.h): plan, copy, and the
 * per-node digests into the UUID digest in tree order. */
int ew_write_nodes(struct ew_state *w, struct sd_error *err)
{
	struct ew_flat fl = {.w = w, .jobs = w->jobs ? w->jobs : 1};
	int ret = SD_OK;

	fl.f = calloc(w->count, sizeof(*fl.f));
	fl.wk = calloc(fl.jobs, sizeof(*fl.wk));
	if (!fl.f || !fl.wk) {
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (unsigned j = 0; j < fl.jobs && !ret; j++) {
		/* page aligned, so read() copies into it at full speed
		 * (malloc's large blocks start 16 bytes into a page) */
		void *b = NULL;

		if (posix_memalign(&b, 4096, EW_PIECE_SIZE))
			b = NULL;
		fl.wk[j].buf = b;
		fl.wk[j].xxh = XXH3_createState();
		if (!fl.wk[j].buf || !fl.wk[j].xxh)
			ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	if (!ret)
		ret = ew_flat_plan(&fl, err);
	if (!ret)
		reserve(w);
	if (!ret)
		ret = ew_flat_copy(&fl, err);
	for (size_t i = 0; i < w->count && !ret; i++)
		sd_sha256_update(w->digest, fl.f[i].xxh, EW_XXH_LEN);
out:
	if (fl.f)
		for (size_t i = 0; i < w->count; i++)
			free(fl.f[i].tail);
	if (fl.wk)
		for (unsigned j = 0; j < fl.jobs; j++) {
			free(fl.wk[j].buf);
			XXH3_freeState(fl.wk[j].xxh);
		}
	free(fl.f);
	free(fl.wk);
	return ret;
}
