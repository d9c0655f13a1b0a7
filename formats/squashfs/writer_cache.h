/* SPDX-License-Identifier: MIT */
/*
 * writer_cache.h — the SquashFS writer's use of the compression cache
 * (core/compcache.h, sd_write_options.cache; issue 11).
 *
 * Units.  Two things the writer compresses are cached, each on the worker
 * thread that compresses it (writer_pipe.c):
 *
 *   block     a DATA item that is not sparse: one full block of a file
 *             (block size B bytes of content).  Its digest is the SHA-256
 *             of those B bytes.
 *   fragment  a fragment block (struct sd_sqfs_fblk): the tails packed
 *             into it, in order.  Each non-sparse tail's SHA-256 is taken
 *             when the tail is read (only with a cache).
 *
 * Keys.  key = sd_compcache_key(params, content_sha), where params is the
 * unit's parameter string (sd_sqfs_cache_params) and content_sha the
 * SHA-256 of a fixed little-endian description of the unit, built from
 * digests and lengths only, so a later stat index that remembers a file's
 * block and tail digests can find its entries without reading it:
 *
 *   block:    "block" (5 bytes, ASCII, no NUL)
 *             le32   content length (B)
 *             32     SHA-256 of the content
 *   fragment: "fragment" (8 bytes, ASCII, no NUL)
 *             then for each tail in the block, in order:
 *             le32   tail length
 *             32     SHA-256 of the tail's content
 *
 * Parameters (one string per unit kind, built once per write): format
 * "squashfs"; kind "block" or "fragment"; the compressor's name; library:
 * the compression library and its runtime version (zlibVersion(),
 * lzma_version_string(), LZ4_versionString(), ZSTD_versionString()) and
 * libsquashfs's version at build time (it exposes none at run time), e.g.
 * "zstd 1.5.5; libsquashfs 1.2.0"; level as used (the backend's default
 * resolved; lz4: 0 for LZ4_compress_default, 12 = LZ4HC_CLEVEL_MAX, the
 * one level libsquashfs's LZ4 HC uses); the block size; layout: the
 * libsquashfs compressor flags and the backend's options in a fixed order
 * (gzip: window; xz: dictionary, lc, lp, pb) and "raw-unless-smaller", the
 * rule of comp.c's wrapper, e.g. "flags=0x0000,window=15,raw-unless-smaller".
 *
 * Values (little-endian, decoded at the byte boundary):
 *
 *   0   1  unit: 1 block, 2 fragment
 *   1   1  flags: bit 0 set = stored compressed; the other bits are 0
 *   2   2  0
 *   4   4  content length in bytes (block: B; fragment: its tails' sum)
 *   8   4  stored length N
 *   12  N  the stored bytes: what the image holds for the unit
 *
 * A value is used only if every field is what compressing the unit could
 * have given: the value is exactly 12 + N bytes, the unit and content
 * length are the unit's, N is at most B, and either compressed with
 * 0 < N < content length (comp.c stores a block compressed only when that
 * made it smaller) or raw with N equal to the content length and the bytes
 * equal to the content.  Anything else is a miss: the unit is compressed
 * and its entry replaced (sd_compcache_replace).  The image never depends
 * on the cache.
 *
 * "none" uses no cache: every block is stored raw, which costs less than
 * a cache lookup.  Without a cache, or with one that is off (from its
 * open, or since a put failed), nothing is hashed.
 *
 * File entries (with sd_write_options.file_digest, the stat cache), so
 * that an unchanged file is written without being opened:
 *
 *   unit:  one file, every FILE node (sub-block files too: a hit saves
 *          their open and read), except, with sd_write_options.
 *          file_content, a sub-block file of at most SD_WRITE_CONTENT_MAX
 *          bytes: the caller records its content, which with its digest
 *          is all its item needs (writer_pipe.c, known_small).  Put by
 *          the collecting thread
 *          (writer_data.c) at the file's last item, after its last read
 *          returned, when file_digest then gives the file's SHA-256 and
 *          every non-sparse block's SHA-256 was taken (none otherwise;
 *          for a file of one tail, also none unless the tail's SHA-256
 *          is the file's).
 *   key:   sd_compcache_key(params, SHA-256(desc)), params as above with
 *          kind "file"; desc is 44 bytes: "file" (4 bytes, ASCII), le64
 *          file size, the file's 32-byte SHA-256.
 *   value: for each full block of the file, in order, 1 byte: 0 sparse
 *          (all zero, nothing follows) or 1 data, followed by the 32-byte
 *          SHA-256 of its B bytes (the digest its block key takes); then
 *          le32 tail length T (size % B); when T > 0, the tail's 32-byte
 *          SHA-256 (32 zero bytes for an all-zero tail) and its T raw
 *          bytes (it goes into a fragment block, whose content is needed
 *          to write it); then le32 number of full blocks and "sqf1".
 *
 * A file entry is used only if it is exactly that long, its block count
 * is size / B and its tail length size % B, every kind byte is 0 or 1, a
 * file of one tail has its tail's digest the file's (unless all zero),
 * and every data block's unit entry is there and valid as above without
 * the content to compare: compressed with 0 < N < B, or raw with N == B
 * and not all zero.  Then (writer_pipe.c) the file's items are made from
 * the entries on the worker thread that would have opened it: DATA from
 * the stored bytes, TAIL from the entry's bytes; otherwise the file is
 * read as usual, never half from the cache.  Such a file counts its size
 * in data_bytes_in as a read one and, once written, in files_from_cache.
 */
#ifndef SD_FORMATS_SQUASHFS_WRITER_CACHE_H
#define SD_FORMATS_SQUASHFS_WRITER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqfs/compressor.h>

#include "core/compcache.h"
#include "core/error.h"
#include "core/sha256.h"
#include "formats/squashfs/comp.h"

/* Bytes of a value's header (before the stored bytes). */
#define SD_SQFS_CACHE_VHDR 12
/* Room for a parameter string. */
#define SD_SQFS_CACHE_PARAMS_MAX 512

enum sd_sqfs_unit {
	SD_SQFS_UNIT_BLOCK = 1,
	SD_SQFS_UNIT_FRAGMENT = 2,
	SD_SQFS_UNIT_FILE = 3,
};

/* The cache as one write uses it; cc NULL: none (nothing is hashed). */
struct sd_sqfs_cache {
	struct sd_compcache *cc;
	uint32_t bs;
	char params[3][SD_SQFS_CACHE_PARAMS_MAX]; /* [unit - 1] */
};

/* Is the cache in use (there is one, and it has not turned itself off)? */
static inline bool sd_sqfs_cache_on(const struct sd_sqfs_cache *c)
{
	return c->cc && sd_compcache_enabled(c->cc);
}

/*
 * The parameter string of @unit for compressor @comp into @buf of @size
 * bytes (see above).  0, or an sd_compcache_params error.
 */
int sd_sqfs_cache_params(const struct sd_sqfs_comp *comp,
			 enum sd_sqfs_unit unit, char *buf, size_t size,
			 struct sd_error *err);

/*
 * Set up @c for one write with cache @cc (NULL ok) and compressor @comp.
 * Leaves c->cc NULL (no cache) when @cc is NULL or off, @comp is "none",
 * or the parameters cannot be built.
 */
void sd_sqfs_cache_init(struct sd_sqfs_cache *c, struct sd_compcache *cc,
			const struct sd_sqfs_comp *comp);

/* The content SHA-256 of a block of @len bytes whose SHA-256 is @sha;
 * false when there is no memory for a digest. */
bool sd_sqfs_cache_block_desc(uint32_t len, const uint8_t sha[SD_SHA256_LEN],
			      uint8_t out[SD_SHA256_LEN]);

/* A fragment block's description: begin (NULL: no memory), add each tail,
 * finish with sd_sha256_final (the content SHA-256). */
struct sd_sha256 *sd_sqfs_cache_frag_begin(void);
void sd_sqfs_cache_frag_add(struct sd_sha256 *h, uint32_t len,
			    const uint8_t sha[SD_SHA256_LEN]);

/*
 * Compress unit @unit, @size bytes at @in whose description has SHA-256
 * @desc, as cmp->do_block(cmp, in, size, out, c->bs) does, through the
 * cache: a valid value found under its key is copied to @out (when
 * compressed) instead; else the result is compressed and put.  @vbuf is
 * SD_SQFS_CACHE_VHDR + c->bs bytes of scratch.  Returns what do_block
 * returns: the compressed size (bytes in @out), 0 for "store raw", or a
 * negative libsquashfs error (nothing is put).
 */
sqfs_s32 sd_sqfs_cache_do_block(const struct sd_sqfs_cache *c,
				enum sd_sqfs_unit unit,
				const uint8_t desc[SD_SHA256_LEN],
				sqfs_compressor_t *cmp, const unsigned char *in,
				uint32_t size, unsigned char *out,
				unsigned char *vbuf);

/* ---- file entries ------------------------------------------------------ */

/* A file entry being built, item by item (writer_data.c). */
struct sd_sqfs_fentry {
	uint8_t *buf;
	size_t len, cap;
	uint32_t nblocks;
	bool ok; /* false: a block's digest is unknown, or no memory */
};

/* Start the entry of a new file (keeps the buffer). */
void sd_sqfs_fentry_reset(struct sd_sqfs_fentry *e);
/* Add the next full block: sparse, or data with SHA-256 @sha (NULL:
 * unknown, the file gets no entry). */
void sd_sqfs_fentry_block(struct sd_sqfs_fentry *e, bool sparse,
			  const uint8_t *sha);
/* Add the tail, @len bytes (0 for none) at @bytes (NULL: all zero) with
 * SHA-256 @sha (NULL: all zero, or unknown when @bytes is not NULL). */
void sd_sqfs_fentry_tail(struct sd_sqfs_fentry *e, uint32_t len,
			 const unsigned char *bytes, const uint8_t *sha);
/* Put @e as the entry of a file of @size bytes with SHA-256 @digest (if
 * it is complete and consistent).  @e is as before afterwards. */
void sd_sqfs_fentry_put(const struct sd_sqfs_cache *c, struct sd_sqfs_fentry *e,
			uint64_t size, const uint8_t digest[SD_SHA256_LEN]);
void sd_sqfs_fentry_release(struct sd_sqfs_fentry *e);

/* The key of the entry of a file of @size bytes with SHA-256 @digest;
 * false when there is no memory for a digest. */
bool sd_sqfs_cache_file_key(const struct sd_sqfs_cache *c, uint64_t size,
			    const uint8_t digest[SD_SHA256_LEN],
			    uint8_t key[SD_COMPCACHE_KEY_LEN]);

/* One full block of a file written from the cache. */
struct sd_sqfs_hblock {
	bool sparse;
	bool compressed;
	uint32_t stored;     /* bytes at data */
	const uint8_t *data; /* inside val */
	void *val;           /* the unit's value (malloc'ed) */
};

/* What a hit gives: everything needed to make the file's items. */
struct sd_sqfs_fhit {
	uint32_t nblocks;
	struct sd_sqfs_hblock *blocks;
	uint32_t tail;             /* tail length */
	const uint8_t *tail_bytes; /* inside val */
	const uint8_t *tail_sha;   /* inside val; NULL for an all-zero tail */
	void *val;                 /* the file entry's value */
};

/*
 * Look up file @size bytes with SHA-256 @digest: true when its file entry
 * and every unit entry it names are there and valid (*@out filled; free
 * with sd_sqfs_fhit_release), else false (*@out empty).
 */
bool sd_sqfs_cache_file_get(const struct sd_sqfs_cache *c, uint64_t size,
			    const uint8_t digest[SD_SHA256_LEN],
			    struct sd_sqfs_fhit *out);

void sd_sqfs_fhit_release(struct sd_sqfs_fhit *h);

#endif
