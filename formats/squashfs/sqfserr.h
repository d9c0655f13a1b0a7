/* SPDX-License-Identifier: MIT */
/*
 * sqfserr.h — text for messages: libsquashfs error codes and paths.
 */
#ifndef SD_FORMATS_SQUASHFS_SQFSERR_H
#define SD_FORMATS_SQUASHFS_SQFSERR_H

#include <stddef.h>

#include "core/tree.h"

/* A short, constant description of an SQFS_ERROR value. */
const char *sd_sqfs_strerror(int code);

/*
 * "/PATH" of @node ("/" for the root), followed by "/NAME" when @name is
 * not NULL (@name_len bytes, not validated yet), into @buf (@len >= 8
 * bytes), truncated.  Names may hold any byte but '/' and NUL: control
 * bytes are written as \xNN so that a message stays one line.
 */
void sd_sqfs_msg_path(const struct sd_node *node, const char *name,
		      size_t name_len, char *buf, size_t len);

#endif
