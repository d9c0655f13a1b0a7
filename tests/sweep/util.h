/* SPDX-License-Identifier: MIT */
/*
 * util.h — what the corruption sweep needs from the file system, without
 * a test framework (sweep.c forks its cases, and LeakSanitizer cannot
 * check a child forked from a multi-threaded Criterion worker).
 *
 * Every function ends the program through sw_die when it fails: the
 * sweep cannot go on without its files.
 */
#ifndef SD_TESTS_SWEEP_UTIL_H
#define SD_TESTS_SWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Print "Bail out! sweep: <message>" (TAP) and exit 1. */
void sw_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* A new buffer holding "<dir>/<fmt...>". */
char *sw_path(const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* mkdir -p @path (mode 0755). */
void sw_mkdir_p(const char *path);

/* Create or truncate @path with @len bytes of @data, mode exactly @mode. */
void sw_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Symlink @path -> @target. */
void sw_symlink(const char *target, const char *path);

/* The whole of file @path in a new buffer; its length in *@len. */
uint8_t *sw_slurp(const char *path, size_t *len);

/* rm -rf @path, making directories writable first; nothing if missing.
 * Returns 0, or -1 when something stayed. */
int sw_remove_tree(const char *path);

/* A fresh scratch directory: in /dev/shm where it is writable (each
 * case extracts and removes a few hundred entries, which costs a disk
 * file system's journal more than the case), else in $TMPDIR or /tmp. */
char *sw_scratch_dir(void);

#endif
