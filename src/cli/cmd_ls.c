/* SPDX-License-Identifier: MIT */
/* storedisk ls — list a directory of an image (front-end of app/inspect.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/inspect.h"
#include "cli/cli.h"
#include "cli/inspect_print.h"
#include "cli/json.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk ls [OPTIONS] [--base BASE.img]... IMAGE "
		"[PATH]\n"
		"List the entries of directory PATH of IMAGE (default: the "
		"root, i.e. the store\ndirectory), one per line, sorted "
		"bytewise.  PATH is relative to the image root\n"
		"(<hash>-<name>/bin) or starts with the store directory "
		"(/nix/store/<hash>-<name>/bin);\na PATH that is not a "
		"directory lists itself.  Symlinks are never followed.\n\n"
		"  -l                 long format: mode uid gid size mtime "
		"name [-> target]\n"
		"  -R                 recursive: every entry below PATH, as "
		"a path relative to PATH\n"
		"  --json             a JSON array of {path (logical), type, "
		"mode, uid, gid,\n"
		"                     size, mtime, target}\n"
		"  --base BASE.img    IMAGE is a layer over BASE (repeatable, "
		"in order): list\n"
		"                     the union a guest sees through overlayfs "
		"(a top-level\n"
		"                     entry is taken from the first of IMAGE, "
		"BASE... holding it)\n"
		"  --store-dir DIR    logical store directory (default "
		"/nix/store)\n"
		"  -h, --help         this help\n\n"
		"Control bytes and backslashes in names are printed as \\xNN.\n"
		"Exit codes: 0 listed, 1 no such PATH, 2 usage error or "
		"unreadable image.\n");
}

struct ls_args {
	bool longfmt, recursive, json;
	const char *store_dir, *image, *path;
	struct sd_cli_bases bases; /* --base, in order */
};

struct ls_out {
	const struct ls_args *a;
	const struct sd_node *base; /* the listed directory */
	const char *store_dir;      /* normalised */
	struct sd_json json;
};

static void print_rel(FILE *f, const struct sd_node *node,
		      const struct sd_node *base)
{
	if (node == base || !node->parent) {
		sd_print_escaped(f, node == base ? node->name : "");
		return;
	}
	if (node->parent != base) {
		print_rel(f, node->parent, base);
		fputc('/', f);
	}
	sd_print_escaped(f, node->name);
}

static void print_one(struct ls_out *o, const struct sd_node *node)
{
	if (o->a->json) {
		sd_print_json_entry(&o->json, node, o->store_dir);
		return;
	}
	if (o->a->longfmt)
		sd_print_long_prefix(stdout, node);
	print_rel(stdout, node, o->base);
	if (o->a->longfmt && node->type == SD_NODE_SYMLINK) {
		fputs(" -> ", stdout);
		sd_print_escaped(stdout, node->target ? node->target : "");
	}
	fputc('\n', stdout);
}

static void list_dir(struct ls_out *o, const struct sd_node *dir)
{
	for (size_t i = 0; i < dir->nchildren; i++) {
		const struct sd_node *c = dir->children[i];
		print_one(o, c);
		if (o->a->recursive && c->type == SD_NODE_DIR)
			list_dir(o, c);
	}
}

static int parse_args(int argc, char **argv, struct ls_args *a)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"store-dir", required_argument, NULL, 'S'},
		{"base", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "lRh", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (!sd_cli_bases_push(&a->bases, optarg))
				return SD_EXIT_FOUND;
			break;
		case 'l': a->longfmt = true; break;
		case 'R': a->recursive = true; break;
		case 'j': a->json = true; break;
		case 'S': a->store_dir = optarg; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (optind >= argc && a->bases.n) {
		sd_cli_errorf("--base needs the IMAGE layered on it");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	if (optind >= argc || argc - optind > 2) {
		sd_cli_errorf("ls takes IMAGE and at most one PATH");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	a->image = argv[optind];
	a->path = optind + 1 < argc ? argv[optind + 1] : "";
	return -1;
}

int sd_cmd_ls(int argc, char **argv)
{
	struct ls_args a = {.store_dir = "/nix/store"};
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0) {
		sd_cli_bases_release(&a.bases);
		return rc;
	}
	struct sd_error err;
	sd_error_init(&err);
	char *sd;
	struct sd_tree *tree;
	bool opened =
		sd_cli_open_union(a.image, &a.bases, a.store_dir, &sd, &tree);
	char wbuf[4096];
	/* with bases a union was searched: say so (else "the image") */
	const char *where =
		sd_cli_searched(a.image, a.bases.n, wbuf, sizeof(wbuf));
	sd_cli_bases_release(&a.bases);
	if (!opened)
		return SD_EXIT_BAD_INPUT;
	struct sd_node *node;
	int exit_code = SD_EXIT_OK;
	if (sd_inspect_resolve(tree, sd, a.path, where, &node, &err)) {
		sd_cli_error(&err);
		exit_code = SD_EXIT_FOUND;
	} else {
		struct ls_out o = {.a = &a, .store_dir = sd};
		o.base = node->type == SD_NODE_DIR ? node : node->parent;
		if (a.json) {
			sd_json_init(&o.json, stdout);
			sd_json_array_begin(&o.json);
		}
		if (node->type == SD_NODE_DIR)
			list_dir(&o, node);
		else
			print_one(&o, node);
		if (a.json)
			sd_json_array_end(&o.json);
	}
	sd_tree_free(tree);
	free(sd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		sd_cli_errorf("writing the listing failed");
		return SD_EXIT_FOUND;
	}
	return exit_code;
}
