/* SPDX-License-Identifier: MIT */
/*
 * statcache.h — the stat cache: what a pack learnt about the files of a
 * directory (a store path), kept in the compression cache
 * (core/compcache.h) so that the next pack need not read an unchanged
 * file to know its content's SHA-256 (issue 11).
 *
 * A group is the set of regular files below one directory, named by the
 * directory's host path.  Each file's record holds its identity as lstat
 * reported it when the record was made (struct sd_file_ident), the
 * SHA-256 of its content and a few opaque bytes its caller adds (pack: the
 * store-hash-like tokens its content holds, for the reference check).  A
 * record answers for a file only while the file's identity is the same:
 * device, inode, size, mtime and ctime to the nanosecond.  That is the
 * rule git's index, make and rsync rely on, made stronger by ctime: every
 * write to a file sets its ctime to the current time, and no system call
 * lets a user set ctime back, so a file whose ctime is unchanged has not
 * been written since (short of changing the system clock or writing the
 * block device).
 *
 * Racy records: timestamps have a granularity (the kernel's coarse clock,
 * a few milliseconds), so a file written in the same tick as it was
 * hashed could change and keep its ctime.  A record is therefore stored
 * only for a file whose mtime and ctime are older than @stable_before
 * (the caller passes the time the reads began, minus 2 seconds); a file
 * changed more recently is read and hashed again by the next pack too,
 * until it has been still long enough (git's "racily clean" rule).
 *
 * Storage: one compression-cache entry per group, under the key of the
 * parameters "format=stat" "kind=group" and the SHA-256 of the group's
 * host path; the value (little-endian, decoded at the byte boundary):
 *
 *   0   8  magic "sdstatv1"
 *   8   4  record count N
 *   12  ...N records, sorted by name (bytewise, strictly increasing):
 *       2  name length L (1..4095)
 *       L  name: the path below the group directory, '/'-separated,
 *          no NUL
 *       8  dev, 8 ino, 8 size, 8 mtime (ns), 8 ctime (ns)
 *       32 SHA-256 of the content
 *       4  extra length E (at most SD_STATCACHE_MAX_EXTRA)
 *       E  extra bytes
 *
 * A value that breaks any rule (lengths past its end, names out of order,
 * bytes left over) is ignored as a whole: the group then has no records.
 * The compression cache's own checksum guards against damage; this
 * validation guards against a value another build wrote under the same
 * key.
 */
#ifndef SD_CORE_STATCACHE_H
#define SD_CORE_STATCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compcache.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/tree.h" /* struct sd_file_ident */

/* Largest extra bytes of one record. */
#define SD_STATCACHE_MAX_EXTRA (64u * 1024)
/* Longest record name. */
#define SD_STATCACHE_MAX_NAME 4095u

/* One file's record, as stored and as found. */
struct sd_statcache_rec {
	const char *name; /* path below the group directory */
	struct sd_file_ident id;
	uint8_t sha256[SD_SHA256_LEN];
	const uint8_t *extra; /* extra_len bytes (NULL when 0) */
	uint32_t extra_len;
};

struct sd_statcache_group;

/*
 * Load the records of the group of directory @dir_path (a host path, as
 * the caller will name it again: the key is the string) from @c into
 * *@out.  A group with no entry, an unreadable or invalid one, or @c
 * NULL or off gives an empty group (never an error).  SD_ERR_NOMEM only.
 */
int sd_statcache_load(struct sd_compcache *c, const char *dir_path,
		      struct sd_statcache_group **out, struct sd_error *err);

/* Number of records of @g. */
size_t sd_statcache_count(const struct sd_statcache_group *g);

/*
 * The record of @name whose identity equals @id in every field, or NULL
 * (no record, or the file changed).  The record lives as long as @g.
 */
const struct sd_statcache_rec *
sd_statcache_find(const struct sd_statcache_group *g, const char *name,
		  const struct sd_file_ident *id);

void sd_statcache_group_free(struct sd_statcache_group *g);

/*
 * Store @n records (any order, unique names, each name 1..
 * SD_STATCACHE_MAX_NAME bytes, extra at most SD_STATCACHE_MAX_EXTRA) as
 * the group of @dir_path, replacing what was there; records whose mtime
 * or ctime is not older than @stable_before_ns are left out (see above).
 * Returns true when stored; false when @c is NULL or off, a record is
 * invalid (nothing stored) or the put failed (core/compcache.h: never an
 * error of the caller's).
 */
bool sd_statcache_store(struct sd_compcache *c, const char *dir_path,
			const struct sd_statcache_rec *recs, size_t n,
			int64_t stable_before_ns);

#endif
