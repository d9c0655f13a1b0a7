/* SPDX-License-Identifier: MIT */
/*
 * zcomp.h — the EROFS writer's compressors behind one small interface.
 *
 * Every backend implements "fixed-output" compression, the form EROFS
 * physical clusters need: compress as long a prefix of the input as fits
 * into a given output size.  Backends:
 *   zcomp_lz4.c   lz4 (LZ4_compress_destSize, or off 64-bit little-endian
 *                 hosts its host-independent equal in formats/codec) and lz4hc
 *                 (LZ4_compress_HC_continue_destSize on a fast-reset stream)
 *   zcomp_lzma.c  microLZMA (lzma_microlzma_encoder), as the kernel reads it
 *   zcomp_zstd.c  one zstd frame per pcluster: the input prefix is searched
 *                 so that the frame fills the output (zstd has no native
 *                 fixed-output mode)
 *
 * A struct ez_comp is one compressor instance, used by one thread at a
 * time.  Its output depends only on the configuration and the input, never
 * on what it compressed before: that keeps images independent of which
 * worker thread compressed what.
 */
#ifndef SD_FORMATS_EROFS_ZCOMP_H
#define SD_FORMATS_EROFS_ZCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum ez_alg {
	EZ_NONE = 0,
	EZ_LZ4,
	EZ_LZ4HC,
	EZ_LZMA,
	EZ_ZSTD,
};

/* The image-wide compression configuration. */
struct ez_config {
	enum ez_alg alg;
	int level;          /* resolved level (backend default applied) */
	uint32_t pcluster;  /* physical cluster bytes: 4 KiB .. 1 MiB */
	unsigned disk_alg;  /* Z_EROFS_COMPRESSION_* written to disk */
	uint32_t dict_size; /* lzma: dictionary bytes; zstd: window */
};

/*
 * Resolve @name ("none", "lz4", "lz4hc", "lzma", "zstd"; NULL: "none"),
 * @level (-1: the default) and @pcluster (0: 4 KiB) into @cfg.
 * SD_ERR_USAGE with a reason for a bad level or pcluster size,
 * SD_ERR_UNSUPPORTED for an unknown compressor.
 */
int ez_config_init(struct ez_config *cfg, const char *name, int level,
		   uint32_t pcluster, struct sd_error *err);

struct ez_comp;

/* A new compressor for @cfg (alg != EZ_NONE), NULL when out of memory. */
struct ez_comp *ez_comp_new(const struct ez_config *cfg);

/*
 * Compress the longest prefix of @src (*@srclen bytes) that fits into
 * @dstcap bytes at @dst.  On return *@srclen is the prefix length.
 * Returns the compressed length (> 0), 0 when nothing useful fits (then
 * *@srclen is unspecified), or -1 on an internal error (out of memory).
 */
long ez_comp_destsize(struct ez_comp *c, const uint8_t *src, size_t *srclen,
		      uint8_t *dst, size_t dstcap);

void ez_comp_free(struct ez_comp *c);

/*
 * The library behind @cfg's compressor and its version as the running
 * process has it loaded ("lz4 1.9.4", "liblzma 5.4.1", "zstd 1.5.4"), for
 * the compression cache's parameters: another library version may give
 * other bytes.  "" for EZ_NONE.  Returns a static or @buf.
 */
/* The name of @cfg's compressor ("lz4hc"), "none" for EZ_NONE. */
const char *ez_name(const struct ez_config *cfg);

const char *ez_library(const struct ez_config *cfg, char *buf, size_t size);

/* ---- backends (zcomp_*.c), dispatched by zcomp.c ------------------- */

struct ez_backend {
	void *(*create)(const struct ez_config *cfg);
	long (*destsize)(void *state, const struct ez_config *cfg,
			 const uint8_t *src, size_t *srclen, uint8_t *dst,
			 size_t dstcap);
	void (*destroy)(void *state);
	const char *library;          /* the library's name ("lz4") */
	const char *(*version)(void); /* its runtime version string */
};

extern const struct ez_backend ez_backend_lz4;
extern const struct ez_backend ez_backend_lz4hc;
extern const struct ez_backend ez_backend_lzma;
extern const struct ez_backend ez_backend_zstd;

#endif
