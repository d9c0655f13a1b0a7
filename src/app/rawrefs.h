/* SPDX-License-Identifier: MIT */
/*
 * rawrefs.h — which candidate hash parts occur in a file's raw bytes.
 *
 * Nix registers as references of a derivation output every input path
 * whose 32-character hash part occurs anywhere in the output's bytes.  For
 * an output that is a single file (an image), that is a bare-hash scan of
 * the file as one byte stream (closure/scanner.h, no store-dir prefix
 * needed), which this reads in SD_RAWREFS_CHUNK-byte chunks; the scanner
 * finds hashes that straddle two chunks.
 */
#ifndef SD_APP_RAWREFS_H
#define SD_APP_RAWREFS_H

#include <stddef.h>
#include <stdint.h>

#include "closure/hashmap.h"
#include "core/error.h"

#define SD_RAWREFS_CHUNK (1024 * 1024)

/*
 * Scan the file at @path for the hashes of @candidates, whose ids are
 * below @nids, and set @hit[id] to 1 for each one found (@hit has @nids
 * entries; entries of hashes not found are left as they are).  Returns 0,
 * SD_ERR_IO naming @path, or SD_ERR_NOMEM.
 */
int sd_raw_refs_scan(const char *path, const struct sd_hashmap *candidates,
		     size_t nids, uint8_t *hit, struct sd_error *err);

#endif
