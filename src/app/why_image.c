/* why_image.c — sd_why_image: the search over the paths of an image. */
#include "app/why.h"

#include <stdlib.h>
#include <string.h>

#include "app/why_source.h"
#include "closure/storepath.h"
#include "formats/format.h"

struct image_ctx {
	struct sd_tree *tree;       /* the whole image */
	struct sd_node **tops;      /* id -> top-level entry (valid names) */
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

/*
 * The id of the path @arg names: "<store_dir>/<hash>-<name>[/...]",
 * "<hash>-<name>[/...]" or a bare hash part.
 */
static int find_path(const struct image_ctx *c, const char *store_dir,
		     const char *image, const char *arg, size_t *id,
		     struct sd_error *err)
{
	const char *s = arg;
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
	return sd_error_set(err, SD_ERR_MISSING,
			    "%s: not a store path of the image %s", arg,
			    image);
}

int sd_why_image(const char *image, const char *store_dir, const char *root,
		 const char *path, volatile const int *interrupted,
		 struct sd_why_result *res, struct sd_error *err)
{
	*res = (struct sd_why_result){0};
	const struct sd_format *fmt;
	struct image_ctx c = {0};
	size_t r = 0, p = 0;
	int rc = sd_format_detect(image, &fmt, err);
	if (!rc)
		rc = fmt->read(image, &c.tree, err);
	if (rc)
		return rc;
	rc = index_paths(&c, err);
	if (!rc)
		rc = find_path(&c, store_dir, image, root, &r, err);
	if (!rc)
		rc = find_path(&c, store_dir, image, path, &p, err);
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
		/* Reading the image's own data failed: it is damaged. */
		if (rc == SD_ERR_IO || rc == SD_ERR_CORRUPT) {
			rc = SD_ERR_CORRUPT;
			sd_error_prefix(err, rc, "%s", image);
		}
	}
	sd_hashmap_free(c.by_hash);
	free(c.tops);
	sd_tree_free(c.tree);
	return rc;
}
