/* SPDX-License-Identifier: MIT */
#include "core/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The write buffer.  Fuzz builds use 64 KiB, which ASan's allocator
 * serves from its size classes: a 1 MiB one is an mmap, a fill and an
 * munmap per input, most of the time of the NAR and stream targets. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define SPOOL_BUF (64u << 10)
#else
#define SPOOL_BUF (1u << 20)
#endif

struct sd_spool {
	int fd;
	uint64_t written;   /* bytes in the file */
	unsigned char *buf; /* pending bytes, appended after @written */
	size_t used;
};

struct spool_stream {
	struct sd_stream base;
	int fd;
	uint64_t off, left;
};

int sd_spool_new(struct sd_spool **out, struct sd_error *err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	size_t len = strlen(dir) + sizeof("/storedisk-spool.XXXXXX");
	char *tmpl = malloc(len);
	struct sd_spool *sp = calloc(1, sizeof(*sp));
	unsigned char *buf = malloc(SPOOL_BUF);
	if (!tmpl || !sp || !buf) {
		free(tmpl);
		free(sp);
		free(buf);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	snprintf(tmpl, len, "%s/storedisk-spool.XXXXXX", dir);
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		int rc = sd_error_errno(err, SD_ERR_IO, e,
					"%s: cannot create a spool file", dir);
		free(tmpl);
		free(sp);
		free(buf);
		return rc;
	}
	unlink(tmpl);
	free(tmpl);
	sp->fd = fd;
	sp->buf = buf;
	*out = sp;
	return SD_OK;
}

void sd_spool_free(struct sd_spool *sp)
{
	if (!sp)
		return;
	close(sp->fd);
	free(sp->buf);
	free(sp);
}

uint64_t sd_spool_offset(const struct sd_spool *sp)
{
	return sp->written + sp->used;
}

static int flush(struct sd_spool *sp, struct sd_error *err)
{
	size_t done = 0;
	while (done < sp->used) {
		ssize_t n = pwrite(sp->fd, sp->buf + done, sp->used - done,
				   (off_t)(sp->written + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sd_error_errno(err, SD_ERR_IO,
					      n < 0 ? errno : EIO,
					      "spool file: write");
		done += (size_t)n;
	}
	sp->written += sp->used;
	sp->used = 0;
	return SD_OK;
}

int sd_spool_append(struct sd_spool *sp, const void *data, size_t len,
		    struct sd_error *err)
{
	const unsigned char *p = data;
	while (len > 0) {
		size_t take = SPOOL_BUF - sp->used;
		if (take > len)
			take = len;
		memcpy(sp->buf + sp->used, p, take);
		sp->used += take;
		p += take;
		len -= take;
		if (sp->used == SPOOL_BUF) {
			int rc = flush(sp, err);
			if (rc)
				return rc;
		}
	}
	return SD_OK;
}

int sd_spool_append_zeros(struct sd_spool *sp, uint64_t len,
			  struct sd_error *err)
{
	uint64_t at = sd_spool_offset(sp);
	if (len > (uint64_t)INT64_MAX - at)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "spool file: %llu more bytes at offset "
				    "%llu pass the largest file size",
				    (unsigned long long)len,
				    (unsigned long long)at);
	if (len <= SPOOL_BUF - sp->used) {
		memset(sp->buf + sp->used, 0, (size_t)len);
		sp->used += (size_t)len;
		return sp->used == SPOOL_BUF ? flush(sp, err) : SD_OK;
	}
	int rc = flush(sp, err);
	if (rc)
		return rc;
	/* Extend the file over the hole now, so that it reads as zeros
	 * even when nothing is written after it. */
	if (ftruncate(sp->fd, (off_t)(sp->written + len)) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno,
				      "spool file: extend to %llu bytes",
				      (unsigned long long)(sp->written + len));
	sp->written += len;
	return SD_OK;
}

int sd_spool_read(struct sd_spool *sp, uint64_t off, void *buf, size_t len,
		  struct sd_error *err)
{
	unsigned char *p = buf;

	if (off + len > sp->written) {
		int rc = flush(sp, err);
		if (rc)
			return rc;
	}
	while (len > 0) {
		ssize_t n = pread(sp->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sd_error_errno(err, SD_ERR_IO,
					      n < 0 ? errno : EIO,
					      "spool file: read at offset %llu",
					      (unsigned long long)off);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return SD_OK;
}

static int stream_read(struct sd_stream *s, void *buf, size_t len, size_t *got,
		       struct sd_error *err)
{
	struct spool_stream *ss = (struct spool_stream *)s;
	if (len > ss->left)
		len = (size_t)ss->left;
	*got = 0;
	if (len == 0)
		return SD_OK;
	for (;;) {
		ssize_t n = pread(ss->fd, buf, len, (off_t)ss->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sd_error_errno(err, SD_ERR_IO,
					      n < 0 ? errno : EIO,
					      "spool file: read at offset %llu",
					      (unsigned long long)ss->off);
		ss->off += (uint64_t)n;
		ss->left -= (uint64_t)n;
		*got = (size_t)n;
		return SD_OK;
	}
}

static void stream_close(struct sd_stream *s)
{
	free(s);
}

static int source_open(void *ctx, const struct sd_node *node,
		       struct sd_stream **out, struct sd_error *err)
{
	struct sd_spool *sp = ctx;
	if (node->src_id > sp->written ||
	    node->size > sp->written - node->src_id)
		return sd_error_set(err, SD_ERR_INVALID,
				    "spool: content of %s lies outside the "
				    "spool",
				    node->name);
	struct spool_stream *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ss->base.read = stream_read;
	ss->base.close = stream_close;
	ss->fd = sp->fd;
	ss->off = node->src_id;
	ss->left = node->size;
	*out = &ss->base;
	return SD_OK;
}

static void source_release(void *ctx)
{
	sd_spool_free(ctx);
}

static const struct sd_content_source spool_source = {
	.open = source_open,
	.release = source_release,
};

int sd_spool_attach(struct sd_spool *sp, struct sd_tree *tree,
		    struct sd_error *err)
{
	int rc = flush(sp, err);
	if (rc)
		return rc;
	free(sp->buf);
	sp->buf = NULL;
	tree->source = &spool_source;
	tree->source_ctx = sp;
	return SD_OK;
}
