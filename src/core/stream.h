/* SPDX-License-Identifier: MIT */
/*
 * stream.h — sequential readers of file content.
 *
 * A stream is how every consumer (format writers, the reference scanner,
 * comparisons) reads the content of a file node, whether that content lives
 * in a host file or inside an image.  Implementations embed struct
 * sd_stream as their first member.
 */
#ifndef SD_CORE_STREAM_H
#define SD_CORE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct sd_stream {
	/*
	 * Read up to @len bytes into @buf; store the count in *@got.
	 * *@got == 0 with SD_OK means end of stream.  Short reads are allowed.
	 */
	int (*read)(struct sd_stream *s, void *buf, size_t len, size_t *got,
		    struct sd_error *err);
	/* Release the stream (never fails). */
	void (*close)(struct sd_stream *s);
};

static inline int sd_stream_read(struct sd_stream *s, void *buf, size_t len,
				 size_t *got, struct sd_error *err)
{
	return s->read(s, buf, len, got, err);
}

static inline void sd_stream_close(struct sd_stream *s)
{
	if (s)
		s->close(s);
}

/*
 * Fill @buf completely unless the stream ends first; *@got tells how much
 * was read (less than @len only at end of stream).
 */
int sd_stream_read_full(struct sd_stream *s, void *buf, size_t len, size_t *got,
			struct sd_error *err);

/*
 * Open host file @path (never following a final symlink) as a stream.
 * @expect_size is checked against what is read: a file that grows or
 * shrinks while being read is an SD_ERR_IO error naming @path, and so is
 * one written to (its ctime changed) between the first and the last of
 * several reads ("file changed while being read").
 */
int sd_stream_open_host(const char *path, uint64_t expect_size,
			struct sd_stream **out, struct sd_error *err);

/*
 * Same for entry @name of the directory open as @dirfd (openat(2); with
 * AT_FDCWD, @name is a path); @path names the file in messages.
 */
int sd_stream_open_host_at(int dirfd, const char *name, const char *path,
			   uint64_t expect_size, struct sd_stream **out,
			   struct sd_error *err);

/* A stream over a memory buffer (not copied; must outlive the stream). */
int sd_stream_open_mem(const void *data, size_t len, struct sd_stream **out,
		       struct sd_error *err);

#endif
