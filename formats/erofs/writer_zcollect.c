/* SPDX-License-Identifier: MIT */
/*
 * writer_zcollect.c — the collector of the compressed EROFS writer (see
 * writer_zpipe.h): on the main thread, strictly in tree order, each
 * item's data blocks are allocated at the next free block and written; at
 * a compressed file's last segment the file's form is chosen (compressed,
 * with an inline pcluster under ztailpacking, or plain when that takes no
 * more room) and what follows its inode is spooled (writer_zmeta.c writes
 * the inodes later); files shorter than a block (without ztailpacking)
 * go through writer_data.c.
 *
 * Determinism: a segment's pclusters depend only on its bytes and the
 * configuration (zcomp.h), and block addresses, inodes and the UUID
 * digest are all produced here strictly in tree order; which thread read
 * or compressed what, and when, never shows in the image.
 *
 * Deduplication: at a file's last segment its size and SHA-256 are looked
 * up among the earlier compressed files (tree order, so the first file
 * with that content owns the data).  A duplicate takes its owner's form
 * and spooled record (indexes and inline pcluster, or inline tail), i.e.
 * the same blocks; a duplicate of a single segment is usually known to
 * the worker that read it (zdd hints) and not compressed at all, one of
 * several segments is known before it is read (writer_zgroup.c).
 */
#include "formats/erofs/writer_zpipe.h"

#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "formats/erofs/erofs_disk.h"

static int add_pcls(struct zpipe *z, const struct ewz_seg *s, uint32_t first,
		    struct sd_error *err)
{
	uint32_t b = first;

	if (z->cur_n + s->npcl > z->cur_cap) {
		size_t cap = z->cur_cap ? z->cur_cap : 64;
		while (cap < z->cur_n + s->npcl)
			cap *= 2;
		struct ewz_pcl *p = realloc(z->cur_pcl, cap * sizeof(*p));
		if (!p)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		z->cur_pcl = p;
		z->cur_cap = cap;
	}
	for (size_t i = 0; i < s->npcl; i++) {
		struct ewz_pcl *p = &z->cur_pcl[z->cur_n++];

		*p = s->pcl[i];
		p->blkaddr = b;
		b += p->blocks;
	}
	return SD_OK;
}

/* Room for @len bytes of indexes in z->zbuf. */
static int zbuf_reserve(struct zpipe *z, size_t len, struct sd_error *err)
{
	if (len > z->zbuf_cap) {
		uint8_t *p = realloc(z->zbuf, len);

		if (!p)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		z->zbuf = p;
		z->zbuf_cap = len;
	}
	return SD_OK;
}

static uint32_t isize_of(const struct ew_inode *in)
{
	return in->extended ? EROFS_INODE_EXTENDED_SIZE
			    : EROFS_INODE_COMPACT_SIZE;
}

/*
 * The file of @it in plain form instead (its compressed form does not
 * save room): its pclusters' blocks are given back, its whole blocks
 * written from the kept input or read again (and checked against the
 * SHA-256 of the first read), the tail inline after the inode where it
 * fits (writer.h's FLAT_INLINE rule), else zero-padded in a block.
 */
static int store_plain(struct zpipe *z, const struct zitem *it,
		       struct sd_error *err)
{
	struct ew_state *w = z->w;
	const struct sd_node *n = w->nodes[it->node];
	struct ew_inode *in = &w->ino[it->node];
	uint32_t isize = isize_of(in), tail = (uint32_t)(in->size % EW_BLKSIZE);
	struct sd_stream *s = NULL;
	struct sd_sha256 *h = NULL;
	uint64_t off = 0, blocks_len;
	uint8_t tailbuf[EW_BLKSIZE];
	int ret = SD_OK;

	w->data_next = z->cur_start;
	in->zblocks = 0;
	in->idata = 0;
	in->tail = tail && tail <= EW_BLKSIZE - isize ? tail : 0;
	in->layout = in->tail ? EROFS_INODE_FLAT_INLINE
			      : EROFS_INODE_FLAT_PLAIN;
	in->meta_len = isize + in->tail;
	blocks_len = in->size - in->tail;
	in->blkaddr = 0;
	if (blocks_len)
		ret = ew_alloc_blocks(
			w, (blocks_len + EW_BLKSIZE - 1) / EW_BLKSIZE,
			&in->blkaddr, err);
	if (!ret && !it->in) {
		h = sd_sha256_new();
		if (!h)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		ret = sd_tree_open(w->tree, n, &s, err);
	}
	while (!ret && off < in->size) {
		size_t len = in->size - off < EW_CHUNK_SIZE
				     ? (size_t)(in->size - off)
				     : EW_CHUNK_SIZE;
		size_t blen = len;

		if (it->in) {
			memcpy(z->buf, it->in + off, len);
		} else {
			ret = ew_read_exact(s, n, z->buf, len, err);
			if (ret)
				break;
			sd_sha256_update(h, z->buf, len);
		}
		if (off + len == in->size && in->tail) {
			blen = len - in->tail;
			memcpy(tailbuf, z->buf + blen, in->tail);
		} else if (off + len == in->size) {
			blen = (len + EW_BLKSIZE - 1) &
			       ~(size_t)(EW_BLKSIZE - 1);
			memset(z->buf + len, 0, blen - len);
		}
		if (blen)
			ret = ew_pwrite(
				w->fd, z->buf, blen,
				(uint64_t)in->blkaddr * EW_BLKSIZE + off, err);
		off += len;
	}
	sd_stream_close(s);
	if (h && !ret) {
		uint8_t d[SD_SHA256_LEN];

		sd_sha256_final(h, d);
		h = NULL;
		if (memcmp(d, it->digest, SD_SHA256_LEN))
			ret = ew_node_error(err, SD_ERR_IO, n,
					    "file changed "
					    "while being read");
	}
	sd_sha256_free(h);
	if (!ret)
		ret = ew_write_meta(w, n, tailbuf, err);
	return ret;
}

/* Remember segment @it of the file collected, for its file entry. */
static int note_seg(struct zpipe *z, const struct zitem *it,
		    struct sd_error *err)
{
	struct ewz_fseg *f;

	if (!z->zc.cc || !z->w->file_digest)
		return SD_OK;
	if (z->cur_fsn == z->cur_fscap) {
		size_t cap = z->cur_fscap ? 2 * z->cur_fscap : 16;
		struct ewz_fseg *p = realloc(z->cur_fs, cap * sizeof(*p));

		if (!p)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		z->cur_fs = p;
		z->cur_fscap = cap;
	}
	f = &z->cur_fs[z->cur_fsn++];
	memcpy(f->digest, it->f ? it->sdigest : it->digest, SD_SHA256_LEN);
	f->len = (uint32_t)it->len;
	f->tail_room = it->tail_room;
	return SD_OK;
}

/*
 * Put the file entry of the compressed file ending with @it (writer_z.h):
 * its reads are over, so the caller's digest is known now if it ever
 * is; none when it is not, or differs from what the writer read.
 */
static void put_file_entry(struct zpipe *z, const struct zitem *it)
{
	struct ew_state *w = z->w;
	uint8_t sha[SD_SHA256_LEN], key[SD_COMPCACHE_KEY_LEN], *val;
	size_t n = z->cur_fsn;

	z->cur_fsn = 0;
	/* a file of one segment needs none: that segment's key is made of
	 * the file's size, digest and tail room */
	if (n < 2 || !z->zc.cc || !w->file_digest ||
	    !sd_compcache_enabled(z->zc.cc) ||
	    !w->file_digest(w->file_digest_ctx, w->nodes[it->node], sha) ||
	    memcmp(sha, it->digest, SD_SHA256_LEN) ||
	    ewz_file_key(z->zc.fparams, w->ino[it->node].size, sha, key, NULL))
		return;
	val = malloc(n * EWZ_FREC_LEN + EWZ_FTRAILER_LEN);
	if (!val)
		return;
	sd_compcache_put(z->zc.cc, key, val,
			 ewz_file_encode(z->cur_fs, n, val));
	free(val);
}

/* Finish a compressed file at its last segment @it: a duplicate (@owner:
 * 1 + the node whose data it shares) takes its owner's form and metadata
 * record; otherwise the smaller of the compressed and the plain form
 * (plain on a tie). */
static int finish_file(struct zpipe *z, const struct zitem *it, uint32_t owner,
		       struct sd_error *err)
{
	struct ew_state *w = z->w;
	const struct sd_node *n = w->nodes[it->node];
	struct ew_inode *in = &w->ino[it->node];
	size_t zbytes = (size_t)ewz_index_bytes(in->size);
	uint32_t isize = isize_of(in);
	uint64_t blocks = 0, zcost, pcost;
	uint32_t tail = (uint32_t)(in->size % EW_BLKSIZE);
	int ret;

	sd_sha256_update(w->digest, it->digest, SD_SHA256_LEN);
	if (w->stats)
		w->stats->data_bytes_in += in->size;
	if (owner) {
		const struct ew_inode *o = &w->ino[owner - 1];
		size_t rec = o->meta_len - isize_of(o);

		w->data_next = z->cur_start; /* give the blocks back */
		z->cur_n = 0;
		in->layout = o->layout;
		in->zblocks = o->zblocks;
		in->blkaddr = o->blkaddr;
		in->tail = o->tail;
		in->idata = o->idata;
		in->meta_len = isize + (uint32_t)rec;
		if (w->stats)
			w->stats->files_deduplicated++;
		ret = zbuf_reserve(z, rec, err);
		if (!ret && rec)
			ret = sd_spool_read(w->zspool, o->spool_off, z->zbuf,
					    rec, err);
		return ret ? ret : ew_write_meta(w, n, z->zbuf, err);
	}
	/* also for a file stored plain: a hit then saves compressing it */
	if (it->kind == IT_SEG)
		put_file_entry(z, it);
	for (size_t i = 0; i < z->cur_n; i++)
		blocks += z->cur_pcl[i].blocks;
	if (z->idata_len)
		blocks--; /* the last pcluster is inline */
	zcost = blocks * EW_BLKSIZE + zbytes + z->idata_len;
	pcost = in->size - tail +
		(tail == 0                    ? 0
		 : tail <= EW_BLKSIZE - isize ? tail
					      : EW_BLKSIZE);
	if (pcost <= zcost) {
		z->cur_n = 0;
		z->idata_len = 0;
		return store_plain(z, it, err);
	}
	ret = zbuf_reserve(z, zbytes + z->idata_len, err);
	if (ret)
		return ret;
	in->zblocks = (uint32_t)blocks;
	in->idata = z->idata_len;
	in->meta_len = isize + (uint32_t)zbytes + z->idata_len;
	ewz_index_encode(z->cur_pcl, z->cur_n, in->size,
			 w->zcfg.pcluster > EW_BLKSIZE, w->zcfg.disk_alg,
			 z->idata_len, z->zbuf);
	memcpy(z->zbuf + zbytes, z->idata, z->idata_len);
	z->cur_n = 0;
	z->idata_len = 0;
	return ew_write_meta(w, n, z->zbuf, err);
}

/*
 * ztailpacking: if the file's last pcluster (in @it's segment) is one
 * block and the inode (at most 64 bytes), the indexes and its bytes fit
 * in one block, keep those bytes in z->idata to go inline; returns the
 * blocks taken out of the segment (0 or 1).
 */
static unsigned take_inline(struct zpipe *z, uint32_t node,
			    const struct ewz_seg *s)
{
	const struct ewz_pcl *p = s->npcl ? &s->pcl[s->npcl - 1] : NULL;
	uint64_t zbytes = ewz_index_bytes(z->w->ino[node].size);
	const uint8_t *blk;

	z->idata_len = 0;
	if (!p || p->blocks != 1 ||
	    EROFS_INODE_EXTENDED_SIZE + zbytes + p->clen > EW_BLKSIZE)
		return 0;
	blk = s->data + (size_t)(s->nblocks - 1) * EW_BLKSIZE;
	/* raw: at the block start; compressed: right-aligned */
	memcpy(z->idata, p->plain ? blk : blk + EW_BLKSIZE - p->clen, p->clen);
	z->idata_len = (uint16_t)p->clen;
	return 1;
}

/* The collector's own compression of @it (a worker skipped it on a
 * duplicate hint the collector did not confirm). */
static int compress_here(struct zpipe *z, struct zitem *it,
			 struct sd_error *err)
{
	const struct ez_config *cfg = &z->w->zcfg;

	if (!z->mcomp)
		z->mcomp = ez_comp_new(cfg);
	if (!z->mscratch)
		z->mscratch = malloc(cfg->pcluster);
	if (!z->mcomp || !z->mscratch || !it->in ||
	    ewz_compress_cached(&z->zc, z->mcomp, cfg, z->mscratch, it->in,
				it->len, it->la0, it->tail_room,
				it->f ? NULL : it->digest, &it->out))
		return sd_error_set(err, SD_ERR_NOMEM,
				    "out of memory while "
				    "compressing");
	it->skip = false;
	return SD_OK;
}

/* The owner (node index + 1) of @it's content, or 0 after making @it its
 * owner: the first file in tree order with that size and digest. */
static uint32_t owner_of(struct zpipe *z, const struct zitem *it)
{
	uint64_t size = z->w->ino[it->node].size;
	struct zdd_slot *slot;
	uint32_t owner;

	pthread_mutex_lock(&z->mu);
	slot = zdd_find(z, it->digest, size);
	owner = slot->owner;
	if (!owner) {
		memcpy(slot->digest, it->digest, SD_SHA256_LEN);
		slot->size = size;
		slot->owner = it->node + 1;
	}
	pthread_mutex_unlock(&z->mu);
	return owner;
}

static int collect_seg(struct zpipe *z, struct zitem *it, struct sd_error *err)
{
	struct ew_state *w = z->w;
	uint32_t owner = 0, first, nb;
	int ret;

	if (it->la0 == 0) {
		z->cur_start = w->data_next;
		z->cur_n = 0;
		z->cur_fsn = 0;
	}
	if (it->last) {
		owner = owner_of(z, it);
		if (owner)
			return finish_file(z, it, owner, err);
		if (it->skip) {
			ret = compress_here(z, it, err);
			if (ret)
				return ret;
		}
	}
	nb = it->out.nblocks;
	if (it->last && w->ztail)
		nb -= take_inline(z, it->node, &it->out);
	ret = ew_alloc_blocks(w, nb, &first, err);
	if (!ret)
		ret = ew_pwrite(w->fd, it->out.data, (size_t)nb * EW_BLKSIZE,
				(uint64_t)first * EW_BLKSIZE, err);
	if (!ret)
		ret = add_pcls(z, &it->out, first, err);
	if (!ret)
		ret = note_seg(z, it, err);
	if (ret)
		return ret;
	return it->last ? finish_file(z, it, 0, err) : SD_OK;
}

/*
 * A compressed file whose segments came from the cache (IT_CACHED): as
 * its segments would have been collected, in order.  Counted as written
 * without reading unless its form turns out plain (store_plain reads it).
 */
static int collect_cached(struct zpipe *z, struct zitem *it,
			  struct sd_error *err)
{
	struct ew_state *w = z->w;
	uint32_t owner, first, nb;
	int ret = SD_OK;

	z->cur_start = w->data_next;
	z->cur_n = 0;
	z->cur_fsn = 0;
	z->idata_len = 0;
	owner = owner_of(z, it);
	for (size_t i = 0; !owner && !ret && i < it->nsegs; i++) {
		struct ewz_seg *s = &it->segs[i];

		nb = s->nblocks;
		if (i + 1 == it->nsegs && w->ztail)
			nb -= take_inline(z, it->node, s);
		ret = ew_alloc_blocks(w, nb, &first, err);
		if (!ret)
			ret = ew_pwrite(w->fd, s->data, (size_t)nb * EW_BLKSIZE,
					(uint64_t)first * EW_BLKSIZE, err);
		if (!ret)
			ret = add_pcls(z, s, first, err);
	}
	if (!ret)
		ret = finish_file(z, it, owner, err);
	if (!ret && w->stats &&
	    (owner ||
	     w->ino[it->node].layout == EROFS_INODE_COMPRESSED_COMPACT))
		w->stats->files_from_cache++;
	return ret;
}

int zcollect_item(struct zpipe *z, struct zitem *it, struct sd_error *err)
{
	struct ew_state *w = z->w;
	uint64_t size = w->ino[it->node].size;
	int ret;

	if (it->ret) {
		if (it->err)
			*err = *it->err;
		else
			sd_error_set(err, it->ret,
				     "out of memory while "
				     "compressing");
		return it->ret;
	}
	switch (it->kind) {
	case IT_SMALL:
		ret = ew_write_file_mem(w, w->nodes[it->node], it->in,
					it->digest, err);
		if (!ret)
			ew_progress(w, size, 1, true);
		if (!ret && it->known && w->stats)
			w->stats->files_from_cache++;
		return ret;
	case IT_CACHED:
		ret = collect_cached(z, it, err);
		if (!ret)
			ew_progress(w, size, 1, true);
		return ret;
	case IT_DUP:
		z->cur_start = w->data_next;
		z->cur_n = 0;
		ret = finish_file(z, it, it->owner, err);
		if (!ret)
			ew_progress(w, size, 1, true);
		return ret;
	default:
		ret = collect_seg(z, it, err);
		if (!ret)
			ew_progress(w, it->len, it->last ? 1 : 0, true);
		return ret;
	}
}
