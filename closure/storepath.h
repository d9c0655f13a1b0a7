/* SPDX-License-Identifier: MIT */
/*
 * storepath.h — syntax of store paths "<store-dir>/<hash>-<name>".
 *
 * The hash part is 32 nix32 characters.  The name follows Nix's checkName:
 * 1 to 211 characters of [0-9a-zA-Z+-._?=], not "." or "..", and not
 * starting with ".-" or "..-".
 *
 * Nothing here touches the file system; the parsed views point into the
 * caller's string.
 */
#ifndef SD_CLOSURE_STOREPATH_H
#define SD_CLOSURE_STOREPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define SD_HASH_CHARS 32 /* length of the hash part */
#define SD_NAME_MAX 211  /* longest name part */
/* Longest basename "<hash>-<name>". */
#define SD_BASE_MAX (SD_HASH_CHARS + 1 + SD_NAME_MAX)

/* A parsed store path: views into the parsed string (not NUL-terminated). */
struct sd_spath {
	const char *base; /* "<hash>-<name>" */
	size_t base_len;
	const char *hash; /* SD_HASH_CHARS characters */
	const char *name; /* the name part */
	size_t name_len;
	const char *sub; /* rest after the basename: "" or "/bin/x" */
	size_t sub_len;
};

/* NULL if @name (@len bytes) is a valid name part, else a static reason. */
const char *sd_storepath_name_problem(const char *name, size_t len);

/* NULL if @s is SD_HASH_CHARS nix32 characters, else a static reason. */
const char *sd_storepath_hash_problem(const char *s, size_t len);

/* NULL if @s (@len bytes) is a valid basename "<hash>-<name>", else a
 * static reason such as "hash part contains 'e'". */
const char *sd_storepath_base_problem(const char *s, size_t len);

/*
 * Parse basename @s (@len bytes).  On failure returns SD_ERR_INVALID with
 * "invalid store path name '<s>': <reason>".  out->sub is empty.
 */
int sd_storepath_parse_base(const char *s, size_t len, struct sd_spath *out,
			    struct sd_error *err);

/*
 * Parse logical path @s (@len bytes) "<store_dir>/<hash>-<name>[/sub...]".
 * @store_dir has no trailing slash.  With @allow_sub false, anything after
 * the basename is an error; with it true the rest (starting with '/') is
 * returned in out->sub.  SD_ERR_INVALID on failure ("... is not in the
 * store directory ...", "invalid store path name ...").
 */
int sd_storepath_parse(const char *store_dir, const char *s, size_t len,
		       bool allow_sub, struct sd_spath *out,
		       struct sd_error *err);

#endif
