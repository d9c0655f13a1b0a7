/* SPDX-License-Identifier: MIT */
/*
 * nixdb_open.c — open a Nix database immutable, or as a WAL reader through
 * a VFS that never creates files (see nixdb_open.h).
 */
#include "closure/nixdb_open.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

char *sd_nixdb_uri(const char *path, const char *query)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t len = strlen(path), qlen = strlen(query);
	char *uri = malloc(7 + 3 * len + qlen + 1);
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
	memcpy(o, query, qlen + 1);
	return uri;
}

static int open_uri(const char *path, const char *query, const char *vfs,
		    sqlite3 **db)
{
	*db = NULL;
	char *uri = sd_nixdb_uri(path, query);
	if (!uri)
		return SQLITE_NOMEM;
	int rc = sqlite3_open_v2(uri, db,
				 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, vfs);
	free(uri);
	return rc;
}

int sd_nixdb_open_immutable(const char *path, sqlite3 **db)
{
	return open_uri(path, "?immutable=1", NULL, db);
}

/* The default VFS, and our copy of it whose xOpen never creates. */
static sqlite3_vfs *base_vfs;
static sqlite3_vfs nocreate_vfs;
static int vfs_rc = SQLITE_ERROR;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;

/* Nothing is created; the -wal is opened read-only, so nothing can be
 * written to it (the database itself is opened read-only already). */
static int nocreate_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
			 int flags, int *out_flags)
{
	(void)vfs;
	flags &= ~SQLITE_OPEN_CREATE;
	if (flags & SQLITE_OPEN_WAL)
		flags = (flags & ~SQLITE_OPEN_READWRITE) | SQLITE_OPEN_READONLY;
	/* The default VFS keeps what it needs in its own pAppData, so it
	 * opens the file as if we were not here. */
	return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
}

static void register_vfs(void)
{
	if (sqlite3_initialize() != SQLITE_OK)
		return;
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs)
		return;
	nocreate_vfs = *base_vfs;
	nocreate_vfs.zName = "storedisk-nocreate";
	nocreate_vfs.pNext = NULL;
	nocreate_vfs.xOpen = nocreate_open;
	vfs_rc = sqlite3_vfs_register(&nocreate_vfs, 0);
}

int sd_nixdb_open_wal(const char *path, sqlite3 **db)
{
	*db = NULL;
	pthread_once(&vfs_once, register_vfs);
	if (vfs_rc != SQLITE_OK)
		return vfs_rc;
	int rc = open_uri(path, "", nocreate_vfs.zName, db);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(*db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
				       NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*db, SD_NIXDB_BUSY_MS);
	return rc;
}
