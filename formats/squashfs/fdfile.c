/* SPDX-License-Identifier: MIT */
/*
 * fdfile.c — sqfs_file_t over a file descriptor (see fdfile.h).
 */
#include "formats/squashfs/fdfile.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqfs/error.h>

struct fdfile {
	sqfs_file_t base;
	int fd;
	bool writable;
	bool own;
	sqfs_u64 size;
	int werr; /* errno of the first failed write or truncate */
};

static int fdfile_read_at(sqfs_file_t *base, sqfs_u64 offset, void *buffer,
			  size_t size)
{
	struct fdfile *f = (struct fdfile *)base;
	unsigned char *p = buffer;

	if (offset > f->size || size > f->size - offset)
		return SQFS_ERROR_OUT_OF_BOUNDS;
	while (size > 0) {
		if (offset > (sqfs_u64)INT64_MAX)
			return SQFS_ERROR_OUT_OF_BOUNDS;
		ssize_t n = pread(f->fd, p, size, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SQFS_ERROR_IO;
		}
		if (n == 0)
			return SQFS_ERROR_OUT_OF_BOUNDS; /* shrank under us */
		p += n;
		size -= (size_t)n;
		offset += (sqfs_u64)n;
	}
	return 0;
}

static int fdfile_write_at(sqfs_file_t *base, sqfs_u64 offset,
			   const void *buffer, size_t size)
{
	struct fdfile *f = (struct fdfile *)base;
	const unsigned char *p = buffer;
	sqfs_u64 end;

	if (!f->writable)
		return SQFS_ERROR_IO;
	if (__builtin_add_overflow(offset, (sqfs_u64)size, &end) ||
	    end > (sqfs_u64)INT64_MAX)
		return SQFS_ERROR_OUT_OF_BOUNDS;
	while (size > 0) {
		ssize_t n = pwrite(f->fd, p, size, (off_t)offset);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (!f->werr)
				f->werr = n < 0 ? errno : ENOSPC;
			return SQFS_ERROR_IO;
		}
		p += n;
		size -= (size_t)n;
		offset += (sqfs_u64)n;
	}
	if (end > f->size)
		f->size = end;
	return 0;
}

static sqfs_u64 fdfile_get_size(const sqfs_file_t *base)
{
	return ((const struct fdfile *)base)->size;
}

static int fdfile_truncate(sqfs_file_t *base, sqfs_u64 size)
{
	struct fdfile *f = (struct fdfile *)base;

	if (!f->writable || size > (sqfs_u64)INT64_MAX)
		return SQFS_ERROR_IO;
	while (ftruncate(f->fd, (off_t)size) != 0) {
		if (errno != EINTR) {
			if (!f->werr)
				f->werr = errno;
			return SQFS_ERROR_IO;
		}
	}
	f->size = size;
	return 0;
}

static void fdfile_destroy(sqfs_object_t *base)
{
	struct fdfile *f = (struct fdfile *)base;

	if (f->own)
		close(f->fd);
	free(f);
}

static sqfs_object_t *fdfile_copy(const sqfs_object_t *base)
{
	const struct fdfile *f = (const struct fdfile *)base;

	if (f->writable)
		return NULL;
	int fd = dup(f->fd);
	if (fd < 0)
		return NULL;
	sqfs_file_t *copy = sd_sqfs_fdfile_create(fd, false, true);
	if (!copy)
		close(fd);
	return (sqfs_object_t *)copy;
}

sqfs_file_t *sd_sqfs_fdfile_create(int fd, bool writable, bool own)
{
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return NULL;

	struct fdfile *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->base.base.destroy = fdfile_destroy;
	f->base.base.copy = fdfile_copy;
	f->base.read_at = fdfile_read_at;
	f->base.write_at = fdfile_write_at;
	f->base.get_size = fdfile_get_size;
	f->base.truncate = fdfile_truncate;
	f->fd = fd;
	f->writable = writable;
	f->own = own;
	f->size = (sqfs_u64)end;
	return &f->base;
}

int sd_sqfs_fdfile_write_errno(const sqfs_file_t *file)
{
	return ((const struct fdfile *)file)->werr;
}
