/* SPDX-License-Identifier: MIT */
/*
 * regwrite.h — write a registration in the format of `nix-store --load-db`
 * (and `--dump-db`): per store path, sorted by path,
 *
 *     <store path>
 *     sha256:<nix32 narHash>    (or 64 hex digits, as --dump-db prints)
 *     <narSize>
 *     <deriver store path, or an empty line>
 *     <number of references>
 *     <reference store path>...      (sorted)
 *
 * This is what a guest loads with `nix-store --load-db < FILE` to know its
 * store; closure/registration.h parses it back.
 */
#ifndef SD_CLOSURE_REGWRITE_H
#define SD_CLOSURE_REGWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sd_regwrite_path {
	const char *path;        /* logical store path */
	uint8_t nar_sha256[32];  /* NAR hash */
	uint64_t nar_size;       /* NAR size */
	const char *deriver;     /* logical store path, or NULL/"" */
	const char *const *refs; /* logical store paths, any order */
	size_t nrefs;
};

/*
 * Format @n records (in any order: they are sorted by path, references
 * too) into a new buffer *@out of *@len bytes (malloc'ed, also
 * NUL-terminated).  @base16: hashes as --dump-db prints them.
 */
int sd_regwrite(const struct sd_regwrite_path *paths, size_t n, bool base16,
		char **out, size_t *len, struct sd_error *err);

#endif
