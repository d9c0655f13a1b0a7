/* SPDX-License-Identifier: MIT */
/*
 * allowlist.h — store references that may be missing or foreign.
 *
 * Used by closure (tolerated missing references), pack and verify.  The
 * file has one entry per line; blank lines and lines whose first
 * non-blank character is '#' are ignored, spaces/tabs around an entry are
 * trimmed.  An entry is one of
 *   - a hash part: 32 nix32 characters;
 *   - a basename "<hash>-<name>";
 *   - a logical store path "<store-dir>/<hash>-<name>".
 * Every entry allows its HASH: a reference is allowed when its 32-char
 * hash part is listed, whatever name follows it.  Malformed lines are
 * SD_ERR_INVALID "FILE:LINE: reason".
 */
#ifndef SD_CLOSURE_ALLOWLIST_H
#define SD_CLOSURE_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct sd_allowlist;

/* An empty list (add entries with sd_allowlist_add). NULL on no memory. */
struct sd_allowlist *sd_allowlist_new(void);

/* Read @path; @store_dir is the logical store dir (no trailing slash). */
int sd_allowlist_load(const char *path, const char *store_dir,
		      struct sd_allowlist **out, struct sd_error *err);

/* Same from memory; @name appears in messages. */
int sd_allowlist_parse(const char *name, const char *data, size_t len,
		       const char *store_dir, struct sd_allowlist **out,
		       struct sd_error *err);

/* Add one entry (any of the three forms, exact text, no trimming). */
int sd_allowlist_add(struct sd_allowlist *a, const char *entry, size_t len,
		     const char *store_dir, struct sd_error *err);

/* True if the 32 characters at @hash are allowed.  @a may be NULL. */
bool sd_allowlist_has_hash(const struct sd_allowlist *a, const char *hash);

/*
 * True if @path — a logical store path, optionally with a sub path, or a
 * basename — has an allowed hash part.  False for anything unparsable.
 */
bool sd_allowlist_has_path(const struct sd_allowlist *a, const char *path,
			   const char *store_dir);

/* Number of distinct hashes. */
size_t sd_allowlist_count(const struct sd_allowlist *a);

void sd_allowlist_free(struct sd_allowlist *a);

#endif
