/*
 * nixdb.c — open a Nix database without locks and read it, retrying
 * while the file changes underneath (see nixdb.h).  The rows become
 * records in nixdb_rows.c.
 */
#include "closure/nixdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "closure/nixdb_rows.h"

const char *sd_nixdb_default_path(void)
{
	return SD_NIXDB_DEFAULT_PATH;
}

/* "file:" URI of @path with "?immutable=1"; bytes other than unreserved
 * ones and '/' are percent-encoded.  NULL on allocation failure. */
static char *immutable_uri(const char *path)
{
	static const char digits[] = "0123456789ABCDEF";
	static const char query[] = "?immutable=1";
	size_t len = strlen(path);
	char *uri = malloc(7 + 3 * len + sizeof query);
	if (!uri)
		return NULL;
	char *o = uri;
	/* An absolute path gets an empty authority, so that "//x" cannot
	 * be taken for a host name. */
	memcpy(o, path[0] == '/' ? "file://" : "file:", path[0] == '/' ? 7 : 5);
	o += path[0] == '/' ? 7 : 5;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = digits[*p >> 4];
			*o++ = digits[*p & 15];
		}
	}
	memcpy(o, query, sizeof query);
	return uri;
}

static int stat_db(const char *path, struct stat *st, struct sd_error *err)
{
	if (stat(path, st) != 0)
		return sd_error_errno(err, SD_ERR_IO, errno,
				      "cannot open the Nix database %s", path);
	if (!S_ISREG(st->st_mode))
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: the Nix database is not a regular "
				    "file", path);
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

/* One attempt: open, read, close. */
static int load_once(const char *db_path, const char *store_dir,
		     struct sd_registration **out, struct sd_error *err)
{
	char *uri = immutable_uri(db_path);
	if (!uri)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	sqlite3 *db = NULL;
	int src = sqlite3_open_v2(uri, &db,
				  SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
				  NULL);
	free(uri);
	int rc;
	if (src != SQLITE_OK) {
		rc = sd_error_set(err, src == SQLITE_NOMEM ? SD_ERR_NOMEM
							   : SD_ERR_IO,
				  "cannot open the Nix database %s: %s",
				  db_path, db ? sqlite3_errmsg(db)
					      : sqlite3_errstr(src));
	} else {
		rc = sd_nixdb_read_rows(db, db_path, store_dir, out, err);
	}
	sqlite3_close(db);
	return rc;
}

int sd_nixdb_load(const char *db_path, const char *store_dir,
		  struct sd_registration **out, struct sd_error *err)
{
	*out = NULL;
	for (int attempt = 0; attempt < SD_NIXDB_ATTEMPTS; attempt++) {
		struct stat before, after;
		int rc = stat_db(db_path, &before, err);
		if (rc)
			return rc;
		struct sd_registration *reg = NULL;
		rc = load_once(db_path, store_dir, &reg, err);
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
			    "read (%d attempts)", db_path, SD_NIXDB_ATTEMPTS);
}
