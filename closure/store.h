/* SPDX-License-Identifier: MIT */
/*
 * store.h — the store on disk: which store paths exist.
 *
 * Two directories describe a store:
 *   - the LOGICAL store dir (--store-dir, default /nix/store): the prefix
 *     that appears inside files and symlink targets, and the image's root;
 *   - the PHYSICAL dir (--store, default = the logical dir): where the
 *     entries are on this machine (e.g. /tmp/x/nix/store whose files
 *     mention /nix/store/...).
 *
 * Opening a store reads the physical directory once.  Every entry whose
 * name is a valid "<hash>-<name>" is a store path (whatever its type:
 * directories, files such as .drv, symlinks, even "*.lock" files).  Every
 * other entry (".links", "foo", bad hash characters, ...) is recorded as a
 * warning with the reason; so is a second entry with an already seen hash
 * part.  Paths are sorted bytewise by basename, which is also the order of
 * their logical paths; a path's index is its position in that order.
 */
#ifndef SD_CLOSURE_STORE_H
#define SD_CLOSURE_STORE_H

#include <stddef.h>

#include "closure/hashmap.h"
#include "core/error.h"

#define SD_DEFAULT_STORE_DIR "/nix/store"

struct sd_store_path {
	char *base; /* "<hash>-<name>" */
	size_t base_len;
	char hash[33];    /* the hash part, NUL-terminated */
	const char *name; /* name part (points into base) */
	size_t index;     /* position in store->paths */
};

struct sd_store_warning {
	char *entry;        /* entry name in the physical dir */
	const char *reason; /* static string */
};

struct sd_store {
	char *store_dir;             /* logical, no trailing slash */
	char *phys_dir;              /* physical as given, no trailing slash */
	char *phys_real;             /* realpath(phys_dir) */
	struct sd_store_path *paths; /* sorted by basename */
	size_t npaths;
	struct sd_store_warning *warnings; /* sorted by entry name */
	size_t nwarnings;
	struct sd_hashmap *by_hash; /* hash part -> index (candidate set) */
};

/*
 * A new store handle in *@out (free with sd_store_free).  @store_dir:
 * logical dir (NULL: SD_DEFAULT_STORE_DIR), must be absolute; a trailing
 * slash is removed.  @phys_dir: physical dir (NULL: same as @store_dir).
 * Errors: SD_ERR_USAGE for a relative store dir, SD_ERR_IO naming the
 * directory if it cannot be read.
 */
int sd_store_new(const char *store_dir, const char *phys_dir,
		 struct sd_store **out, struct sd_error *err);

void sd_store_free(struct sd_store *st);

/* The path with hash part @hash (32 chars), or NULL. */
const struct sd_store_path *sd_store_find_hash(const struct sd_store *st,
					       const char *hash);

/* The path with basename @base (@len bytes), or NULL (the hash must
 * match and so must the name). */
const struct sd_store_path *sd_store_find_base(const struct sd_store *st,
					       const char *base, size_t len);

/*
 * Physical location "<phys_dir>/<base>" of @sp into a new string
 * (NULL on no memory).  sd_store_logical_path gives "<store_dir>/<base>".
 */
char *sd_store_physical_path(const struct sd_store *st,
			     const struct sd_store_path *sp);
char *sd_store_logical_path(const struct sd_store *st,
			    const struct sd_store_path *sp);

/*
 * Resolve a root argument to the store path it designates:
 *   - a logical store path "/nix/store/<hash>-<name>";
 *   - a physical one "<phys_dir>/<hash>-<name>" (also via realpath of the
 *     physical dir);
 *   - a path inside a store path (".../<hash>-<name>/bin/foo");
 *   - a symlink, or chain of up to 40 symlinks, to any of those (such as
 *     ./result), resolved one readlink at a time so that a link to a
 *     logical /nix/store/... path works when the store lives elsewhere;
 *   - a path whose directories contain symlinks into the store
 *     (realpath() is tried as a last resort).
 * Relative arguments are taken from the current directory, and "." and
 * ".." are resolved lexically first, as Nix's canonPath does (so are a
 * symlink's target and what follows the link).  Returns 0 and
 * *@out, or SD_ERR_MISSING / SD_ERR_INVALID / SD_ERR_IO with a message
 * naming @arg ("ARG: not in the store /nix/store (physical /tmp/x)").
 */
int sd_store_resolve_root(const struct sd_store *st, const char *arg,
			  const struct sd_store_path **out,
			  struct sd_error *err);

#endif
