/* SPDX-License-Identifier: MIT */
#include "closure/wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sd_wire_init(struct sd_wire *w, int fd, const char *name)
{
	w->fd = fd;
	w->name = name;
	w->offset = 0;
	w->pos = 0;
	w->len = 0;
}

int sd_wire_fail(const struct sd_wire *w, uint64_t at, struct sd_error *err,
		 const char *fmt, ...)
{
	char msg[SD_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sd_error_set(err, SD_ERR_INVALID, "%s: at offset %llu: %s",
			    w->name, (unsigned long long)at, msg);
}

/* Refill the buffer from the input; w->len is 0 at end of input. */
static int fill(struct sd_wire *w, struct sd_error *err)
{
	for (;;) {
		ssize_t n = read(w->fd, w->buf, sizeof(w->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error_errno(err, SD_ERR_IO, errno,
					      "%s: read at offset %llu",
					      w->name,
					      (unsigned long long)w->offset);
		w->pos = 0;
		w->len = (size_t)n;
		return SD_OK;
	}
}

int sd_wire_at_eof(struct sd_wire *w, bool *eof, struct sd_error *err)
{
	*eof = false;
	if (w->pos < w->len)
		return SD_OK;
	int rc = fill(w, err);
	if (!rc)
		*eof = w->len == 0;
	return rc;
}

int sd_wire_read(struct sd_wire *w, void *buf, size_t len, struct sd_error *err)
{
	unsigned char *p = buf;
	uint64_t start = w->offset;
	while (len > 0) {
		if (w->pos == w->len) {
			int rc = fill(w, err);
			if (rc)
				return rc;
			if (w->len == 0)
				return sd_wire_fail(w, w->offset, err,
						    "truncated (%zu more "
						    "bytes expected for the "
						    "item at offset %llu)",
						    len,
						    (unsigned long long)start);
		}
		size_t take = w->len - w->pos;
		if (take > len)
			take = len;
		memcpy(p, w->buf + w->pos, take);
		w->pos += take;
		w->offset += take;
		p += take;
		len -= take;
	}
	return SD_OK;
}

int sd_wire_u64(struct sd_wire *w, uint64_t *v, struct sd_error *err)
{
	unsigned char b[8];
	int rc = sd_wire_read(w, b, 8, err);
	if (rc)
		return rc;
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = (x << 8) | b[i];
	*v = x;
	return SD_OK;
}

int sd_wire_padding(struct sd_wire *w, uint64_t len, struct sd_error *err)
{
	size_t pad = (size_t)((8 - (len % 8)) % 8);
	unsigned char b[8];
	uint64_t at = w->offset;
	int rc = sd_wire_read(w, b, pad, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < pad; i++)
		if (b[i] != 0)
			return sd_wire_fail(w, at + i, err,
					    "non-zero padding byte 0x%02x",
					    b[i]);
	return SD_OK;
}

int sd_wire_string(struct sd_wire *w, size_t max, char **out, size_t *len,
		   struct sd_error *err)
{
	uint64_t at = w->offset, n;
	int rc = sd_wire_u64(w, &n, err);
	if (rc)
		return rc;
	if (n > max)
		return sd_wire_fail(w, at, err,
				    "string of %llu bytes (at most %zu "
				    "expected here)",
				    (unsigned long long)n, max);
	char *s = malloc((size_t)n + 1);
	if (!s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	rc = sd_wire_read(w, s, (size_t)n, err);
	if (!rc)
		rc = sd_wire_padding(w, n, err);
	if (rc) {
		free(s);
		return rc;
	}
	s[n] = '\0';
	*out = s;
	*len = (size_t)n;
	return SD_OK;
}

int sd_wire_expect(struct sd_wire *w, const char *want, struct sd_error *err)
{
	uint64_t at = w->offset, n;
	size_t wl = strlen(want);
	char got[64];
	int rc = sd_wire_u64(w, &n, err);
	if (rc)
		return rc;
	if (n != wl || wl > sizeof(got))
		return sd_wire_fail(w, at, err, "expected '%s'", want);
	rc = sd_wire_read(w, got, wl, err);
	if (!rc && memcmp(got, want, wl))
		rc = sd_wire_fail(w, at, err, "expected '%s', found '%.*s'",
				  want, (int)wl, got);
	return rc ? rc : sd_wire_padding(w, n, err);
}
