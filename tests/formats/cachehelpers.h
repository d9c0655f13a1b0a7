/* SPDX-License-Identifier: MIT */
/*
 * cachehelpers.h — what the compression-cache tests of both formats share:
 * a table of known file digests with a tap that counts opens, SHA-256 of
 * a buffer, and listing the entry files of a cache directory.
 */
#ifndef SD_TESTS_FORMATS_CACHEHELPERS_H
#define SD_TESTS_FORMATS_CACHEHELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compcache.h"
#include "core/tree.h"
#include "formats/format.h"

/*
 * Digests by node index (sha[i] is valid where have[i]) and the opens of
 * each node counted by the tap th_known_init installs.  All three arrays
 * have t->count entries and belong to the table (th_known_release).
 */
struct th_known {
	const struct sd_tree *t;
	uint8_t (*sha)[32];
	bool *have;
	_Atomic unsigned *opens;
	/* a digest is known only once its file was opened (a stat cache
	   that has not seen the file yet learns it by reading it) */
	bool after_read;
};

/*
 * Fill @k for @t: every FILE's digest known (read through the tree),
 * after_read off, no opens; then install the counting tap on @t (t->tap,
 * t->tap_ctx = @k, so @k must outlive the writes of @t).  Fails the test
 * on allocation failure.
 */
void th_known_init(struct th_known *k, struct sd_tree *t);

/*
 * A file_digest callback (ctx: struct th_known *): copies the digest of
 * @n into @sha and returns true when it is known (and, with after_read,
 * the file has been opened); false otherwise.
 */
bool th_known_digest(void *ctx, const struct sd_node *n, uint8_t sha[32]);

/* Set every open count back to zero. */
void th_known_reset_opens(struct th_known *k);

/* How many nodes were opened at least once since the last reset (their
 * names on stderr when SD_TEST_VERBOSE is set). */
unsigned th_known_opened(const struct th_known *k);

/* Free the arrays (not @k itself; the tap stays on the tree). */
void th_known_release(struct th_known *k);

/* SHA-256 of @len bytes at @data into @out; fails the test when no
 * hasher can be made. */
void th_sha256(const void *data, size_t len, uint8_t out[32]);

/*
 * The entry files of the cache at the path @dir ("<dir>/v1/xx/<64 hex>"),
 * sorted by path; their number in *@n.  NULL (and 0) when @dir has no v1
 * directory.  The array and each path are malloc'ed: th_cache_entries_free.
 */
char **th_cache_entries(const char *dir, size_t *n);
void th_cache_entries_free(char **e, size_t n);

/* Into @out (@size bytes): the path of @key's entry in the cache at the
 * path @dir. */
void th_cache_entry_path(const char *dir, const uint8_t key[32], char *out,
			 size_t size);

/*
 * Write @t with @fmt and the options @o to the file @path (created or
 * truncated), using a new handle on the cache at the path @cachedir for
 * this write only (NULL: none; o->cache is ignored), or fail the test.
 * Stats into @st; the handle's counters into @cnt unless it is NULL
 * (zeros without a cache).  The handle is closed before returning.
 */
void th_write_cached(const struct sd_format *fmt, const struct sd_tree *t,
		     const struct sd_write_options *o, const char *cachedir,
		     const char *path, struct sd_write_stats *st,
		     struct sd_compcache_counters *cnt);

#endif
