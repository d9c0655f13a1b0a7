/* SPDX-License-Identifier: MIT */
/*
 * nixdb_open.h — internal to nixdb.c: the two ways of opening a Nix
 * database (see nixdb.h for when each is used).
 */
#ifndef SD_CLOSURE_NIXDB_OPEN_H
#define SD_CLOSURE_NIXDB_OPEN_H

#include <sqlite3.h>

/* Milliseconds a reader waits for SQLite's own exclusive moments (WAL
 * recovery, the last connection's checkpoint on close). */
#define SD_NIXDB_BUSY_MS 10000

/*
 * "file:" URI of @path (bytes other than unreserved ones and '/'
 * percent-encoded, an absolute path with an empty authority), followed
 * by @query ("" or "?name=value").  NULL on allocation failure.
 */
char *sd_nixdb_uri(const char *path, const char *query);

/*
 * Open @path as "file:PATH?immutable=1", read-only: SQLite takes no lock
 * and never opens the -journal, -wal or -shm files.  Returns an SQLite
 * result code; *@db is set even on failure (sqlite3_errmsg), or NULL when
 * out of memory.  Close with sqlite3_close().
 */
int sd_nixdb_open_immutable(const char *path, sqlite3 **db);

/*
 * Open @path read-only the way a concurrent reader does in WAL mode: the
 * -wal and -shm files are used, the database file is never written and
 * the connection never checkpoints (not even when it closes).  Opened
 * through the VFS "storedisk-nocreate", the default VFS except that it
 * never creates a file and opens the -wal read-only: a -wal that does
 * not exist makes the first read fail with SQLITE_CANTOPEN instead of
 * being created.  (The -shm is opened by SQLite itself, read-
 * write where permitted, else read-only; a reader may record its read
 * mark there, as every WAL reader does.)  A busy timeout of
 * SD_NIXDB_BUSY_MS is set.  Returns and sets *@db as
 * sd_nixdb_open_immutable().
 */
int sd_nixdb_open_wal(const char *path, sqlite3 **db);

#endif
