/* SPDX-License-Identifier: MIT */
/*
 * tmpdir.c — per-test scratch directory (see tmpdir.h).
 */
#include "tmpdir.h"

#include "rmtree.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

char tt_tmp[256];

void tt_setup(const char *prefix)
{
	int n = snprintf(tt_tmp, sizeof(tt_tmp), "/tmp/%s.XXXXXX", prefix);

	cr_assert(n > 0 && (size_t)n < sizeof(tt_tmp), "prefix too long");
	cr_assert_not_null(mkdtemp(tt_tmp), "mkdtemp %s: %s", tt_tmp,
			   strerror(errno));
}

void tt_teardown(void)
{
	if (!tt_tmp[0])
		return;
	cr_assert_eq(tt_rmtree(tt_tmp), 0, "remove %s: %s", tt_tmp,
		     strerror(errno));
	tt_tmp[0] = '\0';
}

const char *tt_path(const char *rel)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, sizeof(bufs[0]), "%s/%s", tt_tmp, rel);

	cr_assert(n > 0 && (size_t)n < sizeof(bufs[0]), "path too long: %s",
		  rel);
	return b;
}

void tt_mkdir(const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s", tt_path(rel));
	for (char *s = p + strlen(tt_tmp) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
	cr_assert(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "mkdir %s", p);
}

void tt_write(const char *rel, const void *data, size_t len, mode_t mode)
{
	const char *p = tt_path(rel);
	const char *d = data;

	if (len == (size_t)-1)
		len = strlen(data);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert(fd >= 0, "create %s: %s", p, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, d, len);
		cr_assert(n > 0, "write %s: %s", p, strerror(errno));
		d += n;
		len -= (size_t)n;
	}
	cr_assert_eq(fchmod(fd, mode), 0, "chmod %s", p);
	close(fd);
}

void tt_symlink(const char *target, const char *rel)
{
	const char *p = tt_path(rel);

	cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p,
		     strerror(errno));
}

static bool tmpfs_mounted;

void tt_mount_tmpfs(const char *size)
{
	char opt[64];

	tt_mkdir("m");
	snprintf(opt, sizeof(opt), "size=%s,mode=0755", size);
	if (mount("tmpfs", tt_path("m"), "tmpfs", 0, opt) != 0)
		cr_skip_test("cannot mount a tmpfs here (%s): needs root",
			     strerror(errno));
	tmpfs_mounted = true;
}

void tt_remount_ro(void)
{
	cr_assert_eq(mount("tmpfs", tt_path("m"), "tmpfs",
			   MS_REMOUNT | MS_RDONLY, NULL),
		     0, "remount ro: %s", strerror(errno));
}

void tt_teardown_mount(void)
{
	if (tmpfs_mounted)
		umount2(tt_path("m"), MNT_DETACH);
	tmpfs_mounted = false;
	tt_teardown();
}
