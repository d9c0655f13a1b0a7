/* SPDX-License-Identifier: MIT */
/*
 * digestfile.h — an image's SHA-256 beside it, in sha256sum's format
 * ("<64 hex>  <name>\n"), so that `sha256sum -c` checks a copy on any host.
 */
#ifndef SD_APP_DIGESTFILE_H
#define SD_APP_DIGESTFILE_H

#include <stdint.h>

#include "core/error.h"
#include "core/sha256.h"

/*
 * Write "<hex of @digest>  <basename of @image>\n" to @path so that it
 * appears whole or not at all.
 */
int sd_digestfile_write(const char *path, const char *image,
			const uint8_t digest[SD_SHA256_LEN],
			struct sd_error *err);

/*
 * Read the digest for @image from @path: a bare 64-hex line, or sha256sum
 * lines ("<hex>  <name>" or "<hex> *<name>").  With one entry that entry
 * is taken whatever its name; with several, the one naming @image's
 * basename.  SD_ERR_INVALID with a reason if none fits, SD_ERR_IO if
 * @path cannot be read.
 */
int sd_digestfile_read(const char *path, const char *image,
		       uint8_t digest[SD_SHA256_LEN], struct sd_error *err);

#endif
