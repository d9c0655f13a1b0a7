/*
 * hosttree.c — build the normalised tree from host files (see hosttree.h).
 *
 * The walk works relative to directory file descriptors: each entry is
 * fstatat'ed, readlinkat'ed or openat'ed by its name in its open parent,
 * so the kernel resolves one component per call instead of the whole path
 * from the store down (the store walk is the serial start of every pack).
 * A path string is kept alongside, extended and cut back in place, only to
 * name a file in an error message.
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

/*
 * Directories at most WALK_OPEN_DEPTH levels below the added top (or
 * below a deferred directory) are walked at once, each holding its file
 * descriptor open while its subdirectories are walked; a deeper one is
 * deferred and opened later by its full path.  So a walk holds at most
 * WALK_OPEN_DEPTH + 1 descriptors and as many stack frames whatever the
 * depth of the tree (a pack under `ulimit -n 64` of a tree 1,000 deep).
 */
#define WALK_OPEN_DEPTH 12

struct deferred {
	struct sd_node *node;
	char *path;
};

struct walk {
	struct pathbuf pb;
	struct deferred *q;     /* a stack: the order changes no result */
	size_t nq, capq;
};

static int defer_dir(struct walk *w, struct sd_node *node)
{
	if (w->nq == w->capq) {
		size_t cap = w->capq ? 2 * w->capq : 16;
		struct deferred *q = realloc(w->q, cap * sizeof(*q));
		if (!q)
			return SD_ERR_NOMEM;
		w->q = q;
		w->capq = cap;
	}
	char *path = strdup(w->pb.s);
	if (!path)
		return SD_ERR_NOMEM;
	w->q[w->nq++] = (struct deferred){node, path};
	return SD_OK;
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
			return sd_error_errno(err, SD_ERR_IO, e,
					      "%s: readlink", path);
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
			return sd_error_set(err, SD_ERR_NOMEM,
					    "out of memory");
	}
}

static int add_dir_entries(struct sd_tree *tree, struct sd_node *dir,
			   int fd, struct walk *w, unsigned depth,
			   struct sd_error *err);

/*
 * Add entry @name of directory @dirfd (AT_FDCWD with @name a whole path
 * for the top of an added subtree) under @parent as @node_name; @pb holds
 * its host path and @dtype its type from readdir (DT_UNKNOWN: unknown).
 * @top: the node heads the added subtree, so it records
 * that path (the nodes below derive theirs: sd_node_src_path).
 */
static int add_one(struct sd_tree *tree, struct sd_node *parent, int dirfd,
		   const char *name, unsigned char dtype,
		   const char *node_name, bool top,
		   struct walk *w, unsigned depth, struct sd_node **out,
		   struct sd_error *err)
{
	struct pathbuf *pb = &w->pb;
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
	if (out)
		*out = n;
	if (top) {
		int rc = sd_node_set_src_path(n, pb->s, err);
		if (rc)
			return rc;
	}

	switch (type) {
	case SD_NODE_FILE:
		n->size = (uint64_t)st.st_size;
		return SD_OK;
	case SD_NODE_SYMLINK:
		return read_link(dirfd, name, n, pb->s, err);
	case SD_NODE_DIR: {
		if (depth >= WALK_OPEN_DEPTH)
			return defer_dir(w, n) ? sd_error_set(err, SD_ERR_NOMEM,
							      "out of memory")
					       : SD_OK;
		int fd = openat(dirfd, name,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sd_error_errno(err, SD_ERR_IO, errno,
					      "%s: opendir", pb->s);
		return add_dir_entries(tree, n, fd, w, depth + 1, err);
	}
	default:
		return SD_OK;
	}
}

/* Add the entries of directory @fd (closed here) below @dir. */
static int add_dir_entries(struct sd_tree *tree, struct sd_node *dir,
			   int fd, struct walk *w, unsigned depth,
			   struct sd_error *err)
{
	struct pathbuf *pb = &w->pb;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, e, "%s: opendir", pb->s);
	}
	int rc = SD_OK;
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
		size_t mark;
		if (path_push(pb, de->d_name, &mark)) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		rc = add_one(tree, dir, dirfd(d), de->d_name, de->d_type,
			     de->d_name, false, w, depth, NULL, err);
		path_pop(pb, mark);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

/* Walk the deferred directories (and those they defer in turn). */
static int walk_deferred(struct sd_tree *tree, struct walk *w,
			 struct sd_error *err)
{
	int rc = SD_OK;

	while (!rc && w->nq) {
		struct deferred d = w->q[--w->nq];
		size_t n = strlen(d.path);

		if (n + 1 > w->pb.cap) {
			char *s = realloc(w->pb.s, n + 256);
			if (!s) {
				free(d.path);
				return sd_error_set(err, SD_ERR_NOMEM,
						    "out of memory");
			}
			w->pb.s = s;
			w->pb.cap = n + 256;
		}
		memcpy(w->pb.s, d.path, n + 1);
		w->pb.len = n;
		free(d.path);
		int fd = open(w->pb.s,
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = fd < 0 ? sd_error_errno(err, SD_ERR_IO, errno,
					     "%s: opendir", w->pb.s)
			    : add_dir_entries(tree, d.node, fd, w, 0, err);
	}
	return rc;
}

int sd_hosttree_add(struct sd_tree *tree, struct sd_node *parent,
		    const char *name, const char *src, struct sd_node **out,
		    struct sd_error *err)
{
	size_t n = strlen(src);
	struct walk w = {.pb = {.s = malloc(n + 256), .len = n,
				.cap = n + 256}};

	if (!w.pb.s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	memcpy(w.pb.s, src, n + 1);
	int rc = add_one(tree, parent, AT_FDCWD, src, DT_UNKNOWN, name, true,
			 &w, 0, out, err);
	if (!rc)
		rc = walk_deferred(tree, &w, err);
	for (size_t i = 0; i < w.nq; i++)
		free(w.q[i].path);
	free(w.q);
	free(w.pb.s);
	return rc;
}
