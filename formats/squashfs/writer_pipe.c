/* SPDX-License-Identifier: MIT */
/*
 * writer_pipe.c — the SquashFS writer's data pipeline (see writer_pipe.h).
 *
 * One mutex guards the scheduling state.  A worker, holding it, takes the
 * first runnable task in this order of preference:
 *   1. compress a fragment block the caller submitted (the caller's
 *      writes wait for it);
 *   2. read the next item of the earliest open file nobody is reading,
 *      if that item's ring slot is free (then, unlocked, it also tests
 *      and compresses what it read);
 *   3. if the next files are under one block each, open, read and test
 *      a run of them (see run_small());
 *   4. else open the next file, if a file slot is free.
 * The ring holds RING items; the caller releases them as it writes, which
 * moves the window.  Item @seq lives in slot seq % RING.  A slot's "done"
 * field turns to its item's number (a release store) once the item is
 * ready, so the caller finds a ready item without the lock; it publishes
 * what it released (the window's start, "low") under the lock in batches.
 *
 * The caller runs the same tasks (as workers[0], with its own compressor)
 * while the item it waits for is not ready, and sleeps only when no task
 * is runnable; new work wakes an idle worker, else the sleeping caller.
 */
#include "formats/squashfs/writer_pipe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqfs/compressor.h>

#include "core/stream.h"
#include "formats/squashfs/sqfserr.h"

/* Upper bound of the ring's buffer bytes (2 block buffers an item). */
#define RING_BYTES (48u * 1024 * 1024)

struct pfile {
	bool used, busy;
	size_t rank; /* among FILE nodes */
	struct sd_node *node;
	struct sd_stream *s;
	uint64_t base;         /* sequence number of its first item */
	uint32_t nitems, next; /* items; the next one to read */
	uint32_t nfull, tail;  /* full blocks; bytes in the tail */
	bool hit;              /* items come from h, not from s */
	struct sd_sqfs_fhit h;
	uint8_t known_sha[SD_SHA256_LEN]; /* known_small's digest */
};

struct worker {
	struct sd_sqfs_pipe *p;
	sqfs_compressor_t *cmp;
	unsigned char *vbuf;   /* a cache value being put (with a cache) */
	struct sd_dircache dc; /* the directory of the last file it opened */
	pthread_t th;
	bool started;
};

struct sd_sqfs_pipe {
	struct sd_sqfs_wstate *w;
	uint32_t bs;

	/* the FILE nodes in index order and where their items start */
	struct sd_node **files;
	uint64_t *base;
	size_t nfiles;
	uint64_t total;

	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* workers wait here */
	pthread_cond_t cons_cv; /* the caller waits here */
	unsigned nidle;         /* workers waiting on work_cv */
	bool caller_idle;       /* the caller waits on cons_cv */

	struct sd_sqfs_item *ring;
	bool *released; /* the caller's only */
	size_t nring;
	uint64_t low;  /* oldest item the workers may not reuse */
	uint64_t clow; /* the caller's: oldest unreleased item */

	struct pfile *open;
	size_t nopen;
	size_t next_file; /* next rank to open */

	struct sd_sqfs_fblk *fq_head, *fq_tail;

	uint64_t want; /* item the caller waits for */
	const struct sd_sqfs_fblk *want_fb;

	bool stop;        /* workers exit */
	bool failed;      /* also read unlocked (atomic) */
	size_t fail_rank; /* first failing file */
	struct sd_error fail_err;

	struct worker *workers; /* [0] is the caller's, the rest threads */
	unsigned nworkers;      /* jobs */
};

static int item_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what,
		      const char *detail)
{
	char path[512];

	sd_node_path(node, path, sizeof(path));
	return sd_error_set(err, code, "%s: %s: %s", path, what, detail);
}

static void wake_caller(struct sd_sqfs_pipe *p)
{
	pthread_cond_signal(&p->cons_cv);
}

/* New work: wake an idle worker, else the caller if it waits idle. */
static void wake_worker(struct sd_sqfs_pipe *p)
{
	if (p->nidle)
		pthread_cond_signal(&p->work_cv);
	else if (p->caller_idle)
		pthread_cond_signal(&p->cons_cv);
}

/* Record a failure of file @rank (locked); the smallest rank wins. */
static void fail_locked(struct sd_sqfs_pipe *p, size_t rank,
			const struct sd_error *err)
{
	if (!p->failed || rank < p->fail_rank) {
		p->fail_rank = rank;
		p->fail_err = *err;
		__atomic_store_n(&p->failed, true, __ATOMIC_RELEASE);
	}
	pthread_cond_broadcast(&p->cons_cv);
}

static size_t rank_of(const struct sd_sqfs_pipe *p, uint64_t seq);

/* ---- reading one item (file slot held busy, mutex not held) ---------- */

static int check_eof(struct pfile *f, struct sd_error *err)
{
	unsigned char byte;
	size_t got = 0;
	int ret = sd_stream_read(f->s, &byte, 1, &got, err);

	if (ret)
		return ret;
	if (got != 0) {
		char detail[96];

		if (f->node->size == 0)
			snprintf(detail, sizeof(detail), "empty file grew");
		else
			snprintf(detail, sizeof(detail),
				 "more than the expected %llu bytes",
				 (unsigned long long)f->node->size);
		return item_error(err, SD_ERR_IO, f->node,
				  "content changed while reading", detail);
	}
	return SD_OK;
}

static int read_bytes(struct pfile *f, unsigned char *buf, uint32_t len,
		      uint64_t done, struct sd_error *err)
{
	size_t got = 0;
	int ret = sd_stream_read_full(f->s, buf, len, &got, err);

	if (ret)
		return ret;
	if (got != len) {
		char detail[96];

		snprintf(detail, sizeof(detail), "%llu of %llu bytes",
			 (unsigned long long)(done + got),
			 (unsigned long long)f->node->size);
		return item_error(err, SD_ERR_IO, f->node,
				  "content ended early", detail);
	}
	return SD_OK;
}

/* Item number f->next of file @f, every field but its kind and content
 * reset; @from_cache: made from a cache hit, not a read. */
static void item_start(const struct pfile *f, struct sd_sqfs_item *it,
		       bool from_cache)
{
	it->node = f->node;
	it->block = f->next;
	it->last = f->next + 1 == f->nitems;
	it->sparse = false;
	it->compressed = false;
	it->in_size = 0;
	it->size = 0;
	it->hash = 0;
	it->bytes = NULL;
	it->has_sha = false;
	it->from_cache = from_cache;
}

/* Fill @it, item number f->next of file @f. */
static int read_item(struct sd_sqfs_pipe *p, struct pfile *f,
		     struct sd_sqfs_item *it, struct sd_error *err)
{
	uint32_t k = f->next;
	int ret = SD_OK;

	item_start(f, it, false);
	if (f->node->size == 0) {
		it->kind = SD_SQI_EMPTY;
		return check_eof(f, err);
	}
	if (k < f->nfull) {
		it->kind = SD_SQI_DATA;
		it->in_size = p->bs;
		return read_bytes(f, it->data, p->bs, (uint64_t)k * p->bs, err);
	}
	if (k == f->nfull && f->nfull > 0) {
		/* the sentinel: the file's blocks end here */
		it->kind = SD_SQI_SENTINEL;
		it->block = k;
		return f->tail == 0 ? check_eof(f, err) : SD_OK;
	}
	it->kind = SD_SQI_TAIL;
	it->block = f->nfull;
	it->in_size = f->tail;
	ret = read_bytes(f, it->data, f->tail, (uint64_t)f->nfull * p->bs, err);
	if (!ret)
		ret = check_eof(f, err);
	return ret;
}

static bool all_zero(const unsigned char *b, size_t n)
{
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, b + i, 8);
		acc |= v;
		if (acc)
			return false;
	}
	for (; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* The SHA-256 of @len bytes at @data into @out; false without memory. */
static bool sha_of(const unsigned char *data, uint32_t len,
		   uint8_t out[SD_SHA256_LEN])
{
	struct sd_sha256 *h = sd_sha256_new();

	if (!h)
		return false;
	sd_sha256_update(h, data, len);
	sd_sha256_final(h, out);
	return true;
}

/* Compress a DATA item's block, through the cache if there is one. */
static sqfs_s32 compress_block(struct worker *wk, struct sd_sqfs_item *it)
{
	const struct sd_sqfs_cache *cache = &wk->p->w->cache;
	uint8_t sha[SD_SHA256_LEN], desc[SD_SHA256_LEN];

	/* without memory for a digest, without the cache */
	if (!sd_sqfs_cache_on(cache) || !sha_of(it->data, it->in_size, sha) ||
	    !sd_sqfs_cache_block_desc(it->in_size, sha, desc))
		return wk->cmp->do_block(wk->cmp, it->data, it->in_size,
					 it->out, wk->p->bs);
	memcpy(it->sha, sha, SD_SHA256_LEN);
	it->has_sha = true;
	return sd_sqfs_cache_do_block(cache, SD_SQFS_UNIT_BLOCK, desc, wk->cmp,
				      it->data, it->in_size, it->out, wk->vbuf);
}

/* Test and compress a read item (mutex not held). */
static int finish_item(struct worker *wk, struct sd_sqfs_item *it,
		       struct sd_error *err)
{
	sqfs_s32 ret;

	if (it->from_cache ||
	    (it->kind != SD_SQI_DATA && it->kind != SD_SQI_TAIL))
		return SD_OK;
	if (all_zero(it->data, it->in_size)) {
		it->sparse = true;
		return SD_OK;
	}
	if (it->kind == SD_SQI_TAIL) {
		it->bytes = it->data;
		it->hash = XXH3_64bits(it->data, it->in_size);
		if (sd_sqfs_cache_on(&wk->p->w->cache))
			it->has_sha = sha_of(it->data, it->in_size, it->sha);
		return SD_OK;
	}
	ret = compress_block(wk, it);
	if (ret < 0)
		return item_error(err, sd_sqfs_write_status(ret), it->node,
				  "cannot compress file data",
				  sd_sqfs_strerror(ret));
	if (ret > 0) {
		it->compressed = true;
		it->size = (uint32_t)ret;
		it->bytes = it->out;
	} else {
		it->size = it->in_size;
		it->bytes = it->data;
	}
	it->hash = XXH3_64bits(it->bytes, it->size);
	return SD_OK;
}

/* ---- items from the cache (writer_cache.h, file entries) ------------- */

/*
 * Can file @node be written from the cache?  Then *@h holds its entries.
 * Its digest must be known before it is opened (the stat cache's).
 */
static bool lookup_file(struct sd_sqfs_pipe *p, const struct sd_node *node,
			struct sd_sqfs_fhit *h)
{
	const struct sd_sqfs_wstate *w = p->w;
	uint8_t sha[SD_SHA256_LEN];

	return w->file_digest && sd_sqfs_cache_on(&w->cache) &&
	       w->file_digest(w->file_digest_ctx, node, sha) &&
	       sd_sqfs_cache_file_get(&w->cache, node->size, sha, h);
}

/*
 * Is file @node (shorter than a block) known to the caller with its
 * content (sd_write_options.file_content, the stat cache's record of a
 * small file)?  Then its tail is that content and its digest the
 * file's, so f->h is made of them, pointing at @buf (at least
 * SD_WRITE_CONTENT_MAX bytes), without a file entry; an empty file needs
 * only its digest known.
 */
static bool known_small(struct sd_sqfs_pipe *p, const struct sd_node *node,
			struct pfile *f, unsigned char *buf)
{
	const struct sd_sqfs_wstate *w = p->w;
	uint8_t *sha = f->known_sha;

	if (!w->file_content || !w->file_digest || node->size >= p->bs ||
	    node->size > SD_WRITE_CONTENT_MAX ||
	    !w->file_digest(w->file_digest_ctx, node, sha) ||
	    (node->size && !w->file_content(w->file_digest_ctx, node, buf)))
		return false;
	memset(&f->h, 0, sizeof(f->h));
	f->h.tail = (uint32_t)node->size;
	f->h.tail_bytes = buf;
	/* an all-zero tail is sparse: no digest, as finish_item decides */
	f->h.tail_sha = all_zero(buf, (size_t)node->size) ? NULL : sha;
	return true;
}

/* Fill @it, item number f->next of file @f, from f->h: what read_item
 * and finish_item give for the same content. */
static void cached_item(struct sd_sqfs_pipe *p, struct pfile *f,
			struct sd_sqfs_item *it)
{
	uint32_t k = f->next;
	const struct sd_sqfs_hblock *b;

	item_start(f, it, true);
	if (f->node->size == 0) {
		it->kind = SD_SQI_EMPTY;
		return;
	}
	if (k < f->nfull) {
		b = &f->h.blocks[k];
		it->kind = SD_SQI_DATA;
		it->in_size = p->bs;
		if (b->sparse) {
			it->sparse = true;
			return;
		}
		it->compressed = b->compressed;
		it->size = b->stored;
		memcpy(b->compressed ? it->out : it->data, b->data, b->stored);
		it->bytes = b->compressed ? it->out : it->data;
		it->hash = XXH3_64bits(it->bytes, it->size);
		return;
	}
	if (k == f->nfull && f->nfull > 0) {
		it->kind = SD_SQI_SENTINEL;
		return;
	}
	it->kind = SD_SQI_TAIL;
	it->block = f->nfull;
	it->in_size = f->tail;
	if (!f->h.tail_sha) {
		it->sparse = true;
		return;
	}
	memcpy(it->data, f->h.tail_bytes, f->tail);
	it->bytes = it->data;
	it->hash = XXH3_64bits(it->data, f->tail);
	memcpy(it->sha, f->h.tail_sha, SD_SHA256_LEN);
	it->has_sha = true;
}

/* ---- tasks (mutex held on entry and exit) ---------------------------- */

static void run_compress(struct worker *wk, struct sd_sqfs_fblk *fb)
{
	struct sd_sqfs_pipe *p = wk->p;
	sqfs_s32 ret;

	pthread_mutex_unlock(&p->mu);
	if (fb->cached)
		ret = sd_sqfs_cache_do_block(&p->w->cache,
					     SD_SQFS_UNIT_FRAGMENT,
					     fb->desc_sha, wk->cmp, fb->data,
					     fb->size, fb->out, wk->vbuf);
	else
		ret = wk->cmp->do_block(wk->cmp, fb->data, fb->size, fb->out,
					p->bs);
	if (ret > 0) {
		fb->compressed = true;
		fb->stored = (uint32_t)ret;
		fb->hash = XXH3_64bits(fb->out, fb->stored);
	} else {
		fb->compressed = false;
		fb->stored = fb->size;
		fb->hash = XXH3_64bits(fb->data, fb->size);
	}
	pthread_mutex_lock(&p->mu);
	if (ret < 0) {
		struct sd_error e;

		sd_error_init(&e);
		sd_error_set(&e, sd_sqfs_write_status(ret),
			     "cannot compress fragment block: %s",
			     sd_sqfs_strerror(ret));
		/* blocks every later wait */
		fail_locked(p, 0, &e);
	}
	fb->busy = false;
	if (p->want_fb == fb)
		wake_caller(p);
}

static void close_file(struct sd_sqfs_pipe *p, struct pfile *f)
{
	sd_stream_close(f->s);
	f->s = NULL;
	sd_sqfs_fhit_release(&f->h);
	f->hit = false;
	f->used = false;
	f->busy = false;
	p->nopen--;
}

static void run_read(struct worker *wk, struct pfile *f)
{
	struct sd_sqfs_pipe *p = wk->p;
	uint64_t seq = f->base + f->next;
	struct sd_sqfs_item *it = &p->ring[seq % p->nring];
	struct sd_error e;
	int ret = SD_OK;

	f->busy = true;
	pthread_mutex_unlock(&p->mu);

	sd_error_init(&e);
	if (f->hit)
		cached_item(p, f, it);
	else
		ret = read_item(p, f, it, &e);

	pthread_mutex_lock(&p->mu);
	if (ret) {
		fail_locked(p, f->rank, &e);
		close_file(p, f);
		return;
	}
	f->next++;
	if (it->last)
		close_file(p, f);
	else
		f->busy = false;
	wake_worker(p);
	pthread_mutex_unlock(&p->mu);

	ret = finish_item(wk, it, &e);

	pthread_mutex_lock(&p->mu);
	if (ret) {
		fail_locked(p, rank_of(p, seq), &e);
		return;
	}
	__atomic_store_n(&it->done, seq, __ATOMIC_RELEASE);
	if (p->want == seq)
		wake_caller(p);
}

static void run_open(struct worker *wk, struct pfile *f)
{
	struct sd_sqfs_pipe *p = wk->p;
	size_t rank = p->next_file++;
	struct sd_node *node = p->files[rank];
	uint32_t bs = p->bs;
	struct sd_error e;
	int ret;

	memset(f, 0, sizeof(*f));
	f->used = true;
	f->busy = true;
	f->rank = rank;
	f->node = node;
	f->base = p->base[rank];
	f->nfull = (uint32_t)(node->size / bs);
	f->tail = (uint32_t)(node->size % bs);
	f->nitems = (uint32_t)(p->base[rank + 1] - p->base[rank]);
	p->nopen++;
	pthread_mutex_unlock(&p->mu);

	sd_error_init(&e);
	f->hit = lookup_file(p, node, &f->h);
	ret = f->hit ? SD_OK
		     : sd_tree_open_near(p->w->tree, node, &wk->dc, &f->s, &e);

	pthread_mutex_lock(&p->mu);
	if (ret) {
		fail_locked(p, rank, &e);
		close_file(p, f);
		return;
	}
	f->busy = false;
}

/*
 * Files under one block are one item each (EMPTY or TAIL): a run of them,
 * next in order, up to a quarter of the ring (so that the other threads
 * find work too), is claimed under one lock and opened, read, tested and
 * closed in one go, so many small files cost two lock round trips, not
 * six each.
 */
static bool small_next(const struct sd_sqfs_pipe *p)
{
	size_t r = p->next_file;

	return r < p->nfiles && p->files[r]->size < p->bs &&
	       p->base[r] < p->low + p->nring &&
	       !(p->failed && r >= p->fail_rank);
}

/* Open, read and test small file @rank into its item (mutex not held). */
static int read_small(struct worker *wk, size_t rank, struct sd_error *err)
{
	struct sd_sqfs_pipe *p = wk->p;
	struct sd_node *node = p->files[rank];
	struct sd_sqfs_item *it = &p->ring[p->base[rank] % p->nring];
	struct pfile f = {
		.used = true,
		.busy = true,
		.rank = rank,
		.node = node,
		.base = p->base[rank],
		.nitems = 1,
		.tail = (uint32_t)node->size,
	};
	unsigned char buf[SD_WRITE_CONTENT_MAX];
	int ret;

	if (known_small(p, node, &f, buf)) {
		cached_item(p, &f, it);
		return SD_OK;
	}
	if (lookup_file(p, node, &f.h)) {
		cached_item(p, &f, it);
		sd_sqfs_fhit_release(&f.h);
		return SD_OK;
	}
	ret = sd_tree_open_near(p->w->tree, node, &wk->dc, &f.s, err);
	if (ret)
		return ret;
	ret = read_item(p, &f, it, err);
	sd_stream_close(f.s);
	if (!ret)
		ret = finish_item(wk, it, err);
	return ret;
}

static void run_small(struct worker *wk)
{
	struct sd_sqfs_pipe *p = wk->p;
	size_t first = p->next_file, n = 0, i;
	size_t run = p->nring / 4 ? p->nring / 4 : 1;
	bool failed = false;
	struct sd_error e;

	while (n < run && small_next(p)) {
		p->next_file++;
		n++;
	}
	pthread_mutex_unlock(&p->mu);

	/* stop at the first failure: the caller reports it */
	for (i = 0; i < n; i++) {
		sd_error_init(&e);
		if (read_small(wk, first + i, &e) != SD_OK) {
			failed = true;
			break;
		}
	}

	pthread_mutex_lock(&p->mu);
	for (size_t k = 0; k < i; k++) {
		uint64_t seq = p->base[first + k];
		struct sd_sqfs_item *it = &p->ring[seq % p->nring];

		__atomic_store_n(&it->done, seq, __ATOMIC_RELEASE);
		if (p->want == seq)
			wake_caller(p);
	}
	if (failed)
		fail_locked(p, first + i, &e);
}

/* The earliest open file whose next item can be read now, or NULL. */
static struct pfile *readable(struct sd_sqfs_pipe *p, size_t nslots)
{
	struct pfile *best = NULL;

	for (size_t i = 0; i < nslots; i++) {
		struct pfile *f = &p->open[i];
		uint64_t seq;

		if (!f->used || f->busy ||
		    (p->failed && f->rank > p->fail_rank))
			continue;
		seq = f->base + f->next;
		if (seq >= p->low + p->nring)
			continue;
		if (!best || f->base < best->base)
			best = f;
	}
	return best;
}

static struct pfile *free_file_slot(struct sd_sqfs_pipe *p, size_t nslots)
{
	if (p->next_file >= p->nfiles)
		return NULL;
	if (p->failed && p->next_file >= p->fail_rank)
		return NULL;
	if (p->base[p->next_file] >= p->low + p->nring)
		return NULL;
	for (size_t i = 0; i < nslots; i++) {
		if (!p->open[i].used)
			return &p->open[i];
	}
	return NULL;
}

/*
 * Run the first runnable task as @wk (mutex held on entry and exit, released
 * while the task runs).  False if there was none.
 */
static bool run_task(struct worker *wk)
{
	struct sd_sqfs_pipe *p = wk->p;
	size_t nslots = 2 * (size_t)p->nworkers;
	struct pfile *f;

	if (p->fq_head) {
		struct sd_sqfs_fblk *fb = p->fq_head;

		p->fq_head = fb->qnext;
		if (!p->fq_head)
			p->fq_tail = NULL;
		run_compress(wk, fb);
		return true;
	}
	f = readable(p, nslots);
	if (f) {
		run_read(wk, f);
		return true;
	}
	if (small_next(p)) {
		run_small(wk);
		return true;
	}
	f = free_file_slot(p, nslots);
	if (f) {
		run_open(wk, f);
		return true;
	}
	return false;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct sd_sqfs_pipe *p = wk->p;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (p->w->interrupted && *p->w->interrupted) {
			pthread_cond_broadcast(&p->cons_cv);
			break;
		}
		if (run_task(wk))
			continue;
		p->nidle++;
		pthread_cond_wait(&p->work_cv, &p->mu);
		p->nidle--;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* ---- the caller's side ------------------------------------------------ */

uint64_t sd_sqfs_pipe_count(const struct sd_sqfs_pipe *p)
{
	return p->total;
}

/* Rank of the file whose items hold @seq (binary search of base[]). */
static size_t rank_of(const struct sd_sqfs_pipe *p, uint64_t seq)
{
	size_t lo = 0, hi = p->nfiles;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->base[mid] <= seq)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Wait on cons_cv, at most 100 ms: an interrupt wakes nobody. */
static void wait_a_while(struct sd_sqfs_pipe *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 100 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->cons_cv, &p->mu, &ts);
}

/* Is item @seq ready?  (Any thread; no lock needed.) */
static struct sd_sqfs_item *ready(struct sd_sqfs_pipe *p, uint64_t seq)
{
	struct sd_sqfs_item *it = &p->ring[seq % p->nring];

	return __atomic_load_n(&it->done, __ATOMIC_ACQUIRE) == seq ? it : NULL;
}

/* Let the workers reuse what the caller released (locked; caller only). */
static void publish_locked(struct sd_sqfs_pipe *p)
{
	if (p->low == p->clow)
		return;
	p->low = p->clow;
	wake_worker(p);
}

int sd_sqfs_pipe_wait(struct sd_sqfs_pipe *p, uint64_t seq,
		      const struct sd_sqfs_fblk *fb, struct sd_sqfs_item **item,
		      struct sd_error *err)
{
	int ret = SD_OK;

	*item = NULL;
	/* the common case, without the lock: the item is there */
	if (seq != UINT64_MAX && !(p->w->interrupted && *p->w->interrupted) &&
	    !__atomic_load_n(&p->failed, __ATOMIC_ACQUIRE)) {
		*item = ready(p, seq);
		if (*item)
			return SD_OK;
	}
	pthread_mutex_lock(&p->mu);
	publish_locked(p);
	for (;;) {
		if (p->w->interrupted && *p->w->interrupted) {
			ret = sd_error_set(err, SD_ERR_INTERRUPTED,
					   "interrupted while writing "
					   "squashfs image");
			break;
		}
		if (p->failed &&
		    (seq == UINT64_MAX || p->fail_rank <= rank_of(p, seq))) {
			if (err)
				*err = p->fail_err;
			ret = p->fail_err.code ? p->fail_err.code : SD_ERR_IO;
			break;
		}
		if (seq != UINT64_MAX) {
			*item = ready(p, seq);
			if (*item)
				break;
		}
		if (fb && !fb->busy)
			break;
		/* help rather than sleep: the caller is one of the jobs */
		if (run_task(&p->workers[0]))
			continue;
		p->want = seq;
		p->want_fb = fb;
		p->caller_idle = true;
		wait_a_while(p);
		p->caller_idle = false;
	}
	p->want = UINT64_MAX;
	p->want_fb = NULL;
	pthread_mutex_unlock(&p->mu);
	return ret;
}

void sd_sqfs_pipe_release(struct sd_sqfs_pipe *p, uint64_t seq)
{
	size_t batch = p->nring / 8 ? p->nring / 8 : 1;

	/* released[] and clow are the caller's; low is published in batches */
	p->released[seq % p->nring] = true;
	while (p->clow < p->total && p->released[p->clow % p->nring]) {
		p->released[p->clow % p->nring] = false;
		p->clow++;
	}
	if (p->clow - p->low >= batch || p->clow == p->total) {
		pthread_mutex_lock(&p->mu);
		publish_locked(p);
		pthread_mutex_unlock(&p->mu);
	}
}

size_t sd_sqfs_pipe_ring(const struct sd_sqfs_pipe *p)
{
	return p->nring;
}

bool sd_sqfs_pipe_compressed(struct sd_sqfs_pipe *p,
			     const struct sd_sqfs_fblk *fb)
{
	bool done;

	pthread_mutex_lock(&p->mu);
	done = !fb->busy;
	pthread_mutex_unlock(&p->mu);
	return done;
}

void sd_sqfs_pipe_compress(struct sd_sqfs_pipe *p, struct sd_sqfs_fblk *fb)
{
	pthread_mutex_lock(&p->mu);
	fb->busy = true;
	fb->qnext = NULL;
	if (p->fq_tail)
		p->fq_tail->qnext = fb;
	else
		p->fq_head = fb;
	p->fq_tail = fb;
	wake_worker(p);
	pthread_mutex_unlock(&p->mu);
}

/* ---- set-up and tear-down --------------------------------------------- */

static int plan_files(struct sd_sqfs_pipe *p)
{
	const struct sd_sqfs_wstate *w = p->w;
	uint64_t seq = 0;
	size_t n = 0;

	p->files = malloc((w->tree->nfiles + 1) * sizeof(*p->files));
	p->base = malloc((w->tree->nfiles + 1) * sizeof(*p->base));
	if (!p->files || !p->base)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < w->count; i++) {
		struct sd_node *node = w->nodes[i];
		uint64_t nfull, tail;

		if (node->type != SD_NODE_FILE)
			continue;
		if (n == w->tree->nfiles)
			return SD_ERR_INVALID;
		nfull = node->size / p->bs;
		tail = node->size % p->bs;
		p->files[n] = node;
		p->base[n] = seq;
		if (node->size == 0)
			seq += 1;
		else
			seq += nfull + (nfull > 0) + (tail > 0);
		n++;
	}
	p->nfiles = n;
	p->base[n] = seq;
	p->total = seq;
	return SD_OK;
}

/*
 * Items in flight: small files are one item each, so the ring is how far
 * the readers may run ahead of the writing thread in files; with 8 per job
 * the second thread of --jobs 2 idled about a third of the time on the
 * microVM corpus (36k files mostly under 4 KiB), with 32 per job it did not
 * (wall 1.34 -> 1.16 s, peak RSS +9 MB: two block buffers an item).
 */
static size_t ring_size(uint32_t bs, unsigned jobs)
{
	size_t n = 32 * (size_t)jobs + 16;
	size_t cap = RING_BYTES / (2 * (size_t)bs);

	if (cap < 4)
		cap = 4;
	return n < cap ? n : cap;
}

/*
 * A block buffer, page aligned: read() copies file pages into it, and a
 * destination 16 bytes past a page boundary (what malloc gives a large
 * block) makes the kernel's copy 4K-alias its own loads, about 3 times
 * slower (measured: 0.20 s against 0.07 s of system time for 275 MB).
 */
static unsigned char *block_buffer(uint32_t bs)
{
	void *b = NULL;

	return posix_memalign(&b, 4096, bs) ? NULL : b;
}

static int alloc_pipe(struct sd_sqfs_pipe *p, unsigned jobs)
{
	size_t nslots = 2 * (size_t)jobs;

	p->nring = ring_size(p->bs, jobs);
	p->ring = calloc(p->nring, sizeof(*p->ring));
	p->released = calloc(p->nring, sizeof(*p->released));
	p->open = calloc(nslots, sizeof(*p->open));
	p->workers = calloc(jobs, sizeof(*p->workers));
	if (p->workers) {
		/* before any failure: sd_sqfs_pipe_stop releases them all */
		for (unsigned i = 0; i < jobs; i++)
			p->workers[i].dc = (struct sd_dircache)SD_DIRCACHE_INIT;
	}
	if (!p->ring || !p->released || !p->open || !p->workers)
		return SD_ERR_NOMEM;
	for (size_t i = 0; i < p->nring; i++) {
		p->ring[i].data = block_buffer(p->bs);
		p->ring[i].out = block_buffer(p->bs);
		p->ring[i].done = UINT64_MAX;
		if (!p->ring[i].data || !p->ring[i].out)
			return SD_ERR_NOMEM;
	}
	for (unsigned i = 0; i < jobs; i++) {
		p->workers[i].p = p;
		p->workers[i].cmp = sqfs_copy(p->w->comp.cmp);
		if (!p->workers[i].cmp)
			return SD_ERR_NOMEM;
		if (p->w->cache.cc) {
			p->workers[i].vbuf =
				malloc(SD_SQFS_CACHE_VHDR + (size_t)p->bs);
			if (!p->workers[i].vbuf)
				return SD_ERR_NOMEM;
		}
	}
	return SD_OK;
}

int sd_sqfs_pipe_start(struct sd_sqfs_wstate *w, unsigned jobs,
		       struct sd_sqfs_pipe **out, struct sd_error *err)
{
	struct sd_sqfs_pipe *p = calloc(1, sizeof(*p));
	int ret;

	*out = NULL;
	if (!p)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	p->w = w;
	p->bs = w->comp.block_size;
	p->nworkers = jobs;
	p->want = UINT64_MAX;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->cons_cv, NULL);
	sd_error_init(&p->fail_err);
	ret = plan_files(p);
	if (ret == SD_ERR_INVALID) {
		sd_sqfs_pipe_stop(p);
		return sd_error_set(err, ret, "tree is not finalised");
	}
	if (!ret)
		ret = alloc_pipe(p, jobs);
	if (ret) {
		sd_sqfs_pipe_stop(p);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	/* A thread that cannot be started (RLIMIT_NPROC, no memory for its
	 * stack) leaves its share to the others and the caller: the same
	 * bytes, on fewer threads. */
	for (unsigned i = 1; i < jobs; i++) {
		if (pthread_create(&p->workers[i].th, NULL, worker_main,
				   &p->workers[i]) != 0)
			break;
		p->workers[i].started = true;
	}
	*out = p;
	return SD_OK;
}

void sd_sqfs_pipe_stop(struct sd_sqfs_pipe *p)
{
	size_t nslots;

	if (!p)
		return;
	nslots = 2 * (size_t)p->nworkers;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; p->workers && i < p->nworkers; i++) {
		if (p->workers[i].started)
			pthread_join(p->workers[i].th, NULL);
		sqfs_destroy(p->workers[i].cmp);
		free(p->workers[i].vbuf);
		sd_dircache_release(&p->workers[i].dc);
	}
	for (size_t i = 0; p->open && i < nslots; i++) {
		sd_stream_close(p->open[i].s);
		sd_sqfs_fhit_release(&p->open[i].h);
	}
	for (size_t i = 0; p->ring && i < p->nring; i++) {
		free(p->ring[i].data);
		free(p->ring[i].out);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->cons_cv);
	free(p->ring);
	free(p->released);
	free(p->open);
	free(p->workers);
	free(p->files);
	free(p->base);
	free(p);
}
