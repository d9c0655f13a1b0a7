/* SPDX-License-Identifier: MIT */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "closure/nix32.h"
#include "core/sha256.h"

void ct_setup(void)
{
	tt_setup("sdclosure");
}

void ct_hash(const char *seed, char out[33])
{
	uint8_t d[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();
	cr_assert_not_null(h);
	sd_sha256_update(h, seed, strlen(seed));
	sd_sha256_final(h, d);
	sd_nix32_encode(d, 20, out);
}

int ct_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < size,
		  "ct_fmt: %d bytes do not fit in %zu", n, size);
	return n;
}
