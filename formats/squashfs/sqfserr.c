/* SPDX-License-Identifier: MIT */
/*
 * sqfserr.c — text for messages (see sqfserr.h).
 */
#include "formats/squashfs/sqfserr.h"

#include <stdio.h>

#include <sqfs/error.h>

const char *sd_sqfs_strerror(int code)
{
	switch (code) {
	case SQFS_ERROR_ALLOC: return "out of memory";
	case SQFS_ERROR_IO: return "I/O error";
	case SQFS_ERROR_COMPRESSOR: return "compressor error (bad data?)";
	case SQFS_ERROR_INTERNAL: return "internal libsquashfs error";
	case SQFS_ERROR_CORRUPTED: return "corrupted data structure";
	case SQFS_ERROR_UNSUPPORTED: return "unsupported feature";
	case SQFS_ERROR_OVERFLOW: return "size overflow";
	case SQFS_ERROR_OUT_OF_BOUNDS: return "out-of-bounds offset";
	case SFQS_ERROR_SUPER_MAGIC: return "bad magic";
	case SFQS_ERROR_SUPER_VERSION: return "unsupported version";
	case SQFS_ERROR_SUPER_BLOCK_SIZE: return "bad block size";
	case SQFS_ERROR_NOT_DIR: return "not a directory";
	case SQFS_ERROR_NO_ENTRY: return "no such entry";
	case SQFS_ERROR_LINK_LOOP: return "link loop";
	case SQFS_ERROR_NOT_FILE: return "not a regular file";
	case SQFS_ERROR_ARG_INVALID: return "invalid argument";
	case SQFS_ERROR_SEQUENCE: return "calls out of sequence";
	default: return "unknown libsquashfs error";
	}
}

/* Append @n bytes of @s at @buf[*at], escaping control bytes. */
static void put_escaped(char *buf, size_t len, size_t *at, const char *s,
			size_t n)
{
	for (size_t i = 0; i < n && *at + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			*at += (size_t)snprintf(buf + *at, len - *at, "\\x%02x",
						c);
		else
			buf[(*at)++] = (char)c;
	}
}

void sd_sqfs_msg_path(const struct sd_node *node, const char *name,
		      size_t name_len, char *buf, size_t len)
{
	char raw[1024];
	size_t n = sd_node_path(node, raw, sizeof(raw)), at = 1;

	if (n >= sizeof(raw))
		n = sizeof(raw) - 1;
	buf[0] = '/';
	put_escaped(buf, len, &at, raw, n);
	if (name) {
		if (n > 0 && at + 1 < len)
			buf[at++] = '/';
		put_escaped(buf, len, &at, name, name_len);
	}
	buf[at] = '\0';
}
