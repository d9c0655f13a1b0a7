/* SPDX-License-Identifier: MIT */
/* storedisk extract — an image's tree into a directory (app/extract.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "app/extract.h"
#include "app/inspect.h"
#include "cli/cli.h"
#include "cli/inspect_print.h"
#include "cli/interrupt.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk extract [OPTIONS] [--base BASE.img]... IMAGE "
		"DIR\n"
		"Write the contents of IMAGE (the store directory: one "
		"<hash>-<name> per store\npath) into DIR, which is created if "
		"missing and must otherwise be empty.  No\nmount, no root: "
		"files get the image's permission bits (0444/0555, never\n"
		"setuid/setgid), directories are made read-only after their "
		"contents, mtimes\nare restored, owners are not.  Symlinks are "
		"created as symlinks and never\nfollowed; nothing is ever "
		"written outside DIR.  Device nodes, FIFOs and\nsockets are "
		"skipped with a warning.\n\n"
		"  --path PATH        extract only PATH (relative to the image "
		"root or under\n"
		"                     the store directory), e.g. one store "
		"path\n"
		"  --writable         keep files and directories owner-"
		"writable (easy to delete)\n"
		"  --base BASE.img    IMAGE is a layer over BASE (repeatable, "
		"in order): extract\n"
		"                     the union a guest sees through "
		"overlayfs\n"
		"  --store-dir DIR    logical store directory (default "
		"/nix/store)\n"
		"  -h, --help         this help\n\n"
		"Delete a read-only extraction with: chmod -R u+w DIR && rm -rf "
		"DIR\n"
		"Exit codes: 0 extracted, 1 writing failed (DIR not empty, I/O "
		"error),\n2 usage error, unreadable or corrupt image (what was "
		"written so far stays).\n");
}

static void on_skipped(void *ctx, const char *path)
{
	(void)ctx;
	sd_cli_warnf("skipped %s: device, FIFO or socket", path);
}

int sd_cmd_extract(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"path", required_argument, NULL, 'p'},
		{"writable", no_argument, NULL, 'w'},
		{"store-dir", required_argument, NULL, 'S'},
		{"base", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store_dir = "/nix/store", *path = "";
	struct sd_extract_options opts = {.skipped = on_skipped,
					  .interrupted = &sd_interrupted};
	struct sd_cli_bases bases = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (!sd_cli_bases_push(&bases, optarg))
				return SD_EXIT_FOUND;
			break;
		case 'p': path = optarg; break;
		case 'w': opts.writable = true; break;
		case 'S': store_dir = optarg; break;
		case 'h':
			help(stdout);
			sd_cli_bases_release(&bases);
			return SD_EXIT_OK;
		default:
			help(stderr);
			sd_cli_bases_release(&bases);
			return SD_EXIT_BAD_INPUT;
		}
	}
	if (argc - optind != 2) {
		sd_cli_errorf("extract takes IMAGE and DIR");
		help(stderr);
		sd_cli_bases_release(&bases);
		return SD_EXIT_BAD_INPUT;
	}
	struct sd_error err;
	sd_error_init(&err);
	char *sd;
	struct sd_tree *tree;
	bool opened =
		sd_cli_open_union(argv[optind], &bases, store_dir, &sd, &tree);
	char wbuf[4096];
	/* with bases a union was searched: say so (else "the image") */
	const char *where =
		sd_cli_searched(argv[optind], bases.n, wbuf, sizeof(wbuf));
	sd_cli_bases_release(&bases);
	if (!opened)
		return SD_EXIT_BAD_INPUT;
	struct sd_node *node;
	struct sd_extract_stats st;
	int rc = sd_inspect_resolve(tree, sd, path, where, &node, &err);
	if (!rc) {
		sd_interrupt_install(NULL);
		rc = sd_extract(tree, node, argv[optind + 1], &opts, &st, &err);
	}
	int exit_code = SD_EXIT_OK;
	if (rc) {
		sd_cli_error(&err);
		exit_code = rc == SD_ERR_CORRUPT ? SD_EXIT_BAD_INPUT
						 : SD_EXIT_FOUND;
	} else {
		fprintf(stderr,
			"extracted %" PRIu64 " director%s, %" PRIu64
			" file%s (%" PRIu64 " byte%s), %" PRIu64 " symlink%s"
			"%s\n",
			st.dirs, sd_plural(st.dirs, "y", "ies"), st.files,
			sd_plural(st.files, "", "s"), st.bytes,
			sd_plural(st.bytes, "", "s"), st.symlinks,
			sd_plural(st.symlinks, "", "s"),
			st.skipped ? " (some entries skipped)" : "");
	}
	sd_tree_free(tree);
	free(sd);
	return exit_code;
}
