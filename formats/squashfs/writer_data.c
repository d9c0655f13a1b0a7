/* SPDX-License-Identifier: MIT */
/*
 * writer_data.c — stage 1 of the SquashFS writer: file contents
 * (see writer.h).
 *
 * The pipeline (writer_pipe.c) reads and compresses on worker threads;
 * this thread takes its items in sequence order and does, in the same
 * order and with the same results, what libsquashfs 1.2's block processor
 * does with completed blocks (lib/sqfs/block_processor/backend.c:
 * dequeue_block, process_completed_block, process_completed_fragment):
 * data blocks and sentinels go to the block writer in order; tails are
 * deduplicated against the fragments stored so far or packed into the
 * current fragment block, which, once the next tail does not fit, is
 * handed to a worker to compress and written at that point of the order.
 * So the image bytes are those libsquashfs' block processor writes, for
 * every number of workers.  A write queue keeps data blocks behind a
 * fragment block still being compressed.
 */
#include "formats/squashfs/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/block.h>
#include <sqfs/block_writer.h>
#include <sqfs/error.h>

#include "formats/squashfs/sqfserr.h"
#include "formats/squashfs/writer_frag.h"
#include "formats/squashfs/writer_inodes.h"
#include "formats/squashfs/writer_pipe.h"

/* An entry of the write queue: item @seq, or fragment block @fb. */
struct wq_ent {
	struct sd_sqfs_fblk *fb;
	uint64_t seq;
	struct sd_sqfs_item *it;
};

struct data_ctx {
	struct sd_sqfs_wstate *w;
	uint32_t bs;
	sqfs_block_writer_t *bw;
	struct sd_sqfs_pipe *pipe;
	struct sd_sqfs_frags *frags;
	struct sd_sqfs_key *keys; /* by rank among FILE nodes */
	size_t rank;              /* of the file being taken */
	XXH3_state_t *kx;         /* its key, so far */

	struct wq_ent *wq; /* ring of wq_cap entries */
	size_t wq_cap, wq_head, wq_n;

	struct sd_sqfs_fblk *fblks; /* nfblk fragment block buffers */
	bool *fb_used;              /* being filled or not yet written */
	size_t nfblk;
	struct sd_sqfs_fblk *cur; /* being filled */

	bool fe_on;               /* file entries are put (writer_cache.h) */
	struct sd_sqfs_fentry fe; /* the entry of the file being taken */
};

static int path_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what,
		      const char *detail)
{
	char path[512];

	sd_node_path(node, path, sizeof(path));
	return sd_error_set(err, code, "%s: %s: %s", path, what, detail);
}

static int sqfs_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what)
{
	if (code == SD_ERR_NOMEM)
		return sd_error_set(err, code, "out of memory");
	return path_error(err, sd_sqfs_write_status(code), node, what,
			  sd_sqfs_strerror(code));
}

/* Count @bytes of file data (and @files files) consumed; tell the caller. */
static void progress(struct sd_sqfs_wstate *w, uint64_t bytes, uint64_t files)
{
	w->done_bytes += bytes;
	w->done_files += files;
	if (w->progress)
		w->progress(w->progress_ctx, w->done_bytes, w->done_files);
}

static const struct sd_sqfs_fblk *find_fblk(void *ctx, uint32_t index)
{
	struct data_ctx *c = ctx;

	for (size_t i = 0; i < c->nfblk; i++) {
		if (c->fb_used[i] && c->fblks[i].index == index)
			return &c->fblks[i];
	}
	return NULL;
}

static void wq_push(struct data_ctx *c, struct sd_sqfs_fblk *fb, uint64_t seq,
		    struct sd_sqfs_item *it)
{
	struct wq_ent *e = &c->wq[(c->wq_head + c->wq_n) % c->wq_cap];

	e->fb = fb;
	e->seq = seq;
	e->it = it;
	c->wq_n++;
}

/* ---- writing, in image order ------------------------------------------ */

static int write_item(struct data_ctx *c, uint64_t seq, struct sd_sqfs_item *it,
		      struct sd_error *err)
{
	sqfs_inode_generic_t **ino = &c->w->inodes[it->node->index];
	uint32_t flags = 0, size;
	sqfs_u64 loc = 0;
	int ret;

	if (it->kind == SD_SQI_DATA && it->block == 0)
		flags |= SQFS_BLK_FIRST_BLOCK;
	if (it->kind == SD_SQI_SENTINEL) {
		flags |= SQFS_BLK_LAST_BLOCK;
		size = 0;
	} else if (it->sparse) {
		flags |= SQFS_BLK_IS_SPARSE;
		size = it->in_size;
	} else {
		size = it->size;
		if (it->compressed)
			flags |= SQFS_BLK_IS_COMPRESSED;
	}
	ret = c->bw->write_data_block(c->bw, NULL, size, (sqfs_u32)it->hash,
				      flags, it->bytes, &loc);
	if (ret)
		return sqfs_error(err, ret, it->node, "cannot write file data");
	if (it->sparse) {
		sqfs_inode_make_extended(*ino);
		(*ino)->data.file_ext.sparse += size;
		ret = sd_sqfs_set_block_size(ino, it->block, 0);
	} else if (size != 0) {
		ret = sd_sqfs_set_block_size(
			ino, it->block,
			it->compressed ? size : size | (1u << 24));
	}
	if (ret)
		return sd_error_set(err, ret, "out of memory");
	if (flags & SQFS_BLK_LAST_BLOCK)
		sqfs_inode_set_file_block_start(*ino, loc);
	sd_sqfs_pipe_release(c->pipe, seq);
	return SD_OK;
}

static int write_fblk(struct data_ctx *c, struct sd_sqfs_fblk *fb,
		      struct sd_error *err)
{
	uint32_t flags = SQFS_BLK_FRAGMENT_BLOCK;
	sqfs_u64 loc = 0;
	int ret;

	if (fb->compressed)
		flags |= SQFS_BLK_IS_COMPRESSED;
	ret = c->bw->write_data_block(c->bw, NULL, fb->stored,
				      (sqfs_u32)fb->hash, flags,
				      fb->compressed ? fb->out : fb->data,
				      &loc);
	if (!ret)
		ret = sqfs_frag_table_set(
			c->w->frag, fb->index, loc,
			fb->compressed ? fb->stored : fb->stored | (1u << 24));
	if (ret)
		return sd_error_set(err, sd_sqfs_write_status(ret),
				    "cannot write fragment block: %s",
				    sd_sqfs_strerror(ret));
	c->fb_used[fb - c->fblks] = false;
	return SD_OK;
}

/*
 * Write the queue's head entries that are ready; if @wait, wait for the
 * head fragment block's compression and write at least one entry.
 */
static int flush(struct data_ctx *c, bool wait, struct sd_error *err)
{
	bool wrote = false;

	while (c->wq_n > 0) {
		struct wq_ent e = c->wq[c->wq_head];
		int ret;

		if (e.fb && !sd_sqfs_pipe_compressed(c->pipe, e.fb)) {
			struct sd_sqfs_item *none;

			if (!wait || wrote)
				break;
			ret = sd_sqfs_pipe_wait(c->pipe, UINT64_MAX, e.fb,
						&none, err);
			if (ret)
				return ret;
		}
		ret = e.fb ? write_fblk(c, e.fb, err)
			   : write_item(c, e.seq, e.it, err);
		if (ret)
			return ret;
		c->wq_head = (c->wq_head + 1) % c->wq_cap;
		c->wq_n--;
		wrote = true;
	}
	return SD_OK;
}

/* ---- fragments ---------------------------------------------------------- */

/* Stop describing @fb for the cache: it is compressed without it. */
static void uncache_fblk(struct sd_sqfs_fblk *fb)
{
	sd_sha256_free(fb->desc);
	fb->desc = NULL;
	fb->cached = false;
}

static void close_fblk(struct data_ctx *c)
{
	if (c->cur->cached) {
		sd_sha256_final(c->cur->desc, c->cur->desc_sha);
		c->cur->desc = NULL;
	}
	sd_sqfs_pipe_compress(c->pipe, c->cur);
	wq_push(c, c->cur, 0, NULL);
	c->cur = NULL;
}

static int new_fblk(struct data_ctx *c, struct sd_error *err)
{
	sqfs_u32 index;
	int ret;

	for (;;) {
		for (size_t i = 0; i < c->nfblk; i++) {
			if (!c->fb_used[i]) {
				c->cur = &c->fblks[i];
				c->fb_used[i] = true;
				break;
			}
		}
		if (c->cur)
			break;
		ret = flush(c, true, err);
		if (ret)
			return ret;
	}
	ret = sqfs_frag_table_append(c->w->frag, 0, 0, &index);
	if (ret)
		return sd_error_set(err, sd_sqfs_write_status(ret),
				    "cannot add a fragment: %s",
				    sd_sqfs_strerror(ret));
	c->cur->index = index;
	c->cur->size = 0;
	uncache_fblk(c->cur);
	if (sd_sqfs_cache_on(&c->w->cache)) {
		/* no memory for it: the block is compressed without the cache */
		c->cur->desc = sd_sqfs_cache_frag_begin();
		c->cur->cached = c->cur->desc != NULL;
	}
	return SD_OK;
}

static int take_tail(struct data_ctx *c, struct sd_sqfs_item *it,
		     struct sd_error *err)
{
	sqfs_inode_generic_t **ino = &c->w->inodes[it->node->index];
	uint32_t index, offset;
	int ret;

	if (it->sparse) {
		sqfs_inode_make_extended(*ino);
		ret = sd_sqfs_set_block_size(ino, it->block, 0);
		(*ino)->data.file_ext.sparse += it->in_size;
		return ret ? sd_error_set(err, ret, "out of memory") : SD_OK;
	}
	ret = sd_sqfs_frags_find(c->frags, it->bytes, it->in_size, it->hash,
				 &index, &offset, err);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		sqfs_inode_set_frag_location(*ino, index, offset);
		return SD_OK;
	}
	if (c->cur && c->cur->size + it->in_size > c->bs)
		close_fblk(c);
	if (!c->cur) {
		ret = new_fblk(c, err);
		if (ret)
			return ret;
	}
	index = c->cur->index;
	offset = c->cur->size;
	memcpy(c->cur->data + offset, it->bytes, it->in_size);
	c->cur->size += it->in_size;
	if (c->cur->cached) {
		if (it->has_sha)
			sd_sqfs_cache_frag_add(c->cur->desc, it->in_size,
					       it->sha);
		else
			uncache_fblk(c->cur);
	}
	if (sd_sqfs_frags_add(c->frags, it->in_size, it->hash, index, offset) !=
	    SD_OK)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	sqfs_inode_set_frag_location(*ino, index, offset);
	return SD_OK;
}

/* ---- items, in sequence order ------------------------------------------ */

/*
 * Add item @it to its file's cache entry (writer_cache.h); at the file's
 * last item, whose read has returned, put the entry under the digest the
 * caller now knows, if it knows one.  Before the item is released.
 */
static void entry_item(struct data_ctx *c, const struct sd_sqfs_item *it)
{
	struct sd_sqfs_wstate *w = c->w;
	uint8_t sha[SD_SHA256_LEN];

	if (it->from_cache) {
		if (it->last)
			w->stats->files_from_cache++;
		return;
	}
	if (!c->fe_on)
		return;
	if (it->kind == SD_SQI_EMPTY || it->block == 0)
		sd_sqfs_fentry_reset(&c->fe);
	if (it->kind == SD_SQI_DATA)
		sd_sqfs_fentry_block(&c->fe, it->sparse,
				     it->has_sha ? it->sha : NULL);
	else if (it->kind == SD_SQI_TAIL)
		sd_sqfs_fentry_tail(&c->fe, it->in_size,
				    it->sparse ? NULL : it->bytes,
				    it->has_sha ? it->sha : NULL);
	if (!it->last)
		return;
	if (it->kind != SD_SQI_TAIL)
		sd_sqfs_fentry_tail(&c->fe, 0, NULL, NULL);
	/* a small file whose content the caller records needs no entry
	 * (writer_pipe.c, known_small) */
	if (w->file_content && it->node->size <= SD_WRITE_CONTENT_MAX &&
	    it->kind != SD_SQI_DATA && it->kind != SD_SQI_SENTINEL)
		return;
	if (!c->fe.ok || !w->file_digest(w->file_digest_ctx, it->node, sha))
		return;
	/* a file of one tail: what was read must be what the digest says */
	if (it->kind == SD_SQI_TAIL && it->block == 0 && !it->sparse &&
	    memcmp(sha, it->sha, SD_SHA256_LEN))
		return;
	sd_sqfs_fentry_put(&w->cache, &c->fe, it->node->size, sha);
}

/* Add item @it to its file's key; at its last item, store the key. */
static void key_item(struct data_ctx *c, const struct sd_sqfs_item *it)
{
	unsigned char rec[13];

	if (it->kind == SD_SQI_EMPTY)
		return;
	for (int i = 0; i < 8; i++)
		rec[i] = (unsigned char)(it->hash >> (8 * i));
	for (int i = 0; i < 4; i++)
		rec[8 + i] = (unsigned char)(it->size >> (8 * i));
	rec[12] = (unsigned char)(it->kind | it->sparse << 2 |
				  it->compressed << 3);
	XXH3_128bits_update(c->kx, rec, sizeof(rec));
	if (it->last) {
		struct sd_sqfs_key *k = &c->keys[c->rank];

		k->size = it->node->size;
		k->hash = XXH3_128bits_digest(c->kx);
		k->index = (uint32_t)it->node->index;
		XXH3_128bits_reset(c->kx);
	}
}

static int take_item(struct data_ctx *c, uint64_t seq, struct sd_sqfs_item *it,
		     struct sd_error *err)
{
	struct sd_sqfs_wstate *w = c->w;
	sqfs_inode_generic_t **ino = &w->inodes[it->node->index];
	int ret = SD_OK;

	entry_item(c, it);
	if (it->kind == SD_SQI_EMPTY) {
		if (sd_sqfs_empty_inode(ino) != SD_OK)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		sd_sqfs_pipe_release(c->pipe, seq);
		c->rank++;
		progress(w, 0, 1);
		return SD_OK;
	}
	key_item(c, it);
	if (!*ino && sd_sqfs_file_inode(it->node->size, ino) != SD_OK)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	/* the item's slot may be reused once released: read it first */
	uint32_t in_size = it->in_size;
	uint64_t file_size = it->last ? it->node->size : 0;
	bool last = it->last;

	if (it->kind == SD_SQI_TAIL) {
		ret = take_tail(c, it, err);
		sd_sqfs_pipe_release(c->pipe, seq);
	} else {
		wq_push(c, NULL, seq, it);
	}
	if (ret)
		return ret;
	if (in_size)
		progress(w, in_size, 0);
	if (last) {
		c->rank++;
		w->stats->data_bytes_in += file_size;
		progress(w, 0, 1);
	}
	return SD_OK;
}

static int run(struct data_ctx *c, struct sd_error *err)
{
	uint64_t total = sd_sqfs_pipe_count(c->pipe);
	int ret;

	for (uint64_t seq = 0; seq < total; seq++) {
		struct sd_sqfs_item *it = NULL;

		while (!it) {
			const struct sd_sqfs_fblk *head = NULL;

			ret = flush(c, false, err);
			if (ret)
				return ret;
			if (c->wq_n > 0)
				head = c->wq[c->wq_head].fb;
			ret = sd_sqfs_pipe_wait(c->pipe, seq, head, &it, err);
			if (ret)
				return ret;
		}
		ret = take_item(c, seq, it, err);
		if (ret)
			return ret;
	}
	/* as sqfs_block_processor_finish: the last fragment block last */
	while (c->wq_n > 0) {
		ret = flush(c, true, err);
		if (ret)
			return ret;
	}
	if (c->cur && c->cur->size > 0) {
		close_fblk(c);
		while (c->wq_n > 0) {
			ret = flush(c, true, err);
			if (ret)
				return ret;
		}
	}
	return SD_OK;
}

static int setup(struct data_ctx *c, unsigned jobs, struct sd_error *err)
{
	struct sd_sqfs_wstate *w = c->w;
	int ret;

	c->bs = w->comp.block_size;
	c->fe_on = w->file_digest && sd_sqfs_cache_on(&w->cache);
	w->frag = sqfs_frag_table_create(0);
	c->bw = sqfs_block_writer_create(w->file, SQFS_DEVBLK_SIZE, 0);
	c->keys =
		calloc(w->tree->nfiles ? w->tree->nfiles : 1, sizeof(*c->keys));
	c->frags = sd_sqfs_frags_new(w, find_fblk, c);
	c->kx = XXH3_createState();
	if (c->kx)
		XXH3_128bits_reset(c->kx);
	c->nfblk = (size_t)jobs + 2;
	c->fblks = calloc(c->nfblk, sizeof(*c->fblks));
	c->fb_used = calloc(c->nfblk, sizeof(*c->fb_used));
	if (!w->frag || !c->bw || !c->keys || !c->frags || !c->kx ||
	    !c->fblks || !c->fb_used)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < c->nfblk; i++) {
		c->fblks[i].data = malloc(c->bs);
		c->fblks[i].out = malloc(c->bs);
		if (!c->fblks[i].data || !c->fblks[i].out)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	ret = sd_sqfs_pipe_start(w, jobs, &c->pipe, err);
	if (ret)
		return ret;
	c->wq_cap = sd_sqfs_pipe_ring(c->pipe) + c->nfblk + 1;
	c->wq = calloc(c->wq_cap, sizeof(*c->wq));
	if (!c->wq)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return SD_OK;
}

int sd_sqfs_write_data(struct sd_sqfs_wstate *w, unsigned jobs,
		       struct sd_error *err)
{
	struct data_ctx c = {.w = w};
	int ret;

	if (jobs < 1)
		jobs = 1;
	ret = setup(&c, jobs, err);
	if (!ret)
		ret = run(&c, err);
	/* the workers may still use the fragment buffers: stop them first */
	sd_sqfs_pipe_stop(c.pipe);
	if (!ret) {
		sd_sqfs_fix_file_inodes(w);
		sd_sqfs_count_duplicates(w, c.keys, w->tree->nfiles);
	}
	for (size_t i = 0; c.fblks && i < c.nfblk; i++) {
		sd_sha256_free(c.fblks[i].desc);
		free(c.fblks[i].data);
		free(c.fblks[i].out);
	}
	free(c.fblks);
	free(c.fb_used);
	free(c.wq);
	sd_sqfs_frags_free(c.frags);
	sqfs_destroy(c.bw);
	free(c.keys);
	XXH3_freeState(c.kx);
	sd_sqfs_fentry_release(&c.fe);
	return ret;
}
