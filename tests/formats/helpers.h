/* SPDX-License-Identifier: MIT */
/*
 * helpers.h — tree building, image writing and tree comparison for the
 * format tests.
 */
#ifndef SD_TESTS_FORMATS_HELPERS_H
#define SD_TESTS_FORMATS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"
#include "formats/format.h"
#include "tests/common/tmpdir.h"

/*
 * tt_setup("sdfmt") for host files and images, for .init; use tt_teardown
 * as .fini and tt_path for paths in it.
 */
void th_setup(void);

/* Deterministic pseudo-random bytes. */
void th_random(void *buf, size_t len, uint32_t seed);

/* Add nodes (metadata: owner 0:0, mtime 1, normalised modes). */
struct sd_node *th_dir(struct sd_tree *t, struct sd_node *parent,
		       const char *name);
struct sd_node *th_file(struct sd_tree *t, struct sd_node *parent,
			const char *name, const void *data, size_t len);
struct sd_node *th_symlink(struct sd_tree *t, struct sd_node *parent,
			   const char *name, const char *target);
/* A file of @len pseudo-random bytes from @seed. */
struct sd_node *th_random_file(struct sd_tree *t, struct sd_node *parent,
			       const char *name, size_t len, uint32_t seed);

/* th_file, then free(@data): for a buffer made for this one file. */
struct sd_node *th_file_take(struct sd_tree *t, struct sd_node *parent,
			     const char *name, void *data, size_t len);

/*
 * @len bytes (malloc'ed, the caller frees) of alternating runs: even runs
 * one repeated letter, odd runs th_random from @seed + the run's index.
 * Run i is @min_run + (i * 7919) % @spread bytes long (the last one cut).
 */
void *th_mixed(size_t len, uint32_t seed, size_t min_run, size_t spread);

/* Finalise or fail the test. */
void th_finalize(struct sd_tree *t);

/* Write @t as a squashfs image to @path; returns the writer's status. */
int th_write(const struct sd_tree *t, const char *compressor, int level,
	     uint32_t block_size, unsigned jobs, const char *path,
	     struct sd_write_stats *stats, struct sd_error *err);

/* Read an image or fail the test. */
struct sd_tree *th_read(const char *path);

/* Whole content of a FILE node (malloc'ed) or fail the test. */
void *th_content(const struct sd_tree *t, const struct sd_node *n, size_t *len);

/*
 * Assert that two trees have the same shape, names, types, modes, owners,
 * mtimes, sizes, symlink targets and file bytes.
 */
void th_assert_same(const struct sd_tree *a, const struct sd_tree *b);

/*
 * Stream every file of @t to the end; returns how many failed (must not
 * crash or hang whatever the image was).
 */
size_t th_stream_all(const struct sd_tree *t);

/* Whole file into memory (malloc'ed) or fail the test. */
void *th_slurp(const char *path, size_t *len);
void th_spit(const char *path, const void *data, size_t len);

/* Every file, directory and symlink below @n equals the host tree @dir:
 * type, mode, mtime, size, symlink target, bytes, entry counts. */
void th_check_host(const struct sd_tree *t, const struct sd_node *n,
		   const char *dir);

/* Mount the EROFS image @img read-only at "<img>.mnt" (path in @mnt);
 * false if mounting is not permitted.  th_unmount() undoes it. */
bool th_mount_erofs(const char *img, char *mnt, size_t len);
void th_unmount(const char *mnt);

/* The kernel shows exactly @t when it mounts @img; false (with a printed
 * reason) when mounting is not permitted here. */
bool th_check_kernel_erofs(const struct sd_tree *t, const char *img);

/* fsck.erofs --extract accepts @img and extracts exactly @t's contents
 * (skipped with a printed reason when erofs-utils is missing). */
void th_check_fsck_erofs(const struct sd_tree *t, const char *img);

/* SHA-256 of the file @img in hex. */
void th_image_sha(const char *img, char hex[65]);

#endif
