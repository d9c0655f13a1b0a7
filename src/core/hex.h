/* SPDX-License-Identifier: MIT */
/*
 * hex.h — base-16 text: digests as Nix's dump-db and sha256sum print them.
 */
#ifndef SD_CORE_HEX_H
#define SD_CORE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of @len bytes into @out (2*len+1 bytes, NUL-terminated). */
void sd_hex_encode(const uint8_t *in, size_t len, char *out);

/* The value of hex digit @c (either case), or -1. */
int sd_hex_digit(int c);

/*
 * Decode exactly 2*@len hex digits at @s into @out.  Returns -1 and the
 * offset of the first bad digit in *@bad (if not NULL), or 0.
 */
int sd_hex_decode(const char *s, uint8_t *out, size_t len, size_t *bad);

/* The 16 bytes of a UUID as RFC 9562 text, "xxxxxxxx-xxxx-xxxx-xxxx-
 * xxxxxxxxxxxx" in lower case, into @out (37 bytes, NUL-terminated). */
void sd_uuid_format(const uint8_t u[16], char out[37]);

#endif
