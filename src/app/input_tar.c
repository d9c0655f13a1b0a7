/* SPDX-License-Identifier: MIT */
/* input_tar.c — a tar of store paths -> the normalised tree (app/input.h). */
#include "app/input.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closure/storepath.h"
#include "core/spool.h"

/* Index of the nodes created so far: (parent, name) -> node. */
struct key {
	const struct sd_node *parent;
	const char *name;
	size_t len;
	struct sd_node *node;
};

struct tar_ctx {
	const char *file; /* for messages */
	const struct sd_input_options *opts;
	struct sd_tree *tree;
	struct sd_spool *spool;
	void *index; /* tsearch root of struct key */
	struct sd_error *err;
	/* The last entry read, for a header that fails after it. */
	char *prev_name;
	long long prev_pos;
	long long prev_size;
	/*
	 * The directory the last walk ended in and its path (a prefix of
	 * that walk's @rest): members come parent before child, so the next
	 * walk usually starts there instead of at the root.  Walking every
	 * member from the root made a deep tree's pack quadratic in its
	 * depth (a 20,000-level chain took 35 s, nearly all in tfind).
	 */
	struct sd_node *near; /* NULL: none */
	char *near_path;
	size_t near_len, near_cap;
};

/* Remember @dir, named by the first @len bytes of @rest, as c->near. */
static void set_near(struct tar_ctx *c, struct sd_node *dir, const char *rest,
		     size_t len)
{
	c->near = NULL;
	if (dir == c->tree->root)
		return;
	if (len + 1 > c->near_cap) {
		size_t cap = c->near_cap ? c->near_cap : 256;
		while (cap < len + 1)
			cap *= 2;
		char *s = realloc(c->near_path, cap);
		if (!s)
			return; /* only a shortcut lost */
		c->near_path = s;
		c->near_cap = cap;
	}
	memcpy(c->near_path, rest, len);
	c->near_len = len;
	c->near = dir;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

static struct sd_node *find(struct tar_ctx *c, const struct sd_node *parent,
			    const char *name, size_t len)
{
	struct key k = {parent, name, len, NULL};
	struct key **hit = tfind(&k, &c->index, key_cmp);
	return hit ? (*hit)->node : NULL;
}

static int remember(struct tar_ctx *c, struct sd_node *n)
{
	struct key *k = malloc(sizeof(*k));
	if (!k)
		return sd_error_set(c->err, SD_ERR_NOMEM, "out of memory");
	k->parent = n->parent;
	k->name = n->name;
	k->len = n->name_len;
	k->node = n;
	if (!tsearch(k, &c->index, key_cmp)) {
		free(k);
		return sd_error_set(c->err, SD_ERR_NOMEM, "out of memory");
	}
	return SD_OK;
}

/* Bad entry @name at @pos: an SD_ERR_INVALID naming both. */
static int bad(struct tar_ctx *c, const char *name, long long pos,
	       const char *why)
{
	return sd_error_set(c->err, SD_ERR_INVALID,
			    "%s: entry '%s' at offset %lld: %s", c->file, name,
			    pos, why);
}

/*
 * The part of tar name @name below the store directory, in *@rest, or
 * NULL in *@rest when @name is the store directory or one of its parents
 * (a directory entry to skip).  SD_ERR_INVALID when outside.
 */
static int strip_store(struct tar_ctx *c, const char *name, long long pos,
		       const char **rest)
{
	const char *sd = c->opts->store_dir;
	const char *p = name;
	if (*sd == '/')
		sd++;
	if (p[0] == '/')
		p++;
	else if (p[0] == '.' && p[1] == '/')
		p += 2;
	size_t sdl = strlen(sd), pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	/* The store directory itself or a parent of it. */
	if (pl <= sdl && !memcmp(sd, p, pl) && (pl == sdl || sd[pl] == '/')) {
		*rest = NULL;
		return SD_OK;
	}
	if (pl > sdl && !memcmp(sd, p, sdl) && p[sdl] == '/') {
		*rest = p + sdl + 1;
		return SD_OK;
	}
	char why[300];
	snprintf(why, sizeof(why), "not in the store directory %s",
		 c->opts->store_dir);
	return bad(c, name, pos, why);
}

/*
 * Walk @rest ("<hash>-<name>/a/b", a trailing '/' allowed) from the root.
 * With @create, missing directories on the way are created and the last
 * component is returned in *@last / *@last_len with its parent in
 * *@parent (it may or may not exist); without, the node itself is
 * returned in *@parent (NULL if absent).
 */
static int walk(struct tar_ctx *c, const char *name, long long pos,
		const char *rest, bool create, struct sd_node **parent,
		const char **last, size_t *last_len)
{
	struct sd_node *dir = c->tree->root;
	const char *p = rest;
	size_t len = strlen(rest);
	while (len > 0 && rest[len - 1] == '/')
		len--;
	const char *end = rest + len;
	bool first = true;
	/* below the last walk's directory: start there (its components
	 * were checked on the way down) */
	if (c->near && len > c->near_len && rest[c->near_len] == '/' &&
	    !memcmp(rest, c->near_path, c->near_len)) {
		dir = c->near;
		p = rest + c->near_len + 1;
		first = false;
	}
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *ce = slash ? slash : end;
		size_t cl = (size_t)(ce - p);
		if (cl == 0)
			return bad(c, name, pos, "empty path component");
		if ((cl == 1 && p[0] == '.') ||
		    (cl == 2 && p[0] == '.' && p[1] == '.'))
			return bad(c, name, pos, "'.' or '..' path component");
		if (first) {
			const char *why = sd_storepath_base_problem(p, cl);
			if (why)
				return bad(c, name, pos, why);
			first = false;
		}
		if (!slash) {
			set_near(c, dir, rest,
				 p > rest ? (size_t)(p - rest - 1) : 0);
			if (create) {
				*parent = dir;
				*last = p;
				*last_len = cl;
			} else {
				*parent = find(c, dir, p, cl);
			}
			return SD_OK;
		}
		struct sd_node *n = find(c, dir, p, cl);
		if (!n) {
			if (!create) {
				*parent = NULL;
				return SD_OK;
			}
			n = sd_tree_add(c->tree, dir, p, cl, SD_NODE_DIR,
					c->err);
			if (!n)
				return sd_error_prefix(c->err, SD_ERR_INVALID,
						       "%s: entry '%s' at "
						       "offset %lld",
						       c->file, name, pos);
			n->mode = SD_MODE_DIR;
			n->mtime = c->tree->mtime;
			int rc = remember(c, n);
			if (rc)
				return rc;
		} else if (n->type != SD_NODE_DIR) {
			return bad(c, name, pos, "a parent is not a directory");
		}
		dir = n;
		p = slash + 1;
	}
}

static const char *kind_of(unsigned type)
{
	switch (type) {
	case AE_IFCHR: return "character device";
	case AE_IFBLK: return "block device";
	case AE_IFIFO: return "FIFO";
	case AE_IFSOCK: return "socket";
	default: return "special file";
	}
}

/*
 * " (after entry 'P' at offset Q, which declares S bytes of data)", or ""
 * before the first entry, in @buf: a header that does not parse is most
 * often where the entry before it declared a size its data does not have
 * (a pax or ustar size too small), so the message names that entry too.
 */
static const char *after_prev(const struct tar_ctx *c, char *buf, size_t len)
{
	buf[0] = '\0';
	if (c->prev_name)
		snprintf(
			buf, len,
			" (after entry '%.200s' at offset %lld, which declares "
			"%lld bytes of data)",
			c->prev_name, c->prev_pos, c->prev_size);
	return buf;
}

static int archive_fail(struct tar_ctx *c, struct archive *a, const char *name,
			long long pos)
{
	const char *msg = archive_error_string(a);
	if (!msg)
		msg = "unreadable archive";
	if (name)
		return sd_error_set(c->err, SD_ERR_INVALID,
				    "%s: entry '%s' at offset %lld: %s",
				    c->file, name, pos, msg);
	char prev[300];
	return sd_error_set(c->err, SD_ERR_INVALID, "%s: at offset %lld: %s%s",
			    c->file, pos, msg,
			    after_prev(c, prev, sizeof(prev)));
}

/*
 * Spool the data of regular member @name as the content of @n.  A sparse
 * member (GNU tar -S, in the old GNU format or pax sparse 0.0, 0.1, 1.0)
 * comes as data blocks at offsets: the gaps between them, and after the
 * last one up to the member's declared size, are holes and read as zeros,
 * so the file has the size the archive declares, as its directory pack
 * does.  Data that lies before the previous block or past the declared
 * size is an error naming the member.
 */
static int spool_data(struct tar_ctx *c, struct archive *a,
		      struct archive_entry *e, const char *name, long long pos,
		      struct sd_node *n)
{
	bool sized = archive_entry_size_is_set(e);
	la_int64_t declared = archive_entry_size(e);
	if (sized && declared < 0)
		return bad(c, name, pos, "negative size");
	n->src_id = sd_spool_offset(c->spool);
	uint64_t at = 0; /* bytes of the file spooled so far */
	for (;;) {
		const void *buf;
		size_t got;
		la_int64_t off;
		int ar = archive_read_data_block(a, &buf, &got, &off);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return archive_fail(c, a, name, pos);
		if (off < 0 || (uint64_t)off < at) {
			char why[160];
			snprintf(why, sizeof(why),
				 "data block at file offset %lld overlaps the "
				 "previous one, which ends at %llu",
				 (long long)off, (unsigned long long)at);
			return bad(c, name, pos, why);
		}
		if (sized && (got > (uint64_t)declared ||
			      (uint64_t)off > (uint64_t)declared - got)) {
			char why[200];
			snprintf(why, sizeof(why),
				 "data at file offset %lld (%zu bytes) lies "
				 "past the member's declared size of %lld "
				 "bytes",
				 (long long)off, got, (long long)declared);
			return bad(c, name, pos, why);
		}
		int rc = sd_spool_append_zeros(c->spool, (uint64_t)off - at,
					       c->err);
		if (!rc && got)
			rc = sd_spool_append(c->spool, buf, got, c->err);
		if (rc)
			return sd_error_prefix(c->err, rc,
					       "%s: entry '%s' at offset %lld",
					       c->file, name, pos);
		at = (uint64_t)off + got;
	}
	/* A trailing hole (or a member that is all hole). */
	if (sized && at < (uint64_t)declared) {
		int rc = sd_spool_append_zeros(c->spool,
					       (uint64_t)declared - at, c->err);
		if (rc)
			return sd_error_prefix(c->err, rc,
					       "%s: entry '%s' at offset %lld",
					       c->file, name, pos);
		at = (uint64_t)declared;
	}
	n->size = at;
	return SD_OK;
}

/*
 * The node hard link @name (at @pos) links to: an earlier regular file or
 * symlink of the archive (a hard link to a hard link is one to what that
 * one became).  `nix-store --optimise` hard-links identical symlinks, so
 * a tar of an optimised store links symlinks too; the second name becomes
 * a symlink with the same target, as the directory input sees it.  A link
 * to a directory, or to a name that no earlier member has (a forward
 * reference, or none at all), is an error naming both.
 */
static int link_target(struct tar_ctx *c, const char *name, long long pos,
		       const char *hardlink, struct sd_node **out)
{
	const char *trest;
	struct sd_node *t = NULL;
	int rc = strip_store(c, hardlink, pos, &trest);
	if (!rc && trest)
		rc = walk(c, hardlink, pos, trest, false, &t, NULL, NULL);
	if (rc)
		return sd_error_prefix(c->err, SD_ERR_INVALID, "hard link '%s'",
				       name);
	char why[256];
	if (!t) {
		snprintf(why, sizeof(why),
			 "hard link to '%.120s', which no earlier member "
			 "of the archive is (a forward reference, or "
			 "absent)",
			 hardlink);
		return bad(c, name, pos, why);
	}
	if (t->type == SD_NODE_DIR) {
		snprintf(why, sizeof(why), "hard link to '%.120s', a directory",
			 hardlink);
		return bad(c, name, pos, why);
	}
	*out = t;
	return SD_OK;
}

static int one_entry(struct tar_ctx *c, struct archive *a,
		     struct archive_entry *e)
{
	long long pos = (long long)archive_read_header_position(a);
	const char *name = archive_entry_pathname(e);
	char prev[300];
	if (!name)
		return sd_error_set(c->err, SD_ERR_INVALID,
				    "%s: entry at offset %lld has no usable "
				    "name%s",
				    c->file, pos,
				    after_prev(c, prev, sizeof(prev)));
	const char *rest;
	int rc = strip_store(c, name, pos, &rest);
	if (rc)
		return rc;
	unsigned ftype = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	if (!rest) {
		if (ftype != AE_IFDIR || hardlink)
			return bad(c, name, pos,
				   "the store directory is not a directory");
		return SD_OK;
	}
	enum sd_node_type type;
	struct sd_node *target = NULL;
	if (hardlink) {
		rc = link_target(c, name, pos, hardlink, &target);
		if (rc)
			return rc;
		type = target->type;
	} else if (ftype == AE_IFREG) {
		type = SD_NODE_FILE;
	} else if (ftype == AE_IFDIR) {
		type = SD_NODE_DIR;
	} else if (ftype == AE_IFLNK) {
		type = SD_NODE_SYMLINK;
	} else {
		return sd_error_set(c->err, SD_ERR_UNSUPPORTED,
				    "%s: entry '%s' at offset %lld: is a %s; "
				    "store images hold only files, "
				    "directories and symlinks",
				    c->file, name, pos, kind_of(ftype));
	}
	struct sd_node *parent;
	const char *last;
	size_t last_len;
	rc = walk(c, name, pos, rest, true, &parent, &last, &last_len);
	if (rc)
		return rc;
	struct sd_node *n = find(c, parent, last, last_len);
	if (n) {
		if (n->type == SD_NODE_DIR && type == SD_NODE_DIR)
			return SD_OK; /* listed again, or created implicitly */
		return bad(c, name, pos, "duplicate entry");
	}
	n = sd_tree_add(c->tree, parent, last, last_len, type, c->err);
	if (!n)
		return sd_error_prefix(c->err, SD_ERR_INVALID,
				       "%s: entry '%s' at offset %lld", c->file,
				       name, pos);
	n->mtime = c->tree->mtime;
	rc = remember(c, n);
	if (rc)
		return rc;
	if (target) {
		n->mode = target->mode;
		if (type == SD_NODE_SYMLINK)
			return sd_node_set_target(n, target->target,
						  (size_t)target->size, c->err);
		n->src_id = target->src_id;
		n->size = target->size;
		return SD_OK;
	}
	n->mode = sd_normal_mode(type, archive_entry_perm(e));
	if (type == SD_NODE_SYMLINK) {
		const char *t = archive_entry_symlink(e);
		if (!t || !*t)
			return bad(c, name, pos, "symlink without a target");
		return sd_node_set_target(n, t, strlen(t), c->err);
	}
	if (type == SD_NODE_FILE)
		return spool_data(c, a, e, name, pos, n);
	return SD_OK;
}

static void free_key(void *k)
{
	free(k);
}

int sd_input_tar(const char *file, const struct sd_input_options *opts,
		 struct sd_tree **out, struct sd_input_info *info,
		 struct sd_error *err)
{
	struct tar_ctx c = {
		.file = strcmp(file, "-") ? file : "<stdin>",
		.opts = opts,
		.err = err,
	};
	memset(info, 0, sizeof(*info));
	c.tree = sd_tree_new(opts->mtime);
	if (!c.tree)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = sd_spool_new(&c.spool, err);
	if (rc) {
		sd_tree_free(c.tree);
		return rc;
	}
	int fd = -1;
	la_int64_t next_header = 0;
	struct archive *a = archive_read_new();
	if (!a) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	if (strcmp(file, "-")) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", file);
			goto out;
		}
	}
	int ar = archive_read_open_fd(a, fd < 0 ? 0 : fd, 65536);
	if (ar != ARCHIVE_OK) {
		const char *msg = archive_error_string(a);
		rc = sd_error_set(err, SD_ERR_INVALID,
				  "%s: at offset 0: not a tar stream (%s)",
				  c.file, msg ? msg : "?");
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			rc = archive_fail(&c, a, NULL,
					  (long long)archive_filter_bytes(a,
									  0));
			goto out;
		}
		rc = one_entry(&c, a, e);
		if (!rc && archive_read_data_skip(a) < ARCHIVE_WARN)
			rc = archive_fail(
				&c, a, archive_entry_pathname(e),
				(long long)archive_read_header_position(a));
		if (rc)
			goto out;
		free(c.prev_name);
		c.prev_name = strdup(archive_entry_pathname(e));
		c.prev_pos = (long long)archive_read_header_position(a);
		c.prev_size = archive_entry_size_is_set(e) &&
					      !archive_entry_hardlink(e)
				      ? (long long)archive_entry_size(e)
				      : 0;
		/* Where the next header starts (data and padding skipped). */
		next_header = archive_filter_bytes(a, 0);
		if (opts->interrupted && *opts->interrupted) {
			rc = sd_error_set(err, SD_ERR_INTERRUPTED,
					  "interrupted");
			goto out;
		}
	}
	/*
	 * libarchive takes a stream that stops at a block boundary for a
	 * complete one; a tar ends with zero blocks, so at least one must
	 * follow the last entry, else the stream was cut there.
	 */
	if (archive_filter_bytes(a, 0) < next_header + 512) {
		rc = sd_error_set(err, SD_ERR_INVALID,
				  "%s: at offset %lld: truncated (the stream "
				  "ends without the end-of-archive zero "
				  "blocks)",
				  c.file, (long long)next_header);
		goto out;
	}
	if (c.tree->root->nchildren == 0) {
		rc = sd_error_set(err, SD_ERR_INVALID,
				  "%s: no store paths in the tar", c.file);
		goto out;
	}
	rc = sd_spool_attach(c.spool, c.tree, err);
	if (rc)
		goto out;
	c.spool = NULL;
	rc = sd_tree_finalize(c.tree, err);
out:
	if (a)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	tdestroy(c.index, free_key);
	free(c.prev_name);
	free(c.near_path);
	sd_spool_free(c.spool);
	if (rc) {
		sd_tree_free(c.tree);
		return rc;
	}
	info->npaths = c.tree->root->nchildren;
	*out = c.tree;
	return SD_OK;
}
