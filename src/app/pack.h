/* SPDX-License-Identifier: MIT */
/*
 * pack.h — the pack pipeline: a closure (store path basenames) in a
 * physical store directory -> the normalised tree -> a format writer ->
 * an image that appears atomically at the output path.
 */
#ifndef SD_APP_PACK_H
#define SD_APP_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/baseimage.h"
#include "app/packcache.h"
#include "app/packscan.h"
#include "app/verity.h"
#include "closure/closure.h"
#include "core/error.h"
#include "core/sha256.h"
#include "formats/format.h"

struct sd_root_links;

struct sd_pack_options {
	const char *output; /* final image path */
	const struct sd_format *format;
	struct sd_write_options write;
	int64_t mtime;          /* the one image time */
	const char *store_phys; /* where the paths physically are */
	const char *store_dir;  /* the logical store dir (for the
				   * manifest); NULL: /nix/store */
	bool fsync;             /* fsync the image before renaming */
	bool digest;            /* compute the image's SHA-256 (an
				   * extra read of the whole image) */
	bool verity;            /* append a dm-verity tree (app/verity.h)
				   * before the digest, which covers it */
	/*
	 * The registration (app/registration.h): embed it at the image root
	 * as SD_EMBEDDED_REGISTRATION and/or write it to registration_out
	 * (atomically, after the image).  Both need @closure, the closure
	 * the bases come from (or, for a tree from a stream, the stream's
	 * paths: app/input.h); scan_refs: its source has no edges;
	 * keep_derivers: copy its derivers (else empty, the same for every
	 * source).
	 */
	bool embed_registration;
	const char *registration_out;
	const struct sd_closure *closure;
	bool scan_refs;
	bool keep_derivers;
	/* A layer's bases, in order (app/baseimage.h), or none: the closure
	 * paths they hold are not in the tree, and the registration takes
	 * them from the bases (sd_app_reg_options.bases). */
	const struct sd_base_image *bases;
	size_t nbases;
	/* Symlinks to add at the image root (app/rootlinks.h), prepared;
	 * NULL: none. */
	const struct sd_root_links *root_links;
	/*
	 * The reference check of a closure that was given rather than found
	 * (--paths, --registration, --db; app/packscan.h), or NULL.  It
	 * rides the first full read of the files (the registration's, else
	 * the writer's); an unaccepted reference outside the closure fails
	 * the pack with SD_ERR_MISSING and nothing at the output path.
	 */
	const struct sd_packscan_opts *check;
	volatile const int *interrupted; /* polled; may be NULL */
	/* Called once the temporary file exists (signal cleanup); may be
	 * NULL. */
	void (*on_tmp)(const char *tmp_path);
	/*
	 * Called just before the image is written, with the file content
	 * bytes and files that write.progress counts towards, and
	 * write.progress_ctx; may be NULL.
	 */
	void (*on_totals)(void *ctx, uint64_t bytes, uint64_t files);
};

struct sd_pack_result {
	size_t npaths, nfiles, ndirs, nsymlinks;
	uint64_t bytes_in;             /* file content bytes */
	struct sd_write_stats write;   /* image_bytes: the whole file,
				      * tree included */
	struct sd_verity verity;       /* opts->verity: the tree written */
	uint8_t digest[SD_SHA256_LEN]; /* SHA-256 of the image file, if
					  * opts->digest */
	/* opts->check: its findings (sd_packscan_findings()), also after a
	 * refusal; NULL if the check did not finish. */
	struct sd_packscan *scan;
	/* write.cache: what the stat cache knew and learnt (app/packcache.h) */
	struct sd_packcache_counters cache;
	/* Wall time of each phase in seconds (CLOCK_MONOTONIC), set as far
	 * as the pack got; their sum is the pack's time less the CLI's own
	 * (closure, bases). */
	struct sd_pack_seconds {
		double tree;    /* the store walked into the tree (sd_pack
				 * only; 0 for sd_pack_tree) */
		double prepare; /* root links, the stat cache's load, the
				 * registration and what is embedded */
		double write;   /* the format writer */
		double finish;  /* the check's rest, the stat cache's store,
				 * freeing the tree, the digest, the commit */
		double verity;  /* part of finish, not added to the sum:
				 * the verity tree and, with it, the digest
				 * (opts->verity; else 0) */
	} seconds;
};

/* Free what @res holds (the check's findings). */
void sd_pack_result_release(struct sd_pack_result *res);

/*
 * Pack the store paths named by @bases (basenames "<hash>-<name>", any
 * order, no duplicates) into opts->output.  On any error nothing is left
 * at the output path (an existing file there is untouched) and the
 * temporary file is removed.  With embed_registration the manifest
 * (app/manifest.h) is embedded too: the closure's roots, its full-path
 * mentions of paths that do not exist (closure->absent and the check's
 * ABSENT findings) and its accepted missing references
 * (closure->missing and the check's accepted OUTSIDE findings).
 * Release @res with sd_pack_result_release() whatever the result.
 */
int sd_pack(const char *const *bases, size_t n,
	    const struct sd_pack_options *opts, struct sd_pack_result *res,
	    struct sd_error *err);

/*
 * Pack @tree (finalised; its root's children are the @n store paths) the
 * same way.  Takes ownership of @tree (freed on return).  A registration
 * (embed_registration, registration_out) needs opts->closure: without
 * one it is SD_ERR_USAGE.  opts->root_links are added first; a target
 * that does not resolve inside @tree is SD_ERR_MISSING.
 */
int sd_pack_tree(struct sd_tree *tree, size_t n,
		 const struct sd_pack_options *opts, struct sd_pack_result *res,
		 struct sd_error *err);

#endif
