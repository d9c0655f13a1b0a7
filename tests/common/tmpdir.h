/* SPDX-License-Identifier: MIT */
/*
 * tmpdir.h — one scratch directory per test, shared by all test suites.
 *
 * Usage: call tt_setup("prefix") from a Criterion .init (wrap it in a
 * void(void) function, since the prefix is an argument), create files with
 * the helpers below, and use tt_teardown directly as .fini.
 *
 * All functions fail the current test (cr_assert) when the file system
 * refuses; none of them return an error.  Paths are "<tt_tmp>/<rel>"; @rel
 * is taken as is (no ".." checks, no leading '/').
 */
#ifndef SD_TESTS_COMMON_TMPDIR_H
#define SD_TESTS_COMMON_TMPDIR_H

#include <stddef.h>
#include <sys/types.h>

/* The current directory, "/tmp/<prefix>.XXXXXX"; "" when there is none. */
extern char tt_tmp[256];

/* Create a fresh directory /tmp/<prefix>.XXXXXX (mkdtemp) as tt_tmp. */
void tt_setup(const char *prefix);

/*
 * Remove tt_tmp recursively, first giving the owner write permission on
 * every directory (like "chmod -R u+w; rm -rf", without a shell; symlinks
 * are not followed).  Does nothing if there is no directory.
 */
void tt_teardown(void);

/*
 * "<tt_tmp>/<rel>" in a static buffer; eight buffers are used in turn, so a
 * result stays valid until eight more calls.
 */
const char *tt_path(const char *rel);

/* mkdir -p "<tt_tmp>/<rel>" (mode 0755); it must end up a directory. */
void tt_mkdir(const char *rel);

/*
 * Create or truncate "<tt_tmp>/<rel>", write @len bytes of @data (or
 * strlen(data) if @len == (size_t)-1) and set its permissions to @mode
 * exactly (not masked by the umask).
 */
void tt_write(const char *rel, const void *data, size_t len, mode_t mode);

/* Create a symlink "<tt_tmp>/<rel>" -> @target (target taken as is). */
void tt_symlink(const char *target, const char *rel);

/*
 * Mount a tmpfs of @size (the size= option, e.g. "64m", mode 0755) at
 * "<tt_tmp>/m", creating it, or skip the test when mounting is not
 * permitted (needs root).  Use tt_teardown_mount as .fini: it detaches the
 * tmpfs, if one is mounted, then does tt_teardown.
 */
void tt_mount_tmpfs(const char *size);
void tt_teardown_mount(void);

/* Remount the tmpfs of tt_mount_tmpfs read-only or fail the test. */
void tt_remount_ro(void);

#endif
