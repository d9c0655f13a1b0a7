/* SPDX-License-Identifier: MIT */
/*
 * error.h — the one error convention of storedisk.
 *
 * Every fallible library function returns an int: 0 (SD_OK) on success or
 * one of the negative SD_ERR_* codes below.  When the caller passes a
 * non-NULL struct sd_error, the function also leaves a one-line,
 * human-readable reason there (naming the file, offset or line at fault);
 * control bytes in it (from hostile names) are written as \xNN, so a
 * message is always one line.  A message longer than the buffer loses its
 * middle, marked by "…", never its end: "/nix/store/abc…/deep/file: File
 * name too long" keeps the reason, however long the path.
 * The library never prints; the CLI prints err->msg.
 */
#ifndef SD_CORE_ERROR_H
#define SD_CORE_ERROR_H

#include <stddef.h>

enum sd_status {
	SD_OK = 0,
	SD_ERR_NOMEM = -1,       /* out of memory */
	SD_ERR_IO = -2,          /* a host read/write/stat failed */
	SD_ERR_INVALID = -3,     /* malformed input (parse error, bad name) */
	SD_ERR_UNSUPPORTED = -4, /* input we refuse: device node, FIFO, ... */
	SD_ERR_MISSING = -5,     /* a referenced store path is not present */
	SD_ERR_CORRUPT = -6,     /* an image is corrupt, truncated or foreign */
	SD_ERR_USAGE = -7,       /* bad option or argument */
	SD_ERR_INTERRUPTED = -8, /* SIGINT/SIGTERM arrived */
	SD_ERR_LIMIT = -9,       /* input exceeds a limit of the format */
	SD_ERR_OUTPUT = -10,     /* the output could not be written (ENOSPC,
				    EIO): the caller names it in front */
};

#define SD_ERROR_MSG_MAX 1024

struct sd_error {
	int code;                   /* last SD_ERR_* set, 0 if none */
	char msg[SD_ERROR_MSG_MAX]; /* one line, no trailing newline */
};

/* Reset @err (may be NULL). */
void sd_error_init(struct sd_error *err);

/*
 * Record @code and a printf-style message in @err (may be NULL).
 * Returns @code so callers can write `return sd_error_set(err, ...)`.
 */
int sd_error_set(struct sd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like sd_error_set, appending ": strerror(errnum)". */
int sd_error_errno(struct sd_error *err, int code, int errnum, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/*
 * Prefix the message already in @err with more context
 * ("while reading X: <old message>"). Returns err->code (or @code if
 * err is NULL).
 */
int sd_error_prefix(struct sd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short constant name of a status code ("corrupt image", ...). */
const char *sd_status_str(int code);

#endif
