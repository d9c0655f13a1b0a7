/* SPDX-License-Identifier: MIT */
#include "app/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/lines.h"
#include "closure/storepath.h"

#define HEADER "storedisk-manifest 1"

struct sd_manifest *sd_manifest_new(const char *store_dir)
{
	struct sd_manifest *m = calloc(1, sizeof(*m));
	if (m && !(m->store_dir = strdup(store_dir))) {
		free(m);
		m = NULL;
	}
	return m;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void sd_manifest_free(struct sd_manifest *m)
{
	if (!m)
		return;
	free_list(m->roots, m->nroots);
	free_list(m->absent, m->nabsent);
	free_list(m->accepted, m->naccepted);
	free(m->store_dir);
	free(m);
}

/* Append "<store-dir>/<base>" to list @l of @n entries. */
static int push(const struct sd_manifest *m, char ***l, size_t *n,
		const char *base, size_t len, struct sd_error *err)
{
	size_t sz = strlen(m->store_dir) + 1 + len + 1;
	char *s = malloc(sz);
	char **nl = realloc(*l, (*n + 1) * sizeof(**l));
	if (!s || !nl) {
		free(s);
		if (nl)
			*l = nl;
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	snprintf(s, sz, "%s/%.*s", m->store_dir, (int)len, base);
	*l = nl;
	(*l)[(*n)++] = s;
	return 0;
}

int sd_manifest_add_root(struct sd_manifest *m, const char *base, size_t len,
			 struct sd_error *err)
{
	return push(m, &m->roots, &m->nroots, base, len, err);
}

int sd_manifest_add_absent(struct sd_manifest *m, const char *base, size_t len,
			   struct sd_error *err)
{
	return push(m, &m->absent, &m->nabsent, base, len, err);
}

int sd_manifest_add_accepted(struct sd_manifest *m, const char *base,
			     size_t len, struct sd_error *err)
{
	return push(m, &m->accepted, &m->naccepted, base, len, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort @l and drop repeated entries. */
static void sort_unique(char **l, size_t *n)
{
	if (*n < 2)
		return;
	qsort(l, *n, sizeof(*l), cmp_str);
	size_t k = 1;
	for (size_t i = 1; i < *n; i++) {
		if (!strcmp(l[i], l[k - 1]))
			free(l[i]);
		else
			l[k++] = l[i];
	}
	*n = k;
}

struct buf {
	char *p;
	size_t len, cap;
	bool fail;
};

static void put(struct buf *b, const char *kind, const char *value)
{
	size_t need = strlen(kind) + 1 + strlen(value) + 2;
	if (b->fail)
		return;
	if (b->len + need > b->cap) {
		size_t ncap = (b->cap + need) * 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->fail = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len, "%s%s%s\n",
				   kind, *kind ? " " : "", value);
}

int sd_manifest_text(struct sd_manifest *m, char **text, size_t *len,
		     struct sd_error *err)
{
	struct buf b = {0};
	sort_unique(m->absent, &m->nabsent);
	sort_unique(m->accepted, &m->naccepted);
	put(&b, "", HEADER);
	put(&b, "store-dir", m->store_dir);
	for (size_t i = 0; i < m->nroots; i++)
		put(&b, "root", m->roots[i]);
	for (size_t i = 0; i < m->nabsent; i++)
		put(&b, "absent", m->absent[i]);
	for (size_t i = 0; i < m->naccepted; i++)
		put(&b, "accepted", m->accepted[i]);
	if (b.fail) {
		free(b.p);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	*text = b.p;
	*len = b.len;
	return 0;
}

const char *sd_manifest_entry_hash(const struct sd_manifest *m,
				   const char *entry)
{
	return entry + strlen(m->store_dir) + 1;
}

/* "<store-dir>/<hash>[-<name>]": NULL or a reason. */
static const char *entry_problem(const char *store_dir, const char *v,
				 size_t len)
{
	size_t sdlen = strlen(store_dir);
	if (len < sdlen + 1 || memcmp(v, store_dir, sdlen) || v[sdlen] != '/')
		return "not in the manifest's store directory";
	v += sdlen + 1;
	len -= sdlen + 1;
	if (len == SD_HASH_CHARS)
		return sd_storepath_hash_problem(v, len);
	return sd_storepath_base_problem(v, len);
}

static int parse_lines(struct sd_lines *l, struct sd_manifest **out,
		       struct sd_error *err)
{
	const char *line;
	size_t len;
	if (!sd_lines_next(l, &line, &len) || len != strlen(HEADER) ||
	    memcmp(line, HEADER, len))
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s:1: not a storedisk manifest (want "
				    "\"" HEADER "\")",
				    l->name);
	if (!sd_lines_next(l, &line, &len) || len < 11 ||
	    memcmp(line, "store-dir /", 11) || memchr(line, '\0', len))
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s:2: want \"store-dir <directory>\"",
				    l->name);
	char *sd = strndup(line + 10, len - 10);
	struct sd_manifest *m = sd ? sd_manifest_new(sd) : NULL;
	free(sd);
	if (!m)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = 0;
	while (!rc && sd_lines_next(l, &line, &len)) {
		const char *sp = memchr(line, ' ', len);
		if (!sp)
			continue; /* a kind of a later version */
		size_t klen = (size_t)(sp - line);
		const char *v = sp + 1;
		size_t vlen = len - klen - 1;
		char ***list = NULL;
		size_t *n = NULL;
		if (klen == 4 && !memcmp(line, "root", 4)) {
			list = &m->roots;
			n = &m->nroots;
		} else if (klen == 6 && !memcmp(line, "absent", 6)) {
			list = &m->absent;
			n = &m->nabsent;
		} else if (klen == 8 && !memcmp(line, "accepted", 8)) {
			list = &m->accepted;
			n = &m->naccepted;
		} else {
			continue;
		}
		const char *why = entry_problem(m->store_dir, v, vlen);
		if (why) {
			rc = sd_error_set(err, SD_ERR_INVALID,
					  "%s:%zu: %.*s: %s", l->name,
					  l->lineno,
					  (int)(vlen > 300 ? 300 : vlen), v,
					  why);
			break;
		}
		size_t skip = strlen(m->store_dir) + 1;
		rc = push(m, list, n, v + skip, vlen - skip, err);
	}
	if (rc) {
		sd_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int sd_manifest_parse(const char *text, size_t len, const char *name,
		      struct sd_manifest **out, struct sd_error *err)
{
	struct sd_lines l;
	int rc = sd_lines_init_mem(&l, name, text, len, err);
	if (rc)
		return rc;
	rc = parse_lines(&l, out, err);
	sd_lines_release(&l);
	return rc;
}
