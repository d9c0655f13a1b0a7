/* SPDX-License-Identifier: MIT */
/*
 * hashparse.h — parse a SHA-256 digest written in any of Nix's notations.
 *
 * Accepted (the digest is always SHA-256, 32 bytes):
 *   - bare base16:  64 hex digits (either case; what `nix-store --dump-db`
 *     prints for narHash);
 *   - bare nix32:   52 nix32 characters;
 *   - bare base64:  44 characters with padding (or 43 without);
 *   - "sha256:" followed by any of the three above (closureInfo's
 *     registration writes "sha256:<nix32>");
 *   - SRI "sha256-<base64>".
 * Other algorithms ("sha1:", "sha512-", ...) are refused.
 */
#ifndef SD_CLOSURE_HASHPARSE_H
#define SD_CLOSURE_HASHPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SD_NARHASH_LEN 32

/*
 * Parse @len bytes at @s (no NUL needed) into @out.  Returns 0 or
 * SD_ERR_INVALID with a reason (callers prefix file and line).
 */
int sd_hash_parse(const char *s, size_t len, uint8_t out[SD_NARHASH_LEN],
		  struct sd_error *err);

/*
 * Decode standard base64 (RFC 4648 alphabet, '=' padding optional) of
 * @len characters into @out (capacity @cap); *@outlen gets the byte count.
 * Returns 0 or SD_ERR_INVALID.
 */
int sd_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap,
		     size_t *outlen, struct sd_error *err);

#endif
