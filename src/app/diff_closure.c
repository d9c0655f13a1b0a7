/* SPDX-License-Identifier: MIT */
/* diff_closure.c — store paths of two images paired by name (see .h). */
#include "app/diff_closure.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "closure/storepath.h"

/* "<32 hash chars>-": what precedes a store path's name. */
#define NAME_OFFSET 33

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alpha(char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

/* Length of @name without a trailing "-<output>" (diff-closures.cc). */
static size_t strip_output(const char *name, size_t len)
{
	const char *dash = NULL;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '-')
			dash = name + i;
	if (!dash)
		return len;
	const char *out = dash + 1;
	size_t olen = len - (size_t)(out - name);
	bool lower = olen > 0;
	for (size_t i = 0; lower && i < olen; i++)
		lower = is_lower(out[i]);
	bool lib = olen == 5 &&
		   (!memcmp(out, "lib32", 5) || !memcmp(out, "lib64", 5));
	return lower || lib ? (size_t)(dash - name) : len;
}

void sd_drv_name_split(const char *name, size_t len, size_t *pname_len,
		       const char **version, size_t *version_len)
{
	len = strip_output(name, len);
	*pname_len = len;
	*version = name + len;
	*version_len = 0;
	/* names.cc: the first '-' not followed by a letter. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (name[i] == '-' && !is_alpha(name[i + 1])) {
			*pname_len = i;
			*version = name + i + 1;
			*version_len = len - i - 1;
			return;
		}
	}
}

/* One top-level store path of either image. */
struct entry {
	const char *pname, *version;
	size_t pname_len, version_len;
	bool in_b;      /* from image B */
	bool unpaired;  /* its "<hash>-<name>" is not in the other image */
	uint64_t bytes; /* regular file bytes below it */
};

static uint64_t file_bytes(const struct sd_node *n)
{
	if (n->type == SD_NODE_FILE)
		return n->size;
	uint64_t sum = 0;
	for (size_t i = 0; i < n->nchildren; i++)
		sum += file_bytes(n->children[i]);
	return sum;
}

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
	int c = memcmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

/* By pname, then image, then version. */
static int cmp_entry(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = cmp_bytes(a->pname, a->pname_len, b->pname, b->pname_len);
	if (!c)
		c = (int)a->in_b - (int)b->in_b;
	if (!c)
		c = cmp_bytes(a->version, a->version_len, b->version,
			      b->version_len);
	return c;
}

static void collect(const struct sd_tree *t, const struct sd_tree *other,
		    bool in_b, struct entry *v, size_t *n)
{
	for (size_t i = 0; i < t->root->nchildren; i++) {
		const struct sd_node *c = t->root->children[i];
		if (sd_storepath_base_problem(c->name, c->name_len))
			continue;
		struct entry *e = &v[(*n)++];
		sd_drv_name_split(c->name + NAME_OFFSET,
				  c->name_len - NAME_OFFSET, &e->pname_len,
				  &e->version, &e->version_len);
		e->pname = c->name + NAME_OFFSET;
		e->in_b = in_b;
		e->unpaired = !sd_node_child(other->root, c->name, c->name_len);
		e->bytes = file_bytes(c);
	}
}

/* The distinct versions of image @in_b's entries in @g[0..n). */
static int versions(const struct entry *g, size_t n, bool in_b, char ***out,
		    size_t *nout)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return SD_ERR_NOMEM;
	const struct entry *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		if (g[i].in_b != in_b)
			continue;
		if (prev && !cmp_bytes(prev->version, prev->version_len,
				       g[i].version, g[i].version_len))
			continue;
		prev = &g[i];
		char *s = strndup(g[i].version, g[i].version_len);
		if (!s)
			return SD_ERR_NOMEM;
		(*out)[(*nout)++] = s;
	}
	return 0;
}

/* Add the change of group @g[0..n) (one pname) if a path is unpaired. */
static int add_group(struct sd_closure_changes *c, const struct entry *g,
		     size_t n)
{
	bool unpaired = false;
	int64_t delta = 0;
	for (size_t i = 0; i < n; i++) {
		unpaired |= g[i].unpaired;
		delta += g[i].in_b ? (int64_t)g[i].bytes : -(int64_t)g[i].bytes;
	}
	if (!unpaired)
		return 0;
	struct sd_closure_change *ch = &c->v[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->size_delta = delta;
	ch->name = strndup(g[0].pname, g[0].pname_len);
	if (!ch->name ||
	    versions(g, n, false, &ch->versions_a, &ch->nversions_a) ||
	    versions(g, n, true, &ch->versions_b, &ch->nversions_b))
		return SD_ERR_NOMEM;
	return 0;
}

int sd_diff_closures(const struct sd_tree *a, const struct sd_tree *b,
		     struct sd_closure_changes *out, struct sd_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t total = a->root->nchildren + b->root->nchildren;
	struct entry *v = malloc((total ? total : 1) * sizeof(*v));
	out->v = calloc(total ? total : 1, sizeof(*out->v));
	int rc = 0;
	if (!v || !out->v) {
		rc = SD_ERR_NOMEM;
		goto done;
	}
	size_t n = 0;
	collect(a, b, false, v, &n);
	collect(b, a, true, v, &n);
	qsort(v, n, sizeof(*v), cmp_entry);
	for (size_t i = 0, j; !rc && i < n; i = j) {
		for (j = i + 1; j < n && !cmp_bytes(v[i].pname, v[i].pname_len,
						    v[j].pname, v[j].pname_len);
		     j++)
			;
		rc = add_group(out, v + i, j - i);
	}
done:
	free(v);
	if (rc)
		return sd_error_set(err, rc,
				    "out of memory pairing store "
				    "paths");
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sd_closure_changes_release(struct sd_closure_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free_strings(c->v[i].versions_a, c->v[i].nversions_a);
		free_strings(c->v[i].versions_b, c->v[i].nversions_b);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}
