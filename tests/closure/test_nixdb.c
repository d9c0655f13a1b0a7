/* SPDX-License-Identifier: MIT */
/* Tests of reading a Nix database (closure/nixdb.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure/closure.h"
#include "closure/nixdb.h"
#include "closure/nixdb_open.h"
#include "closure/storepath.h"
#include "helpers.h"
#include "tests/common/tools.h"

#define SD "/nix/store"
#define HEX_A "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* Nix's schema (the tables we read plus what surrounds them). */
static const char schema[] =
	"CREATE TABLE ValidPaths (id integer primary key autoincrement not "
	"null, path text unique not null, hash text not null, "
	"registrationTime integer not null, deriver text, narSize integer, "
	"ultimate integer, sigs text, ca text);"
	"CREATE TABLE Refs (referrer integer not null, reference integer not "
	"null, primary key (referrer, reference), foreign key (referrer) "
	"references ValidPaths(id) on delete cascade, foreign key (reference) "
	"references ValidPaths(id) on delete restrict);"
	"CREATE INDEX IndexReferrer on Refs(referrer);"
	"CREATE INDEX IndexReference on Refs(reference);"
	"CREATE TABLE DerivationOutputs (drv integer not null, id text not "
	"null, path text not null, primary key (drv, id), foreign key (drv) "
	"references ValidPaths(id) on delete cascade);";

enum { A, B, C, D, H, I, X, NP };
static const char *names[NP] = {"a", "b", "c", "d", "h", "i", "x"};
static char base[NP][128];
static char lpath[NP][256];

static void setup(void)
{
	ct_setup();
	for (int i = 0; i < NP; i++) {
		char h[33];
		ct_hash(names[i], h);
		ct_fmt(base[i], sizeof base[i], "%s-%s", h, names[i]);
		ct_fmt(lpath[i], sizeof lpath[i], SD "/%s", base[i]);
	}
}

TestSuite(nixdb, .init = setup, .fini = tt_teardown);

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK,
		     "%s: %s", sql, msg ? msg : "?");
}

static sqlite3 *create_db(const char *rel, bool wal)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(tt_path(rel), &db), SQLITE_OK);
	if (wal)
		exec_sql(db, "PRAGMA journal_mode = wal");
	exec_sql(db, schema);
	return db;
}

/* Insert ValidPaths row @id for @path (NULL deriver if @deriver NULL). */
static void add_path(sqlite3 *db, int id, const char *path, const char *hash,
		     long long nar_size, const char *deriver)
{
	char sql[1024];
	ct_fmt(sql, sizeof sql,
	       "INSERT INTO ValidPaths (id, path, hash, registrationTime, "
	       "deriver, narSize) VALUES (%d, '%s', '%s', 1, %s%s%s, %lld)",
	       id, path, hash, deriver ? "'" : "", deriver ? deriver : "NULL",
	       deriver ? "'" : "", nar_size);
	exec_sql(db, sql);
}

static void add_ref(sqlite3 *db, int from, int to)
{
	char sql[128];
	ct_fmt(sql, sizeof sql,
	       "INSERT INTO Refs (referrer, reference) VALUES (%d, %d)", from,
	       to);
	exec_sql(db, sql);
}

/* The diamond a->{b,c}, b->d, c->d, d->d; cycle h<->i; x outside. */
static sqlite3 *make_graph_db(const char *rel, bool wal)
{
	sqlite3 *db = create_db(rel, wal);
	char drv[300];
	ct_fmt(drv, sizeof drv, SD "/%s.drv", base[X]);
	add_path(db, 1, lpath[A], "sha256:" HEX_A, 1234, drv);
	add_path(db, 2, lpath[B], "sha256:" HEX_A, 8, NULL);
	add_path(db, 3, lpath[C], "sha256:" HEX_A, 16, "");
	add_path(db, 5, lpath[D], "sha256:" HEX_A, 0, NULL);
	add_path(db, 6, lpath[H], "sha256:" HEX_A, 24, NULL);
	add_path(db, 7, lpath[I], "sha256:" HEX_A, 32, NULL);
	char other[300];
	ct_fmt(other, sizeof other, "/other/store/%s", base[X]);
	add_path(db, 9, other, "sha256:" HEX_A, 40, NULL);
	add_ref(db, 1, 2);
	add_ref(db, 1, 3);
	add_ref(db, 2, 5);
	add_ref(db, 3, 5);
	add_ref(db, 5, 5);
	add_ref(db, 6, 7);
	add_ref(db, 7, 6);
	add_ref(db, 9, 9);
	return db;
}

static struct sd_registration *load_ok(const char *rel)
{
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nixdb_load(tt_path(rel), SD, &reg, &err), 0, "%s",
		     err.msg);
	cr_assert_not_null(reg);
	return reg;
}

static void load_bad(const char *rel, int code, const char *expect)
{
	struct sd_registration *reg = (void *)1;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nixdb_load(tt_path(rel), SD, &reg, &err), code, "%s",
		     err.msg);
	cr_assert_null(reg);
	cr_assert(strstr(err.msg, expect), "expected '%s' in '%s'", expect,
		  err.msg);
	cr_assert(strstr(err.msg, tt_path(rel)), "no path in '%s'", err.msg);
}

static const struct sd_reg_record *rec_of(const struct sd_registration *reg,
					  int i)
{
	for (size_t k = 0; k < reg->nrecs; k++)
		if (strcmp(reg->recs[k].path, lpath[i]) == 0)
			return &reg->recs[k];
	cr_assert_fail("%s not loaded", names[i]);
	return NULL;
}

static bool has_ref(const struct sd_reg_record *r, int i)
{
	for (size_t k = 0; k < r->nrefs; k++)
		if (strcmp(r->refs[k].path, lpath[i]) == 0)
			return true;
	return false;
}

Test(nixdb, default_path)
{
	cr_assert_str_eq(sd_nixdb_default_path(), "/nix/var/nix/db/db.sqlite");
}

Test(nixdb, loads_records)
{
	sqlite3_close(make_graph_db("db.sqlite", false));
	struct sd_registration *reg = load_ok("db.sqlite");
	cr_assert_str_eq(reg->file, tt_path("db.sqlite"));
	cr_assert_eq(reg->nrecs, 6, "the path outside the store is left out");
	/* id order */
	cr_assert_str_eq(reg->recs[0].path, lpath[A]);
	cr_assert_str_eq(reg->recs[5].path, lpath[I]);

	const struct sd_reg_record *a = rec_of(reg, A);
	cr_assert_str_eq(a->base, base[A]);
	cr_assert(a->has_hash);
	cr_assert_eq(a->nar_hash[0], 0xba);
	cr_assert_eq(a->nar_hash[31], 0xad);
	cr_assert_eq(a->nar_size, 1234);
	cr_assert(strstr(a->deriver, ".drv"));
	cr_assert_eq(a->line, 1);
	cr_assert_eq(a->nrefs, 2);
	cr_assert(has_ref(a, B) && has_ref(a, C));
	cr_assert_eq(a->refs[0].line, 1);

	cr_assert_str_eq(rec_of(reg, B)->deriver, "");
	cr_assert_str_eq(rec_of(reg, C)->deriver, "");
	const struct sd_reg_record *d = rec_of(reg, D);
	cr_assert_eq(d->line, 5);
	cr_assert_eq(d->nrefs, 1);
	cr_assert(has_ref(d, D), "self reference kept");
	cr_assert_eq(d->nar_size, 0);
	cr_assert(has_ref(rec_of(reg, H), I) && has_ref(rec_of(reg, I), H));
	sd_registration_free(reg);
}

Test(nixdb, null_nar_size_means_no_hash)
{
	sqlite3 *db = create_db("db.sqlite", false);
	exec_sql(db,
		 "INSERT INTO ValidPaths (id, path, hash, "
		 "registrationTime) VALUES (1, '" SD "/"
		 "0c6kzph7l0dcbqmbcngxsqifxnnqbgv2-p', 'sha256:" HEX_A "', 1)");
	sqlite3_close(db);
	struct sd_registration *reg = load_ok("db.sqlite");
	cr_assert_eq(reg->nrecs, 1);
	cr_assert_not(reg->recs[0].has_hash);
	sd_registration_free(reg);
}

Test(nixdb, empty_db)
{
	sqlite3_close(create_db("db.sqlite", false));
	struct sd_registration *reg = load_ok("db.sqlite");
	cr_assert_eq(reg->nrecs, 0);
	sd_registration_free(reg);
}

/* A physical store holding the graph's paths (files without content). */
static struct sd_store *make_store(void)
{
	tt_mkdir("nix/store");
	for (int i = 0; i < NP; i++) {
		char rel[300];
		ct_fmt(rel, sizeof rel, "nix/store/%s", base[i]);
		tt_write(rel, names[i], (size_t)-1, 0644);
	}
	struct sd_store *st = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_store_new(SD, tt_path("nix/store"), &st, &err), 0, "%s",
		     err.msg);
	return st;
}

static struct sd_closure *closure_of(const struct sd_store *st,
				     const struct sd_registration *reg,
				     int root)
{
	struct sd_closure_opts o = {
		.source = SD_CLOSURE_REGISTRATION,
		.reg = reg,
	};
	const char *roots[] = {lpath[root]};
	struct sd_closure *c = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_closure_compute(st, roots, 1, &o, &c, &err), 0, "%s",
		     err.msg);
	return c;
}

static bool edge(const struct sd_closure *c, int from, int to)
{
	char h1[33], h2[33];
	memcpy(h1, base[from], 32);
	memcpy(h2, base[to], 32);
	h1[32] = h2[32] = '\0';
	long f = sd_closure_find(c, h1), t = sd_closure_find(c, h2);
	cr_assert_geq(f, 0);
	cr_assert_geq(t, 0);
	const struct sd_closure_path *p = &c->paths[f];
	for (size_t k = 0; k < p->nrefs; k++)
		if (p->refs[k] == (size_t)t)
			return true;
	return false;
}

Test(nixdb, closure_diamond_and_cycle)
{
	sqlite3_close(make_graph_db("db.sqlite", true));
	struct sd_registration *reg = load_ok("db.sqlite");
	struct sd_store *st = make_store();

	struct sd_closure *c = closure_of(st, reg, A);
	cr_assert_eq(c->npaths, 4);
	cr_assert(edge(c, A, B) && edge(c, A, C));
	cr_assert(edge(c, B, D) && edge(c, C, D) && edge(c, D, D));
	cr_assert_not(edge(c, D, A));
	for (size_t k = 0; k < c->npaths; k++) {
		cr_assert(c->paths[k].has_nar);
		cr_assert_not_null(c->paths[k].deriver);
	}
	sd_closure_free(c);

	c = closure_of(st, reg, H);
	cr_assert_eq(c->npaths, 2);
	cr_assert(edge(c, H, I) && edge(c, I, H));
	sd_closure_free(c);

	sd_store_free(st);
	sd_registration_free(reg);
}

/* Names in tt_tmp, sorted, joined by ' '. */
static void list_dir(char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(tt_tmp, &ents, NULL, alphasort);
	cr_assert_geq(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t used = strlen(out);
		ct_fmt(out + used, len - used, "%s ", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

Test(nixdb, readable_under_an_exclusive_write_transaction)
{
	sqlite3 *db = make_graph_db("db.sqlite", false);
	exec_sql(db, "BEGIN EXCLUSIVE");
	add_path(db, 20, "/nix/store/2a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc-new",
		 "sha256:" HEX_A, 1, NULL);
	/* A normal reader is locked out... */
	sqlite3 *other = NULL;
	cr_assert_eq(sqlite3_open(tt_path("db.sqlite"), &other), SQLITE_OK);
	cr_assert_neq(sqlite3_exec(other, "SELECT * FROM ValidPaths", NULL,
				   NULL, NULL),
		      SQLITE_OK);
	sqlite3_close(other);

	char before[1024], after[1024];
	list_dir(before, sizeof before);
	/* ...we are not, and we see the last committed state. */
	struct sd_registration *reg = load_ok("db.sqlite");
	cr_assert_eq(reg->nrecs, 6);
	sd_registration_free(reg);
	list_dir(after, sizeof after);
	cr_assert_str_eq(before, after, "files appeared next to the db");
	exec_sql(db, "COMMIT");
	sqlite3_close(db);

	reg = load_ok("db.sqlite");
	cr_assert_eq(reg->nrecs, 7);
	sd_registration_free(reg);
}

Test(nixdb, wal_db_with_a_writer)
{
	sqlite3 *db = make_graph_db("db.sqlite", true);
	exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	exec_sql(db, "BEGIN EXCLUSIVE");
	add_path(db, 20, "/nix/store/2a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc-new",
		 "sha256:" HEX_A, 1, NULL);
	char before[1024], after[1024];
	list_dir(before, sizeof before);
	struct sd_registration *reg = load_ok("db.sqlite");
	cr_assert_eq(reg->nrecs, 6);
	sd_registration_free(reg);
	list_dir(after, sizeof after);
	cr_assert_str_eq(before, after);
	exec_sql(db, "COMMIT");
	sqlite3_close(db); /* the last close checkpoints */
	reg = load_ok("db.sqlite");
	cr_assert_eq(reg->nrecs, 7);
	sd_registration_free(reg);
}

/* Existence, size, mtime and ctime of the files of a database. */
struct files_state {
	bool exists[4];
	struct stat st[4];
};

static void files_state(const char *rel, struct files_state *fs)
{
	static const char *const sfx[4] = {"", "-wal", "-shm", "-journal"};
	memset(fs, 0, sizeof *fs);
	for (int i = 0; i < 4; i++) {
		char name[300];
		ct_fmt(name, sizeof name, "%s%s", rel, sfx[i]);
		fs->exists[i] = stat(tt_path(name), &fs->st[i]) == 0;
	}
}

static void assert_same_files(const struct files_state *a,
			      const struct files_state *b)
{
	static const char *const sfx[4] = {"", "-wal", "-shm", "-journal"};
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(a->exists[i], b->exists[i], "db%s %s", sfx[i],
			     a->exists[i] ? "vanished" : "appeared");
		if (!a->exists[i])
			continue;
		const struct stat *x = &a->st[i], *y = &b->st[i];
		cr_assert_eq(x->st_ino, y->st_ino, "db%s replaced", sfx[i]);
		cr_assert_eq(x->st_size, y->st_size, "db%s size", sfx[i]);
		cr_assert(x->st_mtim.tv_sec == y->st_mtim.tv_sec &&
				  x->st_mtim.tv_nsec == y->st_mtim.tv_nsec,
			  "db%s mtime changed", sfx[i]);
	}
}

static struct sd_registration *read_ok(const char *rel,
				       struct sd_nixdb_how *how)
{
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nixdb_read(tt_path(rel), SD, &reg, how, &err), 0, "%s",
		     err.msg);
	cr_assert_not_null(reg);
	return reg;
}

/* A WAL database whose first six rows are checkpointed into the main file
 * and a seventh committed only to the -wal; the writer stays open (so
 * nothing checkpoints it) and is returned. */
static sqlite3 *make_uncheckpointed_db(const char *rel)
{
	sqlite3 *db = make_graph_db(rel, true);
	exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	exec_sql(db, "PRAGMA wal_autocheckpoint = 0");
	add_path(db, 20, "/nix/store/2a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc-new",
		 "sha256:" HEX_A, 1, NULL);
	add_ref(db, 20, 1);
	return db;
}

Test(nixdb, wal_sees_commits_not_yet_checkpointed)
{
	sqlite3 *db = make_uncheckpointed_db("db.sqlite");
	struct files_state before, after;
	files_state("db.sqlite", &before);
	cr_assert(before.exists[1] && before.st[1].st_size > 0,
		  "the new row is in the -wal");
	struct sd_nixdb_how how;
	struct sd_registration *reg = read_ok("db.sqlite", &how);
	files_state("db.sqlite", &after);
	cr_assert(how.wal);
	cr_assert_not(how.fallback);
	cr_assert_eq(reg->nrecs, 7, "the row only in the -wal is seen");
	cr_assert_str_eq(reg->recs[6].path,
			 "/nix/store/2a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc-new");
	cr_assert_eq(reg->recs[6].nrefs, 1);
	sd_registration_free(reg);
	assert_same_files(&before, &after);

	/* The writer is not blocked by the reader having been there, and
	 * the reader did not checkpoint: the -wal still holds the row. */
	add_path(db, 21, "/nix/store/3a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc-newer",
		 "sha256:" HEX_A, 1, NULL);
	struct stat st;
	cr_assert_eq(stat(tt_path("db.sqlite"), &st), 0);
	cr_assert_eq(st.st_size, before.st[0].st_size);
	reg = read_ok("db.sqlite", &how);
	cr_assert_eq(reg->nrecs, 8);
	sd_registration_free(reg);
	sqlite3_close(db);
}

Test(nixdb, wal_read_is_one_snapshot_beside_an_open_write_transaction)
{
	sqlite3 *db = make_uncheckpointed_db("db.sqlite");
	exec_sql(db, "BEGIN IMMEDIATE");
	add_path(db, 21, "/nix/store/3a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc-newer",
		 "sha256:" HEX_A, 1, NULL);
	struct files_state before, after;
	files_state("db.sqlite", &before);
	struct sd_nixdb_how how;
	struct sd_registration *reg = read_ok("db.sqlite", &how);
	files_state("db.sqlite", &after);
	cr_assert(how.wal);
	cr_assert_eq(reg->nrecs, 7, "committed rows only");
	sd_registration_free(reg);
	assert_same_files(&before, &after);
	exec_sql(db, "COMMIT");
	reg = read_ok("db.sqlite", &how);
	cr_assert_eq(reg->nrecs, 8);
	sd_registration_free(reg);
	sqlite3_close(db);
}

Test(nixdb, wal_db_closed_is_read_immutable_creating_nothing)
{
	sqlite3_close(make_graph_db("db.sqlite", true));
	struct files_state before, after;
	files_state("db.sqlite", &before);
	cr_assert_not(before.exists[1], "the last close removed the -wal");
	struct sd_nixdb_how how;
	struct sd_registration *reg = read_ok("db.sqlite", &how);
	files_state("db.sqlite", &after);
	cr_assert_not(how.wal);
	cr_assert_not(how.fallback, "nothing uncheckpointed: exact");
	cr_assert_eq(reg->nrecs, 6);
	sd_registration_free(reg);
	assert_same_files(&before, &after);
}

/* The WAL reader's VFS never creates a file: a WAL database whose -wal is
 * gone (what sd_nixdb_read meets if Nix closes it between its look and
 * the open) fails with SQLITE_CANTOPEN, and nothing appears. */
Test(nixdb, wal_open_never_creates_the_wal_or_shm)
{
	sqlite3_close(make_graph_db("db.sqlite", true));
	struct files_state before, after;
	files_state("db.sqlite", &before);
	cr_assert_not(before.exists[1] || before.exists[2]);
	sqlite3 *db = NULL;
	cr_assert_eq(sd_nixdb_open_wal(tt_path("db.sqlite"), &db), SQLITE_OK);
	int src = sqlite3_exec(db, "SELECT count(*) FROM ValidPaths", NULL,
			       NULL, NULL);
	cr_assert_eq(src & 0xff, SQLITE_CANTOPEN, "%d %s", src,
		     sqlite3_errmsg(db));
	sqlite3_close(db);
	files_state("db.sqlite", &after);
	assert_same_files(&before, &after);

	/* The same with the default VFS read-only: it creates both. */
	cr_assert_eq(sqlite3_open_v2(tt_path("db.sqlite"), &db,
				     SQLITE_OPEN_READONLY, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "SELECT count(*) FROM ValidPaths", NULL,
				  NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	files_state("db.sqlite", &after);
	cr_assert(after.exists[1] && after.exists[2],
		  "SQLite's plain read-only open does create them");
}

static void copy_file(const char *from, const char *to)
{
	char cmd[3000];
	ct_fmt(cmd, sizeof cmd, "cp '%s' '%s'", tt_path(from), tt_path(to));
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(nixdb, wal_without_shm_falls_back_to_the_main_file)
{
	sqlite3 *db = make_uncheckpointed_db("db.sqlite");
	tt_mkdir("copy");
	copy_file("db.sqlite", "copy/db.sqlite");
	copy_file("db.sqlite-wal", "copy/db.sqlite-wal");
	sqlite3_close(db);
	struct files_state before, after;
	files_state("copy/db.sqlite", &before);
	struct sd_nixdb_how how;
	struct sd_registration *reg = read_ok("copy/db.sqlite", &how);
	files_state("copy/db.sqlite", &after);
	cr_assert_not(how.wal);
	cr_assert(how.fallback);
	cr_assert(strstr(how.reason, "-shm does not"), "%s", how.reason);
	cr_assert_eq(reg->nrecs, 6, "what the main file holds");
	sd_registration_free(reg);
	assert_same_files(&before, &after);
}

Test(nixdb, unusable_shm_falls_back_to_the_main_file)
{
	sqlite3 *db = make_uncheckpointed_db("db.sqlite");
	tt_mkdir("copy");
	copy_file("db.sqlite", "copy/db.sqlite");
	copy_file("db.sqlite-wal", "copy/db.sqlite-wal");
	sqlite3_close(db);
	/* A -shm SQLite cannot open at all (it never follows symlinks). */
	tt_symlink("elsewhere", "copy/db.sqlite-shm");
	struct files_state before, after;
	files_state("copy/db.sqlite", &before);
	struct sd_nixdb_how how;
	struct sd_registration *reg = read_ok("copy/db.sqlite", &how);
	files_state("copy/db.sqlite", &after);
	cr_assert_not(how.wal);
	cr_assert(how.fallback);
	cr_assert_neq(how.reason[0], '\0');
	cr_assert_eq(reg->nrecs, 6);
	sd_registration_free(reg);
	assert_same_files(&before, &after);
}

Test(nixdb, uri_special_characters_in_path)
{
	tt_mkdir("we?ird#dir %41");
	sqlite3_close(make_graph_db("we?ird#dir %41/d b.sqlite", false));
	struct sd_registration *reg = load_ok("we?ird#dir %41/d b.sqlite");
	cr_assert_eq(reg->nrecs, 6);
	sd_registration_free(reg);
}

Test(nixdb, relative_path)
{
	sqlite3_close(make_graph_db("db.sqlite", false));
	char cwd[4096];
	cr_assert_not_null(getcwd(cwd, sizeof cwd));
	cr_assert_eq(chdir(tt_tmp), 0);
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	int rc = sd_nixdb_load("db.sqlite", SD, &reg, &err);
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_eq(reg->nrecs, 6);
	sd_registration_free(reg);
}

Test(nixdb, missing_db)
{
	load_bad("nope.sqlite", SD_ERR_IO, "No such file or directory");
}

Test(nixdb, directory_is_not_a_db)
{
	tt_mkdir("dir.sqlite");
	load_bad("dir.sqlite", SD_ERR_INVALID, "not a regular file");
}

Test(nixdb, not_sqlite)
{
	tt_write("db.sqlite",
		 "this is not a database, just some text that "
		 "is long enough to look like a header of something\n",
		 (size_t)-1, 0644);
	load_bad("db.sqlite", SD_ERR_INVALID, "not an SQLite database");
}

Test(nixdb, sqlite_without_nix_tables)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(tt_path("db.sqlite"), &db), SQLITE_OK);
	exec_sql(db, "CREATE TABLE Refs (referrer integer, reference "
		     "integer)");
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_INVALID,
		 "not a Nix database (no table ValidPaths)");
}

Test(nixdb, missing_column)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(tt_path("db.sqlite"), &db), SQLITE_OK);
	exec_sql(db, "CREATE TABLE ValidPaths (id integer primary key, path "
		     "text, hash text);"
		     "CREATE TABLE Refs (referrer integer, reference integer)");
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_INVALID,
		 "not a Nix database (no such "
		 "column: narSize)");
}

Test(nixdb, bad_hash)
{
	sqlite3 *db = create_db("db.sqlite", false);
	add_path(db, 3, lpath[A], "md5:abc", 1, NULL);
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_INVALID, "ValidPaths id 3 (");
}

Test(nixdb, bad_store_path)
{
	sqlite3 *db = create_db("db.sqlite", false);
	add_path(db, 4, SD "/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x",
		 "sha256:" HEX_A, 1, NULL);
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_INVALID,
		 "ValidPaths id 4: bad store path");
}

Test(nixdb, negative_nar_size)
{
	sqlite3 *db = create_db("db.sqlite", false);
	add_path(db, 1, lpath[A], "sha256:" HEX_A, -5, NULL);
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_INVALID, "bad narSize");
}

Test(nixdb, dangling_ref)
{
	sqlite3 *db = create_db("db.sqlite", false);
	add_path(db, 1, lpath[A], "sha256:" HEX_A, 1, NULL);
	add_ref(db, 1, 77);
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_CORRUPT,
		 "Refs row (1, 77) names no ValidPaths row");
}

Test(nixdb, reference_outside_the_store_dir)
{
	sqlite3 *db = create_db("db.sqlite", false);
	add_path(db, 1, lpath[A], "sha256:" HEX_A, 1, NULL);
	add_path(db, 2, "/elsewhere/0c6kzph7l0dcbqmbcngxsqifxnnqbgv2-p",
		 "sha256:" HEX_A, 1, NULL);
	add_ref(db, 1, 2);
	sqlite3_close(db);
	load_bad("db.sqlite", SD_ERR_INVALID, "a path outside /nix/store");
}

/* Cross-check with the host's real database, if there is one. */
Test(nixdb, host_db_matches_nix_store_dump_db)
{
	const char *path = sd_nixdb_default_path();
	if (access(path, R_OK) != 0)
		cr_skip_test("no readable %s", path);
	if (!tt_have_tool("nix-store"))
		cr_skip_test("nix-store is not installed");
	char *dump = tt_run("nix-store --dump-db 2>/dev/null");
	struct sd_registration *want = NULL, *got = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_registration_parse("dump-db", dump, strlen(dump), SD,
					   &want, &err),
		     0, "%s", err.msg);
	free(dump);
	if (want->nrecs == 0) {
		sd_registration_free(want);
		cr_skip_test("nix-store --dump-db printed nothing");
	}
	cr_assert_eq(sd_nixdb_load(path, SD, &got, &err), 0, "%s", err.msg);
	cr_assert_eq(got->nrecs, want->nrecs);
	for (size_t i = 0; i < want->nrecs; i++) {
		const struct sd_reg_record *w = &want->recs[i], *g = NULL;
		for (size_t k = 0; k < got->nrecs && !g; k++)
			if (strcmp(got->recs[k].path, w->path) == 0)
				g = &got->recs[k];
		cr_assert_not_null(g, "%s not loaded", w->path);
		cr_assert_eq(memcmp(g->nar_hash, w->nar_hash, 32), 0);
		cr_assert_eq(g->nar_size, w->nar_size, "%s", w->path);
		cr_assert_str_eq(g->deriver, w->deriver);
		cr_assert_eq(g->nrefs, w->nrefs, "%s", w->path);
		for (size_t k = 0; k < w->nrefs; k++) {
			bool found = false;
			for (size_t j = 0; j < g->nrefs; j++)
				found |= !strcmp(g->refs[j].path,
						 w->refs[k].path);
			cr_assert(found, "%s -> %s", w->path, w->refs[k].path);
		}
	}
	sd_registration_free(want);
	sd_registration_free(got);
}
