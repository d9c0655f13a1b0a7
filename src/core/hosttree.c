#include "core/hosttree.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);
	if (!s)
		return NULL;
	memcpy(s, dir, a);
	s[a] = '/';
	memcpy(s + a + 1, name, b + 1);
	return s;
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

static int add_dir_entries(struct sd_tree *tree, struct sd_node *dir,
			   const char *src, struct sd_error *err);

/* @top: the node heads the added subtree, so it records @src (the nodes
 * below derive theirs: sd_node_src_path). */
static int add_one(struct sd_tree *tree, struct sd_node *parent,
		   const char *name, const char *src, bool top,
		   struct sd_node **out, struct sd_error *err)
{
	struct stat st;
	if (lstat(src, &st) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: lstat", src);

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
				    src, kind_of(st.st_mode));

	struct sd_node *n = sd_tree_add(tree, parent, name, strlen(name), type,
					err);
	if (!n)
		return sd_error_prefix(err, SD_ERR_INVALID, "%s", src);
	n->mode = sd_normal_mode(type, st.st_mode);
	n->uid = 0;
	n->gid = 0;
	n->mtime = tree->mtime;
	if (out)
		*out = n;
	if (top) {
		int rc = sd_node_set_src_path(n, src, err);
		if (rc)
			return rc;
	}

	switch (type) {
	case SD_NODE_FILE:
		n->size = (uint64_t)st.st_size;
		return SD_OK;
	case SD_NODE_SYMLINK: {
		size_t cap = (size_t)st.st_size + 1;
		if (cap < 2)
			cap = 4096;
		for (;;) {
			char *buf = malloc(cap);
			if (!buf)
				return sd_error_set(err, SD_ERR_NOMEM,
						    "out of memory");
			ssize_t len = readlink(src, buf, cap);
			if (len < 0) {
				int e = errno;
				free(buf);
				return sd_error_errno(err, SD_ERR_IO, e,
						      "%s: readlink", src);
			}
			if ((size_t)len < cap) {
				int rc = sd_node_set_target(n, buf, (size_t)len,
							    err);
				free(buf);
				return rc;
			}
			free(buf);
			cap *= 2; /* link changed size under us: retry */
		}
	}
	case SD_NODE_DIR:
		return add_dir_entries(tree, n, src, err);
	default:
		return SD_OK;
	}
}

static int add_dir_entries(struct sd_tree *tree, struct sd_node *dir,
			   const char *src, struct sd_error *err)
{
	DIR *d = opendir(src);
	if (!d)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: opendir",
				      src);
	int rc = SD_OK;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = sd_error_errno(err, SD_ERR_IO, errno,
						    "%s: readdir", src);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *child = join(src, de->d_name);
		if (!child) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		rc = add_one(tree, dir, de->d_name, child, false, NULL, err);
		free(child);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

int sd_hosttree_add(struct sd_tree *tree, struct sd_node *parent,
		    const char *name, const char *src, struct sd_node **out,
		    struct sd_error *err)
{
	return add_one(tree, parent, name, src, true, out, err);
}
