#include "core/stream.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int sd_stream_read_full(struct sd_stream *s, void *buf, size_t len,
			size_t *got, struct sd_error *err)
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
	bool at_end;    /* a read reaching @expect came back short: the end */
	bool watched;   /* read in several calls: ctime0 is the file's ctime */
	struct timespec ctime0;
	char *path;
};

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
