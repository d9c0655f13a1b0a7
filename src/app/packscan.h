/* SPDX-License-Identifier: MIT */
/*
 * packscan.h — pack's reference check when the closure was given rather
 * than found (--paths, --registration, --db): the files are scanned in the
 * same read that packs them, with Nix's rule.
 *
 * Candidates are every store path of the store (the store directory's
 * entries: Nix keeps every valid path's closure present, so these are the
 * paths that exist).  In each store path of the tree (the root's children
 * that are store path names; an embedded registration or manifest is not
 * scanned) entry names below the store path, symlink targets and file
 * contents are scanned (closure/scanner.h), and two kinds of findings
 * come out:
 *   - OUTSIDE: the hash of a store path that exists but is not in the
 *     closure: a reference the image would not satisfy.  Accepted (kept
 *     as a finding, not an error) under allow_missing or when the allow
 *     list names it; otherwise pack refuses the image.
 *   - ABSENT: a full path "<store-dir>/<hash>-" whose hash is no store
 *     path of the store: not a reference (most often a documentation
 *     example); reported, refuses nothing.
 * Each finding is reported once per (store path, hash), at its first
 * occurrence in tree order.
 *
 * How the read is shared: sd_packscan_new() installs a tap on the tree
 * (core/tree.h); every file stream a writer (or the registration's NAR
 * hashing) opens is scanned as it is read, on whatever thread reads it.
 * A file is done once one stream has read it from start to end; partial
 * reads are discarded.  sd_packscan_finish() scans the names and targets
 * and whatever file no stream read whole (only those are read again),
 * then sorts the findings by node, so they do not depend on --jobs.
 */
#ifndef SD_APP_PACKSCAN_H
#define SD_APP_PACKSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "closure/allowlist.h"
#include "closure/closure.h"
#include "closure/refscan.h"
#include "closure/store.h"
#include "core/error.h"
#include "core/tree.h"

struct sd_packscan_opts {
	const struct sd_store *st;        /* candidates: st->by_hash */
	const struct sd_closure *cl;      /* what the image holds */
	bool allow_missing;               /* accept every OUTSIDE finding */
	const struct sd_allowlist *allow; /* accept these (may be NULL) */
	/* A store path other images hold (the bases of a layer, pack
	 * --base): a reference to one whose hash part is @hash (32
	 * characters) is resolved, as one into the closure.  May be NULL;
	 * called from any thread. */
	bool (*held)(void *ctx, const char *hash);
	void *held_ctx;
};

enum sd_packscan_kind {
	SD_PACKSCAN_OUTSIDE = 1,
	SD_PACKSCAN_ABSENT = 2,
};

struct sd_packscan_finding {
	enum sd_packscan_kind kind;
	char *file;                     /* logical path of the entry */
	enum sd_refscan_what what;      /* name, symlink target or content */
	uint64_t offset;                /* of the hash part within the item */
	char hash[33];                  /* the referenced hash part */
	const struct sd_store_path *sp; /* OUTSIDE: the store's path */
	bool accepted;                  /* OUTSIDE: by allow_missing/allow */
};

struct sd_packscan;

/*
 * Start checking @tree (finalised; its root's children are the closure's
 * store paths): installs the tap.  @opts and @tree must outlive the
 * check.  Errors: SD_ERR_NOMEM.
 */
int sd_packscan_new(struct sd_tree *tree, const struct sd_packscan_opts *opts,
		    struct sd_packscan **out, struct sd_error *err);

/*
 * Mark file @node scanned without reading it when its tokens (@tok, @len
 * bytes in app/packcache.h's format: every window of 32 nix32 characters
 * its content holds, flagged when one occurs as a full path) show that
 * it holds no finding: no token is a candidate outside the closure, and
 * none that occurs as a full path is a hash the store lacks.  Returns
 * true when marked; false when the file must be read (a token would be a
 * finding and the finding needs its offset, the list is incomplete or
 * invalid, or the node is not in scope).  Thread safe.
 */
bool sd_packscan_skip(struct sd_packscan *ps, const struct sd_node *node,
		      const uint8_t *tok, size_t len);

/*
 * Scan what the reads so far did not cover, then collect the findings and
 * remove the tap (the tree may then change and be freed; the findings
 * stay).  Errors: read errors of files not read yet (SD_ERR_IO naming the file),
 * SD_ERR_NOMEM.  Unaccepted OUTSIDE findings are not an error here: see
 * sd_packscan_refusal().
 */
int sd_packscan_finish(struct sd_packscan *ps, struct sd_error *err);

/* The findings after sd_packscan_finish(), in tree order. */
const struct sd_packscan_finding *
sd_packscan_findings(const struct sd_packscan *ps, size_t *n);

/*
 * SD_ERR_MISSING with the count of unaccepted OUTSIDE findings and the
 * first of them in @err ("N references to store paths that are in the
 * store but not in the closure (the first: FILE refers to P); ..."), or 0
 * if there is none.
 */
int sd_packscan_refusal(const struct sd_packscan *ps, struct sd_error *err);

/* Remove the tap from the tree (unless finished) and free everything
 * (NULL ok). */
void sd_packscan_free(struct sd_packscan *ps);

#endif
