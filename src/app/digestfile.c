/* SPDX-License-Identifier: MIT */
#include "app/digestfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomicfile.h"

#define HEXLEN (SD_SHA256_LEN * 2)
#define MAX_DIGEST_FILE (1u << 20)

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int sd_digestfile_write(const char *path, const char *image,
			const uint8_t digest[SD_SHA256_LEN],
			struct sd_error *err)
{
	const char *name = base_name(image);
	size_t len = HEXLEN + 2 + strlen(name) + 1;
	char *line = malloc(len + 1);
	if (!line)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	sd_hex_encode(digest, SD_SHA256_LEN, line);
	snprintf(line + HEXLEN, len + 1 - HEXLEN, "  %s\n", name);
	int rc = sd_atomic_write(path, line, len, err);
	free(line);
	return rc;
}

/* The whole (small) file at @path, NUL-terminated. */
static int slurp(const char *path, char **out, struct sd_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	char *buf = malloc(MAX_DIGEST_FILE + 1);
	if (!buf) {
		fclose(f);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	size_t n = fread(buf, 1, MAX_DIGEST_FILE + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > MAX_DIGEST_FILE) {
		free(buf);
		return bad ? sd_error_set(err, SD_ERR_IO, "%s: read error",
					  path)
			   : sd_error_set(err, SD_ERR_INVALID,
					  "%s: too large for a digest file",
					  path);
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/*
 * Parse one line (without its newline): the digest and the name (""
 * for a bare digest).  False if it is not a digest line.
 */
static bool parse_line(char *line, uint8_t digest[SD_SHA256_LEN],
		       const char **name)
{
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len < HEXLEN || sd_hex_decode(line, digest, SD_SHA256_LEN, NULL))
		return false;
	const char *rest = line + HEXLEN;
	if (*rest == '\0') {
		*name = "";
		return true;
	}
	if (rest[0] != ' ' || (rest[1] != ' ' && rest[1] != '*') ||
	    rest[2] == '\0')
		return false;
	*name = rest + 2;
	return true;
}

int sd_digestfile_read(const char *path, const char *image,
		       uint8_t digest[SD_SHA256_LEN], struct sd_error *err)
{
	char *text = NULL;
	int rc = slurp(path, &text, err);
	if (rc)
		return rc;
	const char *want = base_name(image);
	size_t entries = 0, matches = 0, lineno = 0;
	uint8_t first[SD_SHA256_LEN], d[SD_SHA256_LEN];
	char *save = NULL;
	rc = 0;
	for (char *line = text; line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		const char *name;
		if (!parse_line(line, d, &name)) {
			rc = sd_error_set(err, SD_ERR_INVALID,
					  "%s:%zu: not a SHA-256 digest line",
					  path, lineno);
			break;
		}
		if (entries++ == 0)
			memcpy(first, d, sizeof(d));
		if (!strcmp(name, want) && matches++ == 0)
			memcpy(digest, d, sizeof(d));
	}
	free(text);
	if (rc)
		return rc;
	if (entries == 1 && matches == 0)
		memcpy(digest, first, sizeof(first));
	else if (entries == 0)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: no SHA-256 digest in it", path);
	else if (matches != 1)
		return sd_error_set(err, SD_ERR_INVALID, "%s: %s for %s", path,
				    matches ? "several digests" : "no digest",
				    want);
	return 0;
}
