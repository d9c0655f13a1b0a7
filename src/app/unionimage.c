/* SPDX-License-Identifier: MIT */
#include "app/unionimage.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/inspect.h"

/* A top-level entry of the union and the tree it came from. */
struct union_top {
	const struct sd_node *node;
	size_t origin;
};

/* The union's content source: the trees the entries came from (whose
 * roots keep only the entries the union did not take) and the taken
 * top-level entries sorted by address, to find a node's tree. */
struct union_ctx {
	struct sd_tree **trees;
	size_t ntrees;
	struct union_top *tops;
	size_t ntops;
};

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

static int cmp_top(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct union_top *)a)->node;
	uintptr_t y = (uintptr_t)((const struct union_top *)b)->node;
	return x < y ? -1 : x > y;
}

/* The entry of @c that @node is or lies below, or NULL (the root). */
static const struct union_top *find_top(const struct union_ctx *c,
					const struct sd_node *node)
{
	if (!node->parent)
		return NULL;
	while (node->parent->parent)
		node = node->parent;
	struct union_top key = {.node = node};
	return bsearch(&key, c->tops, c->ntops, sizeof(*c->tops), cmp_top);
}

static int union_open(void *ctx, const struct sd_node *node,
		      struct sd_stream **out, struct sd_error *err)
{
	const struct union_ctx *c = ctx;
	const struct union_top *t = find_top(c, node);
	*out = NULL;
	if (!t)
		return sd_error_set(err, SD_ERR_INVALID,
				    "node is not a file of this union");
	return sd_tree_open(c->trees[t->origin], node, out, err);
}

static void ctx_free(struct union_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntrees; i++)
		sd_tree_free(c->trees[i]);
	free(c->trees);
	free(c->tops);
	free(c);
}

static void union_release(void *ctx)
{
	ctx_free(ctx);
}

static const struct sd_content_source union_source = {
	.open = union_open,
	.release = union_release,
};

/* Does a tree before @i hold a top-level entry named like @n? */
static bool shadowed(struct sd_tree *const *trees, size_t i,
		     const struct sd_node *n)
{
	for (size_t j = 0; j < i; j++)
		if (sd_node_child(trees[j]->root, n->name, n->name_len))
			return true;
	return false;
}

/* Choose the entries of the union (trees untouched: their roots stay
 * sorted for the look-ups). */
static int choose(struct union_ctx *c, struct sd_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < c->ntrees; i++)
		total += c->trees[i]->root->nchildren;
	c->tops = calloc(total + 1, sizeof(*c->tops));
	if (!c->tops)
		return nomem(err);
	for (size_t i = 0; i < c->ntrees; i++) {
		const struct sd_node *root = c->trees[i]->root;
		for (size_t k = 0; k < root->nchildren; k++) {
			const struct sd_node *n = root->children[k];
			if (!shadowed(c->trees, i, n))
				c->tops[c->ntops++] = (struct union_top){n, i};
		}
	}
	return 0;
}

/* Move the chosen entries from their trees' roots to @root. */
static int move_tops(struct union_ctx *c, struct sd_node *root,
		     struct sd_error *err)
{
	root->children = calloc(c->ntops + 1, sizeof(*root->children));
	if (!root->children)
		return nomem(err);
	root->children_cap = c->ntops + 1;
	/* tops are in tree order, and in each tree in root order */
	size_t t = 0;
	for (size_t i = 0; i < c->ntrees; i++) {
		struct sd_node *from = c->trees[i]->root;
		size_t kept = 0;
		for (size_t k = 0; k < from->nchildren; k++) {
			struct sd_node *n = from->children[k];
			if (t < c->ntops && c->tops[t].node == n) {
				n->parent = root;
				root->children[root->nchildren++] = n;
				t++;
			} else {
				from->children[kept++] = n;
			}
		}
		from->nchildren = kept;
	}
	return 0;
}

int sd_union_trees(struct sd_tree **trees, size_t n, struct sd_tree **out,
		   struct sd_error *err)
{
	*out = NULL;
	struct union_ctx *c = calloc(1, sizeof(*c));
	struct sd_tree *u = n ? sd_tree_new(trees[0]->mtime) : NULL;
	if (c)
		c->trees = calloc(n + 1, sizeof(*c->trees));
	if (!c || !c->trees || !u) {
		for (size_t i = 0; i < n; i++)
			sd_tree_free(trees[i]);
		ctx_free(c);
		sd_tree_free(u);
		return n ? nomem(err)
			 : sd_error_set(err, SD_ERR_INVALID,
					"a union of no images");
	}
	memcpy(c->trees, trees, n * sizeof(*trees));
	c->ntrees = n;
	const struct sd_node *top = trees[0]->root;
	u->root->mode = top->mode;
	u->root->uid = top->uid;
	u->root->gid = top->gid;
	u->root->mtime = top->mtime;
	int rc = choose(c, err);
	if (!rc)
		rc = move_tops(c, u->root, err);
	/* Once moved, the entries are the union's: it owns the trees. */
	u->source = &union_source;
	u->source_ctx = c;
	if (!rc) {
		qsort(c->tops, c->ntops, sizeof(*c->tops), cmp_top);
		rc = sd_tree_finalize(u, err);
	}
	if (rc) {
		sd_tree_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

int sd_union_open(const char *layer, const char *const *bases, size_t nbases,
		  struct sd_tree **out, struct sd_error *err)
{
	*out = NULL;
	struct sd_tree **trees = calloc(nbases + 1, sizeof(*trees));
	if (!trees)
		return nomem(err);
	int rc = 0;
	size_t n = 0;
	for (; !rc && n <= nbases; n++) {
		const char *path = n ? bases[n - 1] : layer;
		rc = sd_inspect_open(path, &trees[n], NULL, err);
		/* Some readers name the image already; say it at the front
		 * when they do not, so the message always starts with it. */
		if (rc && err && strncmp(err->msg, path, strlen(path)))
			sd_error_prefix(err, rc, "%s", path);
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			sd_tree_free(trees[i]);
	} else if (nbases == 0) {
		*out = trees[0];
	} else {
		rc = sd_union_trees(trees, n, out, err);
	}
	free(trees);
	return rc;
}

size_t sd_union_origin(const struct sd_tree *tree, const struct sd_node *node)
{
	if (tree->source != &union_source)
		return 0;
	const struct union_top *t = find_top(tree->source_ctx, node);
	return t ? t->origin : 0;
}
