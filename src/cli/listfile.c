/* SPDX-License-Identifier: MIT */
#include "cli/listfile.h"

#include <stdlib.h>
#include <string.h>

#include "closure/lines.h"

int sd_listfile_load(struct sd_listfile *l, const char *path,
		     struct sd_error *err)
{
	struct sd_lines lines;
	l->items = NULL;
	l->count = 0;
	int rc = sd_lines_init_file(&lines, path, err);
	if (rc)
		return rc;
	size_t cap = sd_lines_remaining(&lines) + 1;
	l->items = calloc(cap, sizeof(*l->items));
	if (!l->items) {
		sd_lines_release(&lines);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	const char *line;
	size_t len;
	while (sd_lines_next(&lines, &line, &len)) {
		sd_lines_trim(&line, &len);
		if (len == 0 || line[0] == '#')
			continue;
		if (memchr(line, '\0', len)) {
			rc = sd_error_set(err, SD_ERR_INVALID,
					  "%s:%zu: NUL byte in line", path,
					  lines.lineno);
			break;
		}
		char *s = strndup(line, len);
		if (!s) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		l->items[l->count++] = s;
	}
	sd_lines_release(&lines);
	if (rc)
		sd_listfile_release(l);
	return rc;
}

void sd_listfile_release(struct sd_listfile *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}
