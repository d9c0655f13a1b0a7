/* SPDX-License-Identifier: MIT */
/*
 * rootlink_target.c — sd_root_link_target (declared in app/rootlinks.h):
 * a --root-symlink TARGET as given -> the link's text "<hash>-<name>[/sub]".
 */
#include "app/rootlinks.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure/storepath.h"

#define MAX_HOPS 40

/* If @p is "<dir>/<rest>" (@dir non-NULL, no trailing slash), the rest. */
static const char *below(const char *p, const char *dir)
{
	if (!dir)
		return NULL;
	size_t len = strlen(dir);
	if (len == 1 && dir[0] == '/')
		return NULL;
	if (strncmp(p, dir, len) != 0 || p[len] != '/')
		return NULL;
	return p + len + 1;
}

/*
 * "<hash>-<name>[/sub]" (store-relative, as given) -> normalised text:
 * empty and "." components dropped, ".." refused, the first component a
 * valid store path name.
 */
static int normalise(const char *rel, const char *target, char **out,
		     struct sd_error *err)
{
	size_t cap = strlen(rel) + 1;
	char *s = malloc(cap);
	if (!s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	size_t len = 0;
	bool first = true;
	for (const char *c = rel; *c;) {
		size_t n = strcspn(c, "/");
		const char *next = c + n + (c[n] == '/');
		if (n == 0 || (n == 1 && c[0] == '.')) {
			c = next;
			continue;
		}
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			free(s);
			return sd_error_set(err, SD_ERR_INVALID,
					    "%s: '..' in the path below the "
					    "store directory",
					    target);
		}
		if (first) {
			const char *why = sd_storepath_base_problem(c, n);
			if (why) {
				free(s);
				return sd_error_set(err, SD_ERR_INVALID,
						    "%s: '%.*s' is not a "
						    "store path name: %s",
						    target, (int)n, c, why);
			}
		}
		if (!first)
			s[len++] = '/';
		memcpy(s + len, c, n);
		len += n;
		first = false;
		c = next;
	}
	s[len] = '\0';
	if (first) {
		free(s);
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: names the store directory itself, "
				    "not a store path",
				    target);
	}
	*out = s;
	return 0;
}

/* Store-relative rest of host path @p, or NULL. */
static const char *in_store(const char *p, const char *store_dir,
			    const char *phys_dir, const char *phys_real)
{
	const char *r = below(p, store_dir);
	if (!r)
		r = below(p, phys_dir);
	if (!r)
		r = below(p, phys_real);
	return r;
}

/* Follow @target on this host (see rootlinks.h); *@out as normalise. */
static int from_host(const char *target, const char *store_dir,
		     const char *phys_dir, char **out, struct sd_error *err)
{
	char *phys_real = phys_dir ? realpath(phys_dir, NULL) : NULL;
	char path[PATH_MAX];
	char link[PATH_MAX];
	int rc = 0;
	if (snprintf(path, sizeof(path), "%s", target) >= (int)sizeof(path)) {
		rc = sd_error_set(err, SD_ERR_INVALID, "%s: path too long",
				  target);
		goto done;
	}
	for (int hops = 0;; hops++) {
		const char *rel =
			in_store(path, store_dir, phys_dir, phys_real);
		if (rel) {
			rc = normalise(rel, target, out, err);
			goto done;
		}
		struct stat sb;
		if (lstat(path, &sb) != 0) {
			int code = errno == ENOENT ? SD_ERR_MISSING : SD_ERR_IO;
			if (!strcmp(path, target))
				rc = sd_error_errno(err, code, errno, "%s",
						    target);
			else
				rc = sd_error_errno(err, code, errno, "%s: %s",
						    target, path);
			goto done;
		}
		if (!S_ISLNK(sb.st_mode) || hops == MAX_HOPS)
			break;
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			rc = sd_error_errno(err, SD_ERR_IO, errno,
					    "%s: readlink %s", target, path);
			goto done;
		}
		link[n] = '\0';
		if (link[0] == '/') {
			memcpy(path, link, (size_t)n + 1);
			continue;
		}
		/* Relative: from the link's directory. */
		char *slash = strrchr(path, '/');
		size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
		if (dlen + (size_t)n + 1 > sizeof(path)) {
			rc = sd_error_set(err, SD_ERR_INVALID,
					  "%s: path too long", target);
			goto done;
		}
		memmove(path + dlen, link, (size_t)n + 1);
	}
	/* Last resort: directories on the way may be links into the store. */
	char *real = realpath(target, NULL);
	const char *rel = real ? in_store(real, NULL, NULL, phys_real) : NULL;
	if (rel)
		rc = normalise(rel, target, out, err);
	else
		rc = sd_error_set(err, SD_ERR_INVALID,
				  "%s: does not lead into the store "
				  "directory %s%s%s%s",
				  target, store_dir,
				  phys_dir ? " (physical " : "",
				  phys_dir ? phys_dir : "",
				  phys_dir ? ")" : "");
	free(real);
done:
	free(phys_real);
	return rc;
}

int sd_root_link_target(const char *target, const char *store_dir,
			const char *phys_dir, char **out, struct sd_error *err)
{
	*out = NULL;
	if (!target[0])
		return sd_error_set(err, SD_ERR_INVALID, "empty TARGET");
	const char *rel = below(target, store_dir);
	if (rel)
		return normalise(rel, target, out, err);
	size_t first = strcspn(target, "/");
	if (target[0] != '/' && !sd_storepath_base_problem(target, first))
		return normalise(target, target, out, err);
	return from_host(target, store_dir, phys_dir, out, err);
}
