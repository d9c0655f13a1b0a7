#include "cli/closure_opts.h"

#include "cli/cli.h"
#include "cli/interrupt.h"

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
		"  --registration FILE    references from a registration "
		"(nix-store --dump-db,\n"
		"                         closureInfo's registration, "
		"exportReferencesGraph)\n"
		"  --paths FILE           the closure itself, one store path a "
		"line\n"
		"                         (closureInfo's store-paths)\n"
		"  --scan                 find references by scanning contents "
		"with Nix's rule\n"
		"                         (the default)\n"
		"  --allow FILE           hashes or store paths whose absence "
		"is accepted\n"
		"  --allow-missing        accept references to paths missing "
		"from the store\n");
}

bool sd_closure_cli_option(struct sd_closure_cli *c, int opt,
			   const char *arg)
{
	switch (opt) {
	case SD_OPT_STORE_DIR: c->store_dir = arg; return true;
	case SD_OPT_STORE: c->store = arg; return true;
	case SD_OPT_REGISTRATION: c->registration = arg; return true;
	case SD_OPT_PATHS: c->paths = arg; return true;
	case SD_OPT_SCAN: c->scan = true; return true;
	case SD_OPT_ALLOW: c->allow_file = arg; return true;
	case SD_OPT_ALLOW_MISSING: c->allow_missing = true; return true;
	default: return false;
	}
}

static void report_store_warnings(const struct sd_store *st)
{
	const size_t shown = 10;
	for (size_t i = 0; i < st->nwarnings && i < shown; i++)
		sd_cli_warnf("%s/%s: not a store path, ignored (%s)",
			     st->phys_dir, st->warnings[i].entry,
			     st->warnings[i].reason);
	if (st->nwarnings > shown)
		sd_cli_warnf("... and %zu more entries of %s that are not "
			     "store paths",
			     st->nwarnings - shown, st->phys_dir);
}

int sd_closure_cli_run(struct sd_closure_cli *c, const char *const *roots,
		       size_t nroots, bool evidence, struct sd_error *err)
{
	int nsources = (c->registration != NULL) + (c->paths != NULL) +
		       c->scan;
	if (nsources > 1)
		return sd_error_set(err, SD_ERR_USAGE,
				    "give only one of --registration, --paths "
				    "and --scan");
	struct sd_closure_opts opts = {
		.source = c->registration ? SD_CLOSURE_REGISTRATION
			  : c->paths      ? SD_CLOSURE_PATHS
					  : SD_CLOSURE_SCAN,
		.file = c->registration ? c->registration : c->paths,
		.allow_missing = c->allow_missing,
		.evidence = evidence,
		.interrupted = &sd_interrupted,
	};
	int rc = sd_store_open(c->store_dir, c->store, &c->st, err);
	if (rc)
		return rc;
	report_store_warnings(c->st);
	if (c->allow_file) {
		rc = sd_allowlist_load(c->allow_file, c->st->store_dir,
				       &c->allow, err);
		if (rc)
			return rc;
		opts.allow = c->allow;
	}
	return sd_closure_compute(c->st, roots, nroots, &opts, &c->closure,
				  err);
}

void sd_closure_cli_release(struct sd_closure_cli *c)
{
	sd_closure_free(c->closure);
	sd_allowlist_free(c->allow);
	sd_store_free(c->st);
	c->closure = NULL;
	c->allow = NULL;
	c->st = NULL;
}
