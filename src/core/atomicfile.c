#include "core/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	size_t n = strlen(path) + 32;
	f->tmp_path = malloc(n);
	if (!f->tmp_path) {
		free(f->path);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	snprintf(f->tmp_path, n, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path,
		 base);
	f->fd = mkstemp(f->tmp_path);
	if (f->fd < 0) {
		int e = errno;
		free(f->tmp_path);
		f->tmp_path = NULL;
		free(f->path);
		f->path = NULL;
		return sd_error_errno(err, SD_ERR_IO, e,
				      "%s: cannot create temporary file", path);
	}
	return SD_OK;
}

int sd_atomic_check(const char *path, struct sd_error *err)
{
	struct stat st;
	size_t len = strlen(path);
	if (len == 0)
		return sd_error_set(err, SD_ERR_USAGE, "empty file name");
	if (path[len - 1] == '/' || (stat(path, &st) == 0 &&
				     S_ISDIR(st.st_mode)))
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
		rc = sd_error_set(err, SD_ERR_USAGE, "%s: %s is not a directory",
				  path, dir);
	} else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "%s: directory %s is not writable (%s)", path,
				  dir, strerror(errno));
	}
	free(dir);
	return rc;
}

int sd_atomic_commit(struct sd_atomic_file *f, bool sync,
		     struct sd_error *err)
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
