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
		return fail(x, node, SD_ERR_CORRUPT, 0,
			    "bad symlink target of", err);
	if (symlinkat(node->target, dfd, node->name) != 0)
		return fail(x, node, SD_ERR_IO, errno, "creating symlink", err);
	/* Best effort: a file system without symlink times is no error. */
	(void)set_time(dfd, node->name, node->mtime, AT_SYMLINK_NOFOLLOW);
	x->stats->symlinks++;
	return 0;
}

static int write_children(struct ext *x, int dfd, const struct sd_node *dir,
			  struct sd_error *err);

/* Create directory @node in @dfd, fill it, then give it its mode/time. */
static int write_dir(struct ext *x, int dfd, const struct sd_node *node,
		     struct sd_error *err)
{
	if (mkdirat(dfd, node->name, 0700) != 0)
		return fail(x, node, SD_ERR_IO, errno, "creating directory",
			    err);
	int fd = openat(dfd, node->name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(x, node, SD_ERR_IO, errno, "opening directory",
			    err);
	x->stats->dirs++;
	int rc = write_children(x, fd, node, err);
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
				 {.tv_sec = (time_t)node->mtime}};
	if (!rc && fchmod(fd, perm(x, node)) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "chmod", err);
	if (!rc && futimens(fd, ts) != 0)
		rc = fail(x, node, SD_ERR_IO, errno, "setting the time of",
			  err);
	close(fd);
	return rc;
}

static int write_node(struct ext *x, int dfd, const struct sd_node *node,
		      struct sd_error *err)
{
	if (x->opts->interrupted && *x->opts->interrupted)
		return sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
	if (!safe_name(node))
		return fail(x, node, SD_ERR_CORRUPT, 0,
			    "refusing the unsafe entry name in", err);
	switch (node->type) {
	case SD_NODE_DIR: return write_dir(x, dfd, node, err);
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

static int write_children(struct ext *x, int dfd, const struct sd_node *dir,
			  struct sd_error *err)
{
	for (size_t i = 0; i < dir->nchildren; i++) {
		int rc = write_node(x, dfd, dir->children[i], err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Open @dir (creating it if missing) and check that it is empty. */
static int open_target(const char *dir, int *out, struct sd_error *err)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return sd_error_errno(err, SD_ERR_IO, errno, "creating %s",
				      dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "opening %s",
				      dir);
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
				    "an empty or new directory)", dir);
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
	struct ext x = {.tree = tree, .opts = opts ? opts : &no_opts,
			.base = node, .stats = stats, .cap = 1 << 16};
	x.buf = malloc(x.cap);
	if (!x.buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int fd = -1;
	int rc = open_target(dir, &fd, err);
	if (!rc) {
		if (node->type == SD_NODE_DIR)
			rc = write_children(&x, fd, node, err);
		else
			rc = write_node(&x, fd, node, err);
		close(fd);
	}
	free(x.buf);
	return rc;
}
