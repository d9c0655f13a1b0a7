/* SPDX-License-Identifier: MIT */
/*
 * lines.h — read a small text file line by line, with line numbers.
 *
 * The whole file is loaded into memory.  Lines end at '\n'; a last line
 * without '\n' still counts; one trailing '\r' (CRLF files) is dropped.
 * Lines are returned as (pointer, length) views, not NUL-terminated, and
 * may contain NUL bytes (parsers reject them).
 */
#ifndef SD_CLOSURE_LINES_H
#define SD_CLOSURE_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct sd_lines {
	char *name; /* file name used in messages (owned) */
	char *data; /* whole content (owned unless borrowed) */
	size_t len;
	size_t pos;    /* start of the next line */
	size_t lineno; /* number of the line last returned (1-based) */
	bool borrowed; /* data belongs to the caller */
};

/* Load @path.  SD_ERR_IO naming the file on failure. */
int sd_lines_init_file(struct sd_lines *l, const char *path,
		       struct sd_error *err);

/* Read from memory (@data must outlive @l); @name appears in messages. */
int sd_lines_init_mem(struct sd_lines *l, const char *name, const char *data,
		      size_t len, struct sd_error *err);

/* Next line into *@line and *@len; false at end of input. */
bool sd_lines_next(struct sd_lines *l, const char **line, size_t *len);

/* True if no line is left. */
bool sd_lines_eof(const struct sd_lines *l);

/* Number of lines left (counting a final line without '\n'). */
size_t sd_lines_remaining(const struct sd_lines *l);

void sd_lines_release(struct sd_lines *l);

/* Trim spaces and tabs at both ends of a line view. */
void sd_lines_trim(const char **line, size_t *len);

#endif
