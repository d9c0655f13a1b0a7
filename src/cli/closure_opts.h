/* SPDX-License-Identifier: MIT */
/*
 * closure_opts.h — the closure options shared by `closure`, `pack`,
 * `registration` and `why`:
 * where the store is and where references come from.
 *
 * Sources of references: --db PATH (a Nix database, closure/nixdb.h),
 * --registration FILE, --paths FILE or --scan, one kind at most.
 * --registration and --paths may be repeated: the files are merged into
 * one (closure/merge.h: the union; conflicting records are an error).  A
 * repeated --db is a usage error (two databases are two stores).  With none:
 * when the logical store dir is /nix/store, the physical store is
 * /nix/store itself (no --store elsewhere) and the Nix database
 * /nix/var/nix/db/db.sqlite exists, that database is used (with a note on
 * stderr); otherwise the store is scanned.  The database is read as a
 * concurrent Nix reader reads it (closure/nixdb.h); when its WAL cannot be
 * used, a warning on stderr says so.
 */
#ifndef SD_CLI_CLOSURE_OPTS_H
#define SD_CLI_CLOSURE_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "closure/allowlist.h"
#include "closure/closure.h"
#include "closure/nixdb.h"
#include "closure/store.h"

/* getopt_long codes of the shared options (outside the ASCII range). */
enum {
	SD_OPT_STORE_DIR = 0x100,
	SD_OPT_STORE,
	SD_OPT_REGISTRATION,
	SD_OPT_PATHS,
	SD_OPT_SCAN,
	SD_OPT_ALLOW,
	SD_OPT_ALLOW_MISSING,
	SD_OPT_DB,
};

#define SD_CLOSURE_LONGOPTS                                                 \
	{"store-dir", required_argument, NULL, SD_OPT_STORE_DIR},           \
		{"store", required_argument, NULL, SD_OPT_STORE},           \
		{"registration", required_argument, NULL,                   \
		 SD_OPT_REGISTRATION},                                      \
		{"paths", required_argument, NULL, SD_OPT_PATHS},           \
		{"scan", no_argument, NULL, SD_OPT_SCAN},                   \
		{"allow", required_argument, NULL, SD_OPT_ALLOW},           \
		{"allow-missing", no_argument, NULL, SD_OPT_ALLOW_MISSING}, \
	{                                                                   \
		"db", required_argument, NULL, SD_OPT_DB                    \
	}

/* At most this many --registration or --paths files. */
#define SD_CLOSURE_CLI_MAX_FILES 64

struct sd_closure_cli {
	const char *store_dir;    /* --store-dir */
	const char *store;        /* --store */
	const char *registration; /* the first --registration FILE */
	const char *paths;        /* the first --paths FILE */
	const char *db;           /* the first --db PATH */
	/* Every --registration / --paths in order (counts go on past the
	 * maximum: sd_closure_cli_open refuses that), and the --db count. */
	const char *registrations[SD_CLOSURE_CLI_MAX_FILES];
	size_t nregistrations;
	const char *path_files[SD_CLOSURE_CLI_MAX_FILES];
	size_t npath_files;
	size_t ndb;
	bool scan;              /* --scan */
	const char *allow_file; /* --allow FILE */
	bool allow_missing;     /* --allow-missing */
	bool no_bytes;          /* set by the command: sizes unused
				   * (sd_closure_opts.no_bytes) */

	/* Results of sd_closure_cli_run (release with ..._release). */
	struct sd_store *st;
	struct sd_allowlist *allow;
	struct sd_registration *reg;  /* loaded from the Nix database, or
					 * the (merged) --registration files */
	struct sd_pathlist *pathlist; /* the (merged) --paths files */
	const char *db_used;          /* the database read, or NULL */
	struct sd_nixdb_how db_how;   /* how it was read */
	struct sd_closure_opts opts;  /* the source, set by ..._open */
	struct sd_closure *closure;
};

/* Help text of the shared options. */
void sd_closure_cli_help(FILE *f);

/* Take option @opt (a SD_OPT_* code); false if it is not one of ours. */
bool sd_closure_cli_option(struct sd_closure_cli *c, int opt, const char *arg);

/*
 * Open the store, load the allow list (and the Nix database, see above)
 * and compute the closure of @roots.  Store entries that are not store
 * paths are reported as warnings on stderr; so is the use of the default
 * Nix database.  Returns 0 or an SD_ERR_* with @err set (SD_ERR_USAGE for
 * more than one kind of source, a repeated --db or too many files).
 */
int sd_closure_cli_run(struct sd_closure_cli *c, const char *const *roots,
		       size_t nroots, bool evidence, struct sd_error *err);

/*
 * The two halves of sd_closure_cli_run: open the store, the allow list
 * and the source (c->opts; c->opts.source is SD_CLOSURE_SCAN when
 * references come from a scan), then compute the closure of @roots into
 * c->closure.
 */
int sd_closure_cli_open(struct sd_closure_cli *c, struct sd_error *err);
int sd_closure_cli_compute(struct sd_closure_cli *c, const char *const *roots,
			   size_t nroots, bool evidence, struct sd_error *err);

void sd_closure_cli_release(struct sd_closure_cli *c);

#endif
