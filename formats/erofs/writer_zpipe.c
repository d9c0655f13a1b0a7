/* SPDX-License-Identifier: MIT */
/*
 * writer_zpipe.c — stage 2 of the EROFS writer for compressed images: the
 * pipeline's ring and threads (see writer_zpipe.h and writer_z.h).
 *
 * The main thread appends items to a bounded ring in tree pre-order (no
 * I/O: an item says what to read), at most z->cap items and z->budget
 * input bytes, (2 jobs + 2) segments of ewz_segment_size() bytes, as
 * before.  Every thread — the jobs - 1 workers and the main thread
 * whenever the oldest item is not done yet — takes the oldest item that
 * can be worked on: a small file or a file's first segment at once, a
 * later segment once the one before it has been read (one stream per
 * file, read in order).  The thread reads the item (opening the file at
 * its first segment, closing it at its last), feeds the file's SHA-256,
 * and compresses it, or takes it from the compression cache (writer_z.h;
 * a single segment's key comes from the file's SHA-256, a segment of a
 * longer file is hashed on its own, on this thread, only with a cache).
 * At a file's last segment of a single-segment file it first checks the
 * content index (writer_zpipe.h, zdd hints): a file an earlier one
 * already had is not compressed.  The main thread collects
 * the oldest item once it is done (writer_zcollect.c), strictly in tree
 * order.  --jobs 1 is one thread doing everything.
 *
 * Errors: a worker's failure stays with its item (message and status)
 * and is reported when the collector reaches it, so the error reported
 * is the first in tree order, whatever the thread count.
 */
#include "formats/erofs/writer_zpipe.h"

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

struct zdd_slot *zdd_find(struct zpipe *z, const uint8_t *digest, uint64_t size)
{
	uint64_t h;

	memcpy(&h, digest, sizeof(h));
	for (size_t i = (size_t)h & (z->dd_cap - 1);;
	     i = (i + 1) & (z->dd_cap - 1)) {
		struct zdd_slot *s = &z->dd[i];

		if ((!s->owner && !s->hint) ||
		    (s->size == size &&
		     !memcmp(s->digest, digest, SD_SHA256_LEN)))
			return s;
	}
}

/* Per thread: a compressor and its scratch. */
struct zctx {
	struct ez_comp *c;
	uint8_t *scratch;
};

/* ---- the work on one item ------------------------------------------ */

/* Keep @err's message with @it (caller holds nothing). */
static void item_fail(struct zitem *it, int ret, const struct sd_error *err)
{
	it->ret = ret;
	it->err = malloc(sizeof(*it->err));
	if (it->err)
		*it->err = *err;
}

/* Read @it's bytes (and a small file's or a single segment's SHA-256). */
static int read_item(struct zpipe *z, struct zitem *it, struct sd_error *err)
{
	struct ew_state *w = z->w;
	const struct sd_node *n = w->nodes[it->node];
	struct zfile *f = it->f;
	struct sd_stream *s = f ? f->s : NULL;
	struct sd_sha256 *h = f ? f->h : NULL;
	size_t alloc = it->kind == IT_SMALL ? (it->len + EW_BLKSIZE - 1) &
						      ~(size_t)(EW_BLKSIZE - 1)
					    : it->len;
	int ret = SD_OK;

	if (f && f->failed)
		return sd_error_set(err, SD_ERR_IO, "earlier read failed");
	/* a small file the caller knows: neither opened nor hashed */
	if (it->kind == IT_SMALL && w->file_content && w->file_digest &&
	    it->len && it->len <= SD_WRITE_CONTENT_MAX) {
		it->in = page_alloc(alloc);
		if (!it->in)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		if (w->file_digest(w->file_digest_ctx, n, it->digest) &&
		    w->file_content(w->file_digest_ctx, n, it->in)) {
			memset(it->in + it->len, 0, alloc - it->len);
			it->known = true;
			return SD_OK;
		}
		free(it->in);
		it->in = NULL;
	}
	if (it->segno == 0) {
		h = sd_sha256_new();
		if (!h)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		ret = sd_tree_open(w->tree, n, &s, err);
	}
	if (!ret) {
		it->in = page_alloc(alloc);
		if (!it->in)
			ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	if (!ret && it->len)
		ret = ew_read_exact(s, n, it->in, it->len, err);
	if (!ret)
		sd_sha256_update(h, it->in, it->len);
	if (ret || it->last || it->kind == IT_SMALL) {
		if (!ret)
			sd_sha256_final(h, it->digest);
		else
			sd_sha256_free(h);
		sd_stream_close(s);
		s = NULL;
		h = NULL;
	}
	if (f) {
		f->s = s;
		f->h = h;
		f->failed = ret != SD_OK;
	}
	return ret;
}

static struct zlook *pick_lookup(struct zpipe *z);
static void run_lookup(struct zpipe *z, struct zlook *l);

/* Wake someone for work that just became possible (z->mu held). */
static void wake_for_work(struct zpipe *z)
{
	if (z->idle)
		pthread_cond_signal(&z->work_cv);
	else if (z->main_waiting)
		pthread_cond_signal(&z->main_cv);
}

/* Whether a single-segment file read by a worker has the content of an
 * earlier file (a hint: the collector decides); records it otherwise
 * (z->mu held). */
static bool seen_before(struct zpipe *z, const struct zitem *it)
{
	uint64_t size = z->w->ino[it->node].size;
	struct zdd_slot *slot = zdd_find(z, it->digest, size);

	if (slot->owner || (slot->hint && slot->hint <= it->node))
		return true;
	if (!slot->hint && !slot->owner) {
		memcpy(slot->digest, it->digest, SD_SHA256_LEN);
		slot->size = size;
	}
	slot->hint = it->node + 1;
	return false;
}

/* Work on @it (z->mu held on entry and exit, released meanwhile). */
static void run_item(struct zpipe *z, struct zitem *it, struct zctx *cx)
{
	const struct ez_config *cfg = &z->w->zcfg;
	struct sd_error err;
	int ret;

	it->state = Q_RUN;
	pthread_mutex_unlock(&z->mu);
	sd_error_init(&err);
	ret = read_item(z, it, &err);
	pthread_mutex_lock(&z->mu);
	if (it->f) {
		it->f->next++; /* the next segment may be read */
		if (!it->last)
			wake_for_work(z);
	}
	if (!ret && it->kind == IT_SEG && !it->f && seen_before(z, it))
		it->skip = true;
	pthread_mutex_unlock(&z->mu);
	if (!ret && it->kind == IT_SEG && !it->skip) {
		const uint8_t *digest = it->digest;

		/* a whole file's digest is its only segment's; a segment
		 * of a longer one is hashed for the cache (kept for the
		 * file entry) */
		if (it->f && z->zc.cc) {
			struct sd_sha256 *h = sd_sha256_new();

			digest = it->sdigest;
			if (h) {
				sd_sha256_update(h, it->in, it->len);
				sd_sha256_final(h, it->sdigest);
			} else {
				digest = NULL;
			}
		} else if (it->f) {
			digest = NULL;
		}
		ret = SD_ERR_NOMEM;
		if (cx->c && cx->scratch)
			ret = ewz_compress_cached(&z->zc, cx->c, cfg,
						  cx->scratch, it->in, it->len,
						  it->la0, it->tail_room,
						  digest, &it->out);
		if (ret)
			sd_error_set(&err, ret,
				     "out of memory while "
				     "compressing");
		if (it->f) { /* only a whole file's input is kept */
			free(it->in);
			it->in = NULL;
		}
	}
	if (ret)
		item_fail(it, ret, &err);
	pthread_mutex_lock(&z->mu);
	it->state = Q_DONE;
	if (z->main_waiting && it == &z->ring[z->head % z->cap])
		pthread_cond_signal(&z->main_cv);
}

/* The oldest item that can be worked on now, or NULL (z->mu held). */
static struct zitem *pick(struct zpipe *z)
{
	if (z->scan < z->head)
		z->scan = z->head;
	while (z->scan < z->tail && z->ring[z->scan % z->cap].state != Q_NEW)
		z->scan++;
	for (uint64_t i = z->scan; i < z->tail; i++) {
		struct zitem *it = &z->ring[i % z->cap];

		if (it->state == Q_NEW && (!it->f || it->f->next == it->segno))
			return it;
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct zpipe *z = arg;
	struct zctx cx = {ez_comp_new(&z->w->zcfg),
			  malloc(z->w->zcfg.pcluster)};

	pthread_mutex_lock(&z->mu);
	while (!z->stop) {
		struct zitem *it = pick(z);
		struct zlook *l = it ? NULL : pick_lookup(z);

		if (l) {
			run_lookup(z, l);
			continue;
		}
		if (!it) {
			z->idle++;
			pthread_cond_wait(&z->work_cv, &z->mu);
			z->idle--;
			continue;
		}
		run_item(z, it, &cx);
	}
	pthread_mutex_unlock(&z->mu);
	ez_comp_free(cx.c);
	free(cx.scratch);
	return NULL;
}

/* ---- the producer (main thread, z->mu held) ------------------------ */

static bool is_compressed(const struct ew_state *w, size_t i)
{
	return w->ino[i].layout == EROFS_INODE_COMPRESSED_COMPACT;
}

/* Append @it; @work: it needs a thread. */
static void push(struct zpipe *z, const struct zitem *it, bool work)
{
	struct zitem *slot = &z->ring[z->tail % z->cap];

	*slot = *it;
	slot->state = work ? Q_NEW : Q_DONE;
	z->inflight += it->len;
	z->tail++;
	if (work)
		wake_for_work(z);
}

/* Whether an item of @len input bytes fits into the ring now. */
static bool room_for(const struct zpipe *z, size_t len)
{
	return z->tail - z->head < z->cap &&
	       (z->tail == z->head || z->inflight + len <= z->budget);
}

uint32_t zpipe_tail_room(const struct ew_state *w, uint64_t size)
{
	/* an inline pcluster must fit in the inode's block with the
	 * indexes (inode of up to 64 bytes) */
	uint64_t used = EROFS_INODE_EXTENDED_SIZE + ewz_index_bytes(size);

	if (!w->ztail)
		return 0;
	return used < EW_BLKSIZE ? (uint32_t)(EW_BLKSIZE - used) : 0;
}

static void free_segs(struct ewz_seg *segs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ewz_seg_free(&segs[i]);
	free(segs);
}

/*
 * Whether compressed file @i can be written from the cache without
 * reading it (writer_z.h): its digest known before any read, its file
 * entry valid, every segment's entry there and valid.  Then @it is its
 * IT_CACHED item with the segments (it->len: their blocks' bytes).
 * Called with z->mu held; released for the cache's I/O.
 */
static bool from_cache(struct zpipe *z, size_t i, struct zitem *it)
{
	struct ew_state *w = z->w;
	uint64_t size = w->ino[i].size;
	size_t seg = ewz_segment_size(w->zcfg.pcluster);
	size_t n = (size_t)((size + seg - 1) / seg), got = 0, bytes = 0;
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	struct ewz_fseg *fs = NULL;
	struct ewz_seg *segs = NULL;
	void *val = NULL;
	size_t vlen;
	bool ok = false;

	memset(it, 0, sizeof(*it));
	if (!z->zc.cc || !w->file_digest || !size ||
	    !sd_compcache_enabled(z->zc.cc))
		return false;
	pthread_mutex_unlock(&z->mu);
	if (!w->file_digest(w->file_digest_ctx, w->nodes[i], it->digest))
		goto out;
	fs = malloc(n * sizeof(*fs));
	segs = calloc(n, sizeof(*segs));
	if (!fs || !segs)
		goto out;
	if (n == 1) { /* no file entry: the segment is the whole file */
		memcpy(fs[0].digest, it->digest, SD_SHA256_LEN);
		fs[0].len = (uint32_t)size;
		fs[0].tail_room = zpipe_tail_room(w, size);
	} else if (ewz_file_key(z->zc.fparams, size, it->digest, key, NULL) ||
		   !sd_compcache_get(z->zc.cc, key, &val, &vlen) ||
		   !ewz_file_decode(val, vlen, size, it->digest,
				    w->zcfg.pcluster, zpipe_tail_room(w, size),
				    fs, n)) {
		goto out;
	}
	for (; got < n; got++) {
		void *sv;
		size_t slen;

		if (ewz_cache_key(z->zc.params, fs[got].len, fs[got].tail_room,
				  fs[got].digest, key, NULL) ||
		    !sd_compcache_get(z->zc.cc, key, &sv, &slen))
			goto out;
		if (!ewz_seg_decode(sv, slen, fs[got].len, fs[got].tail_room,
				    (uint64_t)got * seg, w->zcfg.pcluster,
				    &segs[got])) {
			free(sv);
			goto out;
		}
		bytes += (size_t)segs[got].nblocks * EW_BLKSIZE;
	}
	ok = true;
	it->kind = IT_CACHED;
	it->node = (uint32_t)i;
	it->last = true;
	it->segs = segs;
	it->nsegs = n;
	it->len = bytes;
	segs = NULL;
out:
	if (segs)
		free_segs(segs, got);
	free(fs);
	free(val);
	pthread_mutex_lock(&z->mu);
	return ok;
}

/* ---- lookups ahead of the producer (z->mu held) -------------------- */

/* Whether node @i is looked up in the cache before it is read: a
 * compressed file that is not a duplicate known in advance (@pgrp: a
 * cursor into z->grp, advanced; top_up asks the same question). */
static bool lookup_candidate(struct zpipe *z, size_t i, size_t *pgrp)
{
	if (!is_compressed(z->w, i))
		return false;
	while (*pgrp < z->ngrp && z->grp[*pgrp].node < i)
		(*pgrp)++;
	return !(*pgrp < z->ngrp && z->grp[*pgrp].node == i &&
		 z->grp[*pgrp].owner);
}

/* Queue lookups for the next candidates while the lookup ring has room
 * and its done hits hold less than the ring's input budget. */
static void queue_lookups(struct zpipe *z)
{
	while (z->lk_tail - z->lk_head < z->lk_cap && z->lk_bytes < z->budget &&
	       z->lk_next < z->w->count) {
		size_t i = z->lk_next++;
		struct zlook *l;

		if (!lookup_candidate(z, i, &z->lk_pgrp))
			continue;
		l = &z->lk[z->lk_tail++ % z->lk_cap];
		memset(l, 0, sizeof(*l));
		l->node = (uint32_t)i;
		l->state = Q_NEW;
		wake_for_work(z);
	}
}

/* The oldest lookup nobody has started, or NULL. */
static struct zlook *pick_lookup(struct zpipe *z)
{
	for (uint64_t k = z->lk_head; k < z->lk_tail; k++) {
		struct zlook *l = &z->lk[k % z->lk_cap];

		if (l->state == Q_NEW)
			return l;
	}
	return NULL;
}

/* Do lookup @l (released meanwhile; its slot stays until taken). */
static void run_lookup(struct zpipe *z, struct zlook *l)
{
	l->state = Q_RUN;
	l->hit = from_cache(z, l->node, &l->item);
	l->state = Q_DONE;
	if (l->hit)
		z->lk_bytes += l->item.len;
	if (z->main_waiting)
		pthread_cond_signal(&z->main_cv);
}

/* Compressed file @i's lookup result: true and its IT_CACHED item in
 * @it on a hit.  Waits for a lookup another thread is doing, does it
 * itself when nobody has started it. */
static bool lookup_take(struct zpipe *z, size_t i, struct zitem *it)
{
	if (!z->lk)
		return from_cache(z, i, it);
	for (;;) {
		struct zlook *l;

		queue_lookups(z);
		if (z->lk_head == z->lk_tail)
			return from_cache(z, i, it); /* not a candidate */
		l = &z->lk[z->lk_head % z->lk_cap];
		if (l->node > i)
			return from_cache(z, i, it); /* not a candidate */
		if (l->state == Q_NEW) {
			run_lookup(z, l);
		} else if (l->state == Q_RUN) {
			/* help with a later one rather than wait */
			struct zlook *other = pick_lookup(z);

			if (other) {
				run_lookup(z, other);
				continue;
			}
			z->main_waiting = true;
			pthread_cond_wait(&z->main_cv, &z->mu);
			z->main_waiting = false;
			continue;
		}
		/* done: an older node's result is dropped (none is expected:
		 * the producer asks for every candidate, in order) */
		bool hit = l->hit && l->node == i;

		if (l->hit) {
			z->lk_bytes -= l->item.len;
			if (hit)
				*it = l->item;
			else
				free_segs(l->item.segs, l->item.nsegs);
		}
		z->lk_head++;
		if (l->node < i)
			continue;
		queue_lookups(z);
		return hit;
	}
}

/* The cache lookup of file @i into z->pending, once per file: a file
 * that missed is being appended segment by segment (the ring may fill
 * before its first one fits). */
static bool from_cache_once(struct zpipe *z, size_t i)
{
	if (z->looked == i + 1)
		return false;
	z->looked = i + 1;
	return lookup_take(z, i, &z->pending);
}

/* The next segment of the compressed file z->pnode, if it fits. */
static int push_segment(struct zpipe *z, bool *full, struct sd_error *err)
{
	struct ew_state *w = z->w;
	uint64_t size = w->ino[z->pnode].size;
	size_t seg = ewz_segment_size(w->zcfg.pcluster);
	struct zitem it = {0};

	it.kind = IT_SEG;
	it.node = (uint32_t)z->pnode;
	it.la0 = z->poff;
	it.segno = z->pseg;
	it.len = size - z->poff < seg ? (size_t)(size - z->poff) : seg;
	it.last = z->poff + it.len == size;
	if (!room_for(z, it.len)) {
		*full = true;
		return SD_OK;
	}
	if (it.last)
		it.tail_room = zpipe_tail_room(w, size);
	if (z->pseg == 0 && !it.last) {
		z->pfile = calloc(1, sizeof(*z->pfile));
		if (!z->pfile)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	it.f = z->pfile;
	push(z, &it, true);
	z->poff += it.len;
	z->pseg++;
	if (it.last) {
		z->pnode++;
		z->poff = 0;
		z->pseg = 0;
		z->pfile = NULL;
	}
	return SD_OK;
}

/* Append items while they fit; SD_ERR_INTERRUPTED (polled per file). */
static int top_up(struct zpipe *z, struct sd_error *err)
{
	struct ew_state *w = z->w;
	bool full = false;

	while (!full && z->pnode < w->count) {
		size_t i = z->pnode;
		const struct sd_node *n = w->nodes[i];
		struct zitem it = {0};

		if (z->poff == 0 && w->interrupted && *w->interrupted)
			return sd_error_set(err, SD_ERR_INTERRUPTED,
					    "interrupted while writing EROFS "
					    "image");
		if (z->has_pending) { /* file z->pnode, from the cache */
			if (!room_for(z, z->pending.len))
				break;
			push(z, &z->pending, false);
			z->has_pending = false;
			z->pnode++;
			continue;
		}
		if (!is_compressed(w, i) && n->type != SD_NODE_FILE) {
			z->pnode++; /* written with the metadata area */
			continue;
		}
		while (z->pgrp < z->ngrp && z->grp[z->pgrp].node < i)
			z->pgrp++;
		if (is_compressed(w, i) && z->pgrp < z->ngrp &&
		    z->grp[z->pgrp].node == i && z->grp[z->pgrp].owner) {
			it.kind = IT_DUP;
			it.last = true;
			it.owner = z->grp[z->pgrp].owner;
			memcpy(it.digest, z->grp[z->pgrp].digest,
			       SD_SHA256_LEN);
		} else if (is_compressed(w, i) && z->poff == 0 &&
			   from_cache_once(z, i)) {
			z->has_pending = true;
			continue;
		} else if (is_compressed(w, i)) {
			int ret = push_segment(z, &full, err);

			if (ret)
				return ret;
			continue;
		} else {
			it.kind = IT_SMALL;
			it.len = (size_t)w->ino[i].size;
			it.last = true;
		}
		it.node = (uint32_t)i;
		if (!room_for(z, it.len))
			break;
		push(z, &it, it.kind != IT_DUP);
		z->pnode++;
	}
	return SD_OK;
}

/* Drop the collected head item (z->mu held). */
static void drop_head(struct zpipe *z)
{
	struct zitem *it = &z->ring[z->head % z->cap];

	if (it->f && it->last) {
		sd_stream_close(it->f->s);
		sd_sha256_free(it->f->h);
		free(it->f);
	}
	free(it->in);
	free(it->err);
	ewz_seg_free(&it->out);
	free_segs(it->segs, it->nsegs);
	z->inflight -= it->len;
	memset(it, 0, sizeof(*it));
	z->head++;
}

/* The main thread: produce, help, collect in order. */
static int run_main(struct zpipe *z, struct zctx *cx, struct sd_error *err)
{
	int ret = SD_OK;

	pthread_mutex_lock(&z->mu);
	for (;;) {
		struct zitem *it;

		ret = top_up(z, err);
		if (ret || z->head == z->tail)
			break;
		it = &z->ring[z->head % z->cap];
		if (it->state == Q_DONE) {
			pthread_mutex_unlock(&z->mu);
			ret = zcollect_item(z, it, err);
			pthread_mutex_lock(&z->mu);
			if (ret)
				break;
			drop_head(z);
			continue;
		}
		it = pick(z);
		if (it) {
			run_item(z, it, cx);
			continue;
		}
		struct zlook *l = pick_lookup(z);

		if (l) {
			run_lookup(z, l);
			continue;
		}
		z->main_waiting = true;
		pthread_cond_wait(&z->main_cv, &z->mu);
		z->main_waiting = false;
	}
	pthread_mutex_unlock(&z->mu);
	return ret;
}

/* Stop the workers and free what the ring still holds. */
static void shut_down(struct zpipe *z)
{
	pthread_mutex_lock(&z->mu);
	z->stop = true;
	pthread_cond_broadcast(&z->work_cv);
	pthread_mutex_unlock(&z->mu);
	for (unsigned i = 0; i < z->nthreads; i++)
		pthread_join(z->threads[i], NULL);
	/* a multi-segment file's state goes with its last segment, or with
	 * the producer when that was never appended */
	while (z->head != z->tail)
		drop_head(z);
	if (z->pfile) {
		sd_stream_close(z->pfile->s);
		sd_sha256_free(z->pfile->h);
		free(z->pfile);
	}
	if (z->has_pending)
		free_segs(z->pending.segs, z->pending.nsegs);
	for (; z->lk_head < z->lk_tail; z->lk_head++) {
		struct zlook *l = &z->lk[z->lk_head % z->lk_cap];

		if (l->hit)
			free_segs(l->item.segs, l->item.nsegs);
	}
}

int ewz_write_nodes(struct ew_state *w, struct sd_error *err)
{
	struct zpipe z = {0};
	unsigned jobs = w->jobs ? w->jobs : 1;
	size_t seg = ewz_segment_size(w->zcfg.pcluster);
	struct zctx cx = {0};
	int ret;

	z.w = w;
	z.cap = 256 + 16 * (size_t)jobs;
	/* Input bytes read ahead (each segment's output is no larger than
	 * its input plus a block): enough to keep every thread busy while
	 * the collector waits for the oldest, and no more. */
	z.budget = (2 * (size_t)jobs + 2) * seg;
	z.dd_cap = 16;
	while (z.dd_cap < 2 * w->tree->nfiles + 2)
		z.dd_cap *= 2;
	z.ring = calloc(z.cap, sizeof(*z.ring));
	z.dd = calloc(z.dd_cap, sizeof(*z.dd));
	z.threads = calloc(jobs, sizeof(*z.threads));
	z.buf = malloc(EW_CHUNK_SIZE);
	cx.c = ez_comp_new(&w->zcfg);
	cx.scratch = malloc(w->zcfg.pcluster);
	if (!z.ring || !z.dd || !z.threads || !z.buf || !cx.c || !cx.scratch) {
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	ewz_cache_init(&z.zc, w->cache, &w->zcfg, w->ztail);
	if (z.zc.cc && w->file_digest) {
		/* enough lookups ahead to keep every thread busy */
		z.lk_cap = 4 * (size_t)jobs + 4;
		z.lk = calloc(z.lk_cap, sizeof(*z.lk));
		if (!z.lk) {
			ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	ret = zgroup_prehash(&z, err);
	if (!ret)
		ret = ew_dedup_begin(w, err);
	if (ret)
		goto out;
	pthread_mutex_init(&z.mu, NULL);
	pthread_cond_init(&z.work_cv, NULL);
	pthread_cond_init(&z.main_cv, NULL);
	/* the main thread is one of the jobs */
	for (; z.nthreads + 1 < jobs; z.nthreads++)
		if (pthread_create(&z.threads[z.nthreads], NULL, worker, &z))
			break;
	ret = run_main(&z, &cx, err);
	shut_down(&z);
	pthread_cond_destroy(&z.main_cv);
	pthread_cond_destroy(&z.work_cv);
	pthread_mutex_destroy(&z.mu);
	ew_dedup_end(w);
out:
	ez_comp_free(cx.c);
	free(cx.scratch);
	ez_comp_free(z.mcomp);
	free(z.mscratch);
	free(z.ring);
	free(z.lk);
	free(z.dd);
	free(z.grp);
	free(z.threads);
	free(z.buf);
	free(z.cur_pcl);
	free(z.cur_fs);
	free(z.zbuf);
	return ret;
}
