/* SPDX-License-Identifier: MIT */
/*
 * manifest.h — what `storedisk pack` decided, recorded in the image.
 *
 * With --embed-registration, pack also puts a small text file at the image
 * root, SD_EMBEDDED_MANIFEST, beside SD_EMBEDDED_REGISTRATION.  verify
 * reads it to tell a documentation example (a full store path that did not
 * exist when the image was packed) from a dependency that was left out.
 *
 * Format (version 1), UTF-8 text, one record a line, "\n" line ends:
 *
 *   storedisk-manifest 1
 *   store-dir <logical store dir>
 *   root <store-dir>/<hash>-<name>          one per root, argument order
 *   absent <store-dir>/<hash>               a full-path mention of a store
 *                                           path that did not exist (not in
 *                                           the store directory, the Nix
 *                                           database or the stream) when
 *                                           the image was packed; not a
 *                                           reference (Nix's rule)
 *   accepted <store-dir>/<hash>[-<name>]    a reference to a store path
 *                                           that existed but was left out
 *                                           of the image, accepted by
 *                                           --allow-missing or --allow;
 *                                           verify keeps it a violation
 *
 * After the header lines, records are grouped by kind (root, absent,
 * accepted); absent and accepted records are sorted bytewise and unique.
 * A reader ignores lines of kinds it does not know (later versions may
 * add some) and refuses a header other than "storedisk-manifest 1".
 * Store path names never contain whitespace, so fields need no quoting.
 */
#ifndef SD_APP_MANIFEST_H
#define SD_APP_MANIFEST_H

#include <stddef.h>

#include "core/error.h"

/* The root entry name of the embedded manifest (not a store path name:
 * it has no 32-character hash part). */
#define SD_EMBEDDED_MANIFEST "storedisk-manifest"

/* A manifest in memory.  Every list holds logical paths as above. */
struct sd_manifest {
	char *store_dir;
	char **roots;
	size_t nroots;
	char **absent;
	size_t nabsent;
	char **accepted;
	size_t naccepted;
};

/* An empty manifest for @store_dir (copied); NULL on no memory. */
struct sd_manifest *sd_manifest_new(const char *store_dir);

void sd_manifest_free(struct sd_manifest *m);

/*
 * Add "<store-dir>/<base>" to a list: @base is a basename "<hash>-<name>"
 * or a bare 32-character hash part (@len bytes).  SD_ERR_NOMEM.
 */
int sd_manifest_add_root(struct sd_manifest *m, const char *base, size_t len,
			 struct sd_error *err);
int sd_manifest_add_absent(struct sd_manifest *m, const char *base, size_t len,
			   struct sd_error *err);
int sd_manifest_add_accepted(struct sd_manifest *m, const char *base,
			     size_t len, struct sd_error *err);

/*
 * The text of @m in the format above (absent and accepted sorted and
 * made unique first).  *@text is malloc'ed, *@len bytes, NUL-terminated.
 */
int sd_manifest_text(struct sd_manifest *m, char **text, size_t *len,
		     struct sd_error *err);

/*
 * Parse a manifest (@len bytes of @text; @name names it in messages).
 * Errors: SD_ERR_INVALID "NAME:LINE: reason" for a bad header, a missing
 * store-dir line, a record that is not "<kind> <store-dir>/<hash>[-<name>]"
 * with a valid store path name; SD_ERR_NOMEM.
 */
int sd_manifest_parse(const char *text, size_t len, const char *name,
		      struct sd_manifest **out, struct sd_error *err);

/* The hash part of a list entry of @m (points into the entry). */
const char *sd_manifest_entry_hash(const struct sd_manifest *m,
				   const char *entry);

#endif
