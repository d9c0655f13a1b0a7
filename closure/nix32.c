/* SPDX-License-Identifier: MIT */
#include "closure/nix32.h"

#include <string.h>

const char sd_nix32_alphabet[33] = "0123456789abcdfghijklmnpqrsvwxyz";

/* Value + 1 for each alphabet character, written out so the table is a
 * compile-time constant. */
const uint8_t sd_nix32_table[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['f'] = 15, ['g'] = 16, ['h'] = 17, ['i'] = 18,
	['j'] = 19, ['k'] = 20, ['l'] = 21, ['m'] = 22, ['n'] = 23, ['p'] = 24,
	['q'] = 25, ['r'] = 26, ['s'] = 27, ['v'] = 28, ['w'] = 29, ['x'] = 30,
	['y'] = 31, ['z'] = 32,
};

size_t sd_nix32_encoded_len(size_t nbytes)
{
	if (nbytes == 0)
		return 0;
	return (nbytes * 8 - 1) / 5 + 1;
}

void sd_nix32_encode(const uint8_t *in, size_t n, char *out)
{
	size_t len = sd_nix32_encoded_len(n);
	for (size_t k = 0; k < len; k++) {
		/* Output position k carries group (len - 1 - k). */
		size_t group = len - 1 - k;
		size_t bit = group * 5;
		size_t i = bit / 8;
		unsigned j = (unsigned)(bit % 8);
		unsigned v = (unsigned)in[i] >> j;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << (8 - j);
		out[k] = sd_nix32_alphabet[v & 0x1f];
	}
	out[len] = '\0';
}

int sd_nix32_decode(const char *s, size_t len, uint8_t *out, size_t n,
		    struct sd_error *err)
{
	if (len != sd_nix32_encoded_len(n))
		return sd_error_set(err, SD_ERR_INVALID,
				    "nix32 string of %zu characters cannot "
				    "encode %zu bytes (needs %zu)",
				    len, n, sd_nix32_encoded_len(n));
	memset(out, 0, n);
	for (size_t g = 0; g < len; g++) {
		/* Group g is the character g places from the end. */
		size_t pos = len - 1 - g;
		unsigned char c = (unsigned char)s[pos];
		if (!sd_nix32_is_char(c))
			return sd_error_set(err, SD_ERR_INVALID,
					    "invalid nix32 character 0x%02x "
					    "at offset %zu",
					    c, pos);
		unsigned digit = sd_nix32_table[c] - 1u;
		size_t bit = g * 5;
		size_t i = bit / 8;
		unsigned j = (unsigned)(bit % 8);
		out[i] |= (uint8_t)(digit << j);
		unsigned high = digit >> (8 - j);
		if (i + 1 < n)
			out[i + 1] |= (uint8_t)high;
		else if (high)
			return sd_error_set(err, SD_ERR_INVALID,
					    "nix32 string has excess bits in "
					    "its first character");
	}
	return 0;
}
