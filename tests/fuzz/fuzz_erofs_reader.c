/* SPDX-License-Identifier: MIT */
/*
 * fuzz_erofs_reader.c — fuzz target for the EROFS reader.
 *
 * The input goes through fuzz_read_image() (fuzz_image.h) with
 * sd_erofs_read() and fuzz_info_image() with sd_erofs_info().  Without libFuzzer (the default build) replay.c's main()
 * replays a corpus; `meson test --suite fuzz` runs it over
 * tests/fuzz/corpus/erofs.
 *
 * Fuzzing with clang (libclang-rt-14-dev for libFuzzer):
 *
 *   CC=clang meson setup /tmp/bf -Dfuzzing=true -Db_sanitize=address,undefined
 *   meson compile -C /tmp/bf tests/fuzz/fuzz-erofs-reader
 *   cp -r tests/fuzz/corpus/erofs /tmp/corpus
 *   /tmp/bf/tests/fuzz/fuzz-erofs-reader -max_len=65536 -timeout=10 \
 *       -rss_limit_mb=2048 /tmp/corpus
 *
 * and copy any crash-* file it writes into tests/fuzz/corpus/erofs/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/erofs/crc32c.h"
#include "formats/erofs/reader.h"
#include "fuzz_image.h"

/*
 * The superblock checksum covers block 0, where mkfs.erofs puts the first
 * inodes; so that mutations there get past it, inputs whose byte 0 (in
 * the unused boot area) is even get a recomputed checksum.
 */
static void fix_checksum(uint8_t *d, size_t size)
{
	if (size < 1024 + 128 || (d[0] & 1) || !(d[1024 + 8] & 1))
		return;
	unsigned bits = d[1024 + 12];
	if (bits < 9 || bits > 16 || size < (1024u + (1u << bits)))
		return;
	size_t len = (size_t)1 << bits;
	len = len > 1024 ? len - 1024 : len;
	memset(d + 1024 + 4, 0, 4);
	uint32_t crc = sd_crc32c(0xFFFFFFFFu, d + 1024, len);
	for (int k = 0; k < 4; k++)
		d[1024 + 4 + k] = (uint8_t)(crc >> (8 * k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_checksum(copy, size);
	fuzz_read_image(copy, size, sd_erofs_read);
	fuzz_info_image(copy, size, sd_erofs_info);
	free(copy);
	return 0;
}
