/* SPDX-License-Identifier: MIT */
/*
 * atomicfile.h — write an output file so that it appears whole or not at
 * all.
 *
 * sd_atomic_open() creates a temporary file beside the final path (same
 * directory, so the final rename is atomic); sd_atomic_commit() renames it
 * into place (after an fsync when asked: durability across a power loss
 * costs a full write-back of the image, which dominates an uncompressed
 * pack); sd_atomic_abort() removes it.  Until commit
 * nothing exists at the final path (an existing file there is replaced
 * only at commit).
 *
 * A process killed outright (SIGKILL, a crash, a power loss) cannot
 * remove its temporary file, so the name says whose it is:
 * ".<final name>.storedisk-tmp.<pid>.<6 random chars>" (the final name is
 * cut short where the whole would exceed NAME_MAX), and the file is held
 * under an exclusive flock(2) for as long as its writer lives (the kernel
 * drops the lock when the process dies, however it dies).  Each
 * sd_atomic_open() first removes the stale ones of its directory: every
 * regular file named so, owned by the effective user, whose lock it can
 * take.  A live writer's file is locked and survives; the pid is for
 * people only (it may belong to another host or pid namespace).  Where
 * the file system refuses flock, nothing is ever removed.
 */
#ifndef SD_CORE_ATOMICFILE_H
#define SD_CORE_ATOMICFILE_H

#include <stdbool.h>

#include "core/error.h"

struct sd_atomic_file {
	int fd;         /* open read/write on the temporary file */
	char *path;     /* final path */
	char *tmp_path; /* temporary path, NULL once committed/aborted */
};

int sd_atomic_open(struct sd_atomic_file *f, const char *path,
		   struct sd_error *err);

/*
 * Could an atomic file appear at @path?  Checked before any work, so that
 * a long pack does not fail at its end: @path must not be a directory
 * (nor end in '/'), and its directory must exist, be a directory and be
 * writable and searchable by this process (access(2) with the effective
 * ids: a read-only file system is refused even for root, who bypasses
 * permission bits).  Returns 0 or SD_ERR_USAGE with "@path: reason"
 * ("is a directory", "directory D does not exist", "D is not a
 * directory", "directory D is not writable (strerror)"); SD_ERR_NOMEM.
 */
int sd_atomic_check(const char *path, struct sd_error *err);

/* chmod to 0644 & ~umask, fsync if @sync, rename; on failure the temp is
 * removed. */
int sd_atomic_commit(struct sd_atomic_file *f, bool sync, struct sd_error *err);

/* Remove the temporary file and release @f (safe after commit). */
void sd_atomic_abort(struct sd_atomic_file *f);

/*
 * A small file written whole or not at all: open, write @len bytes of
 * @data, commit (no fsync).  sd_atomic_open's errors, or SD_ERR_OUTPUT
 * "@path: write: strerror" (the temporary removed).
 */
int sd_atomic_write(const char *path, const void *data, size_t len,
		    struct sd_error *err);

#endif
