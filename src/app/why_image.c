/* SPDX-License-Identifier: MIT */
/* why_image.c — sd_why_image: the search over the paths of an image. */
#include "app/why.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/unionimage.h"
#include "app/why_source.h"
#include "closure/storepath.h"
#include "core/pathcanon.h"
#include "formats/format.h"

struct image_ctx {
	struct sd_tree *tree;  /* the whole image */
	struct sd_node **tops; /* id -> top-level entry (valid names) */
	size_t n;
	struct sd_hashmap *by_hash; /* hash part -> id */
};

static const char *image_base(void *ctx, size_t id)
{
	const struct image_ctx *c = ctx;
	return c->tops[id]->name;
}

static int image_load(void *ctx, size_t id, const struct sd_tree **tree,
		      struct sd_node **top, struct sd_error *err)
{
	(void)err;
	const struct image_ctx *c = ctx;
	*tree = c->tree;
	*top = c->tops[id];
	return 0;
}

/* Index the top-level entries that are store paths (sorted already). */
static int index_paths(struct image_ctx *c, struct sd_error *err)
{
	const struct sd_node *rootdir = c->tree->root;
	c->tops = calloc(rootdir->nchildren + 1, sizeof(*c->tops));
	c->by_hash = sd_hashmap_new();
	if (!c->tops || !c->by_hash)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < rootdir->nchildren; i++) {
		struct sd_node *n = rootdir->children[i];
		if (sd_storepath_base_problem(n->name, n->name_len))
			continue;
		int64_t old;
		int rc = sd_hashmap_put(c->by_hash, n->name, (int64_t)c->n,
					&old, err);
		if (rc)
			return rc;
		if (old == SD_HASHMAP_NONE)
			c->tops[c->n++] = n;
	}
	return 0;
}

/* The entries whose name part (after "<hash>-") is the @len bytes at
 * @name: the count, the first in *@id. */
static size_t find_name(const struct image_ctx *c, const char *name, size_t len,
			size_t *id)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct sd_node *t = c->tops[i];
		if (t->name_len != SD_HASH_CHARS + 1 + len ||
		    memcmp(t->name + SD_HASH_CHARS + 1, name, len))
			continue;
		if (n == 0)
			*id = i;
		n++;
	}
	return n;
}

/* "@arg: N entries of IMAGE have that name: P1, P2, ..." */
static int ambiguous(const struct image_ctx *c, const char *store_dir,
		     const char *image, const char *arg, const char *name,
		     size_t len, size_t count, struct sd_error *err)
{
	const size_t shown = 8;
	char list[SD_ERROR_MSG_MAX / 2];
	size_t used = 0, listed = 0;
	list[0] = '\0';
	for (size_t i = 0; i < c->n && listed < shown; i++) {
		const struct sd_node *t = c->tops[i];
		if (t->name_len != SD_HASH_CHARS + 1 + len ||
		    memcmp(t->name + SD_HASH_CHARS + 1, name, len))
			continue;
		int w = snprintf(list + used, sizeof list - used, "%s%s/%.*s",
				 listed ? ", " : "", store_dir,
				 (int)t->name_len, t->name);
		if (w < 0 || (size_t)w >= sizeof list - used)
			break;
		used += (size_t)w;
		listed++;
	}
	return sd_error_set(err, SD_ERR_USAGE,
			    "%s: ambiguous, %zu store paths of %s "
			    "have that name: %s%s",
			    arg, count, image, list,
			    count > listed ? ", ..." : "");
}

/* find_path of @s, which is @arg (the user's words) made canonical. */
static int find_in(const struct image_ctx *c, const char *store_dir,
		   const char *image, const char *arg, const char *s,
		   size_t *id, struct sd_error *err)
{
	size_t sdlen = strlen(store_dir);
	if (!strncmp(s, store_dir, sdlen) && s[sdlen] == '/')
		s += sdlen + 1;
	size_t len = strcspn(s, "/");
	if (len >= SD_HASH_CHARS &&
	    !sd_storepath_hash_problem(s, SD_HASH_CHARS)) {
		int64_t i = sd_hashmap_get(c->by_hash, s);
		if (i != SD_HASHMAP_NONE &&
		    (len == SD_HASH_CHARS ||
		     (c->tops[i]->name_len == len &&
		      !memcmp(c->tops[i]->name, s, len)))) {
			*id = (size_t)i;
			return 0;
		}
	}
	size_t count = len ? find_name(c, s, len, id) : 0;
	if (count == 1)
		return 0;
	if (count > 1)
		return ambiguous(c, store_dir, image, arg, s, len, count, err);
	return sd_error_set(err, SD_ERR_MISSING, "%s: not a store path of %s",
			    arg, image);
}

/*
 * The id of the path @arg names: "<store_dir>/<hash>-<name>[/...]",
 * "<hash>-<name>[/...]", a bare hash part, or a bare name "<name>[/...]"
 * that one entry has.
 */
static int find_path(const struct image_ctx *c, const char *store_dir,
		     const char *image, const char *arg, size_t *id,
		     struct sd_error *err)
{
	/* A path ("/…", "./…", "../…") is read as Nix reads a root: made
	 * canonical ("." and ".." lexically) and followed while it is a
	 * symlink outside the store directory (./result). */
	char *canon = NULL;
	if (arg[0] == '/' || !strncmp(arg, "./", 2) ||
	    !strncmp(arg, "../", 3)) {
		int rc = sd_path_follow_to_dir(arg, store_dir, &canon, err);
		if (rc)
			return rc;
	}
	int rc =
		find_in(c, store_dir, image, arg, canon ? canon : arg, id, err);
	free(canon);
	return rc;
}

/* "the image L", or "the union L + B1 + B2" (malloc'ed; NULL: no memory). */
static char *describe(const char *image, const char *const *bases,
		      size_t nbases)
{
	size_t len = strlen("the union ") + strlen(image) + 1;
	for (size_t i = 0; i < nbases; i++)
		len += strlen(" + ") + strlen(bases[i]);
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t used = (size_t)snprintf(s, len, "the %s %s",
				       nbases ? "union" : "image", image);
	for (size_t i = 0; i < nbases && used < len; i++)
		used += (size_t)snprintf(s + used, len - used, " + %s",
					 bases[i]);
	return s;
}

int sd_why_image(const char *image, const char *store_dir, const char *root,
		 const char *path, volatile const int *interrupted,
		 struct sd_why_result *res, struct sd_error *err)
{
	return sd_why_union(image, NULL, 0, store_dir, root, path, interrupted,
			    res, err);
}

int sd_why_union(const char *image, const char *const *bases, size_t nbases,
		 const char *store_dir, const char *root, const char *path,
		 volatile const int *interrupted, struct sd_why_result *res,
		 struct sd_error *err)
{
	*res = (struct sd_why_result){0};
	struct image_ctx c = {0};
	size_t r = 0, p = 0;
	char *what = describe(image, bases, nbases);
	if (!what)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = sd_union_open(image, bases, nbases, &c.tree, err);
	if (!rc)
		rc = index_paths(&c, err);
	if (!rc)
		rc = find_path(&c, store_dir, what, root, &r, err);
	if (!rc)
		rc = find_path(&c, store_dir, what, path, &p, err);
	if (!rc) {
		struct sd_why_source src = {
			.store_dir = store_dir,
			.n = c.n,
			.candidates = c.by_hash,
			.base = image_base,
			.load = image_load,
			.ctx = &c,
			.interrupted = interrupted,
		};
		rc = sd_why_search(&src, r, p, res, err);
		/* Reading the image's own data failed: it is damaged (a
		 * union's readers name the image that failed). */
		if (rc == SD_ERR_IO || rc == SD_ERR_CORRUPT) {
			rc = SD_ERR_CORRUPT;
			if (!nbases)
				sd_error_prefix(err, rc, "%s", image);
		}
	}
	free(what);
	sd_hashmap_free(c.by_hash);
	free(c.tops);
	sd_tree_free(c.tree);
	return rc;
}
