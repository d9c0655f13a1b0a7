/* SPDX-License-Identifier: MIT */
#include "core/stream.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int sd_stream_read_full(struct sd_stream *s, void *buf, size_t len, size_t *got,
			struct sd_error *err)
{
	size_t total = 0;
	while (total < len) {
		size_t n = 0;
		int rc = s->read(s, (char *)buf + total, len - total, &n, err);
		if (rc)
			return rc;
		if (n == 0)
			break;
		total += n;
	}
	*got = total;
	return SD_OK;
}

struct host_stream {
	struct sd_stream base;
	int fd;
	uint64_t expect;
	uint64_t done;
	bool at_end;  /* a read reaching @expect came back short: the end */
	bool watched; /* read in several calls: ctime0 is the file's ctime */
	struct timespec ctime0;
	bool sparse; /* fewer blocks than bytes: holes are not read */
	bool reseek; /* the file offset is not @done */
	uint64_t hole_end, data_end; /* known region from @done: zeros/data */
	char *path;
};

/* Files at least this big are tested for holes (one fstat). */
#define SD_SPARSE_MIN (1u << 20)

/*
 * Reading a hole makes the kernel fill page cache with zeros (5 GiB of
 * them for a 5 GiB sparse file): a sparse file's holes, found with
 * SEEK_DATA/SEEK_HOLE, are given as zeros without a read.  Returns the
 * bytes of zeros at @h->done (0: data there, or no hole information).
 */
static uint64_t hole_here(struct host_stream *h)
{
	if (h->done >= h->hole_end && h->done >= h->data_end) {
		off_t d = lseek(h->fd, (off_t)h->done, SEEK_DATA);

		h->reseek = true;
		if (d < 0 && errno == ENXIO) {
			h->hole_end = h->expect; /* holes to the end */
		} else if (d < 0) {
			h->sparse = false; /* no hole information */
			return 0;
		} else if ((uint64_t)d > h->done) {
			h->hole_end = (uint64_t)d < h->expect ? (uint64_t)d
							      : h->expect;
		} else {
			off_t e = lseek(h->fd, (off_t)h->done, SEEK_HOLE);
			h->data_end = e < 0 ? h->expect : (uint64_t)e;
			if (h->data_end <= h->done)
				h->data_end = h->done + 1;
		}
	}
	return h->done < h->hole_end ? h->hole_end - h->done : 0;
}

/* The read that ends in a hole: the file must still have its size. */
static int hole_at_end(struct host_stream *h, struct sd_error *err)
{
	struct stat st;

	if (fstat(h->fd, &st) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: stat",
				      h->path);
	if ((uint64_t)st.st_size > h->expect)
		return sd_error_set(err, SD_ERR_IO,
				    "%s: file grew while being read", h->path);
	if ((uint64_t)st.st_size < h->expect)
		return sd_error_set(err, SD_ERR_IO,
				    "%s: file shrank while being read "
				    "(%llu of %llu bytes)",
				    h->path, (unsigned long long)st.st_size,
				    (unsigned long long)h->expect);
	h->at_end = true;
	return SD_OK;
}

/*
 * A file read in several calls may be written in between, at the same
 * size: its ctime, taken before the first read and compared after the
 * last, tells (as tar's "file changed as we read it").  A file read in
 * one call needs no check: what it gives is one state of the file.
 */
static int watch_start(struct host_stream *h, struct sd_error *err)
{
	struct stat st;

	if (fstat(h->fd, &st) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: stat",
				      h->path);
	h->ctime0 = st.st_ctim;
	h->watched = true;
	return SD_OK;
}

static int watch_end(struct host_stream *h, struct sd_error *err)
{
	struct stat st;

	h->watched = false;
	if (fstat(h->fd, &st) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: stat",
				      h->path);
	if (st.st_ctim.tv_sec != h->ctime0.tv_sec ||
	    st.st_ctim.tv_nsec != h->ctime0.tv_nsec)
		return sd_error_set(err, SD_ERR_IO,
				    "%s: file changed while being read",
				    h->path);
	return SD_OK;
}

/*
 * A read that reaches the expected size asks for one byte more (readv into
 * a spare byte): a regular file's read comes back short only at its end,
 * so the read that follows, which a reader makes to see the end, needs no
 * system call, and growth past the expected size is still seen.
 */
static int host_read(struct sd_stream *s, void *buf, size_t len, size_t *got,
		     struct sd_error *err)
{
	struct host_stream *h = (struct host_stream *)s;
	uint64_t rest = h->done < h->expect ? h->expect - h->done : 0;
	bool probe = rest > 0 && len == rest;
	unsigned char spare;
	ssize_t n;

	if (h->at_end && len > 0) {
		*got = 0;
		return SD_OK;
	}
	if (h->done == 0 && !h->watched && len < h->expect) {
		int rc = watch_start(h, err);
		if (rc)
			return rc;
	}
	if (h->sparse && len > 0 && rest > 0) {
		uint64_t zeros = hole_here(h);

		if (zeros) {
			size_t z = zeros < len ? (size_t)zeros : len;
			int rc = SD_OK;

			memset(buf, 0, z);
			h->done += z;
			if (h->done == h->expect) {
				rc = hole_at_end(h, err);
				if (!rc && h->watched)
					rc = watch_end(h, err);
			}
			*got = rc ? 0 : z;
			return rc;
		}
	}
	if (h->reseek) {
		if (lseek(h->fd, (off_t)h->done, SEEK_SET) < 0)
			return sd_error_errno(err, SD_ERR_IO, errno, "%s: seek",
					      h->path);
		h->reseek = false;
	}
	do {
		if (probe) {
			struct iovec v[2] = {{buf, len}, {&spare, 1}};
			n = readv(h->fd, v, 2);
		} else {
			n = read(h->fd, buf, len);
		}
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: read",
				      h->path);
	h->done += (uint64_t)n;
	if (h->done > h->expect)
		return sd_error_set(err, SD_ERR_IO,
				    "%s: file grew while being read", h->path);
	if (n == 0 && len > 0 && h->done != h->expect)
		return sd_error_set(err, SD_ERR_IO,
				    "%s: file shrank while being read "
				    "(%llu of %llu bytes)",
				    h->path, (unsigned long long)h->done,
				    (unsigned long long)h->expect);
	if (rest > 0 && (uint64_t)n == rest && (probe || len > rest))
		h->at_end = true;
	if (h->watched && h->done == h->expect) {
		int rc = watch_end(h, err);
		if (rc)
			return rc;
	}
	*got = (size_t)n;
	return SD_OK;
}

static void host_close(struct sd_stream *s)
{
	struct host_stream *h = (struct host_stream *)s;
	close(h->fd);
	free(h->path);
	free(h);
}

/* Files no larger than this are read in one go: a sequential-access hint
 * (which widens readahead) cannot help them and costs a system call. */
#define SD_FADVISE_MIN (128u * 1024)

int sd_stream_open_host_at(int dirfd, const char *name, const char *path,
			   uint64_t expect_size, struct sd_stream **out,
			   struct sd_error *err)
{
	int fd = openat(dirfd, name,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: open", path);
	struct host_stream *h = calloc(1, sizeof(*h));
	char *p = strdup(path);
	if (!h || !p) {
		free(h);
		free(p);
		close(fd);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
#ifdef POSIX_FADV_SEQUENTIAL
	if (expect_size > SD_FADVISE_MIN)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	h->base.read = host_read;
	h->base.close = host_close;
	h->fd = fd;
	h->expect = expect_size;
	struct stat st;
	if (expect_size >= SD_SPARSE_MIN && fstat(fd, &st) == 0 &&
	    (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size)
		h->sparse = true;
	h->path = p;
	*out = &h->base;
	return SD_OK;
}

int sd_stream_open_host(const char *path, uint64_t expect_size,
			struct sd_stream **out, struct sd_error *err)
{
	return sd_stream_open_host_at(AT_FDCWD, path, path, expect_size, out,
				      err);
}

struct mem_stream {
	struct sd_stream base;
	const unsigned char *data;
	size_t len, pos;
};

static int mem_read(struct sd_stream *s, void *buf, size_t len, size_t *got,
		    struct sd_error *err)
{
	(void)err;
	struct mem_stream *m = (struct mem_stream *)s;
	size_t n = m->len - m->pos;
	if (n > len)
		n = len;
	if (n)
		memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	*got = n;
	return SD_OK;
}

static void mem_close(struct sd_stream *s)
{
	free(s);
}

int sd_stream_open_mem(const void *data, size_t len, struct sd_stream **out,
		       struct sd_error *err)
{
	struct mem_stream *m = calloc(1, sizeof(*m));
	if (!m)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	m->base.read = mem_read;
	m->base.close = mem_close;
	m->data = data;
	m->len = len;
	*out = &m->base;
	return SD_OK;
}
