/* SPDX-License-Identifier: MIT */
/*
 * scanner.h — find store references in a byte stream (Nix's rule).
 *
 * A reference to store path P exists wherever P's 32-character hash part
 * occurs in the scanned bytes; no "/nix/store/" prefix is needed.  The
 * scanner looks at every window of 32 consecutive nix32 characters and
 * reports those that are in the candidate set ("bare" hits).  Like Nix's
 * RefScanSink it skips ahead using the position of non-nix32 characters,
 * checking a window from its last character backwards.
 *
 * Optionally (a store directory given) it also reports every occurrence
 * of "<store-dir>/<32 nix32 chars>-" for ANY hash ("full path" hits), to
 * catch references to paths that are not candidates.
 *
 * Streaming: an item (a file's content, a name, a symlink target) is fed
 * in chunks of any size; matches straddling chunk boundaries are found
 * because the scanner keeps the tail of the previous chunk.  A match is
 * reported during the sd_scanner_feed() call that supplies its last byte,
 * so nothing is pending at the end of an item and there is no "finish".
 *
 * Offsets: hit->offset is the absolute offset, from the start of the item
 * (the last sd_scanner_reset()), of the FIRST byte of the match: for a
 * bare hit the first hash character, for a full-path hit the first byte
 * of the store-dir prefix (so the hash starts at offset +
 * strlen(store_dir) + 1).
 *
 * Both kinds are reported independently: a full-path occurrence of a
 * candidate hash yields one SD_SCAN_PATH hit and one SD_SCAN_HASH hit (at
 * different offsets); consumers dedupe.  Within one feed, hits are
 * reported in increasing offset per kind, not necessarily interleaved.
 * Every occurrence is reported (not only the first one per hash).
 */
#ifndef SD_CLOSURE_SCANNER_H
#define SD_CLOSURE_SCANNER_H

#include <stdbool.h>
#include <stdint.h>

#include "closure/hashmap.h"
#include "core/error.h"

enum sd_scan_kind {
	SD_SCAN_HASH = 1, /* a candidate's bare 32-char hash */
	SD_SCAN_PATH = 2, /* "<store-dir>/<hash>-", any hash */
};

struct sd_scan_hit {
	enum sd_scan_kind kind;
	char hash[33];   /* the 32 hash characters, NUL-terminated */
	int64_t id;      /* candidate id, or SD_HASHMAP_NONE if the hash
			    * is not a candidate (only for SD_SCAN_PATH) */
	uint64_t offset; /* see above */
};

/*
 * Hit callback.  Return 0 to go on; a negative SD_ERR_* (after setting
 * @err) stops the scan and is returned by sd_scanner_feed().
 */
typedef int (*sd_scan_fn)(const struct sd_scan_hit *hit, void *ctx,
			  struct sd_error *err);

struct sd_scanner;

/*
 * Create a scanner.  @candidates (may be NULL: no bare hits) is borrowed
 * and must outlive the scanner; ids are reported as stored.  @store_dir
 * (no trailing slash; NULL disables full-path hits) is copied.  @fn/@ctx
 * receive the hits.
 */
int sd_scanner_new(const struct sd_hashmap *candidates, const char *store_dir,
		   sd_scan_fn fn, void *ctx, struct sd_scanner **out,
		   struct sd_error *err);

/* Free the scanner (NULL ok). */
void sd_scanner_free(struct sd_scanner *sc);

/* Start a new item: offset 0, no tail from earlier bytes. */
void sd_scanner_reset(struct sd_scanner *sc);

/* Change the callback context (e.g. per item). */
void sd_scanner_set_ctx(struct sd_scanner *sc, void *ctx);

/*
 * Scan the next @len bytes of the current item.  Returns 0 or the
 * callback's error.
 */
int sd_scanner_feed(struct sd_scanner *sc, const void *data, size_t len,
		    struct sd_error *err);

/*
 * With @on, report every window of 32 nix32 characters as an SD_SCAN_HASH
 * hit, whether or not it is a candidate (id SD_HASHMAP_NONE when not):
 * what a content holds that any store could make a reference, whatever
 * the candidates (the stat cache's tokens, app/packscan.h).  Full-path
 * hits are unchanged.
 */
void sd_scanner_every_window(struct sd_scanner *sc, bool on);

/* Bytes fed since the last reset. */
uint64_t sd_scanner_offset(const struct sd_scanner *sc);

#endif
