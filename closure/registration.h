/* SPDX-License-Identifier: MIT */
/*
 * registration.h — parse Nix validity registrations.
 *
 * Two record layouts, each a sequence of lines:
 *
 *   full  (nix-store --dump-db / --load-db, closureInfo "registration"):
 *       <store path>
 *       <narHash>          base16 (as dump-db prints), sha256:<nix32>,
 *                          sha256:<base16|base64>, SRI sha256-<base64>
 *       <narSize>          decimal
 *       <deriver>          a store path or an empty line
 *       <N>                reference count, decimal
 *       <N reference store paths>
 *
 *   short (exportReferencesGraph / closureInfo graph form):
 *       <store path>
 *       <deriver>          a store path or an empty line
 *       <N>
 *       <N reference store paths>
 *
 * The layout is detected per record from its second line: empty or a path
 * in the store directory means short, anything else must be a narHash.
 * A file may be empty (zero records).  A last line without '\n' and CRLF
 * line ends are accepted.  Blank lines between records are NOT skipped
 * (an empty line where a store path is expected is an error).
 *
 * Errors are SD_ERR_INVALID with "FILE:LINE: reason" (bad store path, path
 * outside the store directory, bad hash, bad number, reference count
 * larger than the lines left, truncated record, duplicate record).
 */
#ifndef SD_CLOSURE_REGISTRATION_H
#define SD_CLOSURE_REGISTRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "closure/hashparse.h"
#include "core/error.h"

struct sd_reg_ref {
	char *path;  /* logical store path, NUL-terminated */
	size_t line; /* its line in the file */
};

struct sd_reg_record {
	char *path;       /* logical store path "<store-dir>/<hash>-<name>" */
	const char *base; /* its basename (points into path) */
	size_t line;      /* line of the path */
	const char *file; /* the file it was read from, for messages
			     * "FILE:LINE" (owned by the registration:
			     * file, or one of files) */
	bool has_hash;    /* full layout: nar_hash/nar_size are set */
	uint8_t nar_hash[SD_NARHASH_LEN];
	uint64_t nar_size;
	char *deriver; /* "" if none */
	struct sd_reg_ref *refs;
	size_t nrefs;
};

struct sd_registration {
	char *file;                 /* name used in messages; merged
				       * registrations: "A, B" */
	struct sd_reg_record *recs; /* in file order */
	size_t nrecs;
	char **files; /* merged registrations (closure/merge.h): the
			 * names of the files, in order; NULL otherwise */
	size_t nfiles;
};

/* Parse file @path; @store_dir is the logical store dir (no trailing /). */
int sd_registration_load(const char *path, const char *store_dir,
			 struct sd_registration **out, struct sd_error *err);

/* Parse @len bytes at @data; @name is used in messages. */
int sd_registration_parse(const char *name, const char *data, size_t len,
			  const char *store_dir, struct sd_registration **out,
			  struct sd_error *err);

void sd_registration_free(struct sd_registration *reg);

/*
 * Parse a decimal unsigned number (digits only, no sign, no spaces,
 * fits in uint64_t).  Returns 0 or SD_ERR_INVALID.
 */
int sd_parse_u64(const char *s, size_t len, uint64_t *out,
		 struct sd_error *err);

#endif
