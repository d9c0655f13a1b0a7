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
 * How the database is opened.  The file is opened read-only through the
 * URI "file:PATH?immutable=1".  "immutable" tells SQLite the file cannot
 * change, so it takes no lock of any kind and never opens, creates or
 * writes the -journal, -wal or -shm files next to it.  That is what lets
 * storedisk read the database while Nix runs (even while a Nix process
 * holds a write transaction), from a read-only mount, and as a user who
 * cannot write the db directory — and it can never disturb Nix.
 *
 * The trade-off, and what is done about it:
 *   - Only db.sqlite itself is read.  When Nix uses write-ahead logging,
 *     transactions committed since its last checkpoint live in db.sqlite-wal
 *     and are not seen.  The main file always holds a committed state, and
 *     Nix registers a path together with its references only once they are
 *     valid, so a stale state is still closed under references: a path
 *     registered very recently shows up as "not registered"
 *     (SD_ERR_MISSING from the engine), and one garbage-collected very
 *     recently as a reference that is not in the store — never as a wrong
 *     closure.  Such errors go away once Nix checkpoints (or use --scan).
 *   - Without locks, a writer (a commit in rollback-journal mode, or a WAL
 *     checkpoint) may change the file while it is read, so a read can be
 *     torn.  The file's size, mtime, ctime and inode are compared before
 *     and after each attempt; an attempt during which the file changed is
 *     discarded (whatever its outcome) and retried, up to
 *     SD_NIXDB_ATTEMPTS times, then SD_ERR_IO "kept changing".  A read that
 *     ends in SQLite reporting corruption or a Refs row naming no path is
 *     an error only if the file did not change meanwhile.
 *
 * Messages: the registration's "file" is the database path, and the "line"
 * of a record and of its references (which the engine prints as
 * "FILE:LINE:") is the record's ValidPaths id.
 */
#ifndef SD_CLOSURE_NIXDB_H
#define SD_CLOSURE_NIXDB_H

#include "closure/registration.h"
#include "core/error.h"

/* Where Nix keeps its database (NIX_STATE_DIR is not consulted). */
#define SD_NIXDB_DEFAULT_PATH "/nix/var/nix/db/db.sqlite"

/* Attempts of sd_nixdb_load() while the file keeps changing. */
#define SD_NIXDB_ATTEMPTS 5

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
 * On success *@out is new (free with sd_registration_free()).
 */
int sd_nixdb_load(const char *db_path, const char *store_dir,
		  struct sd_registration **out, struct sd_error *err);

#endif
