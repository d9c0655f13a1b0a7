/* SPDX-License-Identifier: MIT */
/*
 * nixdb_rows.c — ValidPaths and Refs rows into a registration.
 */
#include "closure/nixdb_rows.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "closure/hashparse.h"
#include "closure/storepath.h"

struct rows {
	sqlite3 *db;
	const char *db_path;
	const char *store_dir;
	size_t dl; /* strlen(store_dir) */
	struct sd_registration *reg;
	size_t cap;   /* of reg->recs */
	int64_t *ids; /* every ValidPaths id, ascending */
	long *rec;    /* per id: index in reg->recs, or -1
			 * for a path outside the store dir */
	size_t nids, idcap;
	struct sd_error *err;
};

static int nomem(struct rows *r)
{
	return sd_error_set(r->err, SD_ERR_NOMEM, "out of memory");
}

/* An SQLite failure @src while doing @what. */
static int sql_error(struct rows *r, int src, const char *what)
{
	switch (src & 0xff) {
	case SQLITE_NOMEM: return nomem(r);
	case SQLITE_NOTADB:
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: not an SQLite database, so not a Nix "
				    "database (%s)",
				    r->db_path, sqlite3_errmsg(r->db));
	case SQLITE_CORRUPT:
		return sd_error_set(r->err, SD_ERR_CORRUPT,
				    "%s: the Nix database is corrupt (%s "
				    "while %s)",
				    r->db_path, sqlite3_errmsg(r->db), what);
	default:
		return sd_error_set(r->err, SD_ERR_IO,
				    "%s: cannot read the Nix database (%s "
				    "while %s)",
				    r->db_path, sqlite3_errmsg(r->db), what);
	}
}

/* Both tables present?  Else "not a Nix database". */
static int check_tables(struct rows *r)
{
	static const char sql[] =
		"SELECT name FROM sqlite_master WHERE type = 'table' "
		"AND name IN ('ValidPaths', 'Refs')";
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return sql_error(r, src, "listing the tables");
	bool valid = false, refs = false;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (name && strcmp(name, "ValidPaths") == 0)
			valid = true;
		else if (name && strcmp(name, "Refs") == 0)
			refs = true;
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE)
		return sql_error(r, src, "listing the tables");
	if (!valid || !refs)
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: not a Nix database (no table %s)",
				    r->db_path, valid ? "Refs" : "ValidPaths");
	return 0;
}

/* Prepare @sql; a failure to prepare means the schema is not Nix's. */
static int prepare(struct rows *r, const char *sql, sqlite3_stmt **st)
{
	int src = sqlite3_prepare_v2(r->db, sql, -1, st, NULL);
	if (src == SQLITE_OK)
		return 0;
	if ((src & 0xff) == SQLITE_ERROR)
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: not a Nix database (%s)", r->db_path,
				    sqlite3_errmsg(r->db));
	return sql_error(r, src, "preparing a query");
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

/* Text of column @col (NULL for SQL NULL), with its length in *@len. */
static const char *column_text(sqlite3_stmt *st, int col, size_t *len)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	*len = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return s;
}

static bool in_store(const struct rows *r, const char *s, size_t len)
{
	return len > r->dl + 1 && memcmp(s, r->store_dir, r->dl) == 0 &&
	       s[r->dl] == '/';
}

/* A valid store path of the store dir, copied; @what names the column. */
static int take_path(struct rows *r, int64_t id, const char *what,
		     const char *s, size_t len, char **out)
{
	struct sd_spath sp;
	if (memchr(s, '\0', len))
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: ValidPaths id %lld: bad %s: contains "
				    "a NUL byte",
				    r->db_path, (long long)id, what);
	if (sd_storepath_parse(r->store_dir, s, len, false, &sp, r->err))
		return sd_error_prefix(r->err, SD_ERR_INVALID,
				       "%s: ValidPaths id %lld: bad %s",
				       r->db_path, (long long)id, what);
	*out = dup_mem(s, len);
	return *out ? 0 : nomem(r);
}

/* Fill record @rec from the current ValidPaths row. */
static int fill_record(struct rows *r, sqlite3_stmt *st, int64_t id,
		       const char *path, size_t plen, struct sd_reg_record *rec)
{
	size_t len;
	const char *s;
	int rc = take_path(r, id, "store path", path, plen, &rec->path);
	if (rc)
		return rc;
	rec->base = rec->path + r->dl + 1;
	rec->line = (size_t)id;

	s = column_text(st, 2, &len);
	if (!s)
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: ValidPaths id %lld (%s): no hash",
				    r->db_path, (long long)id, rec->path);
	if (sd_hash_parse(s, len, rec->nar_hash, r->err))
		return sd_error_prefix(r->err, SD_ERR_INVALID,
				       "%s: ValidPaths id %lld (%s): bad hash",
				       r->db_path, (long long)id, rec->path);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		sqlite3_int64 size = sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 3) != SQLITE_INTEGER || size < 0)
			return sd_error_set(r->err, SD_ERR_INVALID,
					    "%s: ValidPaths id %lld (%s): bad "
					    "narSize",
					    r->db_path, (long long)id,
					    rec->path);
		rec->nar_size = (uint64_t)size;
		rec->has_hash = true;
	}

	s = column_text(st, 4, &len);
	if (!s || len == 0) {
		rec->deriver = strdup("");
		return rec->deriver ? 0 : nomem(r);
	}
	return take_path(r, id, "deriver", s, len, &rec->deriver);
}

static int add_id(struct rows *r, int64_t id, long rec)
{
	if (r->nids == r->idcap) {
		size_t ncap = r->idcap ? r->idcap * 2 : 256;
		int64_t *ni = realloc(r->ids, ncap * sizeof(*ni));
		if (!ni)
			return nomem(r);
		r->ids = ni;
		long *nr = realloc(r->rec, ncap * sizeof(*nr));
		if (!nr)
			return nomem(r);
		r->rec = nr;
		r->idcap = ncap;
	}
	r->ids[r->nids] = id;
	r->rec[r->nids++] = rec;
	return 0;
}

static int valid_row(struct rows *r, sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, 0);
	if (r->nids && id <= r->ids[r->nids - 1])
		return sd_error_set(r->err, SD_ERR_CORRUPT,
				    "%s: ValidPaths ids out of order at %lld",
				    r->db_path, (long long)id);
	size_t plen;
	const char *path = column_text(st, 1, &plen);
	if (!path)
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: ValidPaths id %lld has no path",
				    r->db_path, (long long)id);
	if (!in_store(r, path, plen))
		return add_id(r, id, -1);

	struct sd_registration *reg = r->reg;
	if (reg->nrecs == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		struct sd_reg_record *nr =
			realloc(reg->recs, ncap * sizeof(*nr));
		if (!nr)
			return nomem(r);
		reg->recs = nr;
		r->cap = ncap;
	}
	struct sd_reg_record *rec = &reg->recs[reg->nrecs++];
	memset(rec, 0, sizeof(*rec));
	rec->file = reg->file;
	int rc = fill_record(r, st, id, path, plen, rec);
	if (rc)
		return rc;
	return add_id(r, id, (long)(reg->nrecs - 1));
}

static int read_valid_paths(struct rows *r)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(r,
			 "SELECT id, path, hash, narSize, deriver "
			 "FROM ValidPaths ORDER BY id",
			 &st);
	if (rc)
		return rc;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = valid_row(r, st);
		if (rc)
			break;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sql_error(r, src, "reading ValidPaths");
	sqlite3_finalize(st);
	return rc;
}

/* Position of @id in r->ids, or -1. */
static long find_id(const struct rows *r, int64_t id)
{
	size_t lo = 0, hi = r->nids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->ids[mid] < id)
			lo = mid + 1;
		else if (r->ids[mid] > id)
			hi = mid;
		else
			return (long)mid;
	}
	return -1;
}

struct refs_cursor {
	long cur;   /* record whose refs are being appended, or -1 */
	size_t cap; /* capacity of its refs array */
};

static int ref_row(struct rows *r, sqlite3_stmt *st, struct refs_cursor *c)
{
	int64_t from = sqlite3_column_int64(st, 0);
	int64_t to = sqlite3_column_int64(st, 1);
	long a = find_id(r, from), b = find_id(r, to);
	if (a < 0 || b < 0)
		return sd_error_set(r->err, SD_ERR_CORRUPT,
				    "%s: Refs row (%lld, %lld) names no "
				    "ValidPaths row",
				    r->db_path, (long long)from, (long long)to);
	long ra = r->rec[a], rb = r->rec[b];
	if (ra < 0)
		return 0; /* the referrer is not in our store dir */
	struct sd_reg_record *rec = &r->reg->recs[ra];
	if (rb < 0)
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: ValidPaths id %lld (%s) refers to id "
				    "%lld, a path outside %s",
				    r->db_path, (long long)from, rec->path,
				    (long long)to, r->store_dir);
	if (c->cur != ra) {
		if (rec->nrefs)
			return sd_error_set(r->err, SD_ERR_CORRUPT,
					    "%s: Refs rows out of order at "
					    "%lld",
					    r->db_path, (long long)from);
		c->cur = ra;
		c->cap = 0;
	}
	if (rec->nrefs == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct sd_reg_ref *nr = realloc(rec->refs, ncap * sizeof(*nr));
		if (!nr)
			return nomem(r);
		rec->refs = nr;
		c->cap = ncap;
	}
	const char *tp = r->reg->recs[rb].path;
	struct sd_reg_ref *ref = &rec->refs[rec->nrefs];
	ref->path = strdup(tp);
	if (!ref->path)
		return nomem(r);
	ref->line = (size_t)from;
	rec->nrefs++;
	return 0;
}

static int read_refs(struct rows *r)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(r,
			 "SELECT referrer, reference FROM Refs "
			 "ORDER BY referrer, reference",
			 &st);
	if (rc)
		return rc;
	struct refs_cursor c = {.cur = -1};
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		rc = ref_row(r, st, &c);
		if (rc)
			break;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = sql_error(r, src, "reading Refs");
	sqlite3_finalize(st);
	return rc;
}

int sd_nixdb_read_rows(sqlite3 *db, const char *db_path, const char *store_dir,
		       struct sd_registration **out, struct sd_error *err)
{
	struct rows r = {
		.db = db,
		.db_path = db_path,
		.store_dir = store_dir,
		.dl = strlen(store_dir),
		.err = err,
	};
	*out = NULL;
	r.reg = calloc(1, sizeof(*r.reg));
	if (!r.reg || !(r.reg->file = strdup(db_path))) {
		free(r.reg);
		return nomem(&r);
	}
	int rc = check_tables(&r);
	if (rc == 0)
		rc = read_valid_paths(&r);
	if (rc == 0)
		rc = read_refs(&r);
	free(r.ids);
	free(r.rec);
	if (rc) {
		sd_registration_free(r.reg);
		return rc;
	}
	*out = r.reg;
	return 0;
}
