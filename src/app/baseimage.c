/* SPDX-License-Identifier: MIT */
#include "app/baseimage.h"

#include <stdlib.h>
#include <string.h>

#include "app/registration.h"
#include "app/verify_reg.h"
#include "closure/nar.h"
#include "closure/storepath.h"
#include "formats/format.h"

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The top-level store path names of @tree into b->bases, sorted. */
static int take_paths(struct sd_base_image *b, const struct sd_tree *tree,
		      struct sd_error *err)
{
	const struct sd_node *root = tree->root;
	b->bases = calloc(root->nchildren + 1, sizeof(*b->bases));
	if (!b->bases)
		return nomem(err);
	for (size_t i = 0; i < root->nchildren; i++) {
		const struct sd_node *n = root->children[i];
		if (sd_storepath_base_problem(n->name, n->name_len))
			continue;
		b->bases[b->nbases] = strdup(n->name);
		if (!b->bases[b->nbases])
			return nomem(err);
		b->nbases++;
	}
	qsort(b->bases, b->nbases, sizeof(*b->bases), cmp_str);
	return 0;
}

/* The embedded registration of @tree, if it has one. */
static int take_registration(struct sd_base_image *b,
			     const struct sd_tree *tree, const char *store_dir,
			     struct sd_error *err)
{
	const struct sd_node *n =
		sd_node_child(tree->root, SD_EMBEDDED_REGISTRATION,
			      strlen(SD_EMBEDDED_REGISTRATION));
	if (!n || n->type != SD_NODE_FILE)
		return 0;
	char *text = NULL;
	size_t len = 0;
	int rc = sd_vreg_read_root_file(tree, n, b->path,
					SD_EMBEDDED_REGISTRATION,
					SD_VREG_EMBEDDED_MAX, &text, &len, err);
	if (rc)
		return rc;
	rc = sd_registration_parse(SD_EMBEDDED_REGISTRATION, text, len,
				   store_dir, &b->reg, err);
	free(text);
	if (rc)
		return sd_error_prefix(err, rc, "%s", b->path);
	b->reg_by_hash = sd_hashmap_new();
	if (!b->reg_by_hash)
		return nomem(err);
	for (size_t i = 0; !rc && i < b->reg->nrecs; i++) {
		int64_t old;
		rc = sd_hashmap_put(b->reg_by_hash, b->reg->recs[i].base,
				    (int64_t)i, &old, err);
	}
	return rc;
}

int sd_base_image_init(struct sd_base_image *b, const char *path,
		       const char *store_dir, struct sd_error *err)
{
	memset(b, 0, sizeof(*b));
	b->path = path;
	const struct sd_format *fmt;
	struct sd_tree *tree = NULL;
	int rc = sd_format_detect(path, &fmt, err);
	if (!rc)
		rc = fmt->read(path, &tree, err);
	if (rc) {
		/* Some readers name the image already; say it once more at
		 * the front so the message always starts with it. */
		if (err && strncmp(err->msg, path, strlen(path)))
			sd_error_prefix(err, rc, "%s", path);
		return rc;
	}
	b->format = fmt->name;
	rc = take_paths(b, tree, err);
	if (!rc)
		rc = take_registration(b, tree, store_dir, err);
	sd_tree_free(tree);
	return rc;
}

void sd_base_image_release(struct sd_base_image *b)
{
	for (size_t i = 0; i < b->nbases; i++)
		free(b->bases[i]);
	free(b->bases);
	sd_registration_free(b->reg);
	sd_hashmap_free(b->reg_by_hash);
	memset(b, 0, sizeof(*b));
}

bool sd_base_image_has(const struct sd_base_image *b, const char *base,
		       size_t len)
{
	size_t lo = 0, hi = b->nbases;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = b->bases[mid];
		size_t sl = strlen(s);
		int c = memcmp(s, base, sl < len ? sl : len);
		if (c == 0)
			c = sl < len ? -1 : sl > len;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool sd_base_image_has_hash(const struct sd_base_image *b, const char *hash)
{
	/* the first basename not below the hash: the one starting with it,
	 * if any (a hash part is 32 characters, then '-') */
	size_t lo = 0, hi = b->nbases;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(b->bases[mid], hash, SD_HASH_CHARS) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->nbases &&
	       strncmp(b->bases[lo], hash, SD_HASH_CHARS) == 0 &&
	       b->bases[lo][SD_HASH_CHARS] == '-';
}

int sd_base_image_contradiction(const struct sd_base_image *b,
				const struct sd_closure_path *p,
				struct sd_error *err)
{
	if (!p->has_nar || !b->reg)
		return 0;
	const struct sd_store_path *sp = p->sp;
	int64_t i = sd_hashmap_get(b->reg_by_hash, sp->hash);
	if (i == SD_HASHMAP_NONE)
		return 0;
	const struct sd_reg_record *r = &b->reg->recs[i];
	/* Another name with the same hash part is another path. */
	if (strlen(r->base) != sp->base_len ||
	    memcmp(r->base, sp->base, sp->base_len) || !r->has_hash ||
	    !memcmp(r->nar_hash, p->nar_hash, sizeof(r->nar_hash)))
		return 0;
	char want[SD_NAR_NIX32_LEN + 1], have[SD_NAR_NIX32_LEN + 1];
	sd_nar_hash_nix32(p->nar_hash, want);
	sd_nar_hash_nix32(r->nar_hash, have);
	return sd_error_set(err, SD_ERR_USAGE,
			    "--base %s contradicts the closure: %s has narHash "
			    "%s in the closure's source but %s in the base's "
			    "registration (%s:%zu)",
			    b->path, p->path, want, have,
			    SD_EMBEDDED_REGISTRATION, r->line);
}

const struct sd_reg_record *sd_base_image_record(const struct sd_base_image *b,
						 const char *base, size_t len)
{
	if (!b->reg || len < SD_HASH_CHARS)
		return NULL;
	int64_t i = sd_hashmap_get(b->reg_by_hash, base);
	if (i == SD_HASHMAP_NONE)
		return NULL;
	const struct sd_reg_record *r = &b->reg->recs[i];
	/* Another name with the same hash part is another path. */
	if (strlen(r->base) != len || memcmp(r->base, base, len) ||
	    !r->has_hash)
		return NULL;
	return r;
}

int sd_base_image_nar_hashes(const struct sd_base_image *b,
			     const char *const *names, size_t n,
			     struct sd_nar_hash *out, struct sd_error *err)
{
	const struct sd_format *fmt;
	struct sd_tree *tree = NULL;
	int rc = sd_format_detect(b->path, &fmt, err);
	if (!rc)
		rc = fmt->read(b->path, &tree, err);
	if (rc) {
		if (err && strncmp(err->msg, b->path, strlen(b->path)))
			sd_error_prefix(err, rc, "%s", b->path);
		return rc;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		const struct sd_node *node =
			sd_node_child(tree->root, names[i], strlen(names[i]));
		if (!node)
			rc = sd_error_set(err, SD_ERR_MISSING,
					  "%s: no entry %s", b->path, names[i]);
		else if ((rc = sd_nar_hash(tree, node, &out[i], err)) != 0)
			sd_error_prefix(err, rc, "%s: %s", b->path, names[i]);
	}
	sd_tree_free(tree);
	return rc;
}
