/* SPDX-License-Identifier: MIT */
/*
 * nixdb.h — read the validity registration from a Nix database.
 *
 * Nix keeps what it knows of the store in an SQLite database,
 * /nix/var/nix/db/db.sqlite: table ValidPaths (id, path, hash, narSize,
 * deriver, ...) holds one row per valid store path, hash being
 * "sha256:<base16>", and table Refs (referrer, reference) holds the
 * reference edges as pairs of ValidPaths ids.  sd_nixdb_load() turns them
 * into the same struct sd_registration the registration parser produces
 * (closure/registration.h), for the closure engine's REGISTRATION source
 * (opts.reg).
 *
 * How the database is read: as a concurrent Nix reader reads it, so that a
 * path Nix registered a moment ago is seen, and Nix is never disturbed.
 * Nix keeps the database in WAL mode: a commit goes to db.sqlite-wal, and
 * only a checkpoint (when the last connection closes, or every 1000 pages)
 * copies it into db.sqlite; the -shm file indexes the WAL.
 *   - When db.sqlite-wal and db.sqlite-shm both exist, the database is
 *     opened read-only as a WAL reader (nixdb_open.h): everything is read
 *     in ONE read transaction, i.e. one consistent snapshot including every
 *     commit before it began.  A WAL reader never blocks a writer and is
 *     never blocked by one; the connection never writes the database or
 *     the -wal (opened read-only), never checkpoints, never creates or
 *     deletes a file (the VFS refuses to create; SQLite waits at most
 *     SD_NIXDB_BUSY_MS for its own exclusive moments such as recovery).
 *     The reader's read mark lives in the -shm, as for every WAL reader.
 *   - When there is no -wal, there is nothing uncheckpointed (a WAL
 *     database whose WAL connections are all closed, or a database in
 *     rollback-journal mode): db.sqlite is read as an immutable file
 *     ("file:PATH?immutable=1": no lock, no other file opened), which is
 *     exact and never blocks a writer.  If Nix opens the database and
 *     checkpoints meanwhile, the file changes: see the retry below.
 *   - Fallback: when the -wal exists but the WAL cannot be used — no -shm
 *     (SQLite would create it), no permission to open the -shm or -wal,
 *     a read-only file system where the -shm cannot be initialised, or
 *     SQLite refuses the WAL read in another way (busy beyond the timeout,
 *     read-only recovery) — db.sqlite is read as an immutable file, and
 *     the result says so (sd_nixdb_how.fallback, .reason): commits since
 *     Nix's last checkpoint are not seen, so a path registered very
 *     recently shows up as "not registered" (SD_ERR_MISSING from the
 *     engine), and one garbage-collected very recently as a reference
 *     that is not in the store — never as a wrong closure, since the main
 *     file always holds a committed state closed under references.
 *   - An immutable read takes no lock, so a checkpoint may change the file
 *     while it is read and tear the read.  The file's size, mtime, ctime
 *     and inode are compared before and after each attempt; an attempt
 *     during which the file changed is discarded (whatever its outcome)
 *     and retried (choosing again between the two ways), up to
 *     SD_NIXDB_ATTEMPTS times, then SD_ERR_IO "kept changing".  A read
 *     that ends in SQLite reporting corruption or a Refs row naming no
 *     path is an error only if the file did not change meanwhile.
 *
 * Messages: the registration's "file" is the database path, and the "line"
 * of a record and of its references (which the engine prints as
 * "FILE:LINE:") is the record's ValidPaths id.
 */
#ifndef SD_CLOSURE_NIXDB_H
#define SD_CLOSURE_NIXDB_H

#include <stdbool.h>

#include "closure/registration.h"
#include "core/error.h"

/* Where Nix keeps its database (NIX_STATE_DIR is not consulted). */
#define SD_NIXDB_DEFAULT_PATH "/nix/var/nix/db/db.sqlite"

/* Attempts of sd_nixdb_load() while the file keeps changing. */
#define SD_NIXDB_ATTEMPTS 5

/* How sd_nixdb_read() read the database. */
struct sd_nixdb_how {
	bool wal;         /* through the WAL (true), or db.sqlite alone as
			     * an immutable file */
	bool fallback;    /* immutable although a -wal exists: commits
			     * since the last checkpoint are not seen */
	char reason[256]; /* with fallback: why the WAL was not used
			     * (one line, e.g. "cannot open ...-shm: ...") */
};

/* SD_NIXDB_DEFAULT_PATH. */
const char *sd_nixdb_default_path(void);

/*
 * Load the registration from the Nix database at @db_path.  Only rows
 * whose path is in @store_dir (the logical store directory, no trailing
 * slash) are taken, in ValidPaths id order; a record has has_hash set
 * (nar_hash, nar_size) unless its narSize is NULL; a NULL deriver is "".
 * References are those of Refs, self references included.
 *
 * Errors, each naming @db_path:
 *   SD_ERR_IO       the file cannot be stat'ed or opened (e.g. it does
 *                   not exist), a read error, or it kept changing;
 *   SD_ERR_INVALID  not an SQLite database; not a Nix database (table
 *                   ValidPaths or Refs, or one of the columns read, is
 *                   missing); a row with a bad store path, hash, narSize
 *                   or deriver; a path of @store_dir referring to a path
 *                   outside it;
 *   SD_ERR_CORRUPT  SQLite reports the file corrupt, or Refs names an id
 *                   that has no ValidPaths row;
 *   SD_ERR_NOMEM.
 * On success *@out is new (free with sd_registration_free()) and *@how
 * (may be NULL) says how it was read.
 */
int sd_nixdb_read(const char *db_path, const char *store_dir,
		  struct sd_registration **out, struct sd_nixdb_how *how,
		  struct sd_error *err);

/* sd_nixdb_read() without @how. */
int sd_nixdb_load(const char *db_path, const char *store_dir,
		  struct sd_registration **out, struct sd_error *err);

#endif
