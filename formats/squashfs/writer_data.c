/*
 * writer_data.c — stage 1 of the SquashFS writer: file contents
 * (see writer.h).
 */
#include "formats/squashfs/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/block.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/error.h>
#include <xxhash.h>

#include "core/stream.h"
#include "formats/squashfs/sqfserr.h"

#define READ_CHUNK (256 * 1024)

/* Content fingerprint of one non-empty file, for the dedup count. */
struct content_key {
	uint64_t size;
	XXH128_hash_t hash;
	uint32_t index; /* node->index */
};

struct data_ctx {
	struct sd_sqfs_wstate *w;
	sqfs_block_writer_t *bw;
	sqfs_block_processor_t *proc;
	XXH3_state_t *xxh;
	unsigned char *buf;
	struct content_key *keys;
	size_t nkeys;
};

static int path_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what,
		      const char *detail)
{
	char path[512];

	sd_node_path(node, path, sizeof(path));
	return sd_error_set(err, code, "%s: %s: %s", path, what, detail);
}

static int interrupted(const struct sd_sqfs_wstate *w, struct sd_error *err)
{
	if (w->interrupted && *w->interrupted)
		return sd_error_set(err, SD_ERR_INTERRUPTED,
				    "interrupted while writing squashfs image");
	return SD_OK;
}

/* Count @bytes of file data (and @files files) consumed; tell the caller. */
static void progress(struct sd_sqfs_wstate *w, uint64_t bytes, uint64_t files)
{
	w->done_bytes += bytes;
	w->done_files += files;
	if (w->progress)
		w->progress(w->progress_ctx, w->done_bytes, w->done_files);
}

/* The inode of an empty file: no blocks, no fragment. */
static int empty_file_inode(sqfs_inode_generic_t **out)
{
	sqfs_inode_generic_t *ino = calloc(1, sizeof(*ino));

	if (!ino)
		return SD_ERR_NOMEM;
	ino->base.type = SQFS_INODE_FILE;
	ino->data.file.blocks_start = 0;
	ino->data.file.fragment_index = 0xFFFFFFFF;
	ino->data.file.fragment_offset = 0;
	ino->data.file.file_size = 0;
	*out = ino;
	return SD_OK;
}

/* Stream one non-empty file through the block processor. */
static int write_one(struct data_ctx *c, struct sd_node *node,
		     struct sd_stream *s, struct sd_error *err)
{
	struct sd_sqfs_wstate *w = c->w;
	uint64_t total = 0;
	int ret;

	ret = sqfs_block_processor_begin_file(c->proc,
					      &w->inodes[node->index], NULL,
					      0);
	if (ret)
		return path_error(err, sd_sqfs_write_status(ret), node,
				  "cannot start file data",
				  sd_sqfs_strerror(ret));
	XXH3_128bits_reset(c->xxh);
	for (;;) {
		size_t got = 0;

		ret = interrupted(w, err);
		if (ret)
			return ret;
		ret = sd_stream_read(s, c->buf, READ_CHUNK, &got, err);
		if (ret)
			return ret;
		if (got == 0)
			break;
		if (got > node->size - total) {
			char detail[96];
			snprintf(detail, sizeof(detail),
				 "more than the expected %llu bytes",
				 (unsigned long long)node->size);
			return path_error(err, SD_ERR_IO, node,
					  "content changed while reading",
					  detail);
		}
		/* got > 0 here: libsquashfs 1.2 must never see a 0-byte
		 * append */
		ret = sqfs_block_processor_append(c->proc, c->buf, got);
		if (ret)
			return path_error(err, sd_sqfs_write_status(ret), node,
					  "cannot write file data",
					  sd_sqfs_strerror(ret));
		XXH3_128bits_update(c->xxh, c->buf, got);
		total += got;
		progress(w, got, 0);
	}
	if (total != node->size) {
		char detail[96];
		snprintf(detail, sizeof(detail), "%llu of %llu bytes",
			 (unsigned long long)total,
			 (unsigned long long)node->size);
		return path_error(err, SD_ERR_IO, node,
				  "content ended early", detail);
	}
	ret = sqfs_block_processor_end_file(c->proc);
	if (ret)
		return path_error(err, sd_sqfs_write_status(ret), node,
				  "cannot finish file data",
				  sd_sqfs_strerror(ret));
	w->stats->data_bytes_in += total;
	c->keys[c->nkeys].size = total;
	c->keys[c->nkeys].hash = XXH3_128bits_digest(c->xxh);
	c->keys[c->nkeys].index = node->index;
	c->nkeys++;
	return SD_OK;
}

static int check_empty(struct sd_node *node, struct sd_stream *s,
		       struct sd_error *err)
{
	unsigned char byte;
	size_t got = 0;
	int ret = sd_stream_read(s, &byte, 1, &got, err);

	if (ret)
		return ret;
	if (got != 0)
		return path_error(err, SD_ERR_IO, node,
				  "content changed while reading",
				  "empty file grew");
	return SD_OK;
}

static int write_files(struct data_ctx *c, struct sd_error *err)
{
	struct sd_sqfs_wstate *w = c->w;

	for (size_t i = 0; i < w->count; i++) {
		struct sd_node *node = w->nodes[i];
		struct sd_stream *s = NULL;
		int ret;

		if (node->type != SD_NODE_FILE)
			continue;
		ret = interrupted(w, err);
		if (ret)
			return ret;
		ret = sd_tree_open(w->tree, node, &s, err);
		if (ret)
			return ret;
		if (node->size == 0) {
			ret = check_empty(node, s, err);
			if (!ret && empty_file_inode(&w->inodes[i]) != SD_OK)
				ret = sd_error_set(err, SD_ERR_NOMEM,
						   "out of memory");
		} else {
			ret = write_one(c, node, s, err);
		}
		sd_stream_close(s);
		if (ret)
			return ret;
		progress(w, 0, 1);
	}
	return SD_OK;
}

static int key_cmp(const void *a, const void *b)
{
	const struct content_key *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->hash.high64 != y->hash.high64)
		return x->hash.high64 < y->hash.high64 ? -1 : 1;
	if (x->hash.low64 != y->hash.low64)
		return x->hash.low64 < y->hash.low64 ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

/* True if two file inodes point at the very same stored data. */
static bool same_data(const sqfs_inode_generic_t *a,
		      const sqfs_inode_generic_t *b)
{
	sqfs_u64 sa = 0, sb = 0;
	sqfs_u32 fa, oa, fb, ob;
	size_t n = sqfs_inode_get_file_block_count(a);
	bool any_stored = false;

	if (n != sqfs_inode_get_file_block_count(b) ||
	    memcmp(a->extra, b->extra, n * sizeof(sqfs_u32)) != 0)
		return false;
	sqfs_inode_get_frag_location(a, &fa, &oa);
	sqfs_inode_get_frag_location(b, &fb, &ob);
	if (fa != fb || (fa != 0xFFFFFFFF && oa != ob))
		return false;
	for (size_t i = 0; i < n; i++)
		any_stored |= !SQFS_IS_SPARSE_BLOCK(a->extra[i]);
	sqfs_inode_get_file_block_start(a, &sa);
	sqfs_inode_get_file_block_start(b, &sb);
	return !any_stored || sa == sb;
}

/*
 * Count files whose content equals (by size and XXH3-128) an earlier
 * file's and whose inode indeed shares that file's stored data.
 */
static void count_duplicates(struct data_ctx *c)
{
	struct sd_sqfs_wstate *w = c->w;

	qsort(c->keys, c->nkeys, sizeof(c->keys[0]), key_cmp);
	for (size_t i = 1, owner = 0; i < c->nkeys; i++) {
		const struct content_key *k = &c->keys[i];
		const struct content_key *o = &c->keys[owner];

		if (k->size != o->size || k->hash.high64 != o->hash.high64 ||
		    k->hash.low64 != o->hash.low64) {
			owner = i;
			continue;
		}
		if (same_data(w->inodes[o->index], w->inodes[k->index]))
			w->stats->files_deduplicated++;
	}
}

/*
 * Mark sparse files' inodes extended and record the skipped bytes (as
 * mksquashfs does); give extended file inodes nlink 1 and no xattrs.
 */
static void fix_file_inodes(struct sd_sqfs_wstate *w)
{
	uint32_t bs = w->comp.block_size;

	for (size_t i = 0; i < w->count; i++) {
		sqfs_inode_generic_t *ino = w->inodes[i];
		if (!ino)
			continue;
		size_t n = sqfs_inode_get_file_block_count(ino);
		uint64_t size = w->nodes[i]->size, sparse = 0;
		for (size_t b = 0; b < n; b++) {
			uint64_t off = (uint64_t)b * bs;
			uint64_t len = size - off < bs ? size - off : bs;
			if (SQFS_IS_SPARSE_BLOCK(ino->extra[b]))
				sparse += len;
		}
		if (sparse)
			sqfs_inode_make_extended(ino);
		if (ino->base.type == SQFS_INODE_EXT_FILE) {
			ino->data.file_ext.sparse = sparse;
			ino->data.file_ext.nlink = 1;
			ino->data.file_ext.xattr_idx = 0xFFFFFFFF;
		}
	}
}

int sd_sqfs_write_data(struct sd_sqfs_wstate *w, unsigned jobs,
		       struct sd_error *err)
{
	struct data_ctx c = { .w = w };
	sqfs_block_processor_desc_t desc;
	int ret;

	if (jobs < 1)
		jobs = 1;
	w->frag = sqfs_frag_table_create(0);
	c.bw = sqfs_block_writer_create(w->file, SQFS_DEVBLK_SIZE, 0);
	c.xxh = XXH3_createState();
	c.buf = malloc(READ_CHUNK);
	c.keys = calloc(w->tree->nfiles ? w->tree->nfiles : 1,
			sizeof(*c.keys));
	if (!w->frag || !c.bw || !c.xxh || !c.buf || !c.keys) {
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}

	memset(&desc, 0, sizeof(desc));
	desc.size = sizeof(desc);
	desc.max_block_size = w->comp.block_size;
	desc.num_workers = jobs;
	desc.max_backlog = 4 * jobs + 16;
	desc.cmp = w->comp.cmp;
	desc.wr = c.bw;
	desc.tbl = w->frag;
	/* read fragments back to verify dedup candidates byte for byte */
	desc.file = w->file;
	desc.uncmp = w->comp.uncmp;
	ret = sqfs_block_processor_create_ex(&desc, &c.proc);
	if (ret) {
		ret = sd_error_set(err, sd_sqfs_write_status(ret),
				   "cannot start squashfs block processor: %s",
				   sd_sqfs_strerror(ret));
		goto out;
	}

	ret = write_files(&c, err);
	if (ret)
		goto out;
	ret = sqfs_block_processor_finish(c.proc);
	if (ret) {
		ret = sd_error_set(err, sd_sqfs_write_status(ret),
				   "cannot finish squashfs data blocks: %s",
				   sd_sqfs_strerror(ret));
		goto out;
	}
	/* the processor no longer touches the inodes after finish */
	fix_file_inodes(w);
	count_duplicates(&c);
out:
	if (ret && c.proc) {
		/* drain blocks still in flight, or libsquashfs 1.2 leaks
		 * them on destroy; the image is abandoned anyway */
		sqfs_block_processor_end_file(c.proc);
		sqfs_block_processor_finish(c.proc);
	}
	sqfs_destroy(c.proc);
	sqfs_destroy(c.bw);
	XXH3_freeState(c.xxh);
	free(c.buf);
	free(c.keys);
	return ret;
}
