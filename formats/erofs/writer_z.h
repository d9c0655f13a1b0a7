/* SPDX-License-Identifier: MIT */
/*
 * writer_z.h — the compressed part of the EROFS writer (not a public API).
 *
 *   writer_compress.c  one input segment -> a chain of pclusters
 *   writer_zindex.c    pclusters -> map header + full lcluster indexes
 *   writer_zpipe.c     the pipeline's ring and threads (writer_zpipe.h):
 *                      every thread reads, hashes and compresses
 *   writer_zcollect.c  in-order collection: blocks, form, dedup
 *   writer_zgroup.c    same-size multi-segment files hashed first
 *   writer_zcache.c    the compression cache of segments
 *   zcomp*.c           the compressors (zcomp.h)
 *
 * On-disk form of a compressed file (datalayout COMPRESSED_FULL, 4 KiB
 * logical clusters):
 *   - the file is cut into segments of ewz_segment_size() bytes (the last one
 *     shorter); each segment is compressed on its own into a chain of
 *     physical clusters (pclusters), so segments can be compressed in
 *     parallel and the bytes never depend on the thread count;
 *   - fixed-output chain: each step compresses the longest prefix of the
 *     rest of the segment that fits into one pcluster (cfg.pcluster
 *     bytes); the pcluster takes ceil(compressed / 4 KiB) blocks and the
 *     data is right-aligned in them, zeros in front (ZERO_PADDING);
 *   - a step is kept only if its input is longer than its blocks (it saves
 *     at least one block, as mkfs.erofs requires); otherwise the next
 *     min(rest, pcluster) input bytes are stored raw, 4 KiB per one-block
 *     PLAIN pcluster (data at the block start, zero-filled); a raw tail
 *     shorter than a block happens only at a segment end; at the file's
 *     end it may run into the next lcluster, which then holds an empty
 *     PLAIN head at the file end (as mkfs.erofs writes it);
 *   - every compressed step consumes more than 4 KiB, every raw one 4 KiB
 *     (except at a segment end, which is lcluster-aligned), so no logical
 *     cluster ever holds two pcluster heads; the one exception is the
 *     file's last step with ztailpacking (tail_room), which is never
 *     followed by another head;
 *   - with ztailpacking a last pcluster of one block goes inline after
 *     the indexes when the inode, indexes and it fit in one metadata
 *     block (compressed: its bytes without the zero padding; raw: its
 *     input bytes); a file whose compressed form does not take less room
 *     than its plain form (whole blocks plus an inline tail) is stored
 *     uncompressed (writer_zpipe.c).
 *
 * The compression cache (sd_write_options.cache, core/compcache.h)
 * holds compressed segments (writer_zcache.c):
 *   - unit: one segment as ewz_compress_segment compresses it; its digest
 *     is the SHA-256 of its input bytes (for a file of one segment the
 *     file's SHA-256, which deduplication computes anyway; for a file of
 *     several, each segment's, computed only when a cache is in use);
 *   - key: sd_compcache_key(params, SHA-256(desc)) where params is
 *     sd_compcache_params of format "erofs", kind "segment", the
 *     compressor's name, its library and runtime version (ez_library),
 *     the resolved level (0 for lz4), the pcluster size and the layout
 *     "rules=R,blksize=4096,dict=D" (R: the version of these rules, of
 *     the backends' settings and of the value format, EWZ_CACHE_RULES;
 *     D: the lzma dictionary or zstd window, 0 for lz4), built once per
 *     write; and desc is 51 bytes:
 *       0  7  "segment"
 *       7  8  le64 input length
 *       15 4  le32 tail_room (0 unless the file's last segment under
 *             ztailpacking; it depends on the file size only)
 *       19 32 the unit's digest
 *     The segment's logical start la0 is no part of it: segments start
 *     on lcluster boundaries, so their pclusters do not depend on it, and
 *     the value stores offsets relative to it.  The key thus follows from
 *     digests and lengths alone (a stat index can derive it unread).
 *   - value (little-endian; the blocks first, so that a hit is used in
 *     place, without a copy):
 *       0       nblocks * 4096   the pclusters' blocks, back to back,
 *                                exactly as ewz_seg.data holds them
 *       then    npcl * 16        one record per pcluster, in order:
 *                                le32 la - la0, le32 llen, le32 clen,
 *                                le16 blocks, le16 flags (bit 0: plain;
 *                                the other bits zero)
 *       then    12               le32 npcl, le32 nblocks, "ewz1"
 *     A value is used only if it is exactly that long and is a chain this
 *     file's rules make: pclusters contiguous from offset 0 and ending at
 *     the input length, npcl >= 1, 1 <= blocks <= pcluster / 4096 and
 *     their sum nblocks (at most ceil(len / 4096) + 1); plain: one block,
 *     clen == llen == 4096 (less only at the segment end), zeros behind;
 *     compressed: 1 <= clen, blocks == ceil(clen / 4096), zeros in front,
 *     and llen > blocks * 4096 unless it ends the segment within
 *     tail_room; a plain run not at the end is a whole pcluster's input.
 *     Anything else is a miss: the segment is compressed (and put, which
 *     leaves an entry already present as it is).  The structure is what
 *     is checked, not that the compressed bytes decompress to the input:
 *     the entry's checksum and key guard against accidents
 *     (core/compcache.h), decompressing every hit would cost a good part
 *     of what the cache saves.
 *
 * File entries (with sd_write_options.file_digest, the stat cache), so
 * that an unchanged file is written without being read:
 *   - unit: one compressed file of more than one segment (a file of one
 *     segment needs none: its segment's key is made of its size, its
 *     SHA-256 and the tail room its size gives, so that entry alone
 *     writes it); put by the collector at the file's end, after its last read, when
 *     file_digest then gives the SHA-256 the writer computed (none when
 *     it says false or differs), also for a file then stored plain;
 *   - key: sd_compcache_key(fparams, SHA-256(desc)), fparams as above
 *     with kind "file" and ",ztail=0|1" appended to the layout; desc is
 *     44 bytes: "file", le64 file size, the file's 32-byte SHA-256;
 *   - value: per segment in order 40 bytes (its 32-byte digest as its
 *     segment key takes it, le32 length, le32 tail_room), then le32
 *     count and "ewf1".  Used only if it has ceil(size / segment size)
 *     records, full segments but the last, tail_room 0 but the last's
 *     (the file size's, zpipe_tail_room), a single segment's digest the
 *     file's, and every segment entry it names hits and decodes
 *     (writer_zpipe.c, from_cache; looked up ahead of the producer by
 *     any thread, before the file would be opened); otherwise the file
 *     is read as usual.
 *     A hit is deduplicated by the file digest like a read file, counts
 *     its size in data_bytes_in and, unless its form turns out plain
 *     (store_plain reads it then), in files_from_cache.
 */
#ifndef SD_FORMATS_EROFS_WRITER_Z_H
#define SD_FORMATS_EROFS_WRITER_Z_H

#include <stddef.h>
#include <stdint.h>

#include "core/compcache.h"
#include "formats/erofs/writer.h"
#include "formats/erofs/zcomp.h"

/* Segment length for @pcluster: 1 MiB, or 4 pclusters if larger. */
static inline size_t ewz_segment_size(uint32_t pcluster)
{
	size_t s = 4 * (size_t)pcluster;

	return s > EW_CHUNK_SIZE ? s : EW_CHUNK_SIZE;
}

/* One physical cluster. */
struct ewz_pcl {
	uint64_t la;      /* logical start in the file */
	uint32_t llen;    /* decompressed bytes */
	uint32_t blocks;  /* physical blocks */
	uint32_t blkaddr; /* first block (set when placed) */
	uint32_t clen;    /* compressed bytes (right-aligned in the
			     blocks); raw: llen */
	uint8_t plain;    /* stored raw */
};

/* A compressed segment: its pclusters and their blocks back to back. */
struct ewz_seg {
	struct ewz_pcl *pcl;
	size_t npcl;
	uint8_t *data; /* nblocks * EW_BLKSIZE bytes (ewz_compress_segment:
			  and room for the cache value's records) */
	uint32_t nblocks;
};

/* The cache value's pcluster record and trailer (above). */
#define EWZ_REC_LEN 16u
#define EWZ_TRAILER_LEN 12u

/*
 * Compress @len bytes at @in (logical offset @la0 in the file) with @c
 * into @out (fields malloc'ed; free with ewz_seg_free).  @scratch holds
 * cfg->pcluster bytes.  @tail_room (0: none): the segment ends the file
 * and a last step that takes all the rest into at most @tail_room bytes
 * is kept compressed in one block whatever its input length (it will be
 * stored inline, ztailpacking).  SD_OK or SD_ERR_NOMEM (no message set).
 */
int ewz_compress_segment(struct ez_comp *c, const struct ez_config *cfg,
			 uint8_t *scratch, const uint8_t *in, size_t len,
			 uint64_t la0, uint32_t tail_room, struct ewz_seg *out);

void ewz_seg_free(struct ewz_seg *s);

/* ---- the compression cache (writer_zcache.c) ----------------------- */

struct sd_compcache;

/* The cache as one write uses it. */
struct ewz_cache {
	struct sd_compcache *cc; /* NULL: none (or off, or no compressor) */
	char params[512];        /* the segments' parameter string */
	char fparams[512];       /* the file entries' parameter string */
};

/* Fill @zc for @cc (NULL ok), @cfg and ztailpacking @ztail: the
 * parameter strings, built once. */
void ewz_cache_init(struct ewz_cache *zc, struct sd_compcache *cc,
		    const struct ez_config *cfg, bool ztail);

/* The parameter string of units of @kind ("segment" or "file")
 * compressed with @cfg (above). */
int ewz_cache_params(const struct ez_config *cfg, const char *kind, bool ztail,
		     char *buf, size_t size, struct sd_error *err);

/* One segment of a file entry: what its unit's key is made of. */
struct ewz_fseg {
	uint8_t digest[SD_SHA256_LEN];
	uint32_t len;
	uint32_t tail_room;
};

#define EWZ_FREC_LEN 40u
#define EWZ_FTRAILER_LEN 8u

/* The key of the file entry of a file of @size bytes whose SHA-256 is
 * @digest, under @fparams.  SD_ERR_NOMEM. */
int ewz_file_key(const char *fparams, uint64_t size,
		 const uint8_t digest[SD_SHA256_LEN],
		 uint8_t key[SD_COMPCACHE_KEY_LEN], struct sd_error *err);

/* Encode the @n segments @s as a file entry value into @out (n *
 * EWZ_FREC_LEN + EWZ_FTRAILER_LEN bytes); returns its length. */
size_t ewz_file_encode(const struct ewz_fseg *s, size_t n, uint8_t *out);

/*
 * Check the file entry value @val (@vlen bytes) against a file of @size
 * bytes with SHA-256 @digest cut into segments for @pcluster, the last
 * one with @tail_room (above), and decode its @n segments into @out
 * (n = ceil(size / segment size)); false when it is not what the
 * pipeline would have cut.
 */
bool ewz_file_decode(const uint8_t *val, size_t vlen, uint64_t size,
		     const uint8_t digest[SD_SHA256_LEN], uint32_t pcluster,
		     uint32_t tail_room, struct ewz_fseg *out, size_t n);

/* The key of a segment of @len bytes with @tail_room and the SHA-256
 * @digest of its input, under @params.  SD_ERR_NOMEM. */
int ewz_cache_key(const char *params, size_t len, uint32_t tail_room,
		  const uint8_t digest[SD_SHA256_LEN],
		  uint8_t key[SD_COMPCACHE_KEY_LEN], struct sd_error *err);

/* Append @s's records and trailer behind its blocks (the room
 * ewz_compress_segment leaves); returns the value's length, from s->data. */
size_t ewz_seg_encode(struct ewz_seg *s, uint64_t la0);

/*
 * Check the value @val (@vlen bytes, malloc'ed) against a segment of @len
 * input bytes at @la0 with @tail_room compressed into pclusters of
 * @pcluster bytes (the rules above); true and @out filled (its data is
 * @val, which it then owns), or false (@val is still the caller's).
 */
bool ewz_seg_decode(uint8_t *val, size_t vlen, size_t len, uint32_t tail_room,
		    uint64_t la0, uint32_t pcluster, struct ewz_seg *out);

/*
 * ewz_compress_segment through the cache @zc (NULL or without a handle:
 * just that): the segment's key from @digest (the SHA-256 of @in, or
 * NULL to compute it), its value on a hit that decodes, else compressed
 * and put.  SD_OK or SD_ERR_NOMEM; the cache never fails it.
 */
int ewz_compress_cached(const struct ewz_cache *zc, struct ez_comp *c,
			const struct ez_config *cfg, uint8_t *scratch,
			const uint8_t *in, size_t len, uint64_t la0,
			uint32_t tail_room, const uint8_t *digest,
			struct ewz_seg *out);

/* Bytes after the inode of a COMPRESSED_COMPACT file of @size bytes: map
 * header and compact index packs (writer_zindex.c), without any inline
 * pcluster. */
uint64_t ewz_index_bytes(uint64_t size);

/*
 * Encode the map header and compact indexes of a file of @size bytes made
 * of the @n pclusters @p (in order, blkaddr set) into @out
 * (ewz_index_bytes(size) bytes).  @big: the file uses big pclusters
 * (ADVISE_BIG_PCLUSTER_1 and _2, block counts in the first NONHEAD
 * lcluster).  @idata (0: none): the last pcluster is stored inline after
 * the indexes, @idata bytes (ADVISE_INLINE_PCLUSTER, ztailpacking).
 */
void ewz_index_encode(const struct ewz_pcl *p, size_t n, uint64_t size,
		      bool big, unsigned disk_alg, uint16_t idata,
		      uint8_t *out);

/*
 * Stage 2 for compressed images: like ew_write_nodes, but files of at
 * least one block are compressed on opts->jobs threads.
 */
int ewz_write_nodes(struct ew_state *w, struct sd_error *err);

/*
 * Stage 2 and 3 of compressed images (writer_zmeta.c): the data area
 * (ewz_write_nodes, metadata records spooled), then the metadata area and
 * the directory and symlink blocks; sets w->meta_base, w->meta_end.
 */
int ewz_write_image(struct ew_state *w, struct sd_error *err);

#endif
