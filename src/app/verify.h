/*
 * verify.h — prove that an image is self-contained.
 *
 * The image is read through its format reader (no mount, no root) into the
 * normalised tree, and every top-level entry is scanned with the reference
 * scanner (closure/refscan.h):
 *   - full-path references "<store-dir>/<32 nix32 chars>-" of any hash,
 *   - bare hash parts of the image's own paths and of the candidates.
 * A reference is resolved when its hash is a top-level entry of the image
 * or is allowed (--allow).  Otherwise it is
 *   - a violation when it is a bare hash of a candidate, or a full path
 *     whose hash is a candidate, or any full path when no candidate set is
 *     given;
 *   - a warning when a candidate set is given and the full path is neither
 *     in the image nor a candidate (most often a documentation example).
 * Top-level entries that are not valid store path names are violations.
 * Each finding is reported once per (file, what, path) with the offset of
 * its first occurrence (the offset of the hash part within the item) and
 * the number of occurrences.
 */
#ifndef SD_APP_VERIFY_H
#define SD_APP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sd_allowlist;

enum sd_finding_kind {
	SD_FINDING_VIOLATION = 1,
	SD_FINDING_WARNING = 2,
};

struct sd_finding {
	enum sd_finding_kind kind;
	char *file;         /* logical path of the entry, "<store-dir>/..." */
	const char *where;  /* "content", "symlink target", "name", "entry" */
	uint64_t offset;    /* offset of the first occurrence's hash part */
	uint64_t count;     /* occurrences in this item */
	char *path;         /* the referenced store path ("<store-dir>/<hash>-
			       <name>" when the name is known, else hash) */
	char *reason;       /* short explanation */
};

struct sd_verify_options {
	const char *store_dir;     /* logical store dir, no trailing slash */
	/* Candidate store paths: each a 32-char hash or "<hash>-<name>".
	 * has_candidates false: no candidate set (NULL/0 also allowed). */
	bool has_candidates;
	const char *const *candidates;
	size_t ncandidates;
	/* Allowed exceptions (--allow), or NULL. */
	const struct sd_allowlist *allowed;
};

struct sd_verify_result {
	const char *format;      /* "squashfs" */
	size_t npaths;           /* top-level entries */
	size_t nfiles, ndirs, nsymlinks;
	uint64_t bytes_scanned;
	uint64_t references;     /* resolved references seen */
	struct sd_finding *findings;
	size_t nfindings;
	size_t nviolations, nwarnings;
};

/*
 * Verify the image at @path.  Returns 0 when the image could be read and
 * scanned (findings, if any, are in @res), SD_ERR_CORRUPT/SD_ERR_IO when it
 * cannot (exit 2 in the CLI).
 */
int sd_verify_image(const char *path, const struct sd_verify_options *opts,
		    struct sd_verify_result *res, struct sd_error *err);

void sd_verify_result_release(struct sd_verify_result *res);

#endif
