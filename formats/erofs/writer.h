/* SPDX-License-Identifier: MIT */
/*
 * writer.h — the EROFS writer, split into its stages.
 *
 * Image layout of uncompressed images (4 KiB blocks, meta_blkaddr 0):
 *
 *   block 0, bytes 0..1023     zero
 *   bytes 1024..1151           superblock (crc32c checksum, label, UUID)
 *   bytes 1152..               with INCOMPAT_COMPR_CFGS: the compression
 *                              configuration record (writer.c)
 *   meta_start..               the metadata area (meta_start: the next
 *                              32-byte boundary; root nid 36, or 37 after
 *                              a record): every inode, 32-byte aligned and
 *                              followed by its chunk map, inline tail or
 *                              compressed indexes, placed first fit in
 *                              tree pre-order (writer_pack.c); it runs on
 *                              into the following blocks as needed
 *   following blocks           directories' whole blocks and long
 *                              symlinks' blocks, in tree pre-order (a
 *                              metadata walk reads these and the inodes
 *                              only: one region at the image's start)
 *   following blocks           file data, in tree pre-order: a file's
 *                              blocks (or its non-zero chunks)
 *
 * Compressed images (writer_zmeta.c) put the metadata after the data, as
 * a compressed file's metadata size is known only once it is compressed:
 *
 *   block 0                    superblock (and compression records)
 *   blocks 1..                 data, in tree pre-order: each regular
 *                              file's pclusters, or its plain blocks
 *   meta_blkaddr..             the metadata area: the root first (nid
 *                              1), then every inode in the first of the
 *                              last 64 blocks with room for it and what
 *                              follows it (indexes, inline tail or
 *                              pcluster; a record longer than a block
 *                              starts a block of its own)
 *   following blocks           directories' and long symlinks' blocks
 *
 * While the data is written, the bytes that follow each file's inode wait
 * in a spool file (core/spool.h), so memory grows with the number of
 * files, not with their index or tail bytes.
 *
 * Stage 1 (layout, writer_layout.c) decides every inode's form and data
 * layout from sizes alone and, in uncompressed images, gives it its place
 * (nid) in the metadata area.  Stage 2 writes data blocks and then each inode at its place:
 * for uncompressed images a plan that fixes every block address and then
 * a parallel copy (writer_flat.h), for compressed ones writer_zpipe.c
 * (threads), which writes its other nodes through writer_data.c;
 * directories are encoded by writer_dir.c.  Inodes reach the image through
 * a bounded window over the metadata area (writer_meta.c), so memory does
 * not grow with the area (inline tails are file bytes).  Finally
 * writer.c writes the
 * superblock, derives the UUID and seals the checksum.
 *
 * Data layout of a regular file:
 *   - size 0: FLAT_PLAIN, no blocks;
 *   - compressed images (opts->compressor lz4, lz4hc, lzma, zstd), size of
 *     at least one block (with opts->ztailpacking: any size but 0):
 *     COMPRESSED_COMPACT (writer_z.h) unless that takes no less room
 *     than the plain form below, which is then used;
 *   - uncompressed images, size >= EW_CHUNKED_MIN, unless
 *     opts->min_kernel predates chunk-based files (5.15, core/kver.h;
 *     then the next rules apply, so sparse files are stored in full):
 *     room for a CHUNK_BASED
 *     map (1 MiB chunks, 4-byte entries) is reserved; the file is
 *     CHUNK_BASED only if it has an all-zero chunk, which becomes a hole
 *     (EROFS_NULL_ADDR) and takes no space; otherwise it is FLAT_PLAIN
 *     (its chunks lie back to back) and the reserved map stays a zero gap
 *     in the metadata area (4 bytes per MiB);
 *   - else (also every file shorter than a block in a compressed image:
 *     compressing less than a block never saves a block) if the size is
 *     not a block multiple and the last partial block fits after the
 *     inode in its metadata block: FLAT_INLINE (whole blocks in the data
 *     area, the tail after the inode);
 *   - else FLAT_PLAIN (the last block zero-padded).
 * Directories and symlinks follow the same FLAT_INLINE / FLAT_PLAIN rule
 * (never compressed).
 *
 * Deduplication: a file whose size and SHA-256 equal an earlier file's
 * (tree order) uses that file's blocks (raw_blkaddr, chunk map or
 * pclusters) and form; only whole blocks can be shared, so inline tails
 * and inline pclusters are stored in every inode (a small inline file is simply stored again: it costs no
 * data block).  Uncompressed images hash only the files whose size and
 * initial layout another file shares (writer_flat.h).
 */
#ifndef SD_FORMATS_EROFS_WRITER_H
#define SD_FORMATS_EROFS_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sha256.h"
#include "core/spool.h"
#include "core/tree.h"
#include "formats/erofs/zcomp.h"
#include "formats/format.h"

#define EW_BLKBITS 12
#define EW_BLKSIZE 4096u
#define EW_CHUNKBITS 8                             /* chunk = block << 8 */
#define EW_CHUNK_SIZE (EW_BLKSIZE << EW_CHUNKBITS) /* 1 MiB */
#define EW_CHUNKED_MIN ((uint64_t)EW_CHUNK_SIZE)
#define EW_DEFAULT_LABEL "nix-store"
#define EW_ROOT_OFFSET 1152u   /* right after the sb */
#define EW_META_WIN (1u << 20) /* see writer_meta.c */

/* What the writer decides for one node (by node->index). */
struct ew_inode {
	uint64_t nid;  /* place in the metadata area / 32 */
	uint64_t size; /* i_size: content / target / dir bytes */
	uint32_t nlink;
	uint8_t extended;    /* 64-byte inode */
	uint8_t layout;      /* EROFS_INODE_FLAT_* / CHUNK_BASED */
	uint32_t tail;       /* bytes inline after the inode */
	uint32_t meta_len;   /* inode + chunk map + inline tail */
	uint32_t blkaddr;    /* FLAT_*: first data block */
	uint32_t nchunks;    /* CHUNK_BASED: block map entries */
	uint32_t *chunks;    /* CHUNK_BASED: the block map */
	uint32_t dir_blocks; /* DIR: blocks of dirents (incl. inline) */
	uint32_t zblocks;    /* COMPRESSED_COMPACT: blocks of its
				pclusters (not the inline one) */
	uint16_t idata;      /* COMPRESSED_COMPACT: inline pcluster bytes
				at the end of its metadata */
	uint64_t spool_off;  /* compressed images: where the bytes after
				its inode wait in w->zspool */
};

/* The writer's shared state. */
struct ew_state {
	const struct sd_tree *tree;
	int fd;
	struct sd_node **nodes; /* by node->index */
	struct ew_inode *ino;   /* by node->index */
	size_t count;
	int64_t build_time;       /* superblock time (see writer.c) */
	uint64_t meta_end;        /* first byte after the metadata area */
	uint32_t data_start;      /* first data block */
	uint32_t data_next;       /* next free data block */
	bool any_chunked;         /* INCOMPAT_CHUNKED_FILE needed */
	bool chunks_ok;           /* CHUNK_BASED may be used: the
				     kernel of opts->min_kernel reads
				     it (core/kver.h "chunk-based") */
	uint64_t meta_start;      /* byte after the superblock and
				     compression records */
	uint64_t meta_base;       /* byte of nid 0 (meta_blkaddr) */
	bool ztail;               /* ztailpacking (opts->ztailpacking) */
	bool defer_meta;          /* ew_write_meta spools (see there) */
	struct sd_spool *zspool;  /* compressed images: metadata records */
	struct ez_config zcfg;    /* compression (alg EZ_NONE: none) */
	unsigned jobs;            /* worker threads */
	struct sd_sha256 *digest; /* data digest for the derived UUID */
	struct ew_meta *meta;     /* the metadata window (writer_meta.c) */
	struct ew_dedup *dedup;   /* content index (writer_data.c) */
	volatile const int *interrupted;
	struct sd_write_stats *stats;
	/* opts->progress and the file data consumed so far (any thread) */
	void (*progress)(void *ctx, uint64_t bytes_done, uint64_t files_done);
	void *progress_ctx;
	_Atomic uint64_t done_bytes, done_files;
	/* the compression cache, opts->cache (writer_z.h), or NULL */
	struct sd_compcache *cache;
	/* opts->file_digest and its context (NULL: none) */
	bool (*file_digest)(void *ctx, const struct sd_node *node,
			    uint8_t sha[32]);
	/* opts->file_content (NULL: none), same context */
	bool (*file_content)(void *ctx, const struct sd_node *node, void *buf);
	void *file_digest_ctx;
};

/*
 * Count @bytes of file data and @files files as consumed; call the
 * progress callback if @report (only the thread that called write
 * reports).
 */
static inline void ew_progress(struct ew_state *w, uint64_t bytes,
			       uint64_t files, bool report)
{
	uint64_t b = atomic_fetch_add_explicit(&w->done_bytes, bytes,
					       memory_order_relaxed) +
		     bytes;
	uint64_t f = atomic_fetch_add_explicit(&w->done_files, files,
					       memory_order_relaxed) +
		     files;
	if (report && w->progress)
		w->progress(w->progress_ctx, b, f);
}

/*
 * The image-wide entry point (sd_format_erofs.write, see format.h): write
 * @tree as an EROFS image to the empty @fd.  Volume label
 * opts->label (default "nix-store"); UUID opts->uuid if opts->has_uuid,
 * else the SHA-256 of the metadata area (superblock with UUID and
 * checksum zero, all inodes, inline data) and of every node's data in
 * tree order, as an RFC 9562 version 8 UUID: in uncompressed images the
 * XXH3-128 of each node's data (writer_flat.h), in compressed ones each
 * file's SHA-256 (tree order), then each directory's and symlink's data
 * (tree order).  opts->ztailpacking: inline pclusters (writer_z.h).
 * Superblock time = tree->mtime (see writer.c for the MINIX exception).
 * Compression opts->compressor at opts->level in physical clusters of
 * opts->pcluster_size bytes (see sd_erofs_check_options), on opts->jobs
 * threads; the bytes depend only on @tree, the compression options,
 * label and UUID, never on opts->jobs.
 * SD_ERR_UNSUPPORTED naming the path for SD_NODE_OTHER, SD_ERR_LIMIT past
 * EROFS limits (2^32 blocks), SD_ERR_INTERRUPTED when *@interrupted is
 * set (polled before every file), SD_ERR_IO / SD_ERR_NOMEM.
 */
int sd_erofs_write(const struct sd_tree *tree,
		   const struct sd_write_options *opts, int fd,
		   volatile const int *interrupted,
		   struct sd_write_stats *stats, struct sd_error *err);

/*
 * Validate @opts: compressor NULL, "none", "lz4", "lz4hc" (level 1..12,
 * default 9), "lzma" (0..9, default 6) or "zstd" (1..22, default 3), else
 * SD_ERR_UNSUPPORTED; a level out of range, pcluster size not 0 (4 KiB)
 * or a power of two from 4 KiB to 1 MiB, block size not 0 or 4096, a
 * label longer than 16 bytes or ztailpacking without a compressor:
 * SD_ERR_USAGE.
 */
int sd_erofs_check_options(const struct sd_write_options *opts,
			   struct sd_error *err);

/*
 * Stage 1: fill w->ino[] (form, layout, sizes, nids) and w->meta_end,
 * w->data_start.  SD_ERR_LIMIT when the image would exceed EROFS limits.
 */
int ew_layout(struct ew_state *w, struct sd_error *err);

/*
 * Stage 2 of uncompressed images (writer_flat.h): write every node's
 * data blocks and its inode (with chunk map and inline tail) on w->jobs
 * threads; polls w->interrupted between nodes.
 */
int ew_write_nodes(struct ew_state *w, struct sd_error *err);

/*
 * One node in an uncompressed form (directory, symlink, file) at the next
 * free blocks, and its inode (the compressed writer's other nodes); @buf
 * holds EW_CHUNK_SIZE bytes.  Needs the content index of ew_dedup_begin.
 */
int ew_write_node(struct ew_state *w, const struct sd_node *n, uint8_t *buf,
		  struct sd_error *err);

/*
 * Deduplication: @in takes the data of the earlier identical file w->ino
 * [@owner] (its blkaddr and, for a chunk-based file, its chunk map of
 * in->nchunks entries) and counts in stats->files_deduplicated.  Used by
 * the plan of uncompressed images and by writer_data.c.
 */
void ew_share_data(struct ew_state *w, struct ew_inode *in, uint32_t owner);

/*
 * A FLAT_INLINE / FLAT_PLAIN file shorter than EW_CHUNK_SIZE whose content
 * was read already (the compressed writer's small files, read on its
 * worker threads): @data holds its in->size bytes and room up to the next
 * block multiple (zeroed here), @digest its SHA-256.  Writes its whole
 * blocks at the next free block (or shares an earlier identical file's,
 * as ew_write_node does) and its inode; SD_ERR_IO.
 */
int ew_write_file_mem(struct ew_state *w, const struct sd_node *n,
		      uint8_t *data, const uint8_t *digest,
		      struct sd_error *err);

/* Create / free the uncompressed writer's content index (w->dedup). */
int ew_dedup_begin(struct ew_state *w, struct sd_error *err);
void ew_dedup_end(struct ew_state *w);

/*
 * Write @n's inode at its place (byte w->meta_base + nid * 32), followed
 * by its chunk map, its inline tail (@tail, in->tail bytes) or, for
 * COMPRESSED_COMPACT, its map header, indexes and inline pcluster (@tail,
 * in->meta_len minus the inode size bytes), through the metadata window
 * (threads may write different inodes at once).  With w->defer_meta the
 * bytes after the inode are appended to w->zspool instead (in->spool_off
 * says where) and the inode is written later (ewz_write_meta_area).
 */
int ew_write_meta(struct ew_state *w, const struct sd_node *n,
		  const uint8_t *tail, struct sd_error *err);

/*
 * The metadata window (writer_meta.c): begin before any inode is written
 * (SD_ERR_NOMEM), put @len bytes at byte @off of the image (any thread,
 * any order; SD_ERR_IO; bytes nobody puts are never written), end by
 * writing what it still holds and freeing it (free alone on failure
 * paths).  Memory: EW_META_WIN bytes.
 */
int ew_meta_begin(struct ew_state *w, struct sd_error *err);
int ew_meta_put(struct ew_state *w, uint64_t off, const void *data, size_t len,
		struct sd_error *err);
int ew_meta_end(struct ew_state *w, struct sd_error *err);
void ew_meta_free(struct ew_state *w);

/*
 * First-fit placement in a metadata area (writer_pack.c): init with the
 * bytes of block 0 already taken (@used0, rounded up to a 32-byte slot);
 * ew_pack_place returns the byte offset within the area of a record of
 * @len bytes (inode plus what follows it) obeying the kernel's inline
 * rule: a record of at most a block lies in one block, in the first of
 * the last EW_PACK_OPEN blocks with room for it (32-byte aligned), else
 * in a new block; a longer one starts a new block.  p->next is then the
 * area's size in blocks.  Same input, same places: no thread involved.
 */
#define EW_PACK_OPEN 64
struct ew_pack {
	struct {
		uint64_t blk;  /* block within the area */
		uint32_t used; /* bytes taken from its start */
	} open[EW_PACK_OPEN];
	size_t nopen;
	uint64_t next; /* the next new block */
};
void ew_pack_init(struct ew_pack *p, uint32_t used0);
uint64_t ew_pack_place(struct ew_pack *p, uint32_t len);

/* Reserve @n data blocks at the next free block; SD_ERR_LIMIT past 2^32
 * blocks. */
int ew_alloc_blocks(struct ew_state *w, uint64_t n, uint32_t *first,
		    struct sd_error *err);

/* Bytes of @dir's directory data (all blocks, the last one unpadded),
 * and the number of blocks in *@blocks. */
uint64_t ew_dir_size(const struct sd_node *dir, uint32_t *blocks);

/*
 * Encode @dir's directory data into @buf (ino.dir_blocks * EW_BLKSIZE
 * bytes, zeroed by the caller).  Needs every nid (after ew_layout).
 */
void ew_dir_encode(const struct ew_state *w, const struct sd_node *dir,
		   uint8_t *buf);

/* Encode @node's inode (32 or 64 bytes) into @buf. */
void ew_encode_inode(const struct ew_state *w, const struct sd_node *node,
		     uint8_t *buf);

/* pwrite all of @len bytes at @off, SD_ERR_IO on failure. */
int ew_pwrite(int fd, const void *buf, size_t len, uint64_t off,
	      struct sd_error *err);

/* Read exactly @len bytes of @n's content (SD_ERR_IO naming the file if
 * it ends early; writer_fplan.c). */
int ew_read_exact(struct sd_stream *s, const struct sd_node *n, uint8_t *buf,
		  size_t len, struct sd_error *err);

/* Report @node's path with @what (SD_ERR_* @code). */
int ew_node_error(struct sd_error *err, int code, const struct sd_node *node,
		  const char *what);

#endif
