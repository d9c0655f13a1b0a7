/* SPDX-License-Identifier: MIT */
/*
 * writer_zpipe.h — the compressed EROFS writer's pipeline state, shared by
 * its three parts (not a public API):
 *
 *   writer_zpipe.c     the ring of items in tree order, the threads, what
 *                      a worker does with an item (read, hash, compress)
 *   writer_zcollect.c  the collector: each item in tree order, its blocks
 *                      placed and written, the file's form chosen
 *   writer_zgroup.c    before the pipeline: the files of more than one
 *                      segment that share their size, hashed, and which
 *                      of them duplicate an earlier one
 *
 * The ring holds items in tree pre-order: a regular file that is not
 * compressed (shorter than a block: IT_SMALL), each segment of a
 * compressed file (IT_SEG), or a duplicate known in advance (IT_DUP).
 * Items are appended by the main thread, worked on by any thread (the
 * main thread too: --jobs N runs N threads in all) and collected by the
 * main thread strictly in ring order.  A file's segments are read in
 * order through one stream (the stream and the SHA-256 pass from segment
 * to segment), so different files are read at once, and a segment is
 * compressed by the thread that read it.
 *
 * With a compression cache, the cache lookups of the compressed files
 * that could be written without reading them (writer_z.h, file entries)
 * run ahead of the producer in a second ring, z->lk, on any thread that
 * has no ring item to work on: reading and checking the entries is most
 * of a warm pack's work.  The producer takes each file's result in tree
 * order (an IT_CACHED item on a hit, the file's segments on a miss), so
 * the image does not depend on which thread looked up what.
 */
#ifndef SD_FORMATS_EROFS_WRITER_ZPIPE_H
#define SD_FORMATS_EROFS_WRITER_ZPIPE_H

#include <pthread.h>

#include "formats/erofs/writer_z.h"

enum { IT_SMALL, IT_SEG, IT_DUP, IT_CACHED };
enum { Q_NEW, Q_RUN, Q_DONE };

/* Reading state of a file of more than one segment. */
struct zfile {
	struct sd_stream *s;
	struct sd_sha256 *h;
	uint32_t next; /* the segment that may be read next */
	bool failed;   /* a read failed: later segments skip */
};

struct zitem {
	uint32_t node;  /* node index */
	uint8_t kind;   /* IT_* */
	uint8_t state;  /* Q_* */
	bool last;      /* IT_SEG: the file's last segment */
	bool skip;      /* IT_SEG: not compressed, an earlier file
			   read had the same size and digest */
	bool known;     /* IT_SMALL: content and digest from the caller
			   (file_content), the file not opened */
	uint32_t segno; /* IT_SEG: segment number in its file */
	uint32_t owner; /* IT_DUP: 1 + the node whose data it
			   shares */
	uint8_t digest[SD_SHA256_LEN];  /* file's SHA-256 (last IT_SEG,
					  IT_SMALL, IT_DUP, IT_CACHED) */
	uint8_t sdigest[SD_SHA256_LEN]; /* IT_SEG of a multi-segment file,
					   with a cache: its own SHA-256 */
	struct ewz_seg *segs;           /* IT_CACHED: the file's segments, from
				 the cache */
	size_t nsegs;
	uint64_t la0;       /* IT_SEG: offset of the segment */
	size_t len;         /* input bytes */
	uint32_t tail_room; /* IT_SEG: see ewz_compress_segment */
	struct zfile *f;    /* IT_SEG of a multi-segment file */
	uint8_t *in;        /* input; kept until collected for a whole
			file's only segment and IT_SMALL */
	struct ewz_seg out;
	int ret;              /* worker status */
	struct sd_error *err; /* its message (malloc'ed), or NULL */
};

/* Content index of compressed files: the collector's owners (tree order)
 * and the workers' hints (the smallest node read with that content). */
struct zdd_slot {
	uint8_t digest[SD_SHA256_LEN];
	uint64_t size;
	uint32_t owner; /* node index + 1; 0: none yet */
	uint32_t hint;  /* node index + 1; 0: none */
};

/* A multi-segment file sharing its size with another (writer_zgroup.c). */
struct zgroup_ent {
	uint32_t node;
	uint32_t owner; /* 1 + the node it duplicates, or 0 */
	uint64_t size;
	uint8_t digest[SD_SHA256_LEN];
};

/* A compressed file's cache lookup, done ahead of the producer by any
 * thread (writer_zpipe.c): its IT_CACHED item on a hit. */
struct zlook {
	uint32_t node;
	uint8_t state; /* Q_* */
	bool hit;
	struct zitem item; /* IT_CACHED, when hit */
};

struct zpipe {
	struct ew_state *w;
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* workers: an item may be worked on */
	pthread_cond_t main_cv; /* main: the head is done, or work */
	unsigned idle;          /* workers waiting on work_cv */
	bool main_waiting;
	struct zitem *ring;
	size_t cap;
	uint64_t head, tail, scan; /* collect, append, first not started */
	size_t inflight, budget;   /* input bytes in the ring */
	bool stop;
	pthread_t *threads;
	unsigned nthreads;
	struct zdd_slot *dd;
	size_t dd_cap;
	/* the producer (main thread) */
	size_t pnode;  /* next node to append */
	uint64_t poff; /* offset in it (IT_SEG) */
	uint32_t pseg;
	struct zfile *pfile;
	struct zgroup_ent *grp; /* sorted by node */
	size_t ngrp, pgrp;
	/* the file being collected (writer_zcollect.c) */
	uint32_t cur_start;
	struct ewz_pcl *cur_pcl;
	size_t cur_n, cur_cap;
	uint8_t *buf;  /* EW_CHUNK_SIZE, for re-reads */
	uint8_t *zbuf; /* the indexes of the file collected */
	size_t zbuf_cap;
	uint8_t idata[EW_BLKSIZE]; /* its inline pcluster (ztailpacking) */
	uint16_t idata_len;
	struct zitem pending; /* an IT_CACHED item waiting for room */
	bool has_pending;
	size_t looked; /* 1 + the last node looked up in the cache */
	/* lookups ahead of the producer: a ring of lk_cap, tree order */
	struct zlook *lk;
	size_t lk_cap;
	uint64_t lk_head, lk_tail;
	size_t lk_next;  /* the next node to consider for a lookup */
	size_t lk_pgrp;  /* its cursor into grp */
	size_t lk_bytes; /* blocks' bytes held by done hits */
	/* the segments of the file being collected, for its file entry */
	struct ewz_fseg *cur_fs;
	size_t cur_fsn, cur_fscap;
	struct ewz_cache zc;   /* the compression cache (read-only) */
	struct ez_comp *mcomp; /* the collector's compressor (rare) */
	uint8_t *mscratch;
};

/* Find the slot of (@digest, @size) in z->dd, or the empty slot where it
 * goes (caller holds z->mu). */
struct zdd_slot *zdd_find(struct zpipe *z, const uint8_t *digest,
			  uint64_t size);

/* The tail room of the last segment of a compressed file of @size bytes
 * (see ewz_compress_segment; 0 without ztailpacking). */
uint32_t zpipe_tail_room(const struct ew_state *w, uint64_t size);

/* Collect item @it (done; main thread, without z->mu): write it and
 * decide its file's form at its last item.  SD_ERR_* with @err set. */
int zcollect_item(struct zpipe *z, struct zitem *it, struct sd_error *err);

/*
 * Hash every compressed file of more than one segment whose size another
 * such file has, on w->jobs threads, and fill z->grp / z->ngrp (tree
 * order) with each one's digest and, for a duplicate, the first earlier
 * file with the same size and digest: the pipeline then never reads or
 * compresses a duplicate of more than one segment.  SD_ERR_IO naming the
 * file (the first in tree order that fails), SD_ERR_NOMEM.
 */
int zgroup_prehash(struct zpipe *z, struct sd_error *err);

#endif
