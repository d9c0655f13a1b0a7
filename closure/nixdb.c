/* SPDX-License-Identifier: MIT */
/*
 * nixdb.c — read a Nix database as a concurrent WAL reader where its -wal
 * can be used, else as an immutable file, retrying while the file changes
 * underneath (see nixdb.h).  The two ways of opening it are in
 * nixdb_open.c; the rows become records in nixdb_rows.c.
 */
#include "closure/nixdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure/nixdb_open.h"
#include "closure/nixdb_rows.h"

/* load_wal(): the WAL cannot be used here (how->reason says why). */
#define WAL_UNUSABLE 1

const char *sd_nixdb_default_path(void)
{
	return SD_NIXDB_DEFAULT_PATH;
}

static int stat_db(const char *path, struct stat *st, struct sd_error *err)
{
	if (stat(path, st) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno,
				      "cannot open the Nix database %s", path);
	if (!S_ISREG(st->st_mode))
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: the Nix database is not a regular "
				    "file",
				    path);
	return 0;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Does "@path@suffix" exist?  (Anything but ENOENT counts as yes: the
 * WAL read then finds out what is wrong.) */
static bool sibling_exists(const char *path, const char *suffix)
{
	size_t len = strlen(path) + strlen(suffix) + 1;
	char *name = malloc(len);
	if (!name)
		return true;
	snprintf(name, len, "%s%s", path, suffix);
	struct stat st;
	bool yes = lstat(name, &st) == 0 || errno != ENOENT;
	free(name);
	return yes;
}

/* SQLite failures that mean the WAL cannot be used here, rather than
 * something wrong with the database. */
static bool wal_unusable(int src)
{
	switch (src & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return true;
	case SQLITE_IOERR:
		return src == SQLITE_IOERR_SHMOPEN ||
		       src == SQLITE_IOERR_SHMSIZE ||
		       src == SQLITE_IOERR_SHMLOCK ||
		       src == SQLITE_IOERR_SHMMAP;
	default: return false;
	}
}

/* Why SQLite could not read @db_path through its WAL, into how->reason:
 * the -wal or -shm we cannot read, else SQLite's message. */
static void wal_reason(const char *db_path, sqlite3 *db,
		       struct sd_nixdb_how *how)
{
	static const char *const sfx[] = {"-shm", "-wal"};
	for (size_t i = 0; i < 2; i++) {
		char name[4096];
		int n = snprintf(name, sizeof name, "%s%s", db_path, sfx[i]);
		if (n > 0 && (size_t)n < sizeof name &&
		    access(name, R_OK) != 0) {
			/* Its last 160 bytes: the database is named in
			 * full elsewhere in the message. */
			size_t len = (size_t)n, keep = 160;
			snprintf(how->reason, sizeof how->reason,
				 "cannot read %s%.160s: %.60s",
				 len > keep ? "..." : "",
				 name + (len > keep ? len - keep : 0),
				 strerror(errno));
			return;
		}
	}
	int errnum = sqlite3_system_errno(db);
	snprintf(how->reason, sizeof how->reason, "%s%s%s", sqlite3_errmsg(db),
		 errnum ? ": " : "", errnum ? strerror(errnum) : "");
}

/* Start the read transaction: BEGIN, and a first read, which takes the
 * snapshot (and opens the -wal and -shm). */
static int begin_read(sqlite3 *db)
{
	int src = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (src != SQLITE_OK)
		return src;
	sqlite3_stmt *st = NULL;
	src = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1,
				 &st, NULL);
	if (src == SQLITE_OK) {
		src = sqlite3_step(st);
		if (src == SQLITE_ROW)
			src = SQLITE_OK;
	}
	/* The statement's own failure is the one that counts. */
	if (src == SQLITE_OK)
		src = sqlite3_finalize(st);
	else
		sqlite3_finalize(st);
	return src;
}

/*
 * One read through the WAL.  0 or an SD_ERR_* (@err set), or WAL_UNUSABLE
 * with how->reason set.
 */
static int load_wal(const char *db_path, const char *store_dir,
		    struct sd_registration **out, struct sd_nixdb_how *how,
		    struct sd_error *err)
{
	sqlite3 *db = NULL;
	int src = sd_nixdb_open_wal(db_path, &db);
	if (src == SQLITE_OK)
		src = begin_read(db);
	if ((src & 0xff) == SQLITE_NOMEM || !db) {
		sqlite3_close(db);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	if (src != SQLITE_OK && wal_unusable(src)) {
		wal_reason(db_path, db, how);
		sqlite3_close(db);
		return WAL_UNUSABLE;
	}
	/* Anything else wrong with the file shows up again, with its proper
	 * message, when the rows are read. */
	int rc = sd_nixdb_read_rows(db, db_path, store_dir, out, err);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* One read of db.sqlite alone, immutable. */
static int load_immutable(const char *db_path, const char *store_dir,
			  struct sd_registration **out, struct sd_error *err)
{
	sqlite3 *db = NULL;
	int src = sd_nixdb_open_immutable(db_path, &db);
	int rc;
	if (src != SQLITE_OK) {
		rc = sd_error_set(
			err, src == SQLITE_NOMEM ? SD_ERR_NOMEM : SD_ERR_IO,
			"cannot open the Nix database %s: %s", db_path,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
	} else {
		rc = sd_nixdb_read_rows(db, db_path, store_dir, out, err);
	}
	sqlite3_close(db);
	return rc;
}

int sd_nixdb_read(const char *db_path, const char *store_dir,
		  struct sd_registration **out, struct sd_nixdb_how *how,
		  struct sd_error *err)
{
	struct sd_nixdb_how own;
	if (!how)
		how = &own;
	*out = NULL;
	for (int attempt = 0; attempt < SD_NIXDB_ATTEMPTS; attempt++) {
		*how = (struct sd_nixdb_how){0};
		struct stat before, after;
		int rc = stat_db(db_path, &before, err);
		if (rc)
			return rc;
		if (sibling_exists(db_path, "-wal")) {
			if (sibling_exists(db_path, "-shm")) {
				rc = load_wal(db_path, store_dir, out, how,
					      err);
				if (rc != WAL_UNUSABLE) {
					how->wal = rc == 0;
					return rc;
				}
				/* Gone since we looked: Nix closed it, and
				 * everything is in db.sqlite now. */
				if (!sibling_exists(db_path, "-wal"))
					continue;
			} else {
				snprintf(how->reason, sizeof how->reason,
					 "%s-wal exists but %s-shm does not, "
					 "and it is not ours to create",
					 db_path, db_path);
			}
			how->fallback = true;
		}
		struct sd_registration *reg = NULL;
		rc = load_immutable(db_path, store_dir, &reg, err);
		int src = stat_db(db_path, &after, err);
		if (src == 0 && same_file_state(&before, &after)) {
			if (rc == 0)
				*out = reg;
			return rc;
		}
		sd_registration_free(reg);
		if (src)
			return src;
		/* Changed while being read: discard and try again. */
	}
	return sd_error_set(err, SD_ERR_IO,
			    "%s: the Nix database kept changing while being "
			    "read (%d attempts)",
			    db_path, SD_NIXDB_ATTEMPTS);
}

int sd_nixdb_load(const char *db_path, const char *store_dir,
		  struct sd_registration **out, struct sd_error *err)
{
	return sd_nixdb_read(db_path, store_dir, out, NULL, err);
}
