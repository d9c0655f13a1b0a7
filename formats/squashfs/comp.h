/* SPDX-License-Identifier: MIT */
/*
 * comp.h — compressor selection for the SquashFS writer.
 *
 * Turns struct sd_write_options into a ready libsquashfs compressor,
 * validating name, level and block size, and wraps it so that a block is
 * stored compressed only when compression actually made it smaller.
 *
 * Why the wrapper (the unsquashfs/lz4 interop fix): libsquashfs 1.2's LZ4
 * backend returns LZ4's output even when it is larger than the input
 * (gzip, xz and zstd return 0 = "store raw" in that case).  A one-entry ID
 * table is 4 bytes, which LZ4 "compresses" to 5; the meta writer stores the
 * 5-byte block with the compressed bit set.  squashfs-tools' unsquashfs
 * reads a table block into a buffer of the table's expected size and
 * rejects any compressed block longer than that ("failed to read id table
 * block"), while the kernel and rdsquashfs decompress it happily.
 * mksquashfs stores such blocks uncompressed.  Our wrapper does the same
 * for every backend: a result that is not strictly smaller than the input
 * is reported as 0, so libsquashfs writes the block raw.
 *
 * The wrapper also keeps lz4 images host-independent: where liblz4's fast
 * compressor does not write the reference bytes (sd_lz4fast_needed(),
 * formats/codec/lz4fast.h: big-endian or 32-bit hosts), a non-HC lz4
 * block is compressed by sd_lz4fast_compress_default exactly as
 * libsquashfs 1.2 calls LZ4_compress_default; the inner compressor still
 * provides the configuration and the options block, which are unchanged.
 */
#ifndef SD_FORMATS_SQUASHFS_COMP_H
#define SD_FORMATS_SQUASHFS_COMP_H

#include <stdbool.h>
#include <stdint.h>

#include <sqfs/compressor.h>

#include "core/error.h"
#include "formats/format.h"

#define SD_SQFS_DEFAULT_COMPRESSOR "zstd"

struct sd_sqfs_comp {
	sqfs_compressor_t *cmp;   /* compressing (wrapped), for all writes */
	sqfs_compressor_t *uncmp; /* matching decompressor (dedup read-back) */
	SQFS_COMPRESSOR id;       /* superblock compressor id */
	uint32_t block_size;      /* validated data block size */
	bool raw;                 /* "none": every block is stored raw */
	const char *name;         /* "gzip", "xz", "lz4", "zstd", "none" */
	/* what the compressor was created from, defaults resolved (the
	   compression cache's parameters, writer_cache.c) */
	sqfs_compressor_config_t cfg;
};

/*
 * Set up compressors from @opts (compressor NULL: the default; level -1:
 * the backend's default; block_size 0: 128 KiB).  Levels: gzip 1-9,
 * xz 0-9, zstd 1-22, lz4 1-12 selects LZ4 HC (libsquashfs has one HC
 * level), none only -1.  Block size: a power of two, 4 KiB to 1 MiB.
 * SD_ERR_USAGE for a bad option, SD_ERR_UNSUPPORTED if libsquashfs lacks
 * the backend.  On success release with sd_sqfs_comp_cleanup().
 */
int sd_sqfs_comp_setup(const struct sd_write_options *opts,
		       struct sd_sqfs_comp *out, struct sd_error *err);

void sd_sqfs_comp_cleanup(struct sd_sqfs_comp *c);

/*
 * Wrap @inner (ownership taken; destroyed on failure) so that blocks
 * compression does not shrink are stored raw; if @raw, every block is.
 * Copies (for worker threads) copy @inner.  NULL on allocation failure.
 */
sqfs_compressor_t *sd_sqfs_comp_wrap(sqfs_compressor_t *inner, bool raw);

#endif
