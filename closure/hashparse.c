/* SPDX-License-Identifier: MIT */
#include "closure/hashparse.h"

#include <stdbool.h>
#include <string.h>

#include "closure/nix32.h"
#include "core/hex.h"

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int sd_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap,
		     size_t *outlen, struct sd_error *err)
{
	size_t pad = 0;
	while (len > 0 && s[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
		return sd_error_set(err, SD_ERR_INVALID, "bad base64 length");
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return sd_error_set(err, SD_ERR_INVALID,
					    "invalid base64 character 0x%02x "
					    "at offset %zu",
					    (unsigned char)s[i], i);
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return sd_error_set(err, SD_ERR_INVALID,
						    "base64 data too long");
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (bits && (acc & ((1u << bits) - 1)))
		return sd_error_set(err, SD_ERR_INVALID,
				    "base64 data has non-zero trailing bits");
	*outlen = n;
	return 0;
}

static int parse_hex(const char *s, uint8_t out[SD_NARHASH_LEN],
		     struct sd_error *err)
{
	size_t bad;
	if (sd_hex_decode(s, out, SD_NARHASH_LEN, &bad))
		return sd_error_set(err, SD_ERR_INVALID,
				    "invalid hex digit near offset %zu",
				    bad - bad % 2);
	return 0;
}

static int parse_b64(const char *s, size_t len, uint8_t out[SD_NARHASH_LEN],
		     struct sd_error *err)
{
	uint8_t buf[SD_NARHASH_LEN + 3];
	size_t n = 0;
	int rc = sd_base64_decode(s, len, buf, sizeof(buf), &n, err);
	if (rc)
		return rc;
	if (n != SD_NARHASH_LEN)
		return sd_error_set(err, SD_ERR_INVALID,
				    "base64 hash decodes to %zu bytes, "
				    "not %d",
				    n, SD_NARHASH_LEN);
	memcpy(out, buf, SD_NARHASH_LEN);
	return 0;
}

/* The digest part after any prefix: decide the encoding by its length. */
static int parse_body(const char *s, size_t len, bool sri,
		      uint8_t out[SD_NARHASH_LEN], struct sd_error *err)
{
	if (sri)
		return parse_b64(s, len, out, err);
	if (len == 2 * SD_NARHASH_LEN)
		return parse_hex(s, out, err);
	if (len == sd_nix32_encoded_len(SD_NARHASH_LEN))
		return sd_nix32_decode(s, len, out, SD_NARHASH_LEN, err);
	if (len == 43 || len == 44)
		return parse_b64(s, len, out, err);
	return sd_error_set(err, SD_ERR_INVALID,
			    "a SHA-256 hash has 64 (hex), 52 (nix32) or 44 "
			    "(base64) characters, not %zu",
			    len);
}

int sd_hash_parse(const char *s, size_t len, uint8_t out[SD_NARHASH_LEN],
		  struct sd_error *err)
{
	/* An algorithm prefix ends at the first ':' or '-'. */
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ':' && s[i] != '-')
			continue;
		if (i != 6 || memcmp(s, "sha256", 6) != 0)
			return sd_error_set(err, SD_ERR_INVALID,
					    "unsupported hash algorithm "
					    "'%.*s' (only sha256)",
					    (int)(i > 16 ? 16 : i), s);
		return parse_body(s + 7, len - 7, s[i] == '-', out, err);
	}
	if (len == 0)
		return sd_error_set(err, SD_ERR_INVALID, "empty hash");
	return parse_body(s, len, false, out, err);
}
