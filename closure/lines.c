/* SPDX-License-Identifier: MIT */
#include "closure/lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int set_name(struct sd_lines *l, const char *name, struct sd_error *err)
{
	l->name = strdup(name);
	if (!l->name)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return 0;
}

int sd_lines_init_file(struct sd_lines *l, const char *path,
		       struct sd_error *err)
{
	memset(l, 0, sizeof(*l));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	size_t cap = 65536, len = 0;
	char *data = malloc(cap);
	if (!data)
		goto nomem;
	for (;;) {
		if (len == cap) {
			char *nd = realloc(data, cap * 2);
			if (!nd)
				goto nomem;
			data = nd;
			cap *= 2;
		}
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(data);
			close(fd);
			return sd_error_errno(err, SD_ERR_IO, e, "reading %s",
					      path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	l->data = data;
	l->len = len;
	return set_name(l, path, err);
nomem:
	free(data);
	close(fd);
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory reading %s",
			    path);
}

int sd_lines_init_mem(struct sd_lines *l, const char *name, const char *data,
		      size_t len, struct sd_error *err)
{
	memset(l, 0, sizeof(*l));
	l->data = (char *)data;
	l->len = len;
	l->borrowed = true;
	return set_name(l, name, err);
}

bool sd_lines_eof(const struct sd_lines *l)
{
	return l->pos >= l->len;
}

bool sd_lines_next(struct sd_lines *l, const char **line, size_t *len)
{
	if (l->pos >= l->len)
		return false;
	const char *start = l->data + l->pos;
	size_t avail = l->len - l->pos;
	const char *nl = memchr(start, '\n', avail);
	size_t n = nl ? (size_t)(nl - start) : avail;
	l->pos += nl ? n + 1 : n;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	l->lineno++;
	*line = start;
	*len = n;
	return true;
}

size_t sd_lines_remaining(const struct sd_lines *l)
{
	size_t n = 0;
	size_t p = l->pos;
	while (p < l->len) {
		const char *nl = memchr(l->data + p, '\n', l->len - p);
		n++;
		if (!nl)
			break;
		p = (size_t)(nl - l->data) + 1;
	}
	return n;
}

void sd_lines_release(struct sd_lines *l)
{
	if (!l)
		return;
	if (!l->borrowed)
		free(l->data);
	free(l->name);
	memset(l, 0, sizeof(*l));
}

void sd_lines_trim(const char **line, size_t *len)
{
	const char *s = *line;
	size_t n = *len;
	while (n && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*line = s;
	*len = n;
}
