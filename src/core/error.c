/* SPDX-License-Identifier: MIT */
#include "core/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Messages are one line whatever bytes a hostile input put in a name:
 * control bytes become \xNN.  A message longer than the buffer loses its
 * middle, not its end ("/nix/store/abc…/deep/file: File name too long"):
 * the end says what went wrong, the start where.
 */
#define CUT_MARK "\xe2\x80\xa6" /* U+2026 HORIZONTAL ELLIPSIS */
#define CUT_HEAD ((SD_ERROR_MSG_MAX - 1 - (sizeof(CUT_MARK) - 1)) / 3)

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Escape @s (@n bytes) into @out (room for 4 * @n + 1); its length. */
static size_t escape(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_ctl(c)) {
			out[at++] = '\\';
			out[at++] = 'x';
			out[at++] = hex[c >> 4];
			out[at++] = hex[c & 15];
		} else {
			out[at++] = (char)c;
		}
	}
	out[at] = '\0';
	return at;
}

/* Store the @n-byte text @s (escaped, cut in the middle) as err->msg. */
static void store(struct sd_error *err, const char *s, size_t n)
{
	char small[SD_ERROR_MSG_MAX];
	char *e = n < SD_ERROR_MSG_MAX / 4 ? small : malloc(4 * n + 1);
	size_t len, head, tail;

	if (!e) {
		/* no memory for the cut: the start, escaped, as fits */
		n = n < SD_ERROR_MSG_MAX / 4 ? n : SD_ERROR_MSG_MAX / 4 - 1;
		escape(s, n, err->msg);
		return;
	}
	len = escape(s, n, e);
	if (len < SD_ERROR_MSG_MAX) {
		memcpy(err->msg, e, len + 1);
	} else {
		/* head and tail on UTF-8 character boundaries (an escape
		 * sequence may still be cut: it is ASCII) */
		head = CUT_HEAD;
		while (head > 0 && ((unsigned char)e[head] & 0xC0) == 0x80)
			head--;
		tail = len -
		       (SD_ERROR_MSG_MAX - 1 - head - (sizeof(CUT_MARK) - 1));
		while (tail < len && ((unsigned char)e[tail] & 0xC0) == 0x80)
			tail++;
		memcpy(err->msg, e, head);
		memcpy(err->msg + head, CUT_MARK, sizeof(CUT_MARK) - 1);
		memcpy(err->msg + head + sizeof(CUT_MARK) - 1, e + tail,
		       len - tail + 1);
	}
	if (e != small)
		free(e);
}

/*
 * Format @fmt, then append ": " and @tail if @tail is not NULL, and store
 * the whole as err->msg.
 */
static void vstore(struct sd_error *err, const char *tail, const char *fmt,
		   va_list ap)
{
	char small[SD_ERROR_MSG_MAX];
	char *s = small;
	size_t tl = tail ? 2 + strlen(tail) : 0;
	va_list again;

	va_copy(again, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n + tl >= sizeof(small)) {
		s = malloc((size_t)n + tl + 1);
		if (s)
			vsnprintf(s, (size_t)n + 1, fmt, again);
		else {
			/* no memory: what fitted, then the tail if any */
			s = small;
			n = (int)strlen(small);
			tl = 0;
		}
	}
	va_end(again);
	if (tl) {
		memcpy(s + n, ": ", 2);
		memcpy(s + n + 2, tail, tl - 2);
	}
	store(err, s, (size_t)n + tl);
	if (s != small)
		free(s);
}

void sd_error_init(struct sd_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int sd_error_set(struct sd_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vstore(err, NULL, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

int sd_error_errno(struct sd_error *err, int code, int errnum, const char *fmt,
		   ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vstore(err, strerror(errnum), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

int sd_error_prefix(struct sd_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	char old[SD_ERROR_MSG_MAX];
	memcpy(old, err->msg, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	vstore(err, old, fmt, ap);
	va_end(ap);
	if (!err->code)
		err->code = code;
	return err->code;
}

const char *sd_status_str(int code)
{
	switch (code) {
	case SD_OK: return "ok";
	case SD_ERR_NOMEM: return "out of memory";
	case SD_ERR_IO: return "I/O error";
	case SD_ERR_INVALID: return "invalid input";
	case SD_ERR_UNSUPPORTED: return "unsupported input";
	case SD_ERR_MISSING: return "missing store path";
	case SD_ERR_CORRUPT: return "corrupt image";
	case SD_ERR_USAGE: return "usage error";
	case SD_ERR_INTERRUPTED: return "interrupted";
	case SD_ERR_LIMIT: return "limit exceeded";
	case SD_ERR_OUTPUT: return "cannot write the output";
	}
	return "unknown error";
}
