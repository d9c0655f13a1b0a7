/* SPDX-License-Identifier: MIT */
/*
 * compcache-fill — fill or probe a compression cache for the shell test of
 * `storedisk cache` (tests/cli/test-cache.sh), until pack --cache does.
 *
 *   compcache-fill put DIR FIRST COUNT SIZE
 *       store items FIRST .. FIRST+COUNT-1 of SIZE bytes each; item i was
 *       last used at 1600000000 + i (its mtime)
 *   compcache-fill get DIR I SIZE
 *       exit 0 when item I is a hit with its SIZE bytes, 1 on a miss
 *
 * Prints the cache's warning, if any, on stderr; exit 2 on a usage error
 * or a put that was not stored.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/compcache.h"
#include "core/hex.h"

static void key_of(unsigned long i, uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	uint8_t sha[SD_SHA256_LEN] = {0};
	char params[32];

	snprintf(params, sizeof(params), "item=%lu\n", i);
	if (sd_compcache_key(params, sha, key, NULL))
		exit(2);
}

static void value_of(unsigned long i, size_t len, uint8_t *v)
{
	for (size_t k = 0; k < len; k++)
		v[k] = (uint8_t)(i * 31 + k * 7);
}

static int usage(void)
{
	fprintf(stderr, "usage: compcache-fill put DIR FIRST COUNT SIZE | "
			"get DIR I SIZE\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	bool put = !strcmp(argv[1], "put");
	if ((put && argc != 6) ||
	    (!put && (strcmp(argv[1], "get") || argc != 5)))
		return usage();
	const char *dir = argv[2];
	unsigned long first = strtoul(argv[3], NULL, 10);
	unsigned long count = put ? strtoul(argv[4], NULL, 10) : 1;
	size_t len = strtoul(argv[put ? 5 : 4], NULL, 10);
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	uint8_t *v = malloc(len ? len : 1);
	struct sd_compcache *c;
	int rc = 0;

	if (!v || sd_compcache_open(&c, dir, NULL, NULL))
		return 2;
	for (unsigned long i = first; i < first + count; i++) {
		key_of(i, key);
		if (!put) {
			void *got;
			size_t n;
			value_of(i, len, v);
			bool hit = sd_compcache_get(c, key, &got, &n);
			rc = hit && n == len && !memcmp(got, v, len) ? 0 : 1;
			free(got);
			break;
		}
		value_of(i, len, v);
		if (!sd_compcache_put(c, key, v, len)) {
			rc = 2;
			break;
		}
		char hex[2 * SD_COMPCACHE_KEY_LEN + 1], path[4096];
		sd_hex_encode(key, SD_COMPCACHE_KEY_LEN, hex);
		snprintf(path, sizeof(path), "%s/v%d/%.2s/%s", dir,
			 SD_COMPCACHE_VERSION, hex, hex);
		struct timespec t[2] = {{1600000000 + (time_t)i, 0},
					{1600000000 + (time_t)i, 0}};
		if (utimensat(AT_FDCWD, path, t, 0) != 0) {
			rc = 2;
			break;
		}
	}
	if (sd_compcache_warning(c))
		fprintf(stderr, "compcache-fill: %s\n",
			sd_compcache_warning(c));
	sd_compcache_close(c);
	free(v);
	return rc;
}
