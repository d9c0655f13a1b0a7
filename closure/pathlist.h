/* SPDX-License-Identifier: MIT */
/*
 * pathlist.h — a list of store paths, one per line (closureInfo's
 * "store-paths", the argument of --paths).
 *
 * Each non-blank line is a logical store path "<store-dir>/<hash>-<name>"
 * (spaces and tabs around it are ignored, as are blank lines).  Anything
 * else is SD_ERR_INVALID "FILE:LINE: reason".  Duplicates are kept.
 */
#ifndef SD_CLOSURE_PATHLIST_H
#define SD_CLOSURE_PATHLIST_H

#include <stddef.h>

#include "core/error.h"

struct sd_pathlist_entry {
	char *path;       /* logical store path, NUL-terminated */
	const char *base; /* its basename (points into path) */
	size_t line;      /* line number in the file */
	const char *file; /* the file it was read from (a name owned by the
			     * list: file, or one of files) */
};

struct sd_pathlist {
	char *file;                        /* name used in messages; merged
					      * lists: "A, B" */
	struct sd_pathlist_entry *entries; /* in file order */
	size_t n;
	char **files; /* merged lists (closure/merge.h): the names of
			 * the files, in order; NULL otherwise */
	size_t nfiles;
};

int sd_pathlist_load(const char *path, const char *store_dir,
		     struct sd_pathlist **out, struct sd_error *err);

int sd_pathlist_parse(const char *name, const char *data, size_t len,
		      const char *store_dir, struct sd_pathlist **out,
		      struct sd_error *err);

void sd_pathlist_free(struct sd_pathlist *pl);

#endif
