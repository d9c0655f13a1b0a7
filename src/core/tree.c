/* SPDX-License-Identifier: MIT */
#include "core/tree.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sdlimits.h"

/* Entry names live in chunks owned by the tree (one malloc per chunk, not
 * per name): 64 KiB each, so a million short names cost their bytes, not
 * a million allocations' headers. */
#define NAME_CHUNK (64u * 1024u)

struct sd_name_chunk {
	struct sd_name_chunk *next;
	size_t used;
	char data[NAME_CHUNK];
};

/* A NUL-terminated copy of @name (@len <= SD_LIMIT_NAME bytes) in @tree's
 * name chunks; NULL when out of memory. */
static char *name_copy(struct sd_tree *tree, const char *name, size_t len)
{
	struct sd_name_chunk *c = tree->names;

	if (!c || NAME_CHUNK - c->used < len + 1) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->next = tree->names;
		c->used = 0;
		tree->names = c;
	}
	char *s = c->data + c->used;
	memcpy(s, name, len);
	s[len] = '\0';
	c->used += len + 1;
	return s;
}

static void node_free(struct sd_node *n)
{
	/* Iterative post-order free: deep trees must not blow the stack. */
	while (n) {
		if (n->nchildren) {
			struct sd_node *c = n->children[--n->nchildren];
			c->parent = n;
			n = c;
			continue;
		}
		struct sd_node *parent = n->parent;
		free(n->children);
		free(n->target);
		free(n->src_path);
		free(n->src_mem);
		free(n);
		n = parent;
	}
}

struct sd_tree *sd_tree_new(int64_t mtime)
{
	struct sd_tree *t = calloc(1, sizeof(*t));
	struct sd_node *root = calloc(1, sizeof(*root));
	if (!t || !root) {
		free(t);
		free(root);
		return NULL;
	}
	root->name = "";
	root->type = SD_NODE_DIR;
	root->mode = SD_MODE_DIR;
	root->mtime = mtime;
	t->root = root;
	t->mtime = mtime;
	return t;
}

void sd_tree_free(struct sd_tree *tree)
{
	if (!tree)
		return;
	node_free(tree->root);
	if (tree->source && tree->source->release)
		tree->source->release(tree->source_ctx);
	while (tree->names) {
		struct sd_name_chunk *next = tree->names->next;
		free(tree->names);
		tree->names = next;
	}
	free(tree);
}

static int check_name(const char *name, size_t len, struct sd_error *err)
{
	if (len == 0)
		return sd_error_set(err, SD_ERR_INVALID, "empty entry name");
	if (len > SD_LIMIT_NAME)
		return sd_error_set(err, SD_ERR_INVALID,
				    "entry name of %zu bytes (limit %u)", len,
				    SD_LIMIT_NAME);
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return sd_error_set(err, SD_ERR_INVALID, "entry name \"%.*s\"",
				    (int)len, name);
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return sd_error_set(err, SD_ERR_INVALID,
				    "entry name contains '/' or NUL");
	return SD_OK;
}

struct sd_node *sd_tree_add(struct sd_tree *tree, struct sd_node *parent,
			    const char *name, size_t len,
			    enum sd_node_type type, struct sd_error *err)
{
	if (!parent || parent->type != SD_NODE_DIR) {
		sd_error_set(err, SD_ERR_INVALID, "parent is not a directory");
		return NULL;
	}
	if (check_name(name, len, err))
		return NULL;
	if (parent->nchildren == parent->children_cap) {
		size_t cap = parent->children_cap ? parent->children_cap * 2
						  : 4;
		struct sd_node **c =
			realloc(parent->children, cap * sizeof(*c));
		if (!c) {
			sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			return NULL;
		}
		parent->children = c;
		parent->children_cap = cap;
	}
	struct sd_node *n = calloc(1, sizeof(*n));
	char *copy = n ? name_copy(tree, name, len) : NULL;
	if (!copy) {
		free(n);
		sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		return NULL;
	}
	n->name = copy;
	n->name_len = len;
	n->type = type;
	n->parent = parent;
	parent->children[parent->nchildren++] = n;
	return n;
}

int sd_tree_graft(struct sd_tree *dst, struct sd_node *parent,
		  struct sd_tree *src, struct sd_error *err)
{
	struct sd_node *from = src->root;

	if (!parent || parent->type != SD_NODE_DIR)
		return sd_error_set(err, SD_ERR_INVALID,
				    "parent is not a directory");
	if (parent->nchildren + from->nchildren > parent->children_cap) {
		size_t cap = parent->children_cap ? parent->children_cap : 4;

		while (cap < parent->nchildren + from->nchildren)
			cap *= 2;
		struct sd_node **c =
			realloc(parent->children, cap * sizeof(*c));
		if (!c)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		parent->children = c;
		parent->children_cap = cap;
	}
	for (size_t i = 0; i < from->nchildren; i++) {
		from->children[i]->parent = parent;
		parent->children[parent->nchildren++] = from->children[i];
	}
	from->nchildren = 0;
	/* the names move too; dst keeps filling its own newest chunk */
	if (src->names) {
		struct sd_name_chunk *last = src->names;

		while (last->next)
			last = last->next;
		if (dst->names) {
			last->next = dst->names->next;
			dst->names->next = src->names;
		} else {
			dst->names = src->names;
		}
		src->names = NULL;
	}
	sd_tree_free(src);
	return SD_OK;
}

int sd_node_set_name(struct sd_tree *tree, struct sd_node *node,
		     const char *name, size_t len, struct sd_error *err)
{
	int rc = check_name(name, len, err);
	if (rc)
		return rc;
	char *copy = name_copy(tree, name, len);
	if (!copy)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	node->name = copy; /* the old name stays in its chunk */
	node->name_len = len;
	return SD_OK;
}

int sd_node_set_target(struct sd_node *node, const char *target, size_t len,
		       struct sd_error *err)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	memcpy(copy, target, len);
	copy[len] = '\0';
	free(node->target);
	node->target = copy;
	node->size = len;
	return SD_OK;
}

int sd_node_set_content(struct sd_node *node, const void *data, size_t len,
			struct sd_error *err)
{
	void *copy = malloc(len ? len : 1);
	if (!copy)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (len)
		memcpy(copy, data, len);
	free(node->src_mem);
	node->src_mem = copy;
	node->size = len;
	return SD_OK;
}

int sd_node_set_src_path(struct sd_node *node, const char *path,
			 struct sd_error *err)
{
	char *copy = strdup(path);
	if (!copy)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	free(node->src_path);
	node->src_path = copy;
	return SD_OK;
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int node_cmp(const void *pa, const void *pb)
{
	const struct sd_node *a = *(const struct sd_node *const *)pa;
	const struct sd_node *b = *(const struct sd_node *const *)pb;
	return name_cmp(a->name, a->name_len, b->name, b->name_len);
}

struct finalize_ctx {
	struct sd_tree *tree;
	struct sd_error *err;
	uint32_t next;
};

static int finalize_node(struct sd_node *n, void *vctx)
{
	struct finalize_ctx *ctx = vctx;
	struct sd_tree *t = ctx->tree;
	n->index = ctx->next++;
	t->count++;
	switch (n->type) {
	case SD_NODE_DIR: t->ndirs++; break;
	case SD_NODE_FILE:
		t->nfiles++;
		t->file_bytes += n->size;
		break;
	case SD_NODE_SYMLINK: t->nsymlinks++; break;
	default: t->nother++; break;
	}
	if (n->type != SD_NODE_DIR || n->nchildren < 2)
		return 0;
	qsort(n->children, n->nchildren, sizeof(*n->children), node_cmp);
	for (size_t i = 1; i < n->nchildren; i++) {
		if (node_cmp(&n->children[i - 1], &n->children[i]) == 0) {
			char *p = sd_node_path_dup(n->children[i]);
			sd_error_set(ctx->err, SD_ERR_INVALID,
				     "duplicate entry \"%s\"", p ? p : "?");
			free(p);
			return SD_ERR_INVALID;
		}
	}
	return 0;
}

int sd_tree_finalize(struct sd_tree *tree, struct sd_error *err)
{
	struct finalize_ctx ctx = {tree, err, 0};
	tree->count = tree->ndirs = tree->nfiles = tree->nsymlinks = 0;
	tree->nother = 0;
	tree->file_bytes = 0;
	/* finalize_node sorts a directory before the walk descends into it. */
	return sd_tree_walk(tree->root, finalize_node, &ctx);
}

/* SD_ERR_LIMIT "PATH: what" for @node. */
static int limit_error(const struct sd_node *node, struct sd_error *err,
		       const char *what, unsigned long long n,
		       unsigned long long limit)
{
	char *p = sd_node_path_dup(node);
	int rc = sd_error_set(err, SD_ERR_LIMIT,
			      "/%s: %s %llu, more than "
			      "storedisk reads back (limit %llu)",
			      p ? p : node->name, what, n, limit);
	free(p);
	return rc;
}

static int check_node(const struct sd_node *n, size_t depth,
		      struct sd_error *err)
{
	switch (n->type) {
	case SD_NODE_DIR:
		if (depth > SD_LIMIT_DEPTH)
			return limit_error(n, err, "directory nesting depth",
					   depth, SD_LIMIT_DEPTH);
		if (n->nchildren > SD_LIMIT_DIR_ENTRIES)
			return limit_error(n, err, "entry count", n->nchildren,
					   SD_LIMIT_DIR_ENTRIES);
		return SD_OK;
	case SD_NODE_FILE:
		if (n->size > SD_LIMIT_FILE_SIZE)
			return limit_error(n, err, "file size", n->size,
					   SD_LIMIT_FILE_SIZE);
		return SD_OK;
	case SD_NODE_SYMLINK:
		if (n->size > SD_LIMIT_SYMLINK)
			return limit_error(n, err, "symlink target bytes",
					   n->size, SD_LIMIT_SYMLINK);
		return SD_OK;
	default: return SD_OK;
	}
}

int sd_tree_check_limits(const struct sd_tree *tree, struct sd_error *err)
{
	/* iterative: a frame per directory level, on the heap */
	struct frame {
		const struct sd_node *dir;
		size_t next;
	} *stack = NULL;
	size_t depth = 0, cap = 0;
	int rc = SD_OK;

	if (tree->count > (size_t)SD_LIMIT_NODES + 1)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "%zu entries, more "
				    "than storedisk reads back (limit %u)",
				    tree->count - 1, SD_LIMIT_NODES);
	rc = check_node(tree->root, 0, err);
	for (const struct sd_node *d = tree->root; !rc && d;) {
		if (depth == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct frame *s = realloc(stack, ncap * sizeof(*s));
			if (!s) {
				rc = sd_error_set(err, SD_ERR_NOMEM,
						  "out of memory");
				break;
			}
			stack = s;
			cap = ncap;
		}
		stack[depth++] = (struct frame){d, 0};
		d = NULL;
		while (!rc && !d && depth > 0) {
			struct frame *f = &stack[depth - 1];
			if (f->next == f->dir->nchildren) {
				depth--;
				continue;
			}
			const struct sd_node *c = f->dir->children[f->next++];
			rc = check_node(c, depth, err);
			if (!rc && c->type == SD_NODE_DIR && c->nchildren)
				d = c;
		}
	}
	free(stack);
	return rc;
}

struct sd_node *sd_node_child(const struct sd_node *dir, const char *name,
			      size_t len)
{
	if (!dir || dir->type != SD_NODE_DIR)
		return NULL;
	size_t lo = 0, hi = dir->nchildren;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sd_node *c = dir->children[mid];
		int r = name_cmp(c->name, c->name_len, name, len);
		if (r == 0)
			return dir->children[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct sd_node *sd_tree_lookup(const struct sd_tree *tree, const char *path)
{
	struct sd_node *n = tree->root;
	const char *p = path;
	while (n) {
		while (*p == '/')
			p++;
		if (!*p)
			return n;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		n = sd_node_child(n, p, len);
		p += len;
	}
	return NULL;
}

size_t sd_node_path(const struct sd_node *node, char *buf, size_t len)
{
	size_t total = 0;
	for (const struct sd_node *n = node; n && n->parent; n = n->parent)
		total += n->name_len + (n->parent->parent ? 1 : 0);
	if (len == 0)
		return total;
	/* Fill from the end; bytes past len-1 are dropped. */
	size_t pos = total;
	if (total < len)
		buf[total] = '\0';
	else
		buf[len - 1] = '\0';
	for (const struct sd_node *n = node; n && n->parent; n = n->parent) {
		pos -= n->name_len;
		for (size_t i = 0; i < n->name_len; i++)
			if (pos + i < len - 1)
				buf[pos + i] = n->name[i];
		if (n->parent->parent) {
			pos--;
			if (pos < len - 1)
				buf[pos] = '/';
		}
	}
	return total;
}

char *sd_node_path_dup(const struct sd_node *node)
{
	size_t n = sd_node_path(node, NULL, 0);
	char *s = malloc(n + 1);
	if (s)
		sd_node_path(node, s, n + 1);
	return s;
}

char *sd_node_path_under(const struct sd_node *node, const char *prefix)
{
	size_t pre = strlen(prefix);
	size_t n = sd_node_path(node, NULL, 0);
	char *s = malloc(pre + 1 + n + 1);
	if (!s)
		return NULL;
	memcpy(s, prefix, pre);
	s[pre] = '/';
	sd_node_path(node, s + pre + 1, n + 1);
	return s;
}

size_t sd_node_src_path(const struct sd_node *node, char *buf, size_t len)
{
	const struct sd_node *anchor = node;
	size_t total, base, pos;

	while (anchor && !anchor->src_path)
		anchor = anchor->parent;
	if (!anchor)
		return 0;
	base = strlen(anchor->src_path);
	total = base;
	for (const struct sd_node *n = node; n != anchor; n = n->parent)
		total += 1 + n->name_len;
	if (len == 0)
		return total;
	/* Fill from the end; bytes past len-1 are dropped. */
	buf[total < len ? total : len - 1] = '\0';
	pos = total;
	for (const struct sd_node *n = node; n != anchor; n = n->parent) {
		pos -= n->name_len;
		for (size_t i = 0; i < n->name_len; i++)
			if (pos + i < len - 1)
				buf[pos + i] = n->name[i];
		pos--;
		if (pos < len - 1)
			buf[pos] = '/';
	}
	for (size_t i = 0; i < base && i < len - 1; i++)
		buf[i] = anchor->src_path[i];
	return total;
}

char *sd_node_src_path_dup(const struct sd_node *node)
{
	size_t n = sd_node_src_path(node, NULL, 0);
	char *s = n ? malloc(n + 1) : NULL;

	if (s)
		sd_node_src_path(node, s, n + 1);
	return s;
}

void sd_dircache_release(struct sd_dircache *dc)
{
	if (dc->fd >= 0)
		close(dc->fd);
	dc->fd = -1;
	dc->dir = NULL;
}

/* How far below the cached directory a wanted one may be and still be
 * reached from it one component at a time; further down, one open() of
 * its whole path is cheaper (while the path fits PATH_MAX). */
#define NEAR_LEVELS 8

/*
 * Make @dc hold host directory @dir open: from the cached directory when
 * that is a near ancestor, else by its whole path, else (a path of
 * PATH_MAX or more, which open() refuses) one component at a time from
 * the nearest ancestor with a host path of its own, so that a tree of any
 * depth is read and a descent costs one openat per level.  False (@dc
 * released) when it cannot be opened.
 */
static bool cache_dir(const struct sd_node *dir, struct sd_dircache *dc)
{
	const struct sd_node *top = dir, **chain;
	size_t n = 0, len;
	int fd;

	if (dc->fd >= 0 && dc->dir == dir)
		return true;
	while (top != dc->dir && !top->src_path && top->parent) {
		top = top->parent;
		n++;
	}
	len = sd_node_src_path(dir, NULL, 0);
	if (!len)
		return sd_dircache_release(dc), false;
	bool from_cache = dc->fd >= 0 && top == dc->dir;
	if (!(from_cache && (n <= NEAR_LEVELS || len >= PATH_MAX)) &&
	    (len < PATH_MAX || !top->src_path)) {
		/* the whole path (whose error the caller reports) */
		char *path = sd_node_src_path_dup(dir);
		sd_dircache_release(dc);
		fd = path ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		free(path);
		if (fd < 0)
			return false;
		dc->fd = fd;
		dc->dir = dir;
		return true;
	}
	chain = malloc((n ? n : 1) * sizeof(*chain));
	if (!chain)
		return sd_dircache_release(dc), false;
	size_t i = n;
	for (const struct sd_node *d = dir; d != top; d = d->parent)
		chain[--i] = d;
	if (from_cache) {
		fd = dc->fd;
		dc->fd = -1;
	} else {
		fd = open(top->src_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	sd_dircache_release(dc);
	for (i = 0; fd >= 0 && i < n; i++) {
		int next =
			openat(fd, chain[i]->name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	free(chain);
	if (fd < 0)
		return false;
	dc->fd = fd;
	dc->dir = dir;
	return true;
}

/* Open host file @node relative to its parent directory, kept open in
 * @dc.  SD_OK with *@out NULL when the parent cannot be opened: the caller
 * opens by full path, which reports the error as before. */
static int open_in_dir(const struct sd_node *node, struct sd_dircache *dc,
		       struct sd_stream **out, struct sd_error *err)
{
	char small[1024];
	char *path = small;
	size_t n;
	int rc;

	*out = NULL;
	if (!cache_dir(node->parent, dc))
		return SD_OK;
	n = sd_node_src_path(node, small, sizeof(small));
	path = n < sizeof(small) ? small : sd_node_src_path_dup(node);
	if (!path)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	rc = sd_stream_open_host_at(dc->fd, node->name, path, node->size, out,
				    err);
	if (path != small)
		free(path);
	return rc;
}

static int open_untapped(const struct sd_tree *tree, const struct sd_node *node,
			 struct sd_dircache *dc, struct sd_stream **out,
			 struct sd_error *err)
{
	if (node->type != SD_NODE_FILE)
		return sd_error_set(err, SD_ERR_INVALID,
				    "open of a non-file node");
	if (node->src_mem)
		return sd_stream_open_mem(node->src_mem, (size_t)node->size,
					  out, err);
	if (tree->source)
		return tree->source->open(tree->source_ctx, node, out, err);
	if (node->src_path)
		return sd_stream_open_host(node->src_path, node->size, out,
					   err);
	if (dc && node->parent) {
		int rc = open_in_dir(node, dc, out, err);
		if (rc || *out)
			return rc;
	} else if (node->parent &&
		   sd_node_src_path(node, NULL, 0) >= PATH_MAX) {
		/* too long for open(): one component at a time */
		struct sd_dircache local = SD_DIRCACHE_INIT;
		int rc = open_in_dir(node, &local, out, err);
		sd_dircache_release(&local);
		if (rc || *out)
			return rc;
	}
	char *path = sd_node_src_path_dup(node);
	if (!path) {
		if (sd_node_src_path(node, NULL, 0))
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		return sd_stream_open_mem("", 0, out, err);
	}
	int rc = sd_stream_open_host(path, node->size, out, err);
	free(path);
	return rc;
}

int sd_tree_open_near(const struct sd_tree *tree, const struct sd_node *node,
		      struct sd_dircache *dc, struct sd_stream **out,
		      struct sd_error *err)
{
	struct sd_stream *s = NULL;
	int rc = open_untapped(tree, node, dc, &s, err);
	if (rc || !tree->tap) {
		*out = s;
		return rc;
	}
	rc = tree->tap->wrap(tree->tap_ctx, node, s, out, err);
	if (rc)
		sd_stream_close(s);
	return rc;
}

int sd_tree_open(const struct sd_tree *tree, const struct sd_node *node,
		 struct sd_stream **out, struct sd_error *err)
{
	return sd_tree_open_near(tree, node, NULL, out, err);
}

int sd_tree_walk(struct sd_node *node,
		 int (*fn)(struct sd_node *node, void *ctx), void *ctx)
{
	/* Iterative pre-order walk using a stack of child positions. */
	if (!node)
		return 0;
	int rc = fn(node, ctx);
	if (rc)
		return rc;
	size_t cap = 64, depth = 0;
	struct frame {
		struct sd_node *dir;
		size_t next;
	} *stack = malloc(cap * sizeof(*stack));
	if (!stack)
		return SD_ERR_NOMEM;
	if (node->type == SD_NODE_DIR)
		stack[depth++] = (struct frame){node, 0};
	while (depth) {
		struct frame *f = &stack[depth - 1];
		if (f->next == f->dir->nchildren) {
			depth--;
			continue;
		}
		struct sd_node *c = f->dir->children[f->next++];
		rc = fn(c, ctx);
		if (rc)
			break;
		if (c->type == SD_NODE_DIR && c->nchildren) {
			if (depth == cap) {
				cap *= 2;
				struct frame *s =
					realloc(stack, cap * sizeof(*s));
				if (!s) {
					rc = SD_ERR_NOMEM;
					break;
				}
				stack = s;
			}
			stack[depth++] = (struct frame){c, 0};
		}
	}
	free(stack);
	return rc;
}

uint16_t sd_normal_mode(enum sd_node_type type, uint32_t host_mode)
{
	switch (type) {
	case SD_NODE_DIR: return SD_MODE_DIR;
	case SD_NODE_FILE:
		return (host_mode & 0100) ? SD_MODE_EXEC : SD_MODE_FILE;
	case SD_NODE_SYMLINK: return SD_MODE_SYMLINK;
	default: return 0;
	}
}
