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
 */
#ifndef SD_FORMATS_EROFS_WRITER_Z_H
#define SD_FORMATS_EROFS_WRITER_Z_H

#include <stddef.h>
#include <stdint.h>

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
	uint8_t *data; /* nblocks * EW_BLKSIZE bytes */
	uint32_t nblocks;
};

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
