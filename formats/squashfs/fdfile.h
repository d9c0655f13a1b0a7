/* SPDX-License-Identifier: MIT */
/*
 * fdfile.h — an sqfs_file_t over a plain file descriptor.
 *
 * libsquashfs reads and writes images through the sqfs_file_t interface;
 * this implementation uses pread/pwrite on a descriptor we already hold, so
 * the writer can emit to the caller's fd and the reader can bound every
 * access by the real file size (reads past the end fail with
 * SQFS_ERROR_OUT_OF_BOUNDS instead of returning garbage).
 */
#ifndef SD_FORMATS_SQUASHFS_FDFILE_H
#define SD_FORMATS_SQUASHFS_FDFILE_H

#include <stdbool.h>

#include <sqfs/io.h>

/*
 * Wrap @fd.  The current size is taken from the descriptor.  If @writable,
 * writes and truncation are allowed and copies are refused (libsquashfs
 * expects that); otherwise the file is read-only and copyable (copies use a
 * dup'ed descriptor).  If @own, destroying the object closes @fd.
 * Returns NULL (errno set) on failure; @fd is then not closed.
 */
sqfs_file_t *sd_sqfs_fdfile_create(int fd, bool writable, bool own);

/* errno of the first write or truncation of @file that failed, 0 if none
 * did (libsquashfs reports only SQFS_ERROR_IO). */
int sd_sqfs_fdfile_write_errno(const sqfs_file_t *file);

#endif
