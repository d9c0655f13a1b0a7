/* SPDX-License-Identifier: MIT */
/* Tests of atomic output files: temporary names, locks, stale clean-up. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomicfile.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sdatomic");
}

static bool exists(const char *rel)
{
	struct stat st;
	return lstat(tt_path(rel), &st) == 0;
}

/* Entries of the scratch directory whose name contains @part. */
static int count_named(const char *part)
{
	DIR *d = opendir(tt_tmp);
	int n = 0;
	struct dirent *de;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, part))
			n++;
	closedir(d);
	return n;
}

Test(atomic, temp_name_pid_and_lock, .init = setup, .fini = tt_teardown)
{
	struct sd_atomic_file f;
	char want[64];

	cr_assert_eq(sd_atomic_open(&f, tt_path("x.img"), NULL), 0);
	snprintf(want, sizeof(want), "/.x.img.storedisk-tmp.%ld.",
		 (long)getpid());
	cr_assert_not_null(strstr(f.tmp_path, want), "%s", f.tmp_path);
	/* a second open file description cannot take the writer's lock */
	int fd = open(f.tmp_path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_neq(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	cr_assert_eq(write(f.fd, "abc", 3), 3);
	cr_assert_eq(sd_atomic_commit(&f, false, NULL), 0);
	cr_assert(exists("x.img"));
	cr_assert_eq(count_named("storedisk-tmp"), 0);
}

Test(atomic, removes_only_stale_own_files, .init = setup, .fini = tt_teardown)
{
	/* stale: ours by name, unlocked (its writer died) */
	tt_write(".a.img.storedisk-tmp.12345.AbCdEf", "x", 1, 0600);
	tt_write(".other.storedisk-tmp.1.zzzzzz", "x", 1, 0600);
	/* not ours by name */
	tt_write(".a.img.tmp.AbCdEf", "x", 1, 0600);
	tt_write(".a.img.storedisk-tmp.12x.AbCdEf", "x", 1, 0600);
	tt_write(".a.img.storedisk-tmp.1.AbCdE", "x", 1, 0600);
	tt_write("a.img.storedisk-tmp.1.AbCdEf", "x", 1, 0600);
	/* live: locked by its writer */
	tt_write(".b.img.storedisk-tmp.7.QwErTy", "x", 1, 0600);
	int lk = open(tt_path(".b.img.storedisk-tmp.7.QwErTy"), O_RDONLY);
	cr_assert_eq(flock(lk, LOCK_EX), 0);
	/* a directory so named is no temporary file */
	tt_mkdir(".c.img.storedisk-tmp.8.ZxCvBn");

	struct sd_atomic_file f;
	cr_assert_eq(sd_atomic_open(&f, tt_path("a.img"), NULL), 0);
	cr_assert_not(exists(".a.img.storedisk-tmp.12345.AbCdEf"));
	cr_assert_not(exists(".other.storedisk-tmp.1.zzzzzz"));
	cr_assert(exists(".a.img.tmp.AbCdEf"));
	cr_assert(exists(".a.img.storedisk-tmp.12x.AbCdEf"));
	cr_assert(exists(".a.img.storedisk-tmp.1.AbCdE"));
	cr_assert(exists("a.img.storedisk-tmp.1.AbCdEf"));
	cr_assert(exists(".b.img.storedisk-tmp.7.QwErTy"));
	cr_assert(exists(".c.img.storedisk-tmp.8.ZxCvBn"));
	/* our own live file survives a second writer's sweep */
	struct sd_atomic_file g;
	cr_assert_eq(sd_atomic_open(&g, tt_path("a.img"), NULL), 0);
	cr_assert_eq(access(f.tmp_path, F_OK), 0);
	sd_atomic_abort(&g);
	sd_atomic_abort(&f);
	close(lk);
}

Test(atomic, long_name_fits_name_max, .init = setup, .fini = tt_teardown)
{
	char base[NAME_MAX + 1];
	struct sd_atomic_file f;

	memset(base, 'n', NAME_MAX);
	base[NAME_MAX - 4] = '\0';
	cr_assert_eq(sd_atomic_open(&f, tt_path(base), NULL), 0);
	const char *slash = strrchr(f.tmp_path, '/');
	cr_assert_leq(strlen(slash + 1), NAME_MAX);
	cr_assert_not_null(strstr(slash + 1, ".storedisk-tmp."));
	cr_assert_eq(sd_atomic_commit(&f, false, NULL), 0);
	cr_assert(exists(base));
}
