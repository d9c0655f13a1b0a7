/* SPDX-License-Identifier: MIT */
/*
 * format.c — the registry of image formats (see format.h).
 */
#include "formats/format.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "formats/erofs/erofs.h"
#include "formats/squashfs/squashfs.h"

#define PROBE_BYTES 4096

const struct sd_format *const sd_formats[] = {
	&sd_format_squashfs,
	&sd_format_erofs,
	NULL,
};

const struct sd_format *sd_format_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; sd_formats[i]; i++) {
		if (strcmp(sd_formats[i]->name, name) == 0)
			return sd_formats[i];
	}
	return NULL;
}

/* Read up to @len bytes from the start of @fd; the count goes to *@got. */
static int read_head(int fd, uint8_t *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, buf + *got, len - *got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int sd_format_detect(const char *path, const struct sd_format **out,
		     struct sd_error *err)
{
	uint8_t head[PROBE_BYTES];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*out = NULL;
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	if (read_head(fd, head, sizeof(head), &got) != 0) {
		int e = errno;
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, e, "%s", path);
	}
	close(fd);
	for (size_t i = 0; sd_formats[i]; i++) {
		if (sd_formats[i]->probe(head, got)) {
			*out = sd_formats[i];
			return SD_OK;
		}
	}
	return sd_error_set(
		err, SD_ERR_CORRUPT, "%s: not an image of a known format (%s)",
		path, got == 0 ? "empty file" : "no format recognises it");
}

static bool add_name(const char **list, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i], name))
			return true;
	if (*n >= SD_INFO_MAX_NAMES)
		return false;
	list[(*n)++] = name;
	return true;
}

bool sd_image_info_add_feature(struct sd_image_info *info, const char *name)
{
	return add_name(info->features, &info->nfeatures, name);
}

bool sd_image_info_add_compressor(struct sd_image_info *info, const char *name)
{
	return add_name(info->compressors, &info->ncompressors, name);
}
