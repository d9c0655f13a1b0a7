/* SPDX-License-Identifier: MIT */
/*
 * packcache.h — the stat cache in a pack (`pack --cache DIR`, issue 11):
 * a host file that has not changed since an earlier pack with the same
 * cache is known by its content's SHA-256 and its reference tokens
 * without being read.
 *
 * For each store path of the tree that comes from the host, the group of
 * its directory is loaded from the stat cache (core/statcache.h); a file
 * node whose identity (sd_node.src_ident) matches its record is "known".
 * Every other file read during the pack (by the writer, the registration
 * or the reference check) passes through a tap that computes the SHA-256
 * of its content and collects its tokens, and is then "learnt".  After a
 * successful pack, sd_packcache_store() writes the groups back with what
 * was known and learnt, so the next pack knows it.
 *
 * Tokens: every window of 32 nix32 characters of the content
 * (closure/scanner.h, sd_scanner_every_window), whatever the candidates,
 * each with a flag telling whether it also occurs as a full path
 * "<store-dir>/<hash>-".  From them the reference check can decide,
 * without reading, that a file holds no finding (app/packscan.h,
 * sd_packscan_skip).  The record's extra bytes hold them:
 *
 *   0   1  0: the list is complete; 1: the content held more than
 *          SD_PACKCACHE_MAX_TOKENS distinct tokens (none are listed and
 *          the check must read the file)
 *   1   .. the tokens, sorted and unique, 33 bytes each: the 32
 *          characters, then flags (1: occurs, 2: occurs as a full path)
 *
 * and, for a file of 1 to SD_PACKCACHE_MAX_CONTENT bytes read whole in
 * the pack that recorded it, its content (size bytes) and one byte
 * SD_PACKCACHE_CONTENT_MARK after the tokens: a writer then need not open
 * a small file known unchanged (sd_packcache_content).  A token list
 * alone never ends with that byte (its last byte is 0 or a token's flags).
 *
 * A record is found only for the same identity (device, inode, size,
 * mtime and ctime), and files changed within 2 seconds of the pack's
 * start are not recorded (statcache.h).
 *
 * Uses sd_node.user of the tree's file nodes from sd_packcache_new() to
 * sd_packcache_free().
 */
#ifndef SD_APP_PACKCACHE_H
#define SD_APP_PACKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compcache.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/tree.h"
#include "formats/format.h"

/* Distinct tokens kept for one file. */
#define SD_PACKCACHE_MAX_TOKENS 1024
#define SD_PACKCACHE_TOKEN_LEN 33
/* Files up to this size keep their content in their record: the files
 * the EROFS writer stores uncompressed (formats/format.h). */
#define SD_PACKCACHE_MAX_CONTENT SD_WRITE_CONTENT_MAX
/* The last byte of a record that holds the content. */
#define SD_PACKCACHE_CONTENT_MARK 0xC0

struct sd_packcache;

/* What a pack's cache did, for its summary. */
struct sd_packcache_counters {
	uint64_t files;  /* host files in the tree */
	uint64_t known;  /* ... known from the stat cache (an empty
			     file: recorded there) */
	uint64_t learnt; /* ... read during this pack and hashed */
	uint64_t groups_stored;
};

/*
 * Load the stat cache of @tree's store paths (the root's children with a
 * host path) from @cache, and install the tap on @tree (over any tap
 * already there, which it calls first: install the reference check's
 * before).  @store_dir (the logical store directory, no trailing '/')
 * is the prefix of full-path tokens.  Nodes added to @tree later are
 * unknown.  SD_ERR_NOMEM.
 */
int sd_packcache_new(struct sd_tree *tree, struct sd_compcache *cache,
		     const char *store_dir, struct sd_packcache **out,
		     struct sd_error *err);

/*
 * The content SHA-256 of file @node: true and *@sha when known or learnt
 * (a read of the whole content has finished), false otherwise.  Thread
 * safe; fits sd_write_options' file digest callback (@ctx is the
 * packcache).
 */
bool sd_packcache_digest(void *ctx, const struct sd_node *node,
			 uint8_t sha[SD_SHA256_LEN]);

/*
 * The content of file @node (at most SD_PACKCACHE_MAX_CONTENT bytes) when
 * known or learnt: true and node->size bytes copied to @buf, false
 * otherwise.  Thread safe; fits sd_write_options' file_content callback
 * (@ctx is the packcache).
 */
bool sd_packcache_content(void *ctx, const struct sd_node *node, void *buf);

/*
 * The tokens of file @node known from the stat cache (not learnt): true
 * and *@tok, *@len (the extra bytes described above), or false.
 */
bool sd_packcache_tokens(const struct sd_packcache *pc,
			 const struct sd_node *node, const uint8_t **tok,
			 size_t *len);

/*
 * Write back the groups in which a file was learnt or a record did not
 * match (after a successful pack).  Never fails: the cache turns itself
 * off on errors (core/compcache.h).
 */
void sd_packcache_store(struct sd_packcache *pc);

void sd_packcache_counters(const struct sd_packcache *pc,
			   struct sd_packcache_counters *out);

/* Remove the tap (putting back the one it covered) and free (NULL ok). */
void sd_packcache_free(struct sd_packcache *pc);

#endif
