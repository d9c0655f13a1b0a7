/* SPDX-License-Identifier: MIT */
/*
 * listfile.h — a file of entries, one a line (candidate lists): blank
 * lines and '#' comments skipped, spaces trimmed.
 */
#ifndef SD_CLI_LISTFILE_H
#define SD_CLI_LISTFILE_H

#include <stddef.h>

#include "core/error.h"

struct sd_listfile {
	char **items; /* NUL-terminated entries */
	size_t count;
};

int sd_listfile_load(struct sd_listfile *l, const char *path,
		     struct sd_error *err);
void sd_listfile_release(struct sd_listfile *l);

#endif
