/* SPDX-License-Identifier: MIT */
/*
 * format.h — the one writer interface and one reader interface that every
 * image format implements.
 *
 * A format module (formats/<name>/) exports one `const struct sd_format`.
 * Writers consume a finalised normalised tree (core/tree.h) and emit the
 * image to a file descriptor; they write exactly the metadata the nodes
 * carry and must produce the same bytes for the same tree whatever
 * options.jobs is.  Readers turn an image back into a tree whose content
 * source reads file data out of the image; they bounds-check everything
 * and report a damaged image as SD_ERR_CORRUPT with a one-line reason,
 * never crashing or hanging.
 *
 * formats/ never includes closure/; both only use the shared core.
 */
#ifndef SD_FORMATS_FORMAT_H
#define SD_FORMATS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

struct sd_compcache;

struct sd_write_options {
	const char *compressor; /* "gzip", "xz", "lz4", "zstd", "none"; NULL:
				   the format's default */
	int level;              /* compression level, -1 for the default */
	uint32_t block_size;    /* 0 for the format's default */
	unsigned jobs;          /* worker threads, >= 1 */
	const char *label;      /* volume label (EROFS), NULL: the format's
				   default ("nix-store") */
	bool has_uuid;          /* uuid given (else derived from content) */
	uint8_t uuid[16];       /* volume UUID when has_uuid (EROFS) */
	uint32_t pcluster_size; /* EROFS physical cluster size, 0: default */
	bool ztailpacking;      /* EROFS: a compressed file's last pcluster
				   inline after its indexes (Linux 5.17) */
	/*
	 * Progress, if not NULL: called from the thread that called write,
	 * as file data is consumed (at least once a file, often within big
	 * ones), with the file content bytes and the files (regular files)
	 * consumed so far.  Cheap to call: a callback throttles itself.  It
	 * has no effect on the image.
	 */
	void (*progress)(void *ctx, uint64_t bytes_done, uint64_t files_done);
	void *progress_ctx;
	/*
	 * Oldest Linux version (core/kver.h SD_KVER) the image must mount
	 * on, 0 for no limit: the writer then uses no data-dependent
	 * feature that core/kver.h dates later (EROFS: no chunk-based
	 * files before 5.15).  Options a kernel lacks are refused by the
	 * caller (app/kernel.h), not here.  0 leaves the bytes unchanged.
	 */
	uint32_t min_kernel;
	/*
	 * The compression cache (core/compcache.h), or NULL: compressed
	 * data found under its key is written without compressing again,
	 * and what is compressed is stored.  It never changes the image:
	 * the same tree and options give the same bytes with a cold, warm,
	 * partly filled, damaged or disabled cache, or none.  The writer
	 * uses it from any of its threads; the caller opens and closes it.
	 */
	struct sd_compcache *cache;
	/*
	 * The content SHA-256 of file @node, if not NULL: true and *@sha
	 * when the caller knows it without the writer reading the file (a
	 * stat cache, app/packcache.h) or once a read of the whole file has
	 * finished; false when unknown.  With a cache, a writer may use it
	 * to find what it stored for the file in an earlier pack without
	 * reading it.  Called from any of the writer's threads.
	 */
	bool (*file_digest)(void *ctx, const struct sd_node *node,
			    uint8_t sha[32]);
	/*
	 * The whole content of file @node of at most SD_WRITE_CONTENT_MAX
	 * bytes, if not NULL: true and node->size bytes at @buf when the
	 * caller knows them without reading the file (the stat cache keeps
	 * small files' contents), false otherwise.  Same context as
	 * file_digest; called from any of the writer's threads.  A writer
	 * that has it need not open a small file known unchanged.
	 */
	bool (*file_content)(void *ctx, const struct sd_node *node, void *buf);
	void *file_digest_ctx;
};

/* The largest file whose content file_content may give (bytes): one
 * EROFS block, the files the EROFS writer stores uncompressed. */
#define SD_WRITE_CONTENT_MAX 4096

/*
 * What a reader sees of an image's format (sd_format.info).  Feature and
 * compressor names are static strings, the ids of core/kver.h's table
 * for the format (a name the table lacks is still reported).
 */
#define SD_INFO_MAX_NAMES 32
struct sd_image_info {
	uint64_t image_bytes;   /* size of the image file */
	uint64_t fs_bytes;      /* bytes the superblock says it uses */
	uint32_t block_size;    /* bytes */
	uint32_t pcluster_size; /* EROFS: largest physical cluster of
				   a compressed file (bytes), 0 if
				   nothing is compressed; squashfs: 0 */
	const char *compressors[SD_INFO_MAX_NAMES]; /* on-disk algorithms
						       in use ("lz4", "zstd", ...) */
	size_t ncompressors;
	const char *features[SD_INFO_MAX_NAMES]; /* features in use, in
						    the order the reader met them */
	size_t nfeatures;
	uint64_t inodes; /* inode count in the superblock */
	uint64_t files, dirs, symlinks, others; /* entries, root included
						   (hard links count once per name) */
	bool has_label;
	char label[64]; /* NUL-terminated */
	bool has_uuid;
	uint8_t uuid[16];
	int64_t build_time; /* superblock time, seconds */
};

/* Add @name to @info's features (once); false if the list is full. */
bool sd_image_info_add_feature(struct sd_image_info *info, const char *name);
/* Add @name to @info's compressors (once). */
bool sd_image_info_add_compressor(struct sd_image_info *info, const char *name);

/* What a writer reports after success. */
struct sd_write_stats {
	uint64_t image_bytes;        /* final image size */
	uint64_t data_bytes_in;      /* file content bytes read */
	uint64_t files_deduplicated; /* files whose content was stored before */
	uint64_t files_from_cache; /* files written from the cache without reading them */
	/* A compressor was asked for but no file's data ended up compressed
	 * (EROFS stores a file plain when compressing saves nothing; such an
	 * image records no compressor).  squashfs: always false. */
	bool nothing_compressed;
};

struct sd_format {
	const char *name; /* "squashfs" */
	/* What a writer uses when sd_write_options.compressor is NULL. */
	const char *default_compressor;

	/*
	 * Write @tree (finalised) as an image to @fd, which is open for
	 * reading and writing, empty and positioned at 0.  @interrupted, if
	 * not NULL, is polled; when it becomes non-zero the writer stops with
	 * SD_ERR_INTERRUPTED.
	 */
	int (*write)(const struct sd_tree *tree,
		     const struct sd_write_options *opts, int fd,
		     volatile const int *interrupted,
		     struct sd_write_stats *stats, struct sd_error *err);

	/*
	 * Validate @opts without writing anything (so a command can refuse a
	 * bad option before it does any work): 0 or SD_ERR_USAGE /
	 * SD_ERR_UNSUPPORTED with a reason.
	 */
	int (*check_options)(const struct sd_write_options *opts,
			     struct sd_error *err);

	/*
	 * True if the first @len bytes of a file (@len >= 4096 unless the
	 * file is shorter) look like this format.
	 */
	bool (*probe)(const uint8_t *head, size_t len);

	/*
	 * Read the image at @path into a new finalised tree.  The tree owns
	 * the open image; sd_tree_free() closes it.
	 */
	int (*read)(const char *path, struct sd_tree **out,
		    struct sd_error *err);

	/*
	 * Describe the image at @path (zeroed *@out filled): superblock
	 * fields, the compressors and features actually used (seen in the
	 * superblock and in every inode reached from the root) and entry
	 * counts.  Errors as for read.
	 */
	int (*info)(const char *path, struct sd_image_info *out,
		    struct sd_error *err);
};

/* All formats compiled in, NULL-terminated. */
extern const struct sd_format *const sd_formats[];

/* The format called @name, or NULL. */
const struct sd_format *sd_format_find(const char *name);

/*
 * The format whose probe accepts the image at @path.  SD_ERR_CORRUPT with a
 * reason if none does, SD_ERR_IO if it cannot be read.
 */
int sd_format_detect(const char *path, const struct sd_format **out,
		     struct sd_error *err);

#endif
