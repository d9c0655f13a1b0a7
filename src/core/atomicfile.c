/* SPDX-License-Identifier: MIT */
#include "core/atomicfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_TAG ".storedisk-tmp."

/* Does @name look like one of our temporary files? */
static bool is_tmp_name(const char *name)
{
	const char *tag = NULL;

	if (name[0] != '.')
		return false;
	for (const char *p = strstr(name, TMP_TAG); p;
	     p = strstr(p + 1, TMP_TAG))
		tag = p;
	if (!tag)
		return false;
	const char *p = tag + strlen(TMP_TAG);
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || p[digits] != '.')
		return false;
	p += digits + 1;
	return strlen(p) == 6 &&
	       strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789") == 6;
}

/* Does entry @name of @dirfd (or path @name with AT_FDCWD) still name the
 * file open as @fd? */
static bool still_named(int dirfd, const char *name, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	       fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Remove the stale temporary files of directory @dir (see atomicfile.h).
 * Best effort: whatever cannot be checked is left alone. */
static void remove_stale(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	uid_t me = geteuid();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_tmp_name(de->d_name))
			continue;
		int fd = openat(dfd, de->d_name,
				O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
					O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		/* the lock is held while we check the name and unlink it, so
		 * that a writer that just created the file (and locks it
		 * next) finds it gone and picks another name */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == me && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    still_named(dfd, de->d_name, fd))
			unlinkat(dfd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

int sd_atomic_open(struct sd_atomic_file *f, const char *path,
		   struct sd_error *err)
{
	f->fd = -1;
	f->tmp_path = NULL;
	f->path = strdup(path);
	if (!f->path)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");

	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dirlen;
	/* ".<base>" TMP_TAG "<pid>.XXXXXX" within NAME_MAX */
	char pid[24];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	size_t extra = 1 + strlen(TMP_TAG) + strlen(pid) + 7;
	size_t baselen = strlen(base);
	if (baselen + extra > NAME_MAX)
		baselen = NAME_MAX > extra ? NAME_MAX - extra : 0;
	size_t n = dirlen + baselen + extra + 1;
	f->tmp_path = malloc(n);
	if (!f->tmp_path) {
		free(f->path);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	if (dirlen) {
		memcpy(f->tmp_path, path, dirlen);
		f->tmp_path[dirlen] = '\0';
		remove_stale(f->tmp_path);
	} else {
		remove_stale(".");
	}

	int e = 0;
	for (int attempt = 0; attempt < 16; attempt++) {
		snprintf(f->tmp_path, n, "%.*s.%.*s%s%s.XXXXXX", (int)dirlen,
			 path, (int)baselen, base, TMP_TAG, pid);
		f->fd = mkstemp(f->tmp_path);
		if (f->fd < 0) {
			e = errno;
			break;
		}
		if (flock(f->fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno != EWOULDBLOCK)
				return SD_OK; /* no locks here: unguarded */
			/* another pack's sweep holds it and unlinks it */
		} else if (still_named(AT_FDCWD, f->tmp_path, f->fd)) {
			return SD_OK;
		}
		close(f->fd);
		f->fd = -1;
		e = EAGAIN;
	}
	free(f->tmp_path);
	f->tmp_path = NULL;
	free(f->path);
	f->path = NULL;
	return sd_error_errno(err, SD_ERR_IO, e,
			      "%s: cannot create temporary file", path);
}

int sd_atomic_check(const char *path, struct sd_error *err)
{
	struct stat st;
	size_t len = strlen(path);
	if (len == 0)
		return sd_error_set(err, SD_ERR_USAGE, "empty file name");
	if (path[len - 1] == '/' ||
	    (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return sd_error_set(err, SD_ERR_USAGE, "%s: is a directory",
				    path);
	const char *slash = strrchr(path, '/');
	size_t dirlen = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
	char *dir = malloc(dirlen + 1);
	if (!dir)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	memcpy(dir, slash ? path : ".", dirlen);
	dir[dirlen] = '\0';
	int rc = 0;
	if (stat(dir, &st) != 0) {
		int e = errno;
		rc = e == ENOENT
			     ? sd_error_set(err, SD_ERR_USAGE,
					    "%s: directory %s does not exist",
					    path, dir)
			     : sd_error_errno(err, SD_ERR_USAGE, e,
					      "%s: directory %s", path, dir);
	} else if (!S_ISDIR(st.st_mode)) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "%s: %s is not a directory", path, dir);
	} else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "%s: directory %s is not writable (%s)", path,
				  dir, strerror(errno));
	}
	free(dir);
	return rc;
}

int sd_atomic_commit(struct sd_atomic_file *f, bool sync, struct sd_error *err)
{
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(f->fd, 0644 & ~mask) != 0 || (sync && fsync(f->fd) != 0)) {
		int e = errno;
		sd_atomic_abort(f);
		return sd_error_errno(err, SD_ERR_IO, e, "%s: sync", f->path);
	}
	if (close(f->fd) != 0) {
		int e = errno;
		f->fd = -1;
		sd_atomic_abort(f);
		return sd_error_errno(err, SD_ERR_IO, e, "%s: close", f->path);
	}
	f->fd = -1;
	if (rename(f->tmp_path, f->path) != 0) {
		int e = errno;
		sd_error_errno(err, SD_ERR_IO, e, "%s: rename", f->path);
		sd_atomic_abort(f);
		return SD_ERR_IO;
	}
	free(f->tmp_path);
	f->tmp_path = NULL;
	free(f->path);
	f->path = NULL;
	return SD_OK;
}

void sd_atomic_abort(struct sd_atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp_path)
		unlink(f->tmp_path);
	free(f->tmp_path);
	f->tmp_path = NULL;
	free(f->path);
	f->path = NULL;
}

int sd_atomic_write(const char *path, const void *data, size_t len,
		    struct sd_error *err)
{
	struct sd_atomic_file f;
	int rc = sd_atomic_open(&f, path, err);
	if (rc)
		return rc;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(f.fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			sd_atomic_abort(&f);
			return sd_error_errno(err, SD_ERR_OUTPUT, e,
					      "%s: write", path);
		}
		off += (size_t)n;
	}
	return sd_atomic_commit(&f, false, err);
}
