/* SPDX-License-Identifier: MIT */
/*
 * merge.h — one closure source out of several files of the same kind:
 * `--paths A --paths B` and `--registration A --registration B` (a
 * closureInfo user may hold two lists for one closure).
 *
 * Both functions take ownership of the @n inputs (@n >= 1) whatever they
 * return: the inputs are consumed (their strings move into the result, the
 * rest is freed) and the array's slots are set to NULL.  With @n == 1 the
 * input itself is the result.  A merged result keeps the file names in
 * ->files (in argument order), its ->file is "A, B" (for messages about
 * the whole), and every entry or record keeps its own ->file and ->line,
 * so "FILE:LINE" messages still point at the line at fault.
 */
#ifndef SD_CLOSURE_MERGE_H
#define SD_CLOSURE_MERGE_H

#include <stddef.h>

#include "closure/pathlist.h"
#include "closure/registration.h"
#include "core/error.h"

/*
 * The union of path lists: every entry of every list, in argument order
 * (a path in several lists is fine; duplicates are kept, as within one
 * list).  Errors: SD_ERR_NOMEM.
 */
int sd_pathlist_merge(struct sd_pathlist **lists, size_t n,
		      struct sd_pathlist **out, struct sd_error *err);

/*
 * The union of registrations: one record per store path, the first one in
 * argument order (its file and line).  The same path in several
 * registrations must be the same record:
 *   - the same references (as a set; order and repetition do not count),
 *   - the same narHash and narSize where both records have them (a record
 *     of the short layout takes them from a full one),
 * else SD_ERR_INVALID "conflicting records for PATH: narHash|narSize|
 * references differ (A:LINE, B:LINE)".  Two different paths with one hash
 * part are SD_ERR_INVALID too.  The deriver is the first non-empty one
 * (one output may have several derivers; Nix keeps any of them).
 * Errors also: SD_ERR_NOMEM.
 */
int sd_registration_merge(struct sd_registration **regs, size_t n,
			  struct sd_registration **out, struct sd_error *err);

#endif
