/*
 * writer_zpipe.c — stage 2 of the EROFS writer for compressed images:
 * reading, compressing on worker threads, and writing in tree order
 * (see writer_z.h).
 *
 * The main thread is both producer and collector.  It walks the nodes in
 * tree pre-order and appends items to a bounded FIFO ring:
 *   - a compressed file (size >= one block) is read once, segment by
 *     segment (ewz_segment_size() bytes); each segment becomes an item that the
 *     next free worker compresses; the file's SHA-256 is computed while
 *     reading;
 *   - every other node is one item without work.
 * Whenever the ring is full (or holds too many input bytes), and at the
 * end, the main thread collects the oldest item once it is done: it
 * allocates the data blocks of that segment's pclusters at the next free
 * block, writes them, and at a file's last segment chooses the file's
 * form (compressed, with an inline pcluster under ztailpacking, or plain
 * when that takes no more room) and spools what follows its inode
 * (writer_zmeta.c writes the inodes later); files shorter than a block
 * (without ztailpacking) go through writer_data.c; directories and
 * symlinks are left to writer_zmeta.c.
 *
 * Determinism: a segment's pclusters depend only on its bytes and the
 * configuration (zcomp.h), and block addresses, inodes and the UUID
 * digest are all produced by the collector strictly in tree order; which
 * worker compressed what, and when, never shows in the image.
 *
 * Deduplication: when the producer has read a whole file, it looks its
 * size and SHA-256 up among the earlier compressed files (tree order, so
 * the first file with that content owns the data).  A duplicate's
 * segments still waiting are cancelled, any already written are given
 * back at its last segment (nothing else has been allocated since), and
 * it takes its owner's form and spooled record (indexes and inline
 * pcluster, or inline tail), i.e. the same blocks.  A file of more than one
 * segment whose size an earlier one has is hashed before it is queued,
 * so a duplicate is never compressed.  Memory: the read-ahead budget of
 * (2 jobs + 2) segments, not the file or image size.
 */
#include "formats/erofs/writer_z.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "formats/erofs/erofs_disk.h"

/* An input buffer, page aligned: read() copies file pages into it, and
 * into malloc's large blocks (16 bytes past a page boundary) that copy
 * runs about 3x slower (4K aliasing).  Freed with free(). */
static uint8_t *page_alloc(size_t len)
{
	void *b;

	return posix_memalign(&b, 4096, len ? len : 1) ? NULL : b;
}

enum { IT_NODE, IT_SEG };
enum { Q_WAIT, Q_RUN, Q_DONE };

struct zitem {
	uint32_t node;          /* node index */
	uint8_t kind;           /* IT_NODE / IT_SEG */
	uint8_t state;          /* Q_* */
	bool last;              /* IT_SEG: the file's last segment */
	bool cancel;            /* IT_SEG: result not wanted (duplicate) */
	bool dup;               /* last IT_SEG: the file is a duplicate */
	uint32_t owner;         /* ... of this node */
	uint8_t digest[SD_SHA256_LEN];  /* last IT_SEG: the file's SHA-256 */
	uint64_t la0;           /* IT_SEG: offset of the segment */
	size_t len;
	uint32_t tail_room;     /* IT_SEG: see ewz_compress_segment */
	uint8_t *in;            /* input, freed once compressed (a whole
				   file's only segment: once collected) */
	struct ewz_seg out;
	int ret;                /* worker status */
};

/* Content index of compressed files (producer only). */
struct zdd_slot {
	uint8_t digest[SD_SHA256_LEN];
	uint64_t size;
	uint32_t owner;         /* node index + 1; 0: empty */
};

struct zpipe {
	struct ew_state *w;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;
	pthread_cond_t done_cv;
	struct zitem *ring;
	size_t cap;
	uint64_t head, tail, scan;  /* collect, append, next to compress */
	size_t inflight, budget;    /* input bytes in the ring */
	bool stop;
	pthread_t *threads;
	unsigned nthreads;
	struct zdd_slot *dd;
	size_t dd_cap;
	uint64_t *sizes;            /* sizes_find's set, dd_cap slots */
	/* the file being collected */
	uint32_t cur_start;
	struct ewz_pcl *cur_pcl;
	size_t cur_n, cur_cap;
	uint8_t *buf;               /* EW_CHUNK_SIZE, for ew_write_node */
	uint8_t *zbuf;              /* the indexes of the file collected */
	size_t zbuf_cap;
	uint8_t idata[EW_BLKSIZE];  /* its inline pcluster (ztailpacking) */
	uint16_t idata_len;
};

static void *worker(void *arg)
{
	struct zpipe *z = arg;
	const struct ez_config *cfg = &z->w->zcfg;
	struct ez_comp *c = ez_comp_new(cfg);
	uint8_t *scratch = malloc(cfg->pcluster);

	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (!z->stop && z->scan == z->tail)
			pthread_cond_wait(&z->work_cv, &z->mu);
		if (z->stop)
			break;
		if (z->scan < z->head)
			z->scan = z->head;   /* collected without work */
		struct zitem *it = &z->ring[z->scan++ % z->cap];
		if (it->state != Q_WAIT)
			continue;
		it->state = Q_RUN;
		pthread_mutex_unlock(&z->mu);
		int ret = SD_ERR_NOMEM;
		if (c && scratch)
			ret = ewz_compress_segment(c, cfg, scratch, it->in,
						   it->len, it->la0,
						   it->tail_room, &it->out);
		if (!(it->last && it->la0 == 0)) {
			free(it->in);
			it->in = NULL;
		}
		pthread_mutex_lock(&z->mu);
		it->ret = ret;
		it->state = Q_DONE;
		pthread_cond_broadcast(&z->done_cv);
	}
	pthread_mutex_unlock(&z->mu);
	ez_comp_free(c);
	free(scratch);
	return NULL;
}

/* ---- collector ----------------------------------------------------- */

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
		ret = ew_alloc_blocks(w, (blocks_len + EW_BLKSIZE - 1) /
					 EW_BLKSIZE, &in->blkaddr, err);
	if (!ret && !it->in) {
		h = sd_sha256_new();
		if (!h)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		ret = sd_tree_open(w->tree, n, &s, err);
	}
	while (!ret && off < in->size) {
		size_t len = in->size - off < EW_CHUNK_SIZE
				     ? (size_t)(in->size - off) : EW_CHUNK_SIZE;
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
			ret = ew_pwrite(w->fd, z->buf, blen,
					(uint64_t)in->blkaddr * EW_BLKSIZE +
						off, err);
		off += len;
	}
	sd_stream_close(s);
	if (h && !ret) {
		uint8_t d[SD_SHA256_LEN];

		sd_sha256_final(h, d);
		h = NULL;
		if (memcmp(d, it->digest, SD_SHA256_LEN))
			ret = ew_node_error(err, SD_ERR_IO, n, "file changed "
					    "while being read");
	}
	sd_sha256_free(h);
	if (!ret)
		ret = ew_write_meta(w, n, tailbuf, err);
	return ret;
}

/* Finish a compressed file at its last segment @it: a duplicate takes its
 * owner's form and metadata record; otherwise the smaller of the
 * compressed and the plain form (plain on a tie). */
static int finish_file(struct zpipe *z, const struct zitem *it,
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
	if (it->dup) {
		const struct ew_inode *o = &w->ino[it->owner];
		size_t rec = o->meta_len - isize_of(o);

		w->data_next = z->cur_start;   /* give the blocks back */
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
	for (size_t i = 0; i < z->cur_n; i++)
		blocks += z->cur_pcl[i].blocks;
	if (z->idata_len)
		blocks--;              /* the last pcluster is inline */
	zcost = blocks * EW_BLKSIZE + zbytes + z->idata_len;
	pcost = in->size - tail + (tail == 0 ? 0 : tail <= EW_BLKSIZE - isize
							   ? tail : EW_BLKSIZE);
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
static unsigned take_inline(struct zpipe *z, const struct zitem *it)
{
	const struct ewz_seg *s = &it->out;
	const struct ewz_pcl *p = s->npcl ? &s->pcl[s->npcl - 1] : NULL;
	uint64_t zbytes = ewz_index_bytes(z->w->ino[it->node].size);
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

static int collect_seg(struct zpipe *z, struct zitem *it, struct sd_error *err)
{
	struct ew_state *w = z->w;
	int ret;

	if (it->la0 == 0) {
		z->cur_start = w->data_next;
		z->cur_n = 0;
	}
	if (!it->cancel) {
		uint32_t first, nb = it->out.nblocks;

		if (it->ret)
			return sd_error_set(err, it->ret, "out of memory while "
					    "compressing");
		if (it->last && w->ztail)
			nb -= take_inline(z, it);
		ret = ew_alloc_blocks(w, nb, &first, err);
		if (!ret)
			ret = ew_pwrite(w->fd, it->out.data,
					(size_t)nb * EW_BLKSIZE,
					(uint64_t)first * EW_BLKSIZE, err);
		if (!ret)
			ret = add_pcls(z, &it->out, first, err);
		if (ret)
			return ret;
	}
	return it->last ? finish_file(z, it, err) : SD_OK;
}

/* Wait for the oldest item, write it and drop it from the ring. */
static int collect_one(struct zpipe *z, struct sd_error *err)
{
	struct zitem *it = &z->ring[z->head % z->cap];
	int ret;

	pthread_mutex_lock(&z->mu);
	while (it->state != Q_DONE)
		pthread_cond_wait(&z->done_cv, &z->mu);
	pthread_mutex_unlock(&z->mu);
	if (it->kind == IT_NODE)
		ret = ew_write_node(z->w, z->w->nodes[it->node], z->buf, err);
	else
		ret = collect_seg(z, it, err);
	free(it->in);
	it->in = NULL;
	if (!ret && it->kind == IT_NODE &&
	    z->w->nodes[it->node]->type == SD_NODE_FILE)
		ew_progress(z->w, z->w->ino[it->node].size, 1, true);
	else if (!ret && it->kind != IT_NODE)
		ew_progress(z->w, it->len, it->last ? 1 : 0, true);
	ewz_seg_free(&it->out);
	pthread_mutex_lock(&z->mu);
	z->inflight -= it->len;
	z->head++;
	pthread_mutex_unlock(&z->mu);
	return ret;
}

/* Collect until an item of @len input bytes fits into the ring. */
static int make_room(struct zpipe *z, size_t len, struct sd_error *err)
{
	while (z->tail - z->head == z->cap ||
	       (z->tail != z->head && z->inflight + len > z->budget)) {
		int ret = collect_one(z, err);
		if (ret)
			return ret;
	}
	return SD_OK;
}

/* Append @it (copied); @work: it needs a worker. */
static void push(struct zpipe *z, const struct zitem *it, bool work)
{
	pthread_mutex_lock(&z->mu);
	struct zitem *slot = &z->ring[z->tail % z->cap];
	*slot = *it;
	slot->state = work ? Q_WAIT : Q_DONE;
	z->inflight += it->len;
	z->tail++;
	if (work)
		pthread_cond_signal(&z->work_cv);
	pthread_mutex_unlock(&z->mu);
}

/* ---- producer ------------------------------------------------------ */

static struct zdd_slot *dd_find(struct zpipe *z, const uint8_t *digest,
				uint64_t size)
{
	uint64_t h;

	memcpy(&h, digest, sizeof(h));
	for (size_t i = (size_t)h & (z->dd_cap - 1);;
	     i = (i + 1) & (z->dd_cap - 1)) {
		struct zdd_slot *s = &z->dd[i];

		if (!s->owner || (s->size == size &&
				  !memcmp(s->digest, digest, SD_SHA256_LEN)))
			return s;
	}
}

/* Cancel the not yet collected segments of node @node. */
static void cancel_file(struct zpipe *z, uint32_t node)
{
	pthread_mutex_lock(&z->mu);
	for (uint64_t i = z->head; i < z->tail; i++) {
		struct zitem *it = &z->ring[i % z->cap];

		if (it->kind != IT_SEG || it->node != node)
			continue;
		it->cancel = true;
		if (it->state == Q_WAIT) {
			free(it->in);
			it->in = NULL;
			it->state = Q_DONE;
		}
	}
	pthread_cond_broadcast(&z->done_cv);
	pthread_mutex_unlock(&z->mu);
}


/* Whether an earlier compressed file of more than one segment has @size
 * bytes; @add: record it (producer only; z->sizes has dd_cap slots). */
static bool sizes_find(struct zpipe *z, uint64_t size, bool add)
{
	for (size_t i = (size_t)(size * 0x9E3779B97F4A7C15ull) &
			(z->dd_cap - 1);;
	     i = (i + 1) & (z->dd_cap - 1)) {
		if (z->sizes[i] == size)
			return true;
		if (!z->sizes[i]) {
			if (add)
				z->sizes[i] = size;
			return false;
		}
	}
}

/*
 * A file of more than one segment with the size of an earlier one is
 * hashed first (one more read, from the page cache): if it is a
 * duplicate, it becomes one cancelled item and none of its segments is
 * compressed (the read-ahead budget is too small to cancel them in time).
 * *@dup: 1 + the owner's index, or 0.
 */
static int prehash(struct zpipe *z, const struct sd_node *n, uint64_t size,
		   uint8_t *digest, struct sd_error *err)
{
	struct sd_stream *s = NULL;
	struct sd_sha256 *h = sd_sha256_new();
	uint64_t off = 0;
	int ret;

	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sd_tree_open(z->w->tree, n, &s, err);
	while (!ret && off < size) {
		size_t len = size - off < EW_CHUNK_SIZE ? (size_t)(size - off)
							: EW_CHUNK_SIZE;

		ret = ew_read_exact(s, n, z->buf, len, err);
		if (!ret)
			sd_sha256_update(h, z->buf, len);
		off += len;
	}
	if (!ret)
		sd_sha256_final(h, digest);
	else
		sd_sha256_free(h);
	sd_stream_close(s);
	return ret;
}

static int produce_file(struct zpipe *z, const struct sd_node *n,
			struct sd_error *err)
{
	struct ew_state *w = z->w;
	uint64_t size = w->ino[n->index].size, off = 0;
	size_t seg = ewz_segment_size(w->zcfg.pcluster);
	struct sd_stream *s = NULL;
	struct sd_sha256 *h;
	int ret;

	if (size > seg && sizes_find(z, size, false)) {
		struct zitem it = { 0 };
		struct zdd_slot *slot;

		ret = prehash(z, n, size, it.digest, err);
		if (ret)
			return ret;
		slot = dd_find(z, it.digest, size);
		if (slot->owner) {
			it.kind = IT_SEG;
			it.node = n->index;
			it.last = true;
			it.dup = true;
			it.cancel = true;
			it.owner = slot->owner - 1;
			ret = make_room(z, 0, err);
			if (!ret) {
				push(z, &it, false);
				ew_progress(w, size, 0, false);
			}
			return ret;
		}
	}
	h = sd_sha256_new();
	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sd_tree_open(w->tree, n, &s, err);
	while (!ret && off < size) {
		struct zitem it = { 0 };

		it.kind = IT_SEG;
		it.node = n->index;
		it.la0 = off;
		it.len = size - off < seg ? (size_t)(size - off) : seg;
		it.last = off + it.len == size;
		if (it.last && w->ztail) {
			/* an inline pcluster must fit in the inode's block
			 * with the indexes (inode of up to 64 bytes) */
			uint64_t used = EROFS_INODE_EXTENDED_SIZE +
					ewz_index_bytes(size);

			it.tail_room = used < EW_BLKSIZE
					       ? (uint32_t)(EW_BLKSIZE - used)
					       : 0;
		}
		ret = make_room(z, it.len, err);
		if (ret)
			break;
		it.in = page_alloc(it.len);
		if (!it.in) {
			ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		ret = ew_read_exact(s, n, it.in, it.len, err);
		if (ret) {
			free(it.in);
			break;
		}
		sd_sha256_update(h, it.in, it.len);
		off += it.len;
		if (it.last) {
			sd_sha256_final(h, it.digest);
			h = NULL;
			struct zdd_slot *slot = dd_find(z, it.digest, size);
			if (slot->owner) {
				it.dup = true;
				it.owner = slot->owner - 1;
				cancel_file(z, n->index);
				it.cancel = true;
				free(it.in);
				it.in = NULL;
			} else {
				memcpy(slot->digest, it.digest, SD_SHA256_LEN);
				slot->size = size;
				slot->owner = n->index + 1;
				if (size > seg)
					sizes_find(z, size, true);
			}
		}
		push(z, &it, !it.cancel);
	}
	sd_stream_close(s);
	sd_sha256_free(h);
	return ret;
}

static bool is_compressed(const struct ew_state *w, const struct sd_node *n)
{
	return w->ino[n->index].layout == EROFS_INODE_COMPRESSED_COMPACT;
}

static int produce_all(struct zpipe *z, struct sd_error *err)
{
	struct ew_state *w = z->w;
	int ret = SD_OK;

	for (size_t i = 0; i < w->count && !ret; i++) {
		const struct sd_node *n = w->nodes[i];

		if (w->interrupted && *w->interrupted)
			return sd_error_set(err, SD_ERR_INTERRUPTED,
					    "interrupted while writing EROFS "
					    "image");
		if (is_compressed(w, n)) {
			ret = produce_file(z, n, err);
		} else if (n->type != SD_NODE_FILE) {
			continue;  /* written with the metadata area */
		} else {
			struct zitem it = { 0 };

			it.kind = IT_NODE;
			it.node = n->index;
			ret = make_room(z, 0, err);
			if (!ret)
				push(z, &it, false);
		}
	}
	while (!ret && z->head != z->tail)
		ret = collect_one(z, err);
	return ret;
}

int ewz_write_nodes(struct ew_state *w, struct sd_error *err)
{
	struct zpipe z = { 0 };
	unsigned jobs = w->jobs ? w->jobs : 1;
	size_t seg = ewz_segment_size(w->zcfg.pcluster);
	int ret;

	z.w = w;
	z.cap = 256 + 16 * (size_t)jobs;
	/* Input bytes read ahead (each segment's output is no larger than
	 * its input plus a block): enough to keep every worker busy while
	 * the collector waits for the oldest, and no more. */
	z.budget = (2 * (size_t)jobs + 2) * seg;
	z.dd_cap = 16;
	while (z.dd_cap < 2 * w->tree->nfiles + 2)
		z.dd_cap *= 2;
	z.ring = calloc(z.cap, sizeof(*z.ring));
	z.dd = calloc(z.dd_cap, sizeof(*z.dd));
	z.sizes = calloc(z.dd_cap, sizeof(*z.sizes));
	z.threads = calloc(jobs, sizeof(*z.threads));
	z.buf = malloc(EW_CHUNK_SIZE);
	if (!z.ring || !z.dd || !z.sizes || !z.threads || !z.buf) {
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	ret = ew_dedup_begin(w, err);
	if (ret)
		goto out;
	pthread_mutex_init(&z.mu, NULL);
	pthread_cond_init(&z.work_cv, NULL);
	pthread_cond_init(&z.done_cv, NULL);
	for (; z.nthreads < jobs; z.nthreads++)
		if (pthread_create(&z.threads[z.nthreads], NULL, worker, &z))
			break;
	if (!z.nthreads)
		ret = sd_error_set(err, SD_ERR_NOMEM, "cannot start "
				   "compression threads");
	else
		ret = produce_all(&z, err);

	pthread_mutex_lock(&z.mu);
	z.stop = true;
	pthread_cond_broadcast(&z.work_cv);
	pthread_mutex_unlock(&z.mu);
	for (unsigned i = 0; i < z.nthreads; i++)
		pthread_join(z.threads[i], NULL);
	for (uint64_t i = z.head; i < z.tail; i++) {
		free(z.ring[i % z.cap].in);
		ewz_seg_free(&z.ring[i % z.cap].out);
	}
	pthread_cond_destroy(&z.done_cv);
	pthread_cond_destroy(&z.work_cv);
	pthread_mutex_destroy(&z.mu);
	ew_dedup_end(w);
out:
	free(z.ring);
	free(z.dd);
	free(z.sizes);
	free(z.threads);
	free(z.buf);
	free(z.cur_pcl);
	free(z.zbuf);
	return ret;
}
