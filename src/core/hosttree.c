/* SPDX-License-Identifier: MIT */
/*
 * hosttree.c — build the normalised tree from host files (see hosttree.h).
 *
 * The walk works relative to directory file descriptors: each entry is
 * fstatat'ed, readlinkat'ed or openat'ed by its name in its open parent,
 * so the kernel resolves one component per call instead of the whole path
 * from the store down (the store walk is the serial start of every pack).
 * A path string is kept alongside, extended and cut back in place, only to
 * name a file in an error message.  The walk iterates (no recursion) and
 * keeps one directory open: any depth costs two descriptors.
 */
#include "core/hosttree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The host path of the entry being visited, for messages only. */
struct pathbuf {
	char *s;
	size_t len, cap;
};

/* Append "/<name>" to @pb; its previous length is returned in *@mark. */
static int path_push(struct pathbuf *pb, const char *name, size_t *mark)
{
	size_t n = strlen(name);

	if (pb->len + n + 2 > pb->cap) {
		size_t cap = pb->cap ? pb->cap : 256;

		while (pb->len + n + 2 > cap)
			cap *= 2;
		char *s = realloc(pb->s, cap);
		if (!s)
			return SD_ERR_NOMEM;
		pb->s = s;
		pb->cap = cap;
	}
	*mark = pb->len;
	pb->s[pb->len++] = '/';
	memcpy(pb->s + pb->len, name, n + 1);
	pb->len += n;
	return SD_OK;
}

static void path_pop(struct pathbuf *pb, size_t mark)
{
	pb->len = mark;
	pb->s[mark] = '\0';
}

static const char *kind_of(mode_t m)
{
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	if (S_ISFIFO(m))
		return "FIFO";
	if (S_ISSOCK(m))
		return "socket";
	return "special file";
}

/* Read symlink @name of directory @dirfd into @n's target. */
static int read_link(int dirfd, const char *name, struct sd_node *n,
		     const char *path, struct sd_error *err)
{
	char stackbuf[4096];
	char *buf = stackbuf;
	size_t cap = sizeof(stackbuf);

	for (;;) {
		ssize_t len = readlinkat(dirfd, name, buf, cap);
		if (len < 0) {
			int e = errno;
			if (buf != stackbuf)
				free(buf);
			return sd_error_errno(err, SD_ERR_IO, e, "%s: readlink",
					      path);
		}
		if ((size_t)len < cap) {
			int rc = sd_node_set_target(n, buf, (size_t)len, err);
			if (buf != stackbuf)
				free(buf);
			return rc;
		}
		/* a target of PATH_MAX or more: retry with room for it */
		if (buf != stackbuf)
			free(buf);
		cap *= 2;
		buf = malloc(cap);
		if (!buf)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
}

/*
 * Add entry @name of directory @dirfd (AT_FDCWD with @name a whole path
 * for the top of an added subtree) under @parent as @node_name; @pb holds
 * its host path and @dtype its type from readdir (DT_UNKNOWN: unknown).
 * @top: the node heads the added subtree, so it records
 * that path (the nodes below derive theirs: sd_node_src_path).  A
 * directory is opened into *@dir_fd (left -1 otherwise) for the caller
 * to walk (add_tree).
 */
static int add_one(struct sd_tree *tree, struct sd_node *parent, int dirfd,
		   const char *name, unsigned char dtype, const char *node_name,
		   bool top, struct pathbuf *pb, struct sd_node **out,
		   int *dir_fd, struct sd_error *err)
{
	struct stat st;
	/* a directory's or symlink's normalised mode does not depend on its
	 * host mode (sd_normal_mode): readdir's type spares their stat */
	if (dtype == DT_DIR || dtype == DT_LNK) {
		memset(&st, 0, sizeof(st));
		st.st_mode = dtype == DT_DIR ? S_IFDIR : S_IFLNK;
	} else if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: lstat",
				      pb->s);
	}

	enum sd_node_type type;
	if (S_ISDIR(st.st_mode))
		type = SD_NODE_DIR;
	else if (S_ISREG(st.st_mode))
		type = SD_NODE_FILE;
	else if (S_ISLNK(st.st_mode))
		type = SD_NODE_SYMLINK;
	else
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "%s: is a %s; store images hold only "
				    "files, directories and symlinks",
				    pb->s, kind_of(st.st_mode));

	struct sd_node *n = sd_tree_add(tree, parent, node_name,
					strlen(node_name), type, err);
	if (!n)
		return sd_error_prefix(err, SD_ERR_INVALID, "%s", pb->s);
	n->mode = sd_normal_mode(type, st.st_mode);
	n->uid = 0;
	n->gid = 0;
	n->mtime = tree->mtime;
	*out = n;
	if (top) {
		int rc = sd_node_set_src_path(n, pb->s, err);
		if (rc)
			return rc;
	}

	switch (type) {
	case SD_NODE_FILE:
		n->size = (uint64_t)st.st_size;
		n->src_ident = (struct sd_file_ident){
			.dev = (uint64_t)st.st_dev,
			.ino = (uint64_t)st.st_ino,
			.size = (uint64_t)st.st_size,
			.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
				    st.st_mtim.tv_nsec,
			.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 +
				    st.st_ctim.tv_nsec,
		};
		return SD_OK;
	case SD_NODE_SYMLINK: return read_link(dirfd, name, n, pb->s, err);
	case SD_NODE_DIR: {
		int fd =
			openat(dirfd, name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sd_error_errno(err, SD_ERR_IO, errno,
					      "%s: opendir", pb->s);
		*dir_fd = fd;
		return SD_OK;
	}
	default: return SD_OK;
	}
}

/*
 * A directory being walked: its node, its entries (read whole when it was
 * opened, so no directory stream stays open below it), the next one to
 * add, its identity (to check the way back up through "..") and the
 * length of the message path before its name.
 */
struct level {
	struct sd_node *dir;
	char *names;          /* NUL-terminated names, one after another */
	unsigned char *types; /* readdir's d_type of each */
	size_t n, next, at;   /* entries, next entry, its name's offset */
	dev_t dev;
	ino_t ino;
	size_t mark; /* pb->len before this directory's name */
};

static void level_release(struct level *l)
{
	free(l->names);
	free(l->types);
}

/* Read the entries of directory @fd (not closed) into @l. */
static int read_level(int fd, struct level *l, const struct pathbuf *pb,
		      struct sd_error *err)
{
	size_t len = 0, cap = 0, tcap = 0;
	struct stat st;
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	int rc = SD_OK;

	if (!d || fstat(fd, &st) != 0) {
		int e = errno;
		if (d)
			closedir(d);
		else if (dfd >= 0)
			close(dfd);
		return sd_error_errno(err, SD_ERR_IO, e, "%s: opendir", pb->s);
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = sd_error_errno(err, SD_ERR_IO, errno,
						    "%s: readdir", pb->s);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t nl = strlen(de->d_name) + 1;
		if (len + nl > cap) {
			size_t c = cap ? 2 * cap : 256;
			while (len + nl > c)
				c *= 2;
			char *s = realloc(l->names, c);
			if (!s) {
				rc = SD_ERR_NOMEM;
				break;
			}
			l->names = s;
			cap = c;
		}
		if (l->n == tcap) {
			size_t c = tcap ? 2 * tcap : 16;
			unsigned char *t = realloc(l->types, c);
			if (!t) {
				rc = SD_ERR_NOMEM;
				break;
			}
			l->types = t;
			tcap = c;
		}
		memcpy(l->names + len, de->d_name, nl);
		l->types[l->n++] = de->d_type;
		len += nl;
	}
	closedir(d);
	if (rc == SD_ERR_NOMEM)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return rc;
}

/* From the finished directory open as @fd (closed here) back to its
 * parent @up through "..", checked to be the directory left: *@out. */
static int go_up(int fd, const struct level *up, const struct pathbuf *pb,
		 int *out, struct sd_error *err)
{
	struct stat st;
	int rc = SD_OK;
	int pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (pfd < 0 || fstat(pfd, &st) != 0)
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s/..: open",
				    pb->s);
	else if (st.st_dev != up->dev || st.st_ino != up->ino)
		rc = sd_error_set(err, SD_ERR_IO, "%s: moved while read",
				  pb->s);
	close(fd);
	if (rc && pfd >= 0)
		close(pfd);
	*out = rc ? -1 : pfd;
	return rc;
}

/*
 * Walk the directory @dir, open as @fd (closed here), whose host path is
 * in @pb, adding everything below it: depth first from an explicit stack
 * with one directory open at a time (down by openat, O_NOFOLLOW; back up
 * by ".." checked against the directory left), so that any depth costs
 * two descriptors and no recursion.
 */
static int add_tree(struct sd_tree *tree, struct sd_node *dir, int fd,
		    struct pathbuf *pb, struct sd_error *err)
{
	struct level *st = calloc(16, sizeof(*st));
	size_t depth = 0, cap = 16;
	int rc;

	if (!st) {
		close(fd);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	st[0].dir = dir;
	st[0].mark = pb->len;
	rc = read_level(fd, &st[0], pb, err);
	depth = 1;
	while (!rc && depth > 0) {
		struct level *l = &st[depth - 1];
		if (l->next == l->n) {
			if (depth > 1) {
				rc = go_up(fd, l - 1, pb, &fd, err);
				path_pop(pb, l->mark);
			}
			level_release(l);
			memset(l, 0, sizeof(*l));
			depth--;
			continue;
		}
		const char *name = l->names + l->at;
		unsigned char dtype = l->types[l->next++];
		struct sd_node *n = NULL;
		size_t mark;
		int cfd = -1;

		l->at += strlen(name) + 1;
		if (path_push(pb, name, &mark)) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		rc = add_one(tree, l->dir, fd, name, dtype, name, false, pb, &n,
			     &cfd, err);
		if (rc || cfd < 0) {
			if (!rc)
				path_pop(pb, mark);
			continue;
		}
		if (depth == cap) {
			struct level *g = realloc(st, 2 * cap * sizeof(*g));
			if (!g) {
				close(cfd);
				rc = sd_error_set(err, SD_ERR_NOMEM,
						  "out of memory");
				break;
			}
			st = g;
			memset(st + cap, 0, cap * sizeof(*st));
			cap *= 2;
		}
		close(fd);
		fd = cfd;
		l = &st[depth++];
		l->dir = n;
		l->mark = mark;
		rc = read_level(fd, l, pb, err);
	}
	if (fd >= 0)
		close(fd);
	while (depth > 0)
		level_release(&st[--depth]);
	free(st);
	return rc;
}

int sd_hosttree_add(struct sd_tree *tree, struct sd_node *parent,
		    const char *name, const char *src, struct sd_node **out,
		    struct sd_error *err)
{
	size_t n = strlen(src);
	struct pathbuf pb = {.s = malloc(n + 256), .len = n, .cap = n + 256};
	struct sd_node *node = NULL;
	int fd = -1;

	if (!pb.s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	memcpy(pb.s, src, n + 1);
	int rc = add_one(tree, parent, AT_FDCWD, src, DT_UNKNOWN, name, true,
			 &pb, &node, &fd, err);
	if (!rc && fd >= 0)
		rc = add_tree(tree, node, fd, &pb, err);
	if (out && node)
		*out = node;
	free(pb.s);
	return rc;
}
