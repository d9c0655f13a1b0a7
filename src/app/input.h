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

#include "core/error.h"
#include "core/tree.h"

struct sd_input_options {
	const char *store_dir;            /* logical, e.g. "/nix/store" */
	int64_t mtime;                    /* the image time */
	bool allow_missing;               /* export: tolerate references to
					   * paths not in the stream */
	volatile const int *interrupted;  /* polled; may be NULL */
};

/* What an input found besides the tree. */
struct sd_input_info {
	size_t npaths;                    /* store paths (root children) */
	size_t nmissing;                  /* export: tolerated missing refs */
};

/*
 * Read a tar stream from @file ("-": stdin; compressed tars are
 * accepted) whose entries are "<store_dir>/<hash>-<name>[/...]" with or
 * without the leading '/' (a leading "./" is ignored; entries naming the
 * store directory or its parents are skipped).  Anything else — another
 * directory, ".." or "." components, invalid store path names — is an
 * error naming the entry and its offset.  Hard links become independent
 * files with the target's content; missing parent directories are created.
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

#endif
