/* SPDX-License-Identifier: MIT */
/* inspect.c — open an image, resolve paths, describe and copy entries. */
#include "app/inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/format.h"

int sd_inspect_open(const char *path, struct sd_tree **out,
		    const char **format_name, struct sd_error *err)
{
	const struct sd_format *fmt;
	*out = NULL;
	int rc = sd_format_detect(path, &fmt, err);
	if (rc)
		return rc;
	rc = fmt->read(path, out, err);
	if (rc)
		return rc;
	if (format_name)
		*format_name = fmt->name;
	return 0;
}

/* @path with the store directory prefix removed, or NULL if it has none. */
static const char *strip_store_dir(const char *path, const char *store_dir)
{
	if (!store_dir || !*store_dir)
		return NULL;
	size_t n = strlen(store_dir);
	while (n > 1 && store_dir[n - 1] == '/')
		n--;
	if (strncmp(path, store_dir, n) != 0)
		return NULL;
	if (path[n] != '/' && path[n] != '\0')
		return NULL;
	return path + n;
}

int sd_inspect_resolve(const struct sd_tree *tree, const char *store_dir,
		       const char *path, const char *where,
		       struct sd_node **out, struct sd_error *err)
{
	const char *rel = strip_store_dir(path, store_dir);
	if (!rel)
		rel = path;
	*out = sd_tree_lookup(tree, rel);
	if (!*out)
		return sd_error_set(err, SD_ERR_MISSING,
				    "%s: no such entry in %s", path,
				    where ? where : "the image");
	return 0;
}

const char *sd_inspect_type_name(enum sd_node_type type)
{
	switch (type) {
	case SD_NODE_DIR: return "dir";
	case SD_NODE_FILE: return "file";
	case SD_NODE_SYMLINK: return "symlink";
	default: return "other";
	}
}

/* One rwx triple; @special is the setuid/setgid/sticky bit of the class. */
static void triple(char *p, unsigned bits, int special, char on, char off)
{
	p[0] = (bits & 4) ? 'r' : '-';
	p[1] = (bits & 2) ? 'w' : '-';
	if (special)
		p[2] = (bits & 1) ? on : off;
	else
		p[2] = (bits & 1) ? 'x' : '-';
}

void sd_inspect_mode_string(const struct sd_node *node, char buf[11])
{
	unsigned m = node->mode;
	switch (node->type) {
	case SD_NODE_DIR: buf[0] = 'd'; break;
	case SD_NODE_FILE: buf[0] = '-'; break;
	case SD_NODE_SYMLINK: buf[0] = 'l'; break;
	default: buf[0] = '?'; break;
	}
	triple(buf + 1, (m >> 6) & 7, m & 04000, 's', 'S');
	triple(buf + 4, (m >> 3) & 7, m & 02000, 's', 'S');
	triple(buf + 7, m & 7, m & 01000, 't', 'T');
	buf[10] = '\0';
}

int sd_inspect_write_all(int fd, const void *buf, size_t len, const char *what,
			 struct sd_error *err)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error_errno(err, SD_ERR_IO, errno,
					      "writing %s", what);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sd_inspect_cat(const struct sd_tree *tree, const struct sd_node *node,
		   int fd, struct sd_error *err)
{
	if (node->type != SD_NODE_FILE) {
		char *p = sd_node_path_dup(node);
		int rc = sd_error_set(err, SD_ERR_USAGE,
				      "/%s: is a %s, not a regular file",
				      p ? p : "",
				      sd_inspect_type_name(node->type));
		free(p);
		return rc;
	}
	struct sd_stream *s;
	int rc = sd_tree_open(tree, node, &s, err);
	if (rc)
		return rc;
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	if (!buf) {
		sd_stream_close(s);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	for (;;) {
		size_t got;
		rc = sd_stream_read(s, buf, cap, &got, err);
		if (rc || got == 0)
			break;
		rc = sd_inspect_write_all(fd, buf, got, "the output", err);
		if (rc)
			break;
	}
	free(buf);
	sd_stream_close(s);
	return rc;
}
