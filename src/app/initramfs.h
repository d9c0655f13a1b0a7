/* SPDX-License-Identifier: MIT */
/*
 * initramfs.h — a reproducible initramfs: a newc ("070701") cpio archive,
 * uncompressed, written with libarchive, as the kernel unpacks it
 * (Documentation/driver-api/early-userspace/buffer-format.rst).
 *
 * Every member gets uid 0, gid 0, mtime 0, nlink 1 (2 for directories)
 * and inode numbers in archive order; members are written sorted by path
 * (bytewise), each directory before what it holds, and the parent
 * directories a member needs are added (mode 0755) when not given.  The
 * same members give the same bytes.
 */
#ifndef SD_APP_INITRAMFS_H
#define SD_APP_INITRAMFS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum sd_initramfs_kind {
	SD_INITRAMFS_FILE,    /* regular file: data/len, or host_path */
	SD_INITRAMFS_DIR,     /* directory */
	SD_INITRAMFS_SYMLINK, /* symbolic link to data (len bytes) */
};

struct sd_initramfs_member {
	const char *path; /* in the archive, relative, no leading '/':
			   * "init", "lib/modules/virtio_blk.ko" */
	enum sd_initramfs_kind kind;
	uint32_t mode;         /* permission bits (07777) */
	const void *data;      /* contents (or link target), or NULL */
	size_t len;            /* bytes of data */
	const char *host_path; /* a FILE's contents come from this host
				* file when data is NULL */
};

/*
 * Write @n members to @out_path (created or replaced atomically: no
 * partial archive is left there on error).  Errors: SD_ERR_USAGE for two
 * members of one path, a path that is absolute, empty or holds "..", "."
 * or an empty component ("a//b", "a/"), a member under one that is not a
 * directory, or a symlink without a target; SD_ERR_IO naming a host file
 * that cannot be read (or is not a regular file); SD_ERR_LIMIT for a file
 * of 4 GiB or more (newc's size field); SD_ERR_OUTPUT.
 */
int sd_initramfs_write(const char *out_path,
		       const struct sd_initramfs_member *m, size_t n,
		       struct sd_error *err);

#endif
