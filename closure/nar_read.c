/* SPDX-License-Identifier: MIT */
#include "closure/nar_read.h"

#include <stdlib.h>
#include <string.h>

#include "core/sdlimits.h"

/* The shared limits (a NAR's root is a store path, image level 1) */
#define NAR_MAX_DEPTH SD_LIMIT_DEPTH
#define NAR_NAME_MAX SD_LIMIT_NAME
#define NAR_TARGET_MAX SD_LIMIT_SYMLINK

struct nar_ctx {
	struct sd_wire *w;
	struct sd_tree *tree;
	struct sd_spool *spool;
	struct sd_error *err;
	const struct sd_node *parent; /* the NAR root's parent */
};

/* Read a token of at most 16 bytes ("(", "type", "regular", ...).  A NUL
 * in it is refused here, so that the strcmp()s of the callers compare the
 * whole token ("executable\0" is not "executable"; Nix refuses it). */
static int token(struct nar_ctx *c, char **out, uint64_t *at)
{
	size_t len;
	*at = c->w->offset;
	int rc = sd_wire_string(c->w, 16, out, &len, c->err);
	if (!rc && memchr(*out, '\0', len)) {
		free(*out);
		*out = NULL;
		return sd_wire_fail(c->w, *at, c->err,
				    "a token contains a NUL byte");
	}
	return rc;
}

static int read_node(struct nar_ctx *c, struct sd_node *parent,
		     const char *name, size_t len, unsigned depth,
		     struct sd_node **out);

/* Add the node; *@out is the node, or NULL on failure. */
static int add(struct nar_ctx *c, struct sd_node *parent, const char *name,
	       size_t len, enum sd_node_type type, uint64_t at,
	       struct sd_node **out)
{
	*out = NULL;
	struct sd_node *n =
		sd_tree_add(c->tree, parent, name, len, type, c->err);
	if (!n)
		return sd_error_prefix(c->err, SD_ERR_INVALID,
				       "%s: at offset %llu", c->w->name,
				       (unsigned long long)at);
	n->mode = sd_normal_mode(type, 0);
	n->uid = 0;
	n->gid = 0;
	n->mtime = c->tree->mtime;
	*out = n;
	return SD_OK;
}

/*
 * The error for file @n whose declared contents length @size the data
 * does not match (@what), at offset @at: it names the entry's path inside
 * the NAR ("bin/x"), not only the offset.  A read error (@rc not
 * SD_ERR_INVALID) is kept as it is.
 */
static int contents_fail(struct nar_ctx *c, const struct sd_node *n,
			 uint64_t size, uint64_t at, const char *what, int rc)
{
	if (rc != SD_ERR_INVALID)
		return rc;
	char path[512];
	const struct sd_node *top = n;
	while (top->parent && top->parent != c->parent)
		top = top->parent;
	size_t full = sd_node_path(n, path, sizeof(path));
	size_t skip = sd_node_path(top, NULL, 0); /* "<top>" */
	if (top != n)
		skip++; /* and its '/' */
	if (full >= sizeof(path) || skip > full)
		skip = 0; /* cut: keep it all */
	const char *e = path + skip;
	return sd_wire_fail(c->w, at, c->err,
			    "%s%s%s: contents of %llu bytes declared, %s",
			    *e ? "NAR entry '" : "the NAR's file", e,
			    *e ? "'" : "", (unsigned long long)size, what);
}

static int read_contents(struct nar_ctx *c, struct sd_node *n)
{
	static unsigned char buf[65536];
	uint64_t size;
	int rc = sd_wire_u64(c->w, &size, c->err);
	if (rc)
		return rc;
	n->src_id = sd_spool_offset(c->spool);
	n->size = size;
	for (uint64_t left = size; left > 0;) {
		size_t take = left > sizeof(buf) ? sizeof(buf) : (size_t)left;
		rc = sd_wire_read(c->w, buf, take, c->err);
		if (rc)
			return contents_fail(c, n, size, c->w->offset,
					     "but the stream is truncated "
					     "before their end",
					     rc);
		rc = sd_spool_append(c->spool, buf, take, c->err);
		if (rc)
			return rc;
		left -= take;
	}
	uint64_t end = c->w->offset;
	rc = sd_wire_padding(c->w, size, c->err);
	if (rc)
		return contents_fail(c, n, size, end,
				     "and non-zero padding follows them (more "
				     "data than declared, or a damaged "
				     "stream)",
				     rc);
	return SD_OK;
}

static int read_regular(struct nar_ctx *c, struct sd_node *parent,
			const char *name, size_t len, uint64_t at,
			struct sd_node **out)
{
	char *t;
	uint64_t tat;
	int rc = token(c, &t, &tat);
	if (rc)
		return rc;
	bool exec = !strcmp(t, "executable");
	if (exec) {
		free(t);
		rc = sd_wire_expect(c->w, "", c->err);
		if (!rc)
			rc = token(c, &t, &tat);
		if (rc)
			return rc;
	}
	if (strcmp(t, "contents")) {
		rc = sd_wire_fail(c->w, tat, c->err,
				  "expected 'contents' or 'executable'");
		free(t);
		return rc;
	}
	free(t);
	rc = add(c, parent, name, len, SD_NODE_FILE, at, out);
	if (rc)
		return rc;
	(*out)->mode = exec ? SD_MODE_EXEC : SD_MODE_FILE;
	return read_contents(c, *out);
}

static int read_symlink(struct nar_ctx *c, struct sd_node *parent,
			const char *name, size_t len, uint64_t at,
			struct sd_node **out)
{
	int rc = sd_wire_expect(c->w, "target", c->err);
	if (rc)
		return rc;
	uint64_t tat = c->w->offset;
	char *target;
	size_t tlen;
	rc = sd_wire_string(c->w, NAR_TARGET_MAX, &target, &tlen, c->err);
	if (rc)
		return rc;
	if (tlen == 0 || memchr(target, '\0', tlen)) {
		free(target);
		return sd_wire_fail(c->w, tat, c->err,
				    "symlink target is empty or contains NUL");
	}
	rc = add(c, parent, name, len, SD_NODE_SYMLINK, at, out);
	if (!rc)
		rc = sd_node_set_target(*out, target, tlen, c->err);
	free(target);
	return rc;
}

static int read_entry_name(struct nar_ctx *c, char **name, size_t *len)
{
	uint64_t at = c->w->offset;
	int rc = sd_wire_string(c->w, NAR_NAME_MAX, name, len, c->err);
	if (rc)
		return rc;
	const char *why = NULL;
	if (*len == 0)
		why = "empty entry name";
	else if (memchr(*name, '/', *len))
		why = "entry name contains '/'";
	else if (memchr(*name, '\0', *len))
		why = "entry name contains NUL";
	else if (!strcmp(*name, ".") || !strcmp(*name, ".."))
		why = "entry name is '.' or '..'";
	if (why) {
		free(*name);
		return sd_wire_fail(c->w, at, c->err, "%s", why);
	}
	return SD_OK;
}

/* Bytewise order of NAR entries (and of sd_tree_finalize). */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);
	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

static int read_directory(struct nar_ctx *c, struct sd_node *parent,
			  const char *name, size_t len, uint64_t at,
			  unsigned depth, struct sd_node **out)
{
	if (depth >= NAR_MAX_DEPTH)
		return sd_wire_fail(c->w, at, c->err,
				    "more than %d directory levels",
				    NAR_MAX_DEPTH);
	struct sd_node *dir;
	int rc = add(c, parent, name, len, SD_NODE_DIR, at, &dir);
	if (rc)
		return rc;
	*out = dir;
	char *prev = NULL;
	size_t prev_len = 0;
	for (;;) {
		char *t;
		uint64_t tat;
		rc = token(c, &t, &tat);
		if (rc)
			break;
		if (!strcmp(t, ")")) {
			free(t);
			break;
		}
		bool entry = !strcmp(t, "entry");
		free(t);
		if (!entry) {
			rc = sd_wire_fail(c->w, tat, c->err,
					  "expected 'entry' or ')'");
			break;
		}
		rc = sd_wire_expect(c->w, "(", c->err);
		if (!rc)
			rc = sd_wire_expect(c->w, "name", c->err);
		if (rc)
			break;
		uint64_t nat = c->w->offset;
		char *ename;
		size_t elen;
		rc = read_entry_name(c, &ename, &elen);
		if (rc)
			break;
		if (prev && name_cmp(prev, prev_len, ename, elen) >= 0) {
			rc = sd_wire_fail(c->w, nat, c->err,
					  "entry '%s' is not after '%s' "
					  "(unsorted or duplicate)",
					  ename, prev);
			free(ename);
			break;
		}
		free(prev);
		prev = ename;
		prev_len = elen;
		rc = sd_wire_expect(c->w, "node", c->err);
		struct sd_node *child;
		if (!rc)
			rc = read_node(c, dir, ename, elen, depth + 1, &child);
		if (!rc)
			rc = sd_wire_expect(c->w, ")", c->err);
		if (rc)
			break;
	}
	free(prev);
	return rc;
}

/* "(" "type" <kind> ... ")" */
static int read_node(struct nar_ctx *c, struct sd_node *parent,
		     const char *name, size_t len, unsigned depth,
		     struct sd_node **out)
{
	uint64_t at = c->w->offset;
	int rc = sd_wire_expect(c->w, "(", c->err);
	if (!rc)
		rc = sd_wire_expect(c->w, "type", c->err);
	char *kind;
	uint64_t kat;
	if (!rc)
		rc = token(c, &kind, &kat);
	if (rc)
		return rc;
	if (!strcmp(kind, "regular")) {
		rc = read_regular(c, parent, name, len, at, out);
		if (!rc) {
			uint64_t end = c->w->offset;
			rc = sd_wire_expect(c->w, ")", c->err);
			if (rc)
				rc = contents_fail(c, *out, (*out)->size, end,
						   "and no ')' follows them "
						   "(more data than declared, "
						   "or a damaged stream)",
						   rc);
		}
	} else if (!strcmp(kind, "symlink")) {
		rc = read_symlink(c, parent, name, len, at, out);
		if (!rc)
			rc = sd_wire_expect(c->w, ")", c->err);
	} else if (!strcmp(kind, "directory")) {
		/* The directory loop consumes the closing ")". */
		rc = read_directory(c, parent, name, len, at, depth, out);
	} else {
		rc = sd_wire_fail(c->w, kat, c->err, "unknown node type '%s'",
				  kind);
	}
	free(kind);
	return rc;
}

int sd_nar_read(struct sd_wire *w, struct sd_tree *tree, struct sd_node *parent,
		const char *name, size_t len, struct sd_spool *spool,
		struct sd_node **out, struct sd_error *err)
{
	struct nar_ctx c = {w, tree, spool, err, parent};
	int rc = sd_wire_expect(w, "nix-archive-1", err);
	if (rc)
		return rc;
	return read_node(&c, parent, name, len, 0, out);
}
