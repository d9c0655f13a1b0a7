/* SPDX-License-Identifier: MIT */
/*
 * sha256_engine.c — for test-sha256-cpus.sh: the engine
 * sd_sha256_batch_new(SD_SHA256_AUTO) picks on this CPU (first line), and
 * whether its digests of 100 tree records (4128 bytes) and 37 odd-length
 * messages equal OpenSSL's one-shot SHA-256 ("digests: N of N equal").
 * With --built-with: "intel-ipsec-mb" or "openssl", what the build has.
 * Exit 0 when every digest is equal.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/sha256_batch.h"

/* @n messages of @len bytes, @stride apart; the count of equal digests. */
static int equal_digests(struct sd_sha256_batch *b, size_t len, size_t stride,
			 size_t n)
{
	uint8_t *m = malloc(stride * n), *out = malloc(32 * n);
	if (!m || !out)
		exit(2);
	for (size_t i = 0; i < stride * n; i++)
		m[i] = (uint8_t)(i * 7 + (i >> 9) + len);
	struct sd_error err;
	sd_error_init(&err);
	int same = 0;
	if (!sd_sha256_batch_run(b, m, stride, len, n, out, &err))
		for (size_t i = 0; i < n; i++) {
			uint8_t want[32];
			unsigned got = 0;
			if (EVP_Digest(m + i * stride, len, want, &got,
				       EVP_sha256(), NULL) == 1 &&
			    !memcmp(want, out + 32 * i, 32))
				same++;
		}
	free(out);
	free(m);
	return same;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--built-with")) {
#ifdef SD_HAVE_IPSEC_MB
		puts("intel-ipsec-mb");
#else
		puts("openssl");
#endif
		return 0;
	}
	struct sd_sha256_batch *b = NULL;
	struct sd_error err;
	sd_error_init(&err);
	if (sd_sha256_batch_new(&b, SD_SHA256_AUTO, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	printf("%s\n", sd_sha256_batch_engine(b));
	int same = equal_digests(b, 4128, 4128, 100);
	same += equal_digests(b, 77, 90, 37);
	printf("digests: %d of 137 equal\n", same);
	sd_sha256_batch_free(b);
	return same == 137 ? 0 : 1;
}
