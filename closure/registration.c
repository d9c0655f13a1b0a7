/* SPDX-License-Identifier: MIT */
#include "closure/registration.h"

#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/lines.h"
#include "closure/storepath.h"

int sd_parse_u64(const char *s, size_t len, uint64_t *out, struct sd_error *err)
{
	if (len == 0)
		return sd_error_set(err, SD_ERR_INVALID,
				    "expected a number, got an empty line");
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return sd_error_set(err, SD_ERR_INVALID,
					    "expected a decimal number, got "
					    "'%.*s'",
					    (int)(len > 40 ? 40 : len), s);
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return sd_error_set(err, SD_ERR_INVALID,
					    "number '%.*s' is too large",
					    (int)(len > 40 ? 40 : len), s);
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

struct parser {
	struct sd_lines lines;
	const char *store_dir;
	size_t total; /* lines in the file */
	struct sd_registration *reg;
	size_t cap;
	struct sd_hashmap *seen; /* hash part -> record index */
	struct sd_error *err;
};

static int fail(struct parser *p, size_t line, const char *what)
{
	/* Turn the message in err into "FILE:LINE: what: message". */
	if (what)
		return sd_error_prefix(p->err, SD_ERR_INVALID, "%s:%zu: %s",
				       p->lines.name, line, what);
	return sd_error_prefix(p->err, SD_ERR_INVALID, "%s:%zu", p->lines.name,
			       line);
}

static int nomem(struct parser *p)
{
	return sd_error_set(p->err, SD_ERR_NOMEM, "out of memory parsing %s",
			    p->lines.name);
}

/* Next line, or an error naming the record if the file ended. */
static int need_line(struct parser *p, size_t rec_line, const char *what,
		     const char **s, size_t *len)
{
	if (sd_lines_next(&p->lines, s, len))
		return 0;
	return sd_error_set(p->err, SD_ERR_INVALID,
			    "%s:%zu: truncated record (the record starting at "
			    "line %zu has no %s)",
			    p->lines.name, p->lines.lineno, rec_line, what);
}

static char *dup_mem(const char *s, size_t len)
{
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* Validate a store path line and copy it. */
static int take_path(struct parser *p, const char *s, size_t len,
		     const char *what, char **out)
{
	struct sd_spath sp;
	if (memchr(s, '\0', len)) {
		sd_error_set(p->err, SD_ERR_INVALID, "contains a NUL byte");
		return fail(p, p->lines.lineno, what);
	}
	if (sd_storepath_parse(p->store_dir, s, len, false, &sp, p->err))
		return fail(p, p->lines.lineno, what);
	*out = dup_mem(s, len);
	return *out ? 0 : nomem(p);
}

static bool is_short_layout(struct parser *p, const char *s, size_t len)
{
	size_t dl = strlen(p->store_dir);
	if (len == 0)
		return true;
	return len > dl && memcmp(s, p->store_dir, dl) == 0 && s[dl] == '/';
}

static int parse_record(struct parser *p, struct sd_reg_record *r)
{
	const char *s;
	size_t len;
	uint64_t v;
	int rc;

	/* Caller has read the path line into the lines cursor. */
	r->line = p->lines.lineno;

	rc = need_line(p, r->line, "narHash or deriver line", &s, &len);
	if (rc)
		return rc;
	if (!is_short_layout(p, s, len)) {
		if (sd_hash_parse(s, len, r->nar_hash, p->err))
			return fail(p, p->lines.lineno,
				    "expected a narHash or a deriver");
		r->has_hash = true;
		rc = need_line(p, r->line, "narSize line", &s, &len);
		if (rc)
			return rc;
		if (sd_parse_u64(s, len, &r->nar_size, p->err))
			return fail(p, p->lines.lineno, "bad narSize");
		rc = need_line(p, r->line, "deriver line", &s, &len);
		if (rc)
			return rc;
	}
	/* s/len is the deriver line. */
	if (len == 0) {
		r->deriver = strdup("");
		if (!r->deriver)
			return nomem(p);
	} else {
		rc = take_path(p, s, len, "bad deriver", &r->deriver);
		if (rc)
			return rc;
	}

	rc = need_line(p, r->line, "reference count line", &s, &len);
	if (rc)
		return rc;
	if (sd_parse_u64(s, len, &v, p->err))
		return fail(p, p->lines.lineno, "bad reference count");
	size_t left = p->total - p->lines.lineno;
	if (v > left)
		return sd_error_set(p->err, SD_ERR_INVALID,
				    "%s:%zu: reference count %llu is larger "
				    "than the %zu lines left",
				    p->lines.name, p->lines.lineno,
				    (unsigned long long)v, left);
	r->refs = calloc(v ? (size_t)v : 1, sizeof(*r->refs));
	if (!r->refs)
		return nomem(p);
	for (size_t i = 0; i < (size_t)v; i++) {
		rc = need_line(p, r->line, "reference", &s, &len);
		if (rc)
			return rc;
		r->refs[i].line = p->lines.lineno;
		rc = take_path(p, s, len, "bad reference", &r->refs[i].path);
		if (rc)
			return rc;
		r->nrefs++;
	}
	return 0;
}

static int parse_all(struct parser *p)
{
	const char *s;
	size_t len;

	while (sd_lines_next(&p->lines, &s, &len)) {
		if (p->reg->nrecs == p->cap) {
			size_t ncap = p->cap ? p->cap * 2 : 64;
			struct sd_reg_record *nr =
				realloc(p->reg->recs, ncap * sizeof(*nr));
			if (!nr)
				return nomem(p);
			p->reg->recs = nr;
			p->cap = ncap;
		}
		struct sd_reg_record *r = &p->reg->recs[p->reg->nrecs++];
		memset(r, 0, sizeof(*r));
		r->file = p->reg->file;
		int rc = take_path(p, s, len, "bad store path", &r->path);
		if (rc)
			return rc;
		r->base = r->path + strlen(p->store_dir) + 1;
		int64_t prev;
		rc = sd_hashmap_put(p->seen, r->base,
				    (int64_t)(p->reg->nrecs - 1), &prev,
				    p->err);
		if (rc)
			return rc;
		if (prev != SD_HASHMAP_NONE)
			return sd_error_set(p->err, SD_ERR_INVALID,
					    "%s:%zu: second record for the "
					    "hash of %s (first at line %zu)",
					    p->lines.name, p->lines.lineno,
					    r->path, p->reg->recs[prev].line);
		rc = parse_record(p, r);
		if (rc)
			return rc;
	}
	return 0;
}

static int run(struct parser *p, struct sd_registration **out)
{
	int rc;
	p->total = sd_lines_remaining(&p->lines);
	p->reg = calloc(1, sizeof(*p->reg));
	p->seen = sd_hashmap_new();
	if (!p->reg || !p->seen || !(p->reg->file = strdup(p->lines.name))) {
		rc = nomem(p);
		goto done;
	}
	rc = parse_all(p);
done:
	sd_hashmap_free(p->seen);
	sd_lines_release(&p->lines);
	if (rc) {
		sd_registration_free(p->reg);
		return rc;
	}
	*out = p->reg;
	return 0;
}

int sd_registration_load(const char *path, const char *store_dir,
			 struct sd_registration **out, struct sd_error *err)
{
	struct parser p = {.store_dir = store_dir, .err = err};
	int rc = sd_lines_init_file(&p.lines, path, err);
	if (rc)
		return rc;
	return run(&p, out);
}

int sd_registration_parse(const char *name, const char *data, size_t len,
			  const char *store_dir, struct sd_registration **out,
			  struct sd_error *err)
{
	struct parser p = {.store_dir = store_dir, .err = err};
	int rc = sd_lines_init_mem(&p.lines, name, data, len, err);
	if (rc)
		return rc;
	return run(&p, out);
}

void sd_registration_free(struct sd_registration *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->nrecs; i++) {
		struct sd_reg_record *r = &reg->recs[i];
		free(r->path);
		free(r->deriver);
		for (size_t k = 0; k < r->nrefs; k++)
			free(r->refs[k].path);
		free(r->refs);
	}
	free(reg->recs);
	free(reg->file);
	for (size_t i = 0; i < reg->nfiles; i++)
		free(reg->files[i]);
	free(reg->files);
	free(reg);
}
