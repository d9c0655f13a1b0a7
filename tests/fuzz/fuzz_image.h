/* SPDX-License-Identifier: MIT */
/*
 * fuzz_image.h — the shared body of the image-reader fuzz targets: put the
 * input in a memfd, read it with a format reader, stream every file (at
 * most FUZZ_MAX_BYTES per input, so a huge sparse file cannot stall a
 * run), free the tree.  Any result is fine except a crash, a sanitizer
 * report, a hang, or a failure without a one-line reason (abort()).
 */
#ifndef SD_TESTS_FUZZ_IMAGE_H
#define SD_TESTS_FUZZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/tree.h"

#define FUZZ_MAX_BYTES (256u << 20)

typedef int (*fuzz_read_fn)(const char *path, struct sd_tree **out,
			    struct sd_error *err);

void fuzz_read_image(const uint8_t *data, size_t size, fuzz_read_fn read);

/* The format's info callback (format.h) over the same input: any result
 * but a crash, a hang or a failure without a one-line reason. */
struct sd_image_info;
typedef int (*fuzz_info_fn)(const char *path, struct sd_image_info *out,
			    struct sd_error *err);

void fuzz_info_image(const uint8_t *data, size_t size, fuzz_info_fn info);

#endif
