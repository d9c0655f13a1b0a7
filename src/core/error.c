#include "core/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Append ": " and @tail to @msg (holding @len bytes), truncating. */
static void append(char *msg, size_t len, const char *tail)
{
	const char *parts[2] = {": ", tail};
	for (int p = 0; p < 2; p++)
		for (const char *c = parts[p]; *c && len + 1 < SD_ERROR_MSG_MAX;)
			msg[len++] = *c++;
	msg[len] = '\0';
}

/*
 * Keep messages on one line whatever bytes a hostile input put in a name:
 * control bytes become \xNN (truncating at the buffer's end).
 */
static void one_line(char *msg)
{
	size_t n = 0;
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			n++;
	if (!n)
		return;
	char old[SD_ERROR_MSG_MAX];
	memcpy(old, msg, SD_ERROR_MSG_MAX);
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;
	for (const char *p = old; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ctl = c < 0x20 || c == 0x7f;
		if (at + (ctl ? 4 : 1) >= SD_ERROR_MSG_MAX)
			break;
		if (ctl) {
			msg[at++] = '\\';
			msg[at++] = 'x';
			msg[at++] = hex[c >> 4];
			msg[at++] = hex[c & 15];
		} else {
			msg[at++] = (char)c;
		}
	}
	msg[at] = '\0';
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
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		one_line(err->msg);
		err->code = code;
	}
	return code;
}

int sd_error_errno(struct sd_error *err, int code, int errnum,
		   const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(err->msg))
			append(err->msg, (size_t)n, strerror(errnum));
		one_line(err->msg);
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
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(err->msg))
		append(err->msg, (size_t)n, old);
	one_line(err->msg);
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
