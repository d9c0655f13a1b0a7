/* SPDX-License-Identifier: MIT */
/* storedisk export — an image's contents as a tar (app/export_tar.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/export_tar.h"
#include "app/inspect.h"
#include "cli/cli.h"
#include "cli/inspect_print.h"
#include "cli/interrupt.h"
#include "core/atomicfile.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk export [OPTIONS] IMAGE --tar OUT\n"
		"Write the contents of IMAGE as a deterministic tar archive to "
		"OUT ('-': stdout).\nEntries are named <prefix>/<hash>-<name>/"
		"... (prefix: the store directory\nwithout its leading '/', "
		"i.e. nix/store), sorted bytewise, each directory\nbefore its "
		"contents; ustar with pax headers only for long names; owner "
		"0:0\nwithout names, the image's modes and mtimes, no atime/"
		"ctime.  The same\ncontents give the same bytes, whatever the "
		"image format.  OUT is written\natomically (nothing is left on "
		"failure).\n\n"
		"  --tar OUT          the archive to write (required)\n"
		"  --prefix P         name prefix instead of the store "
		"directory ('' for none)\n"
		"  --store-dir DIR    logical store directory (default "
		"/nix/store)\n"
		"  -h, --help         this help\n\n"
		"Exit codes: 0 written, 1 writing failed, 2 usage error or "
		"unreadable image.\n");
}

static void on_skipped(void *ctx, const char *path)
{
	(void)ctx;
	sd_cli_warnf("skipped %s: device, FIFO or socket", path);
}

/* Export @tree to @out ('-' or a path written atomically). */
static int export_to(const struct sd_tree *tree, const char *out,
		     const struct sd_export_options *opts, struct sd_error *err)
{
	struct sd_export_stats st;
	if (!strcmp(out, "-"))
		return sd_export_tar(tree, STDOUT_FILENO, opts, &st, err);
	struct sd_atomic_file af;
	int rc = sd_atomic_open(&af, out, err);
	if (rc)
		return rc;
	sd_interrupt_install(af.tmp_path);
	rc = sd_export_tar(tree, af.fd, opts, &st, err);
	if (!rc)
		rc = sd_atomic_commit(&af, false, err);
	sd_interrupt_clear();
	sd_atomic_abort(&af);
	return rc;
}

int sd_cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"tar", required_argument, NULL, 't'},
		{"prefix", required_argument, NULL, 'p'},
		{"store-dir", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store_dir = "/nix/store", *out = NULL, *prefix = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': out = optarg; break;
		case 'p': prefix = optarg; break;
		case 'S': store_dir = optarg; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (argc - optind != 1 || !out) {
		sd_cli_errorf("export takes one IMAGE and --tar OUT");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	struct sd_error err;
	sd_error_init(&err);
	char *sd;
	struct sd_tree *tree;
	if (!sd_cli_open_image(argv[optind], store_dir, &sd, &tree))
		return SD_EXIT_BAD_INPUT;
	/* The prefix: as given without outer slashes, else the store dir. */
	const char *p = prefix ? prefix : sd;
	while (*p == '/')
		p++;
	char *pfx = strdup(p);
	size_t n = pfx ? strlen(pfx) : 0;
	while (n && pfx[n - 1] == '/')
		pfx[--n] = '\0';
	struct sd_export_options opts = {.prefix = pfx,
					 .skipped = on_skipped,
					 .interrupted = &sd_interrupted};
	int rc = pfx ? export_to(tree, out, &opts, &err)
		     : sd_error_set(&err, SD_ERR_NOMEM, "out of memory");
	int exit_code = SD_EXIT_OK;
	if (rc) {
		sd_cli_error(&err);
		exit_code = rc == SD_ERR_CORRUPT ? SD_EXIT_BAD_INPUT
						 : SD_EXIT_FOUND;
	}
	free(pfx);
	sd_tree_free(tree);
	free(sd);
	return exit_code;
}
