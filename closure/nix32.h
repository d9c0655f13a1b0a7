/* SPDX-License-Identifier: MIT */
/*
 * nix32.h — Nix's base-32 encoding.
 *
 * Alphabet "0123456789abcdfghijklmnpqrsvwxyz" (no e, o, u, t).  The
 * encoding is Nix's printHash32: the output's first character carries the
 * most significant 5-bit group; bit groups are taken little-endian across
 * the input bytes (group k covers bits 5k..5k+4, bit b of the input being
 * bit b%8 of byte b/8).  A 20-byte store path digest encodes to 32
 * characters, a SHA-256 digest to 52.
 */
#ifndef SD_CLOSURE_NIX32_H
#define SD_CLOSURE_NIX32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The 32 characters, in digit order. */
extern const char sd_nix32_alphabet[33];

/* Digit value + 1 of each byte, 0 if the byte is not a nix32 character. */
extern const uint8_t sd_nix32_table[256];

/* True if @c is one of the 32 alphabet characters. */
static inline bool sd_nix32_is_char(unsigned char c)
{
	return sd_nix32_table[c] != 0;
}

/* Number of characters encoding @nbytes bytes (0 for 0). */
size_t sd_nix32_encoded_len(size_t nbytes);

/*
 * Encode @n bytes of @in into @out, which must hold
 * sd_nix32_encoded_len(@n) + 1 bytes; the result is NUL-terminated.
 */
void sd_nix32_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decode @len characters of @s into exactly @n bytes at @out.  @len must be
 * sd_nix32_encoded_len(@n); every character must be in the alphabet and
 * the surplus high bits of the last group must be zero (as Nix demands).
 * Returns 0 or SD_ERR_INVALID (message names the offending character).
 */
int sd_nix32_decode(const char *s, size_t len, uint8_t *out, size_t n,
		    struct sd_error *err);

#endif
