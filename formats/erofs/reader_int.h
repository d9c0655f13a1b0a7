/* SPDX-License-Identifier: MIT */
/*
 * reader_int.h — what the EROFS reader's files share (not a public API).
 *
 *   reader_image.c   open the image, bounds-checked reads, superblock,
 *                    probe, error helpers
 *   reader_inode.c   inode parsing and per-layout validation
 *   reader_flat.c    uncompressed layouts: logical offset -> image bytes
 *   reader_zmap.c    compressed layouts: lcluster indexes -> extents
 *   reader_packed.c  decoded-extent buffers and reads at any offset of an
 *                    inode (the packed inode holding fragments)
 *   reader_decomp.c  lz4, microLZMA, deflate and zstd pclusters
 *   reader_stream.c  file data streams and the tree's content source
 *   reader_dir.c     directory walk and sd_erofs_read()
 *   reader_info.c    sd_erofs_info(): superblock, features, counts
 *
 * Every offset read from the image is checked against the image size
 * before use; every failure is SD_ERR_CORRUPT "IMAGE: inode NID: what"
 * (or SD_ERR_UNSUPPORTED for a well-formed feature we do not read).
 */
#ifndef SD_FORMATS_EROFS_READER_INT_H
#define SD_FORMATS_EROFS_READER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sdlimits.h"
#include "core/stream.h"
#include "core/tree.h"

/* Longest decompressed extent we buffer (hostile images cannot make a
 * stream allocate more than this). */
#define SD_EROFS_MAX_EXTENT (64u << 20)
/* Longest symlink target, largest file size accepted (core/sdlimits.h,
 * shared with the writers). */
#define SD_EROFS_MAX_SYMLINK SD_LIMIT_SYMLINK
#define SD_EROFS_MAX_FILE_SIZE SD_LIMIT_FILE_SIZE

struct sd_erofs_pcache;

/* An open image and what its superblock says. */
struct sd_erofs_image {
	int fd;
	char *path;
	uint64_t size; /* bytes in the image file */
	unsigned blkszbits;
	uint32_t blksz;
	uint64_t meta_off; /* byte offset of nid 0 */
	uint64_t root_nid;
	uint64_t max_nid; /* nids are < max_nid */
	int64_t build_time;
	uint32_t feature_compat;
	uint32_t feature_incompat;
	uint16_t compr_algs; /* bitmap of usable Z_EROFS_COMPRESSION_* */
	/* fragments: the packed inode (checked at open), else has_packed
	 * is false */
	bool has_packed;
	uint64_t packed_nid;
	uint64_t packed_size;           /* bytes of data in the packed inode */
	struct sd_erofs_pcache *pcache; /* its decoded extents, shared by
					   every stream (reader_packed.c) */
};

/* A parsed inode. */
struct sd_erofs_inode {
	uint64_t nid;
	uint64_t off;    /* byte offset of the inode */
	unsigned layout; /* EROFS_INODE_* data layout */
	unsigned isize;  /* 32 or 64 */
	uint32_t xattr_size;
	uint16_t mode; /* type and permission bits */
	uint32_t uid, gid;
	int64_t mtime;
	uint64_t size;
	uint32_t iu;       /* the i_u union, raw */
	uint64_t tail_off; /* off + isize + xattr_size */

	/* FLAT_PLAIN / FLAT_INLINE */
	uint64_t nblocks_direct; /* whole blocks at iu (raw_blkaddr) */
	/* CHUNK_BASED */
	unsigned chunkbits; /* log2 of the chunk size in bytes */
	bool chunk_indexes; /* 8-byte indexes, else 4-byte blkaddrs */
	uint64_t chunk_map_off;
	uint64_t nchunks;
	/* compressed layouts */
	uint16_t z_advise;
	uint8_t z_algs[2]; /* head1, head2 algorithm */
	unsigned z_lclusterbits;
	uint64_t z_totalidx;   /* lclusters */
	uint64_t z_ebase;      /* map header end: first index (compact) */
	uint64_t z_full_base;  /* first full index (COMPRESSED_FULL) */
	uint16_t z_idata_size; /* ztailpacking: inline pcluster size */
	uint64_t z_idata_off;  /* ... and its byte offset */
	bool z_frag_whole;     /* all data in the packed inode */
	bool z_frag_tail;      /* the last extent in the packed inode */
	uint64_t z_fragoff;    /* byte offset in the packed inode (tail,
				  full indexes: bits 0..31 only) */
};

/* One decompressed extent of a compressed file. */
struct sd_erofs_zext {
	uint64_t la, llen; /* logical range */
	uint64_t pa, plen; /* bytes of the pcluster in the image */
	bool plain;        /* stored raw (shifted or interlaced) */
	bool interlaced;
	bool fragment; /* data at byte pa of the packed inode
			  (plen 0) */
	unsigned alg;  /* Z_EROFS_COMPRESSION_* unless plain or
			  fragment */
};

/* ---- reader_image.c ------------------------------------------------ */

int sd_erofs_image_open(const char *path, struct sd_erofs_image **out,
			struct sd_error *err);
void sd_erofs_image_close(struct sd_erofs_image *img);

/*
 * Read @len bytes at @off; an out-of-image range is SD_ERR_CORRUPT
 * "IMAGE: inode NID: WHAT at byte OFF beyond the image end" (@nid
 * UINT64_MAX: no inode).
 */
int sd_erofs_pread(const struct sd_erofs_image *img, uint64_t nid,
		   const char *what, void *buf, size_t len, uint64_t off,
		   struct sd_error *err);

/* True if [off, off + len) lies inside the image. */
bool sd_erofs_in_image(const struct sd_erofs_image *img, uint64_t off,
		       uint64_t len);

/* SD_ERR_CORRUPT "IMAGE: inode NID: <fmt>" (@nid UINT64_MAX: "IMAGE: ..."). */
int sd_erofs_corrupt(const struct sd_erofs_image *img, uint64_t nid,
		     struct sd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The same with another status code (SD_ERR_UNSUPPORTED, ...). */
int sd_erofs_fail(const struct sd_erofs_image *img, uint64_t nid, int code,
		  struct sd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- reader_inode.c ------------------------------------------------ */

/* Load and validate the inode @nid (every data/index range it names must
 * lie inside the image). */
int sd_erofs_inode_load(const struct sd_erofs_image *img, uint64_t nid,
			struct sd_erofs_inode *ino, struct sd_error *err);

/* ---- reader_flat.c ------------------------------------------------- */

/*
 * Map logical offset @la (< size) of an uncompressed inode: *@pa and
 * *@len give the contiguous image bytes holding [la, la + len); *@hole is
 * set for a chunk hole (zeros, *@pa unused).
 */
int sd_erofs_map_flat(const struct sd_erofs_image *img,
		      const struct sd_erofs_inode *ino, uint64_t la,
		      uint64_t *pa, uint64_t *len, bool *hole,
		      struct sd_error *err);

/* ---- reader_zmap.c ------------------------------------------------- */

/* Fill the z_* fields of a compressed inode (map header, tail pcluster). */
int sd_erofs_z_init(const struct sd_erofs_image *img,
		    struct sd_erofs_inode *ino, struct sd_error *err);

/*
 * The extent whose head lcluster is *@lcn (0 for the first; it must be a
 * HEAD or PLAIN lcluster).  On return *@lcn is the next extent's head
 * lcluster, or z_totalidx after the last extent.
 */
int sd_erofs_z_extent(const struct sd_erofs_image *img,
		      const struct sd_erofs_inode *ino, uint64_t *lcn,
		      struct sd_erofs_zext *ext, struct sd_error *err);

/*
 * The extent of a compressed inode that holds logical byte @la (< size),
 * found from the lcluster of @la and its lookback distances, as the
 * kernel maps a read at an offset.
 */
int sd_erofs_z_find(const struct sd_erofs_image *img,
		    const struct sd_erofs_inode *ino, uint64_t la,
		    struct sd_erofs_zext *ext, struct sd_error *err);

/* ---- reader_packed.c ----------------------------------------------- */

/* One decoded extent and the buffers behind it. */
struct sd_erofs_zbuf {
	uint8_t *out, *in;
	size_t out_cap, in_cap;
	uint64_t la, len; /* the decoded range (len 0: none) */
};

/* Decode extent @x (not a fragment) of @ino into @zb. */
int sd_erofs_zbuf_fill(const struct sd_erofs_image *img,
		       const struct sd_erofs_inode *ino,
		       const struct sd_erofs_zext *x, struct sd_erofs_zbuf *zb,
		       struct sd_error *err);

void sd_erofs_zbuf_free(struct sd_erofs_zbuf *zb);

/*
 * The packed inode's decoded extents, shared by all the streams of an
 * image (a fragment is mostly a small part of a large extent, and files
 * follow each other there).  Created by sd_erofs_image_open (with
 * @packed, the loaded packed inode), freed by sd_erofs_image_close.
 */
int sd_erofs_pcache_new(const struct sd_erofs_inode *packed,
			struct sd_erofs_pcache **out, struct sd_error *err);
void sd_erofs_pcache_free(struct sd_erofs_pcache *pc);

/*
 * Copy up to @len bytes at byte @off of the packed inode into @buf
 * (*@got > 0 on success); thread-safe.  Errors name @nid, the inode
 * whose fragment is read: SD_ERR_CORRUPT when [off, off + len) is not
 * inside the packed inode or its data is malformed.
 */
int sd_erofs_packed_read(const struct sd_erofs_image *img, uint64_t nid,
			 uint64_t off, uint8_t *buf, size_t len, size_t *got,
			 struct sd_error *err);

/* ---- reader_decomp.c ----------------------------------------------- */

/*
 * Decode the pcluster @in (@inlen bytes) of algorithm @alg into exactly
 * @outlen bytes at @out.  @zero_padding: skip the leading zeros of the
 * first block (0PADDING; always done for non-lz4).  Returns 0, or -1
 * with *@why set to a constant reason.
 */
int sd_erofs_decompress(unsigned alg, const uint8_t *in, size_t inlen,
			uint8_t *out, size_t outlen, bool zero_padding,
			uint32_t blksz, const char **why);

/* ---- reader_dir.c -------------------------------------------------- */

/*
 * sd_erofs_read() that also calls @on_inode (if not NULL) with every
 * inode it reaches, root first, before the inode's node is filled.
 */
int sd_erofs_read_scan(const char *path, struct sd_tree **out,
		       void (*on_inode)(void *ctx,
					const struct sd_erofs_image *img,
					const struct sd_erofs_inode *ino),
		       void *ctx, struct sd_error *err);

/* ---- reader_stream.c ----------------------------------------------- */

/* A stream over the data of @ino (any layout), bounded by its size.
 * @img must outlive the stream. */
int sd_erofs_data_open(const struct sd_erofs_image *img,
		       const struct sd_erofs_inode *ino, struct sd_stream **out,
		       struct sd_error *err);

/* The tree content source; source_ctx is the struct sd_erofs_image (owned,
 * closed on release); FILE nodes' src_id is their nid. */
extern const struct sd_content_source sd_erofs_content_source;

#endif
