/* SPDX-License-Identifier: MIT */
/*
 * fuzz_squashfs_reader.c — fuzz target for the squashfs reader: the input
 * goes through fuzz_read_image() (fuzz_image.h) with the squashfs format's
 * reader and fuzz_info_image() with its info callback.  `meson test --suite fuzz` replays tests/fuzz/corpus/squashfs
 * (see fuzz_erofs_reader.c for fuzzing with clang).
 */
#include <stdint.h>

#include "formats/squashfs/squashfs.h"
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read_image(data, size, sd_format_squashfs.read);
	fuzz_info_image(data, size, sd_format_squashfs.info);
	return 0;
}
