/* SPDX-License-Identifier: MIT */
#include "cli/closure_opts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "closure/merge.h"
#include "closure/nixdb.h"

void sd_closure_cli_help(FILE *f)
{
	fprintf(f,
		"Store and references:\n"
		"  --store-dir DIR        logical store directory, the prefix "
		"inside files\n"
		"                         and the image root (default "
		"/nix/store)\n"
		"  --store DIR            where the store paths physically are "
		"(default:\n"
		"                         the store directory)\n"
		"  --db PATH              references from a Nix database, "
		"read as a concurrent\n"
		"                         Nix reader reads it (read-only, "
		"its WAL included);\n"
		"                         once: two databases are two stores\n"
		"  --registration FILE    references from a registration "
		"(nix-store --dump-db,\n"
		"                         closureInfo's registration, "
		"exportReferencesGraph);\n"
		"                         repeated: their union (one path "
		"registered twice\n"
		"                         must have the same narHash and "
		"references)\n"
		"  --paths FILE           the closure itself, one store path a "
		"line\n"
		"                         (closureInfo's store-paths); "
		"repeated: their union\n"
		"  --scan                 find references by scanning contents "
		"with Nix's rule\n"
		"                         (the default, except for /nix/store "
		"itself when\n"
		"                         /nix/var/nix/db/db.sqlite exists: "
		"then --db of it)\n"
		"  --allow FILE           hashes or store paths whose absence "
		"is accepted\n"
		"  --allow-missing        accept references to paths missing "
		"from the store,\n"
		"                         or (pack with --paths, --registration, "
		"--db) left out\n"
		"                         of the closure\n\n"
		"A reference is the hash of a store path that exists (Nix's "
		"rule): a full path\nof a path that is not in the store is "
		"reported, not followed.  With --paths,\n--registration or --db "
		"pack scans the files as it packs them and refuses a\n"
		"reference to a store path outside the closure.\n");
}

bool sd_closure_cli_option(struct sd_closure_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case SD_OPT_STORE_DIR: c->store_dir = arg; return true;
	case SD_OPT_STORE: c->store = arg; return true;
	case SD_OPT_REGISTRATION:
		if (!c->registration)
			c->registration = arg;
		if (c->nregistrations < SD_CLOSURE_CLI_MAX_FILES)
			c->registrations[c->nregistrations] = arg;
		c->nregistrations++;
		return true;
	case SD_OPT_PATHS:
		if (!c->paths)
			c->paths = arg;
		if (c->npath_files < SD_CLOSURE_CLI_MAX_FILES)
			c->path_files[c->npath_files] = arg;
		c->npath_files++;
		return true;
	case SD_OPT_DB:
		if (!c->db)
			c->db = arg;
		c->ndb++;
		return true;
	case SD_OPT_SCAN: c->scan = true; return true;
	case SD_OPT_ALLOW: c->allow_file = arg; return true;
	case SD_OPT_ALLOW_MISSING: c->allow_missing = true; return true;
	default: return false;
	}
}

/*
 * Nix's own bookkeeping inside the store directory (`nix store optimise`'s
 * hard-link pool): never a store path, and not worth a warning on every
 * run.  It is still listed in `closure --json`'s invalid_entries.
 */
static bool is_nix_bookkeeping(const char *entry)
{
	return strcmp(entry, ".links") == 0;
}

static void report_store_warnings(const struct sd_store *st)
{
	const size_t shown = 10;
	size_t n = 0;
	for (size_t i = 0; i < st->nwarnings; i++) {
		if (is_nix_bookkeeping(st->warnings[i].entry))
			continue;
		if (n++ < shown)
			sd_cli_warnf("%s/%s: not a store path, ignored (%s)",
				     st->phys_dir, st->warnings[i].entry,
				     st->warnings[i].reason);
	}
	if (n > shown)
		sd_cli_warnf("... and %zu more %s of %s that are not "
			     "store paths",
			     n - shown,
			     sd_plural(n - shown, "entry", "entries"),
			     st->phys_dir);
}

/* Is @st the host's Nix store itself: logical and physical /nix/store? */
static bool is_host_nix_store(const struct sd_store *st)
{
	if (strcmp(st->store_dir, SD_DEFAULT_STORE_DIR) != 0)
		return false;
	char *real = realpath(SD_DEFAULT_STORE_DIR, NULL);
	bool same = real && st->phys_real && strcmp(real, st->phys_real) == 0;
	free(real);
	return same;
}

/*
 * With no source option: the Nix database for the host's own store if it
 * exists (NULL: scan).
 */
static const char *default_db(const struct sd_store *st)
{
	const char *db = sd_nixdb_default_path();
	if (!is_host_nix_store(st) || access(db, F_OK) != 0)
		return NULL;
	fprintf(stderr,
		"%s: using the Nix database %s (--scan to scan "
		"instead)\n",
		sd_progname, db);
	return db;
}

/* The engine found the database lacking (its messages name @db): say
 * what was read. */
static int db_hint(int rc, const char *db, const struct sd_nixdb_how *how,
		   struct sd_error *err)
{
	if ((rc != SD_ERR_MISSING && rc != SD_ERR_INVALID) ||
	    !strstr(err->msg, db))
		return rc;
	char msg[SD_ERROR_MSG_MAX];
	memcpy(msg, err->msg, sizeof msg);
	return sd_error_set(err, rc, "%s (%s; --scan to scan instead)", msg,
			    how->fallback
				    ? "the Nix database was read without its "
				      "WAL, as of Nix's last checkpoint"
				    : "as the Nix database has it now");
}

/* Read the database @db, and say on stderr when its WAL could not be
 * used. */
static int load_db(struct sd_closure_cli *c, const char *db,
		   struct sd_error *err)
{
	int rc = sd_nixdb_read(db, c->st->store_dir, &c->reg, &c->db_how, err);
	if (rc)
		return rc;
	if (c->db_how.fallback)
		sd_cli_warnf("%s: read without its write-ahead log (%s): "
			     "what Nix registered since its last checkpoint "
			     "is not seen",
			     db, c->db_how.reason);
	c->db_used = db;
	return 0;
}

/* Refuse what cannot be one source: two kinds, two databases. */
static int check_sources(const struct sd_closure_cli *c, int nsources,
			 struct sd_error *err)
{
	if (nsources > 1)
		return sd_error_set(err, SD_ERR_USAGE,
				    "give only one of --db, --registration, "
				    "--paths and --scan");
	if (c->ndb > 1)
		return sd_error_set(err, SD_ERR_USAGE,
				    "--db given %zu times: two databases are "
				    "two stores; give one",
				    c->ndb);
	if (c->nregistrations > SD_CLOSURE_CLI_MAX_FILES ||
	    c->npath_files > SD_CLOSURE_CLI_MAX_FILES)
		return sd_error_set(err, SD_ERR_USAGE,
				    "at most %d --registration or --paths "
				    "files",
				    SD_CLOSURE_CLI_MAX_FILES);
	return 0;
}

/* Load every --registration file, or every --paths file, into one. */
static int load_files(struct sd_closure_cli *c, struct sd_closure_opts *o,
		      struct sd_error *err)
{
	const char *sd = c->st->store_dir;
	int rc = 0;
	size_t n = 0;
	if (c->nregistrations) {
		struct sd_registration *v[SD_CLOSURE_CLI_MAX_FILES];
		for (; !rc && n < c->nregistrations; n++)
			rc = sd_registration_load(c->registrations[n], sd,
						  &v[n], err);
		if (rc) {
			for (size_t i = 0; i + 1 < n; i++)
				sd_registration_free(v[i]);
			return rc;
		}
		rc = sd_registration_merge(v, n, &c->reg, err);
		o->reg = c->reg;
	} else if (c->npath_files) {
		struct sd_pathlist *v[SD_CLOSURE_CLI_MAX_FILES];
		for (; !rc && n < c->npath_files; n++)
			rc = sd_pathlist_load(c->path_files[n], sd, &v[n], err);
		if (rc) {
			for (size_t i = 0; i + 1 < n; i++)
				sd_pathlist_free(v[i]);
			return rc;
		}
		rc = sd_pathlist_merge(v, n, &c->pathlist, err);
		o->paths = c->pathlist;
	}
	return rc;
}

int sd_closure_cli_open(struct sd_closure_cli *c, struct sd_error *err)
{
	int nsources = (c->db != NULL) + (c->registration != NULL) +
		       (c->paths != NULL) + c->scan;
	int rc = check_sources(c, nsources, err);
	if (rc)
		return rc;
	c->opts = (struct sd_closure_opts){
		.source = c->registration ? SD_CLOSURE_REGISTRATION
			  : c->paths      ? SD_CLOSURE_PATHS
					  : SD_CLOSURE_SCAN,
		.allow_missing = c->allow_missing,
		.no_bytes = c->no_bytes,
		.interrupted = &sd_interrupted,
	};
	rc = sd_store_new(c->store_dir, c->store, &c->st, err);
	if (rc)
		return rc;
	report_store_warnings(c->st);
	rc = load_files(c, &c->opts, err);
	if (rc)
		return rc;
	const char *db = c->db;
	if (nsources == 0)
		db = default_db(c->st);
	if (db) {
		rc = load_db(c, db, err);
		if (rc)
			return rc;
		c->opts.source = SD_CLOSURE_REGISTRATION;
		c->opts.reg = c->reg;
	}
	if (c->allow_file) {
		rc = sd_allowlist_load(c->allow_file, c->st->store_dir,
				       &c->allow, err);
		if (rc)
			return rc;
		c->opts.allow = c->allow;
	}
	return 0;
}

int sd_closure_cli_compute(struct sd_closure_cli *c, const char *const *roots,
			   size_t nroots, bool evidence, struct sd_error *err)
{
	c->opts.evidence = evidence;
	int rc = sd_closure_compute(c->st, roots, nroots, &c->opts, &c->closure,
				    err);
	return c->db_used && rc && err
		       ? db_hint(rc, c->db_used, &c->db_how, err)
		       : rc;
}

int sd_closure_cli_run(struct sd_closure_cli *c, const char *const *roots,
		       size_t nroots, bool evidence, struct sd_error *err)
{
	int rc = sd_closure_cli_open(c, err);
	return rc ? rc
		  : sd_closure_cli_compute(c, roots, nroots, evidence, err);
}

void sd_closure_cli_release(struct sd_closure_cli *c)
{
	sd_closure_free(c->closure);
	sd_allowlist_free(c->allow);
	sd_registration_free(c->reg);
	sd_pathlist_free(c->pathlist);
	c->pathlist = NULL;
	sd_store_free(c->st);
	c->closure = NULL;
	c->allow = NULL;
	c->reg = NULL;
	c->st = NULL;
	c->db_used = NULL;
}
