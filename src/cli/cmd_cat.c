/* SPDX-License-Identifier: MIT */
/* storedisk cat — a file's bytes from an image (front-end of app/inspect.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/inspect.h"
#include "cli/cli.h"
#include "cli/inspect_print.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk cat [OPTIONS] [--base BASE.img]... IMAGE PATH\n"
		"Write the content of regular file PATH of IMAGE to stdout.  "
		"PATH is relative\nto the image root (<hash>-<name>/bin/x) or "
		"starts with the store directory\n(/nix/store/<hash>-<name>/"
		"bin/x).  Symlinks are not followed: cat refuses\n"
		"directories, symlinks and other non-regular entries.\n\n"
		"  --base BASE.img    IMAGE is a layer over BASE (repeatable, "
		"in order): read PATH in\n"
		"                     the union a guest sees through "
		"overlayfs\n"
		"  --store-dir DIR    logical store directory (default "
		"/nix/store)\n"
		"  -h, --help         this help\n\n"
		"Exit codes: 0 written, 1 no such PATH, not a regular file or "
		"write error,\n2 usage error or unreadable image.\n");
}

int sd_cmd_cat(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store-dir", required_argument, NULL, 'S'},
		{"base", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store_dir = "/nix/store";
	struct sd_cli_bases bases = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (!sd_cli_bases_push(&bases, optarg))
				return SD_EXIT_FOUND;
			break;
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
		sd_cli_errorf("cat takes IMAGE and PATH");
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
	const char *path = argv[optind + 1];
	int rc = sd_inspect_resolve(tree, sd, path, where, &node, &err);
	if (!rc && node->type != SD_NODE_FILE)
		rc = sd_error_set(&err, SD_ERR_USAGE,
				  "%s: is a %s, not a regular file", path,
				  sd_inspect_type_name(node->type));
	if (!rc)
		rc = sd_inspect_cat(tree, node, STDOUT_FILENO, &err);
	int exit_code = SD_EXIT_OK;
	if (rc) {
		sd_cli_error(&err);
		exit_code = rc == SD_ERR_CORRUPT ? SD_EXIT_BAD_INPUT
						 : SD_EXIT_FOUND;
	}
	sd_tree_free(tree);
	free(sd);
	return exit_code;
}
