/* SPDX-License-Identifier: MIT */
/* extract.c — sd_extract: an image tree into a host directory, safely. */
#include "app/extract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/inspect.h"

struct ext {
	const struct sd_tree *tree;
	const struct sd_extract_options *opts;
	const struct sd_node *base;
	struct sd_extract_stats *stats;
	char *buf;
	size_t cap;
};

/* The entry's path relative to the extracted node, for messages. */
static char *rel_path(const struct ext *x, const struct sd_node *node)
{
	char *full = sd_node_path_dup(node);
	char *base = sd_node_path_dup(x->base);
	if (!full || !base) {
		free(full);
		free(base);
		return NULL;
	}
	size_t bl = strlen(base);
	if (x->base->type == SD_NODE_DIR && bl && !strncmp(full, base, bl) &&
	    full[bl] == '/')
		memmove(full, full + bl + 1, strlen(full + bl + 1) + 1);
	free(base);
	return full;
}

static int fail(const struct ext *x, const struct sd_node *node, int code,
		int errnum, const char *what, struct sd_error *err)
{
	char *p = rel_path(x, node);
	int rc = errnum ? sd_error_errno(err, code, errnum, "%s %s", what,
					 p ? p : node->name)
			: sd_error_set(err, code, "%s %s", what,
				       p ? p : node->name);
	free(p);
	return rc;
}

/* Names that could leave the directory: refused whatever the reader let
 * through. */
static bool safe_name(const struct sd_node *node)
{
	const char *n = node->name;
	size_t len = strlen(n);
	return len && len == node->name_len && strcmp(n, ".") &&
	       strcmp(n, "..") && !memchr(n, '/', len);
}

static mode_t perm(const struct ext *x, const struct sd_node *node)
{
	mode_t m = node->mode & 0777;
	return x->opts->writable ? m | 0200 : m;
}

static int set_time(int fd, const char *name, int64_t mtime, int flags)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
				 {.tv_sec = (time_t)mtime}};
	return utimensat(fd, name, ts, flags);
}

static int copy_content(struct ext *x, const struct sd_node *node, int fd,
			struct sd_error *err)
{
	struct sd_stream *s;
	int rc = sd_tree_open(x->tree, node, &s, err);
	while (!rc) {
		size_t got;
		rc = sd_stream_read(s, x->buf, x->cap, &got, err);
		if (rc || got == 0)
			break;
		rc = sd_inspect_write_all(fd, x->buf, got, node->name, err);
		x->stats->bytes += got;
	}
	sd_stream_close(s);
	return rc;
}

static int write_file(struct ext *x, int dfd, const struct sd_node *node,
		      struct sd_error *err)
{
	int fd = openat(dfd, node->name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0)
		return fail(x, node, SD_ERR_IO, errno, "creating", err);
	int rc = copy_content(x, node, fd, err);
	if (!rc && fchmod(fd, perm(x, node)) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "chmod", err);
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
				 {.tv_sec = (time_t)node->mtime}};
	if (!rc && futimens(fd, ts) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "setting the time of",
			  err);
	if (close(fd) != 0 && !rc)
		rc = fail(x, node, SD_ERR_IO, errno, "writing", err);
	x->stats->files++;
	return rc;
}

static int write_symlink(struct ext *x, int dfd, const struct sd_node *node,
			 struct sd_error *err)
{
	if (!node->target || strlen(node->target) != node->size)
		return fail(x, node, SD_ERR_CORRUPT, 0, "bad symlink target of",
			    err);
	if (symlinkat(node->target, dfd, node->name) != 0)
		return fail(x, node, SD_ERR_IO, errno, "creating symlink", err);
	/* Best effort: a file system without symlink times is no error. */
	(void)set_time(dfd, node->name, node->mtime, AT_SYMLINK_NOFOLLOW);
	x->stats->symlinks++;
	return 0;
}

/* Write non-directory @node into @dfd (a directory: see write_tree). */
static int write_node(struct ext *x, int dfd, const struct sd_node *node,
		      struct sd_error *err)
{
	switch (node->type) {
	case SD_NODE_FILE: return write_file(x, dfd, node, err);
	case SD_NODE_SYMLINK: return write_symlink(x, dfd, node, err);
	default:
		x->stats->skipped++;
		if (x->opts->skipped) {
			char *p = rel_path(x, node);
			x->opts->skipped(x->opts->ctx, p ? p : node->name);
			free(p);
		}
		return 0;
	}
}

/* A directory being filled: its node, the next child to write, and its
 * identity, to check the way back up (through ".."). */
struct level {
	const struct sd_node *dir;
	size_t next;
	dev_t dev;
	ino_t ino;
};

/* Create directory @node in @dfd and open it as *@out. */
static int make_dir(struct ext *x, int dfd, const struct sd_node *node,
		    struct level *l, int *out, struct sd_error *err)
{
	struct stat st;

	if (mkdirat(dfd, node->name, 0700) != 0)
		return fail(x, node, SD_ERR_IO, errno, "creating directory",
			    err);
	int fd = openat(dfd, node->name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fail(x, node, SD_ERR_IO, e, "opening directory", err);
	}
	*l = (struct level){node, 0, st.st_dev, st.st_ino};
	x->stats->dirs++;
	*out = fd;
	return 0;
}

/* Leave the finished directory open as @fd (closed here) for its parent
 * @up: the parent through ".." (checked to be the directory left) as
 * *@out, then the mode and time of the finished one. */
static int leave_dir(struct ext *x, int fd, const struct level *done,
		     const struct level *up, int *out, struct sd_error *err)
{
	const struct sd_node *node = done->dir;
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
				 {.tv_sec = (time_t)node->mtime}};
	struct stat st;
	int rc = 0;
	int pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (pfd < 0 || fstat(pfd, &st) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "returning from", err);
	else if (st.st_dev != up->dev || st.st_ino != up->ino)
		rc = fail(x, node, SD_ERR_IO, 0,
			  "moved while extracting:", err);
	if (!rc && fchmod(fd, perm(x, node)) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "chmod", err);
	if (!rc && futimens(fd, ts) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "setting the time of",
			  err);
	close(fd);
	if (rc && pfd >= 0)
		close(pfd);
	*out = rc ? -1 : pfd;
	return rc;
}

/*
 * Write the contents of directory @top into @tfd (not closed here),
 * depth first with an explicit stack and one directory open at a time:
 * going down opens the new directory (openat, O_NOFOLLOW), going up opens
 * ".." and checks that it is the directory left (device and inode).  So
 * any nesting the readers accept is extracted with two descriptors and no
 * recursion.
 */
static int write_tree(struct ext *x, int tfd, const struct sd_node *top,
		      struct sd_error *err)
{
	struct level *st = malloc(64 * sizeof(*st));
	size_t depth = 0, cap = 64;
	int fd = tfd, rc = 0;
	struct stat sb;

	if (!st)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (fstat(tfd, &sb) != 0) {
		free(st);
		return sd_error_errno(err, SD_ERR_IO, errno, "fstat");
	}
	st[depth++] = (struct level){top, 0, sb.st_dev, sb.st_ino};
	while (!rc && depth > 0) {
		struct level *l = &st[depth - 1];
		if (l->next == l->dir->nchildren) {
			if (depth == 1)
				break;
			rc = leave_dir(x, fd, l, l - 1, &fd, err);
			depth--;
			continue;
		}
		const struct sd_node *c = l->dir->children[l->next++];
		if (x->opts->interrupted && *x->opts->interrupted) {
			rc = sd_error_set(err, SD_ERR_INTERRUPTED,
					  "interrupted");
			break;
		}
		if (!safe_name(c)) {
			rc = fail(x, c, SD_ERR_CORRUPT, 0,
				  "refusing the unsafe entry name in", err);
			break;
		}
		if (c->type != SD_NODE_DIR) {
			rc = write_node(x, fd, c, err);
			continue;
		}
		if (depth == cap) {
			struct level *n = realloc(st, 2 * cap * sizeof(*n));
			if (!n) {
				rc = sd_error_set(err, SD_ERR_NOMEM,
						  "out of memory");
				break;
			}
			st = n;
			cap *= 2;
		}
		int cfd = -1;
		rc = make_dir(x, fd, c, &st[depth], &cfd, err);
		if (rc)
			break;
		if (fd != tfd)
			close(fd);
		fd = cfd;
		depth++;
	}
	if (fd >= 0 && fd != tfd)
		close(fd);
	free(st);
	return rc;
}

/* Open @dir (creating it if missing) and check that it is empty. */
static int open_target(const char *dir, int *out, struct sd_error *err)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return sd_error_errno(err, SD_ERR_IO, errno, "creating %s",
				      dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "opening %s", dir);
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		int e = errno;
		if (dup_fd >= 0)
			close(dup_fd);
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, e, "reading %s", dir);
	}
	bool empty = true;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty) {
		close(fd);
		return sd_error_set(err, SD_ERR_USAGE,
				    "%s is not empty (extract writes only into "
				    "an empty or new directory)",
				    dir);
	}
	*out = fd;
	return 0;
}

int sd_extract(const struct sd_tree *tree, const struct sd_node *node,
	       const char *dir, const struct sd_extract_options *opts,
	       struct sd_extract_stats *stats, struct sd_error *err)
{
	static const struct sd_extract_options no_opts;
	memset(stats, 0, sizeof(*stats));
	struct ext x = {.tree = tree,
			.opts = opts ? opts : &no_opts,
			.base = node,
			.stats = stats,
			.cap = 1 << 16};
	x.buf = malloc(x.cap);
	if (!x.buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int fd = -1;
	int rc = open_target(dir, &fd, err);
	if (!rc) {
		if (node->type == SD_NODE_DIR)
			rc = write_tree(&x, fd, node, err);
		else if (!safe_name(node))
			rc = fail(&x, node, SD_ERR_CORRUPT, 0,
				  "refusing the unsafe entry name in", err);
		else
			rc = write_node(&x, fd, node, err);
		close(fd);
	}
	free(x.buf);
	return rc;
}
