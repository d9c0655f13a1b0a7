/* SPDX-License-Identifier: MIT */
#include "cli/mentions.h"

#include <stdio.h>

#include "cli/cli.h"

const char *sd_cli_what_str(enum sd_refscan_what w)
{
	switch (w) {
	case SD_REFSCAN_NAME: return "entry name";
	case SD_REFSCAN_TARGET: return "symlink target";
	default: return "content";
	}
}

static void absent_line(const char *file, enum sd_refscan_what what,
			unsigned long long offset, const char *store_dir,
			const char *hash)
{
	sd_cli_warnf("%s: %s at offset %llu mentions %s/%s-..., which is "
		     "not in the store: not a reference (a documentation "
		     "example?)",
		     file, sd_cli_what_str(what), offset, store_dir, hash);
}

static void more(size_t n, const char *what)
{
	if (n > SD_CLI_MENTIONS_SHOWN)
		sd_cli_warnf("... and %zu more %s", n - SD_CLI_MENTIONS_SHOWN,
			     what);
}

void sd_cli_report_absent(const struct sd_closure *cl, const char *store_dir)
{
	for (size_t i = 0; i < cl->nabsent && i < SD_CLI_MENTIONS_SHOWN; i++) {
		const struct sd_closure_absent *a = &cl->absent[i];
		absent_line(a->file, a->what, (unsigned long long)a->offset,
			    store_dir, a->hash);
	}
	more(cl->nabsent, "mentions of store paths that are not in the store");
}

void sd_cli_report_packscan(const struct sd_packscan *ps, const char *store_dir)
{
	if (!ps)
		return;
	size_t n, nabs = 0, nacc = 0, nbad = 0;
	const struct sd_packscan_finding *f = sd_packscan_findings(ps, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned long long off = (unsigned long long)f[i].offset;
		const char *what = sd_cli_what_str(f[i].what);
		if (f[i].kind == SD_PACKSCAN_ABSENT) {
			if (nabs++ < SD_CLI_MENTIONS_SHOWN)
				absent_line(f[i].file, f[i].what, off,
					    store_dir, f[i].hash);
		} else if (f[i].accepted) {
			if (nacc++ < SD_CLI_MENTIONS_SHOWN)
				sd_cli_warnf("%s: %s at offset %llu refers to "
					     "%s/%s, which is not in the "
					     "closure (accepted)",
					     f[i].file, what, off, store_dir,
					     f[i].sp->base);
		} else if (nbad++ < SD_CLI_MENTIONS_SHOWN) {
			sd_cli_errorf("%s: %s at offset %llu refers to %s/%s, "
				      "which is not in the closure",
				      f[i].file, what, off, store_dir,
				      f[i].sp->base);
		}
	}
	more(nabs, "mentions of store paths that are not in the store");
	more(nacc, "accepted references outside the closure");
	more(nbad, "references outside the closure");
}
