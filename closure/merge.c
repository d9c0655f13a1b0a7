/* SPDX-License-Identifier: MIT */
/* merge.c — the union of several path lists or registrations. */
#include "closure/merge.h"

#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/nar.h"

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory merging lists");
}

/* "A, B, C": the names of the merged files, for messages about all. */
static char *join_names(char *const *names, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 2;
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (i) {
			memcpy(s + at, ", ", 2);
			at += 2;
		}
		size_t l = strlen(names[i]);
		memcpy(s + at, names[i], l);
		at += l;
	}
	s[at] = '\0';
	return s;
}

int sd_pathlist_merge(struct sd_pathlist **lists, size_t n,
		      struct sd_pathlist **out, struct sd_error *err)
{
	*out = NULL;
	if (n == 1) {
		*out = lists[0];
		lists[0] = NULL;
		return 0;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += lists[i]->n;
	struct sd_pathlist *m = calloc(1, sizeof(*m));
	if (m) {
		m->entries = malloc((total ? total : 1) * sizeof(*m->entries));
		m->files = calloc(n, sizeof(*m->files));
	}
	int rc = 0;
	if (!m || !m->entries || !m->files) {
		rc = nomem(err);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		struct sd_pathlist *pl = lists[i];
		/* Entries move with their strings; their ->file points at
		 * pl->file, which moves into m->files. */
		memcpy(m->entries + m->n, pl->entries,
		       pl->n * sizeof(*pl->entries));
		m->n += pl->n;
		pl->n = 0;
		m->files[m->nfiles++] = pl->file;
		pl->file = NULL;
	}
	m->file = join_names(m->files, m->nfiles);
	if (!m->file)
		rc = nomem(err);
done:
	for (size_t i = 0; i < n; i++) {
		sd_pathlist_free(lists[i]);
		lists[i] = NULL;
	}
	if (rc) {
		sd_pathlist_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The references of @r sorted, without repetitions (malloc'ed). */
static const char **ref_set(const struct sd_reg_record *r, size_t *n)
{
	const char **v = malloc((r->nrefs ? r->nrefs : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t k = 0; k < r->nrefs; k++)
		v[k] = r->refs[k].path;
	qsort(v, r->nrefs, sizeof(*v), cmp_str);
	size_t u = 0;
	for (size_t k = 0; k < r->nrefs; k++)
		if (!u || strcmp(v[u - 1], v[k]))
			v[u++] = v[k];
	*n = u;
	return v;
}

/* 1 if @a and @b list the same references, 0 if not, -1 out of memory. */
static int same_refs(const struct sd_reg_record *a,
		     const struct sd_reg_record *b)
{
	size_t na, nb;
	const char **va = ref_set(a, &na);
	const char **vb = ref_set(b, &nb);
	int same = -1;
	if (va && vb) {
		same = na == nb;
		for (size_t k = 0; same && k < na; k++)
			same = !strcmp(va[k], vb[k]);
	}
	free(va);
	free(vb);
	return same;
}

static int conflict(const struct sd_reg_record *keep,
		    const struct sd_reg_record *dup, const char *what,
		    struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_INVALID,
			    "conflicting records for %s: %s (%s:%zu, %s:%zu)",
			    keep->path, what, keep->file, keep->line, dup->file,
			    dup->line);
}

/*
 * @dup is a second record for @keep's hash part: check that they agree
 * and complete @keep from @dup (narHash/narSize, deriver).
 */
static int absorb(struct sd_reg_record *keep, struct sd_reg_record *dup,
		  struct sd_error *err)
{
	if (strcmp(keep->base, dup->base))
		return sd_error_set(err, SD_ERR_INVALID,
				    "two store paths with one hash part: %s "
				    "(%s:%zu) and %s (%s:%zu)",
				    keep->path, keep->file, keep->line,
				    dup->path, dup->file, dup->line);
	if (keep->has_hash && dup->has_hash) {
		if (memcmp(keep->nar_hash, dup->nar_hash,
			   sizeof(keep->nar_hash))) {
			char a[SD_NAR_NIX32_LEN + 1], b[SD_NAR_NIX32_LEN + 1];
			sd_nar_hash_nix32(keep->nar_hash, a);
			sd_nar_hash_nix32(dup->nar_hash, b);
			return sd_error_set(err, SD_ERR_INVALID,
					    "conflicting records for %s: "
					    "narHash differs (%s:%zu: %s, "
					    "%s:%zu: %s)",
					    keep->path, keep->file, keep->line,
					    a, dup->file, dup->line, b);
		}
		if (keep->nar_size != dup->nar_size)
			return sd_error_set(err, SD_ERR_INVALID,
					    "conflicting records for %s: "
					    "narSize differs (%s:%zu: %llu, "
					    "%s:%zu: %llu)",
					    keep->path, keep->file, keep->line,
					    (unsigned long long)keep->nar_size,
					    dup->file, dup->line,
					    (unsigned long long)dup->nar_size);
	}
	int same = same_refs(keep, dup);
	if (same < 0)
		return nomem(err);
	if (!same)
		return conflict(keep, dup, "references differ", err);
	if (!keep->has_hash && dup->has_hash) {
		keep->has_hash = true;
		memcpy(keep->nar_hash, dup->nar_hash, sizeof(keep->nar_hash));
		keep->nar_size = dup->nar_size;
	}
	if ((!keep->deriver || !*keep->deriver) && dup->deriver &&
	    *dup->deriver) {
		char *d = keep->deriver;
		keep->deriver = dup->deriver;
		dup->deriver = d;
	}
	return 0;
}

/* Move the records of @reg into @m, merging those already there. */
static int take_records(struct sd_registration *m, struct sd_hashmap *seen,
			struct sd_registration *reg, struct sd_error *err)
{
	for (size_t k = 0; k < reg->nrecs; k++) {
		struct sd_reg_record *r = &reg->recs[k];
		int64_t prev;
		int rc = sd_hashmap_put(seen, r->base, (int64_t)m->nrecs, &prev,
					err);
		if (rc)
			return rc;
		if (prev != SD_HASHMAP_NONE) {
			/* Left in @reg: freed with it. */
			rc = absorb(&m->recs[prev], r, err);
			if (rc)
				return rc;
			continue;
		}
		m->recs[m->nrecs++] = *r;
		memset(r, 0, sizeof(*r));
	}
	return 0;
}

int sd_registration_merge(struct sd_registration **regs, size_t n,
			  struct sd_registration **out, struct sd_error *err)
{
	*out = NULL;
	if (n == 1) {
		*out = regs[0];
		regs[0] = NULL;
		return 0;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += regs[i]->nrecs;
	struct sd_hashmap *seen = sd_hashmap_new();
	struct sd_registration *m = calloc(1, sizeof(*m));
	if (m) {
		m->recs = malloc((total ? total : 1) * sizeof(*m->recs));
		m->files = calloc(n, sizeof(*m->files));
	}
	int rc = 0;
	if (!seen || !m || !m->recs || !m->files) {
		rc = nomem(err);
		goto done;
	}
	/* The names first: records point at them. */
	for (size_t i = 0; i < n; i++) {
		m->files[m->nfiles++] = regs[i]->file;
		regs[i]->file = NULL;
	}
	for (size_t i = 0; !rc && i < n; i++)
		rc = take_records(m, seen, regs[i], err);
	if (!rc && !(m->file = join_names(m->files, m->nfiles)))
		rc = nomem(err);
done:
	sd_hashmap_free(seen);
	for (size_t i = 0; i < n; i++) {
		sd_registration_free(regs[i]);
		regs[i] = NULL;
	}
	if (rc) {
		sd_registration_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
