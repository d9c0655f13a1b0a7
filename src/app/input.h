/* SPDX-License-Identifier: MIT */
/*
 * input.h — closures read from a stream instead of a local store: a tar of
 * store paths (app/input_tar.c) or a `nix-store --export` stream
 * (app/input_export.c).
 *
 * Both produce the same normalised tree as the directory input
 * (core/hosttree.h): root = the store directory, one child per store path,
 * owner 0:0, directories 0555, files 0444 or 0555 (owner-exec bit of the
 * source), symlinks 0777 with their targets kept verbatim (never
 * followed), every time = the image time.  So the same closure gives the
 * same image whichever input it came from.  File contents are spooled to
 * an unlinked temporary file (core/spool.h) that the returned tree reads
 * from; the tree is finalised.
 *
 * Errors name the input and the byte offset in it ("FILE: entry 'X' at
 * offset N: reason"); malformed input is SD_ERR_INVALID, devices and FIFOs
 * SD_ERR_UNSUPPORTED.  The library never prints.
 */
#ifndef SD_APP_INPUT_H
#define SD_APP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "closure/closure.h"
#include "core/error.h"
#include "core/tree.h"

struct sd_input_options {
	const char *store_dir;           /* logical, e.g. "/nix/store" */
	int64_t mtime;                   /* the image time */
	bool allow_missing;              /* export: tolerate references to
					    * paths not in the stream */
	volatile const int *interrupted; /* polled; may be NULL */
};

/* What an export stream says of one store path besides its files. */
struct sd_input_meta {
	char *path;    /* logical store path */
	char *deriver; /* logical store path, "" if none */
	char **refs;   /* its references, as listed */
	size_t nrefs;
};

/* What an input found besides the tree (release with
 * sd_input_info_release). */
struct sd_input_info {
	size_t npaths;              /* store paths (root children) */
	size_t nmissing;            /* export: tolerated missing refs */
	struct sd_input_meta *meta; /* export: one per store path, in
				       * stream order; tar: NULL */
	size_t nmeta;
};

void sd_input_info_release(struct sd_input_info *info);

/*
 * Read a tar stream from @file ("-": stdin; compressed tars are
 * accepted) whose entries are "<store_dir>/<hash>-<name>[/...]" with or
 * without the leading '/' (a leading "./" is ignored; entries naming the
 * store directory or its parents are skipped).  Anything else — another
 * directory, ".." or "." components, invalid store path names — is an
 * error naming the entry and its offset.  Hard links become independent
 * files with the target's content, or symlinks with its target (a link
 * to a directory or to no earlier member is an error); a sparse member is
 * a file of its declared size with zeros in its holes; missing parent
 * directories are created.
 */
int sd_input_tar(const char *file, const struct sd_input_options *opts,
		 struct sd_tree **out, struct sd_input_info *info,
		 struct sd_error *err);

/*
 * Read a `nix-store --export` stream from @file ("-": stdin).  Every
 * reference of every path must be in the stream, else SD_ERR_MISSING
 * listing the missing paths (unless opts->allow_missing).
 */
int sd_input_export(const char *file, const struct sd_input_options *opts,
		    struct sd_tree **out, struct sd_input_info *info,
		    struct sd_error *err);

/*
 * The store paths of a stream as a closure (closure/closure.h), so that
 * the registration code (app/registration.h) and pack treat a stream like
 * a store: paths[] are @tree's root children (sorted by basename, as the
 * tree is); refs are the export stream's references that are in the
 * stream, self references included (references to paths not in it — only
 * there with allow_missing — are listed in closure->missing instead);
 * derivers are the stream's ("" if none).  A tar has neither: no edges,
 * scan_refs is set (references by scanning, with the stream's paths as the
 * candidates) and derivers are NULL.  The store paths the closure points
 * to (sd_closure_path.sp) live in the struct below.
 */
struct sd_input_closure {
	struct sd_closure *closure;
	bool scan_refs;            /* a tar: no edges, scan */
	struct sd_store_path *sps; /* closure->paths[i].sp = &sps[i] */
	size_t nsps;
};

/*
 * Build the closure of @tree (finalised; from sd_input_tar or
 * sd_input_export with @info) in logical store directory @store_dir.
 * @roots (@nroots of them, may be none; each made canonical and followed
 * through symlinks outside @store_dir as Nix does, core/pathcanon.h, then
 * a logical store path or a path inside one) become closure->roots; one
 * that is not a store path of @tree is SD_ERR_MISSING "root P is not in
 * the input".  Release with sd_input_closure_free.
 */
int sd_input_closure(const struct sd_tree *tree,
		     const struct sd_input_info *info, const char *store_dir,
		     const char *const *roots, size_t nroots,
		     struct sd_input_closure *out, struct sd_error *err);

void sd_input_closure_free(struct sd_input_closure *ic);

#endif
