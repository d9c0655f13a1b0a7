/* SPDX-License-Identifier: MIT */
#include "app/verify_reg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/baseimage.h"
#include "app/verify_findings.h"
#include "closure/nar.h"
#include "closure/storepath.h"

/* A new string formatted like printf (NULL on allocation failure). */
static char *str_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

/* Basename of a logical store path the parser accepted. */
static const char *base_of(const struct sd_vreg *v, const char *path)
{
	return path + v->sdlen + 1;
}

int sd_vreg_read_root_file(const struct sd_tree *tree, const struct sd_node *n,
			   const char *image, const char *name, uint64_t max,
			   char **buf, size_t *len, struct sd_error *err)
{
	if (n->size > max)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: %s: %llu bytes, more than the %llu "
				    "read as an embedded file",
				    image, name, (unsigned long long)n->size,
				    (unsigned long long)max);
	*len = (size_t)n->size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return nomem(err);
	struct sd_stream *s = NULL;
	int rc = sd_tree_open(tree, n, &s, err);
	if (!rc) {
		size_t got = 0;
		rc = sd_stream_read_full(s, *buf, *len, &got, err);
		if (!rc && got != *len)
			rc = sd_error_set(err, SD_ERR_CORRUPT,
					  "%zu of %zu bytes", got, *len);
		sd_stream_close(s);
	}
	if (rc) {
		free(*buf);
		*buf = NULL;
		if (rc == SD_ERR_IO)
			rc = SD_ERR_CORRUPT;
		return sd_error_prefix(err, rc, "%s: reading %s", image, name);
	}
	return 0;
}

/* Read and parse the embedded registration, if the image has one. */
static int load_embedded(struct sd_vreg *v, const struct sd_tree *tree,
			 const char *image, struct sd_error *err)
{
	const char *entry = SD_EMBEDDED_REGISTRATION;
	const struct sd_node *n =
		sd_node_child(tree->root, entry, strlen(entry));
	if (!n || n->type != SD_NODE_FILE)
		return 0;
	v->name = str_printf("%s/%s", v->store_dir, entry);
	if (!v->name)
		return nomem(err);
	char *buf;
	size_t len;
	int rc = sd_vreg_read_root_file(tree, n, image, v->name,
					SD_VREG_EMBEDDED_MAX, &buf, &len, err);
	if (rc)
		return rc;
	rc = sd_registration_parse(v->name, buf, len, v->store_dir, &v->owned,
				   err);
	free(buf);
	if (rc)
		return sd_error_prefix(err, rc, "%s", image);
	v->reg = v->owned;
	return 0;
}

int sd_vreg_init(struct sd_vreg *v, const struct sd_tree *tree,
		 const char *image, const struct sd_verify_options *opts,
		 struct sd_verify_result *res, struct sd_error *err)
{
	memset(v, 0, sizeof(*v));
	v->store_dir = opts->store_dir;
	v->sdlen = strlen(opts->store_dir);
	v->others = opts->others;
	v->nothers = opts->nothers;
	int rc;
	if (opts->registration) {
		const char *name = opts->registration_name
					   ? opts->registration_name
					   : opts->registration->file;
		v->reg = opts->registration;
		v->name = strdup(name ? name : "registration");
		if (!v->name)
			return nomem(err);
		res->reg.source = name ? name : "registration";
	} else {
		rc = load_embedded(v, tree, image, err);
		if (rc)
			return rc;
		if (v->reg)
			res->reg.source = "embedded";
	}
	if (!v->reg)
		return 0;
	res->reg.npaths = v->reg->nrecs;
	v->by_hash = sd_hashmap_new();
	if (!v->by_hash)
		return nomem(err);
	for (size_t i = 0; i < v->reg->nrecs; i++) {
		int64_t old;
		rc = sd_hashmap_put(v->by_hash, v->reg->recs[i].base,
				    (int64_t)i, &old, err);
		if (rc)
			return rc;
	}
	return 0;
}

const struct sd_reg_record *sd_vreg_record(const struct sd_vreg *v,
					   const struct sd_node *node)
{
	if (!v->reg || node->name_len < SD_HASH_CHARS)
		return NULL;
	int64_t i = sd_hashmap_get(v->by_hash, node->name);
	if (i == SD_HASHMAP_NONE)
		return NULL;
	const struct sd_reg_record *r = &v->reg->recs[i];
	return strcmp(r->base, node->name) ? NULL : r;
}

/* The top-level entry named by logical store path @path, or NULL. */
static const struct sd_node *
in_image(const struct sd_vreg *v, const struct sd_tree *tree, const char *path)
{
	const char *base = base_of(v, path);
	return sd_node_child(tree->root, base, strlen(base));
}

/* A violation about the registration file at @line. */
static int reg_violation(const struct sd_vreg *v, size_t line, const char *path,
			 char *reason, struct sd_verify_result *res,
			 struct sd_error *err)
{
	char *file = strdup(v->name);
	char *p = strdup(path);
	if (!file || !p || !reason) {
		free(file);
		free(p);
		free(reason);
		return nomem(err);
	}
	return sd_verify_add_finding(res, SD_FINDING_VIOLATION, file,
				     "registration", line, p, reason, err);
}

static int add_mismatch(struct sd_verify_registration *reg, char *path,
			const struct sd_reg_record *rec,
			const struct sd_nar_hash *got, struct sd_error *err)
{
	struct sd_nar_mismatch *m =
		realloc(reg->mismatches, (reg->nmismatches + 1) * sizeof(*m));
	if (!m) {
		free(path);
		return nomem(err);
	}
	reg->mismatches = m;
	m += reg->nmismatches++;
	m->path = path;
	memcpy(m->expected, rec->nar_hash, sizeof(m->expected));
	m->expected_size = rec->nar_size;
	memcpy(m->actual, got->sha256, sizeof(m->actual));
	m->actual_size = got->size;
	return 0;
}

/* The first other image of the union that holds store path @base, or
 * -1. */
static ptrdiff_t holder(const struct sd_vreg *v, const char *base)
{
	for (size_t k = 0; k < v->nothers; k++) {
		const struct sd_verify_other *o = &v->others[k];
		if (o->img && sd_base_image_has(o->img, base, strlen(base)))
			return (ptrdiff_t)k;
		for (size_t i = 0; !o->img && i < o->nbases; i++)
			if (!strcmp(o->bases[i], base))
				return (ptrdiff_t)k;
	}
	return -1;
}

/* Does @r register the same references as @b (as sets)? */
static bool same_refs(const struct sd_vreg *v, const struct sd_reg_record *r,
		      const struct sd_reg_record *b)
{
	if (r->nrefs != b->nrefs)
		return false;
	for (size_t i = 0; i < r->nrefs; i++) {
		const char *x = base_of(v, r->refs[i].path);
		size_t k = 0;
		while (k < b->nrefs && strcmp(x, base_of(v, b->refs[k].path)))
			k++;
		if (k == b->nrefs)
			return false;
	}
	return true;
}

/* A registered narHash/narSize (@r) that another image's (@have, @size)
 * contradicts: a violation, and an entry of res->reg.mismatches. */
static int held_mismatch(const struct sd_vreg *v, const struct sd_reg_record *r,
			 const char *image, const char *whose,
			 const struct sd_nar_hash *have,
			 struct sd_verify_result *res, struct sd_error *err)
{
	char want[SD_NAR_NIX32_LEN + 1], got[SD_NAR_NIX32_LEN + 1];
	sd_nar_hash_nix32(r->nar_hash, want);
	sd_nar_hash_nix32(have->sha256, got);
	char *mpath = strdup(r->path);
	if (!mpath)
		return nomem(err);
	int rc = add_mismatch(&res->reg, mpath, r, have, err);
	if (rc)
		return rc;
	return reg_violation(v, r->line, r->path,
			     str_printf("registered with narHash %s (%llu "
					"bytes), but %s, which holds it, %s "
					"%s (%llu bytes)",
					want, (unsigned long long)r->nar_size,
					image, whose, got,
					(unsigned long long)have->size),
			     res, err);
}

/*
 * Registered path @r that other image @o holds: its record must agree
 * with @o's registration.  When @o has no record for it, *@pending is
 * set: its narHash is computed from @o afterwards (check_pending).
 */
static int check_held(const struct sd_vreg *v, const struct sd_reg_record *r,
		      const struct sd_verify_other *o, bool *pending,
		      struct sd_verify_result *res, struct sd_error *err)
{
	const struct sd_reg_record *b =
		o->img ? sd_base_image_record(o->img, r->base, strlen(r->base))
		       : NULL;
	if (!b) {
		*pending = r->has_hash && o->img;
		return 0;
	}
	if (r->has_hash) {
		res->reg.nar_checked++;
		struct sd_nar_hash have;
		memcpy(have.sha256, b->nar_hash, sizeof(have.sha256));
		have.size = b->nar_size;
		if (memcmp(r->nar_hash, b->nar_hash, sizeof(b->nar_hash)) ||
		    r->nar_size != b->nar_size)
			return held_mismatch(v, r, o->image,
					     "registers it with narHash", &have,
					     res, err);
	}
	if (same_refs(v, r, b))
		return 0;
	return reg_violation(v, r->line, r->path,
			     str_printf("its registered references differ "
					"from those %s, which holds it, "
					"registers (%s:%zu)",
					o->image, SD_EMBEDDED_REGISTRATION,
					b->line),
			     res, err);
}

/* The narHashes of the registered paths @pend (other image @owner[i] of
 * each holds it, without a record) computed from those images. */
static int check_pending(const struct sd_vreg *v,
			 const struct sd_reg_record *const *pend,
			 const size_t *owner, size_t n,
			 struct sd_verify_result *res, struct sd_error *err)
{
	const char **names = calloc(n + 1, sizeof(*names));
	const struct sd_reg_record **recs = calloc(n + 1, sizeof(*recs));
	struct sd_nar_hash *h = calloc(n + 1, sizeof(*h));
	int rc = names && recs && h ? 0 : nomem(err);
	for (size_t k = 0; !rc && k < v->nothers; k++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (owner[i] == k) {
				recs[m] = pend[i];
				names[m++] = pend[i]->base;
			}
		if (!m)
			continue;
		const struct sd_verify_other *o = &v->others[k];
		rc = sd_base_image_nar_hashes(o->img, names, m, h, err);
		for (size_t i = 0; !rc && i < m; i++) {
			res->reg.nar_checked++;
			if (memcmp(h[i].sha256, recs[i]->nar_hash, 32) ||
			    h[i].size != recs[i]->nar_size)
				rc = held_mismatch(v, recs[i], o->image,
						   "has narHash", &h[i], res,
						   err);
		}
	}
	free(names);
	free(recs);
	free(h);
	return rc;
}

static int check_records(const struct sd_vreg *v, const struct sd_tree *tree,
			 struct sd_verify_result *res, struct sd_error *err)
{
	const struct sd_reg_record **pend =
		calloc(v->reg->nrecs + 1, sizeof(*pend));
	size_t *owner = calloc(v->reg->nrecs + 1, sizeof(*owner));
	size_t npend = 0;
	if (!pend || !owner) {
		free(pend);
		free(owner);
		return nomem(err);
	}
	int rc = 0;
	for (size_t i = 0; !rc && i < v->reg->nrecs; i++) {
		const struct sd_reg_record *r = &v->reg->recs[i];
		ptrdiff_t hk = -1;
		bool pending = false;
		if (in_image(v, tree, r->path))
			;
		else if ((hk = holder(v, r->base)) >= 0)
			rc = check_held(v, r, &v->others[hk], &pending, res,
					err);
		else
			rc = reg_violation(v, r->line, r->path,
					   strdup("registered, but not in the "
						  "image"),
					   res, err);
		if (pending) {
			pend[npend] = r;
			owner[npend++] = (size_t)hk;
		}
		for (size_t k = 0; !rc && k < r->nrefs; k++) {
			const char *ref = r->refs[k].path;
			if (in_image(v, tree, ref) ||
			    sd_hashmap_get(v->by_hash, base_of(v, ref)) !=
				    SD_HASHMAP_NONE)
				continue;
			rc = reg_violation(v, r->refs[k].line, ref,
					   str_printf("registered reference "
						      "of %s to a store path "
						      "that is not in the "
						      "image",
						      r->base),
					   res, err);
		}
	}
	if (!rc && npend)
		rc = check_pending(v, pend, owner, npend, res, err);
	free(pend);
	free(owner);
	return rc;
}

int sd_vreg_check_presence(const struct sd_vreg *v, const struct sd_tree *tree,
			   struct sd_verify_result *res, struct sd_error *err)
{
	if (!v->reg)
		return 0;
	int rc = check_records(v, tree, res, err);
	for (size_t i = 0; !rc && i < tree->root->nchildren; i++) {
		const struct sd_node *n = tree->root->children[i];
		if (sd_storepath_base_problem(n->name, n->name_len) ||
		    sd_vreg_record(v, n))
			continue;
		char *file = sd_node_path_under(n, v->store_dir);
		char *path = sd_node_path_under(n, v->store_dir);
		char *reason = str_printf("store path is not registered in %s",
					  v->name);
		if (!file || !path || !reason) {
			free(file);
			free(path);
			free(reason);
			return nomem(err);
		}
		rc = sd_verify_add_finding(res, SD_FINDING_VIOLATION, file,
					   "entry", 0, path, reason, err);
	}
	return rc;
}

int sd_vreg_check_nar(const struct sd_vreg *v, const struct sd_tree *tree,
		      const struct sd_node *top,
		      const struct sd_reg_record *rec,
		      struct sd_verify_result *res, struct sd_error *err)
{
	(void)v;
	if (!rec || !rec->has_hash)
		return 0;
	res->reg.nar_checked++;
	struct sd_nar_hash got;
	struct sd_error nerr;
	sd_error_init(&nerr);
	int rc = sd_nar_hash(tree, top, &got, &nerr);
	char *reason = NULL;
	if (rc == SD_ERR_UNSUPPORTED) {
		reason = str_printf("cannot compute its narHash: %s", nerr.msg);
	} else if (rc) {
		*err = nerr;
		return rc;
	} else if (memcmp(got.sha256, rec->nar_hash, sizeof(got.sha256)) ||
		   got.size != rec->nar_size) {
		char want[SD_NAR_NIX32_LEN + 1], have[SD_NAR_NIX32_LEN + 1];
		sd_nar_hash_nix32(rec->nar_hash, want);
		sd_nar_hash_nix32(got.sha256, have);
		reason = str_printf("narHash/narSize differ from the "
				    "registration: registered %s (%llu "
				    "bytes), image %s (%llu bytes)",
				    want, (unsigned long long)rec->nar_size,
				    have, (unsigned long long)got.size);
		char *mpath = strdup(rec->path);
		if (!reason || !mpath) {
			free(reason);
			free(mpath);
			return nomem(err);
		}
		rc = add_mismatch(&res->reg, mpath, rec, &got, err);
		if (rc) {
			free(reason);
			return rc;
		}
	} else {
		return 0;
	}
	char *file = strdup(rec->path);
	char *path = strdup(rec->path);
	if (!file || !path || !reason) {
		free(file);
		free(path);
		free(reason);
		return nomem(err);
	}
	return sd_verify_add_finding(res, SD_FINDING_VIOLATION, file, "entry",
				     0, path, reason, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* Append "<store-dir>/<base>" to list @l of @n entries. */
static int list_add(const struct sd_vreg *v, char **l, size_t *n,
		    const char *base)
{
	l[*n] = str_printf("%s/%s", v->store_dir, base);
	if (!l[*n])
		return -1;
	(*n)++;
	return 0;
}

static void diff_free(struct sd_ref_difference *d)
{
	free(d->path);
	free_list(d->scanned_only, d->nscanned_only);
	free_list(d->registered_only, d->nregistered_only);
}

/* The two one-sided lists of @d (sorted); -1 on allocation failure. */
static int diff_lists(const struct sd_vreg *v, const struct sd_reg_record *rec,
		      const char *const *scanned, size_t nscanned,
		      struct sd_ref_difference *d)
{
	d->scanned_only = calloc(nscanned + 1, sizeof(char *));
	d->registered_only = calloc(rec->nrefs + 1, sizeof(char *));
	if (!d->scanned_only || !d->registered_only)
		return -1;
	for (size_t i = 0; i < nscanned; i++) {
		size_t k = 0;
		while (k < rec->nrefs &&
		       strcmp(base_of(v, rec->refs[k].path), scanned[i]))
			k++;
		if (k == rec->nrefs &&
		    list_add(v, d->scanned_only, &d->nscanned_only, scanned[i]))
			return -1;
	}
	for (size_t k = 0; k < rec->nrefs; k++) {
		const char *base = base_of(v, rec->refs[k].path);
		size_t i = 0;
		while (i < nscanned && strcmp(base, scanned[i]))
			i++;
		if (i == nscanned &&
		    list_add(v, d->registered_only, &d->nregistered_only, base))
			return -1;
	}
	qsort(d->scanned_only, d->nscanned_only, sizeof(char *), cmp_str);
	qsort(d->registered_only, d->nregistered_only, sizeof(char *), cmp_str);
	return 0;
}

int sd_vreg_compare_refs(const struct sd_vreg *v, const struct sd_node *top,
			 const struct sd_reg_record *rec,
			 const char *const *scanned, size_t nscanned,
			 struct sd_verify_result *res, struct sd_error *err)
{
	if (!rec)
		return 0;
	struct sd_ref_difference d = {0};
	if (diff_lists(v, rec, scanned, nscanned, &d)) {
		diff_free(&d);
		return nomem(err);
	}
	if (!d.nscanned_only && !d.nregistered_only) {
		diff_free(&d);
		return 0;
	}
	d.path = sd_node_path_under(top, v->store_dir);
	struct sd_verify_registration *reg = &res->reg;
	struct sd_ref_difference *nd =
		d.path ? realloc(reg->diffs, (reg->ndiffs + 1) * sizeof(*nd))
		       : NULL;
	if (!nd) {
		diff_free(&d);
		return nomem(err);
	}
	reg->diffs = nd;
	reg->diffs[reg->ndiffs++] = d;
	return 0;
}

void sd_vreg_release(struct sd_vreg *v)
{
	sd_registration_free(v->owned);
	sd_hashmap_free(v->by_hash);
	free(v->name);
	memset(v, 0, sizeof(*v));
}
