/* SPDX-License-Identifier: MIT */
/*
 * fuzz_streams.c — fuzz target for the stream inputs of `pack`
 * (app/input.h): the same bytes are read as a `nix-store --export` stream
 * (closure/wire.h, closure/nar_read.h) and as a tar (libarchive, then our
 * entry checks), with no reference check (allow_missing); an accepted
 * stream's closure is built too (sd_input_closure).  Any result is fine
 * except a crash, a sanitizer report, a hang, or a failure without a
 * one-line reason (abort()).  `meson test --suite fuzz` replays
 * tests/fuzz/corpus/streams.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "app/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const struct sd_error *err)
{
	if (rc && (err->msg[0] == '\0' || strchr(err->msg, '\n')))
		abort();
}

typedef int (*input_fn)(const char *file, const struct sd_input_options *,
			struct sd_tree **, struct sd_input_info *,
			struct sd_error *);

static void one(const char *path, input_fn read)
{
	struct sd_input_options opts = {
		.store_dir = "/nix/store",
		.mtime = 1,
		.allow_missing = true,
	};
	struct sd_input_info info;
	memset(&info, 0, sizeof info);
	struct sd_tree *t = NULL;
	struct sd_error err;
	sd_error_init(&err);
	int rc = read(path, &opts, &t, &info, &err);
	check_error(rc, &err);
	if (!rc) {
		struct sd_input_closure ic;
		sd_error_init(&err);
		rc = sd_input_closure(t, &info, "/nix/store", NULL, 0, &ic,
				      &err);
		check_error(rc, &err);
		if (!rc)
			sd_input_closure_free(&ic);
		sd_tree_free(t);
	}
	sd_input_info_release(&info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.stream", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	lseek(fd, 0, SEEK_SET);
	one(path, sd_input_export);
	lseek(fd, 0, SEEK_SET);
	one(path, sd_input_tar);
	close(fd);
	return 0;
}
