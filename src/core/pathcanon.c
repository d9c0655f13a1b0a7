/* SPDX-License-Identifier: MIT */
/* pathcanon.c — lexical path canonicalisation (core/pathcanon.h). */
#include "core/pathcanon.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HOPS 40

/* Append the components of @s (@len bytes) to canonical @out (@used bytes,
 * "" for the root, room for @used + @len + 1 more). */
static size_t push(char *out, size_t used, const char *s, size_t len)
{
	const char *end = s + len;
	while (s < end) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		size_t cl = slash ? (size_t)(slash - s) : (size_t)(end - s);
		if (cl == 2 && s[0] == '.' && s[1] == '.') {
			while (used > 0 && out[used - 1] != '/')
				used--;
			if (used > 0)
				used--; /* the '/' before it */
		} else if (cl > 0 && !(cl == 1 && s[0] == '.')) {
			out[used++] = '/';
			memcpy(out + used, s, cl);
			used += cl;
		}
		s += cl + (slash ? 1 : 0);
	}
	return used;
}

int sd_path_canon(const char *base, const char *path, size_t len, char **out,
		  struct sd_error *err)
{
	char *cwd = NULL;
	if (len == 0 || path[0] != '/') {
		if (!base) {
			cwd = getcwd(NULL, 0);
			if (!cwd)
				return sd_error_errno(err, SD_ERR_IO, errno,
						      "getcwd");
			base = cwd;
		}
	} else {
		base = NULL;
	}
	size_t blen = base ? strlen(base) : 0;
	char *s = malloc(blen + len + 3);
	if (!s) {
		free(cwd);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	size_t used = base ? push(s, 0, base, blen) : 0;
	used = push(s, used, path, len);
	free(cwd);
	if (used == 0)
		s[used++] = '/';
	s[used] = '\0';
	*out = s;
	return SD_OK;
}

bool sd_path_is_under(const char *path, const char *dir)
{
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (dl == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, dl) && (path[dl] == '\0' || path[dl] == '/');
}

int sd_path_follow_to_dir(const char *path, const char *dir, char **out,
			  struct sd_error *err)
{
	char *cur;
	int rc = sd_path_canon(NULL, path, strlen(path), &cur, err);
	if (rc)
		return rc;
	for (int hops = 0; !sd_path_is_under(cur, dir); hops++) {
		struct stat sb;
		if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode))
			break;
		if (hops == MAX_HOPS) {
			rc = sd_error_set(err, SD_ERR_INVALID,
					  "%s: more than %d symbolic links",
					  path, MAX_HOPS);
			free(cur);
			return rc;
		}
		char target[PATH_MAX];
		ssize_t n = readlink(cur, target, sizeof(target));
		if (n < 0 || (size_t)n >= sizeof(target)) {
			rc = n < 0 ? sd_error_errno(err, SD_ERR_IO, errno,
						    "%s: readlink %s", path,
						    cur)
				   : sd_error_set(err, SD_ERR_INVALID,
						  "%s: symlink target of %s "
						  "is too long",
						  path, cur);
			free(cur);
			return rc;
		}
		/* The link's directory: cur without its last component. */
		char *slash = strrchr(cur, '/');
		*(slash == cur ? slash + 1 : slash) = '\0';
		char *next;
		rc = sd_path_canon(cur, target, (size_t)n, &next, err);
		free(cur);
		if (rc)
			return rc;
		cur = next;
	}
	*out = cur;
	return SD_OK;
}
