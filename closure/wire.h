/* SPDX-License-Identifier: MIT */
/*
 * wire.h — reading Nix's wire format from a file descriptor: 64-bit
 * little-endian integers and strings (u64 length, the bytes, zero padding
 * to a multiple of 8), as in NARs and `nix-store --export` streams.
 *
 * The reader is buffered, tracks the byte offset and never seeks, so it
 * works on pipes.  Every error names the input and the offset where the
 * problem starts: truncation ("truncated at offset N"), non-zero padding,
 * a string longer than the caller allows, an unexpected token.
 */
#ifndef SD_CLOSURE_WIRE_H
#define SD_CLOSURE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SD_WIRE_BUF 65536

struct sd_wire {
	int fd;
	const char *name; /* for messages */
	uint64_t offset;  /* of the next byte to be consumed */
	size_t pos, len;  /* unconsumed bytes are buf[pos..len) */
	unsigned char buf[SD_WIRE_BUF];
};

/* Read from @fd (not closed by the reader); @name appears in errors. */
void sd_wire_init(struct sd_wire *w, int fd, const char *name);

/* Exactly @len bytes into @buf; end of input first is SD_ERR_INVALID. */
int sd_wire_read(struct sd_wire *w, void *buf, size_t len,
		 struct sd_error *err);

/* True when the input has no more bytes (SD_ERR_IO sets @err and *@eof
 * is then meaningless; check the return). */
int sd_wire_at_eof(struct sd_wire *w, bool *eof, struct sd_error *err);

int sd_wire_u64(struct sd_wire *w, uint64_t *v, struct sd_error *err);

/* Check the zero padding after a string or contents of @len bytes. */
int sd_wire_padding(struct sd_wire *w, uint64_t len, struct sd_error *err);

/*
 * A string of at most @max bytes, in a new NUL-terminated buffer (free()),
 * its length in *@len.  Longer is SD_ERR_INVALID.
 */
int sd_wire_string(struct sd_wire *w, size_t max, char **out, size_t *len,
		   struct sd_error *err);

/* The string @want, else SD_ERR_INVALID "expected '<want>'". */
int sd_wire_expect(struct sd_wire *w, const char *want, struct sd_error *err);

/* An SD_ERR_INVALID "<name>: at offset <at>: <message>". */
int sd_wire_fail(const struct sd_wire *w, uint64_t at, struct sd_error *err,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
