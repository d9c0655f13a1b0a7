/* SPDX-License-Identifier: MIT */
#include "core/hex.h"

void sd_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int sd_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sd_hex_decode(const char *s, uint8_t *out, size_t len, size_t *bad)
{
	for (size_t i = 0; i < len; i++) {
		int hi = sd_hex_digit((unsigned char)s[2 * i]);
		int lo = sd_hex_digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			if (bad)
				*bad = 2 * i + (hi < 0 ? 0 : 1);
			return -1;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void sd_uuid_format(const uint8_t u[16], char out[37])
{
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		sd_hex_encode(u + i, 1, out + o);
		o += 2;
	}
	out[o] = '\0';
}
