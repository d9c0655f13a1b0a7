/* SPDX-License-Identifier: MIT */
/* rmtree.c — see rmtree.h. */
#include "rmtree.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int make_writable(const char *p, const struct stat *st, int flag,
			 struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(p, (st->st_mode & 07777) | S_IRWXU);
	return 0; /* like chmod -R: carry on whatever happens */
}

static int remove_one(const char *p, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) == 0 ? 0 : -1;
}

int tt_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	nftw(path, make_writable, 16, FTW_PHYS);
	return nftw(path, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}
