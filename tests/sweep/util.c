/* SPDX-License-Identifier: MIT */
/* util.c — file helpers of the corruption sweep (see util.h). */
#include "util.h"

#include "tests/common/rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sw_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("Bail out! sweep: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

char *sw_path(const char *dir, const char *fmt, ...)
{
	char rel[1024], *out;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) ||
	    asprintf(&out, "%s/%s", dir, rel) < 0)
		sw_die("path too long or out of memory: %s/...", dir);
	return out;
}

void sw_mkdir_p(const char *path)
{
	char *p = strdup(path);

	if (!p)
		sw_die("out of memory");
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			sw_die("mkdir %s: %s", p, strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	free(p);
}

void sw_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		sw_die("%s: %s", path, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);
		if (n <= 0)
			sw_die("write %s: %s", path, strerror(errno));
		done += (size_t)n;
	}
	if (fchmod(fd, mode) != 0 || close(fd) != 0)
		sw_die("%s: %s", path, strerror(errno));
}

void sw_symlink(const char *target, const char *path)
{
	if (symlink(target, path) != 0)
		sw_die("symlink %s: %s", path, strerror(errno));
}

uint8_t *sw_slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) != 0)
		sw_die("%s: %s", path, strerror(errno));
	uint8_t *d = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!d)
		sw_die("out of memory");
	*len = 0;
	while (*len < (size_t)st.st_size) {
		ssize_t n = read(fd, d + *len, (size_t)st.st_size - *len);
		if (n <= 0)
			sw_die("read %s: %s", path, strerror(errno));
		*len += (size_t)n;
	}
	close(fd);
	return d;
}

int sw_remove_tree(const char *path)
{
	return tt_rmtree(path);
}

char *sw_scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (access("/dev/shm", W_OK | X_OK) == 0)
		tmp = "/dev/shm";
	else if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	if (asprintf(&dir, "%s/sd-sweep.XXXXXX", tmp) < 0 || !mkdtemp(dir))
		sw_die("cannot make a scratch directory in %s", tmp);
	return dir;
}
