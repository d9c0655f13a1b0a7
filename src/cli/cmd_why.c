/* SPDX-License-Identifier: MIT */
/* storedisk why — front-end of app/why.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/why.h"
#include "cli/interrupt.h"
#include "cli/cli.h"
#include "cli/closure_opts.h"
#include "cli/inspect_print.h"
#include "cli/json.h"
#include "closure/store.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk why [OPTIONS] ROOT PATH\n"
		"       storedisk why --image IMAGE [--base BASE.img]... "
		"[OPTIONS] ROOT PATH\n"
		"Show why ROOT depends on PATH: the shortest chain of "
		"references from ROOT\nto PATH and, for each hop, the file "
		"inside the referring path, the byte\noffset of the hash in "
		"it and the bytes around it (like nix why-depends\n"
		"--precise).  References follow Nix's rule (a hash part "
		"in contents,\nsymlink targets or entry names); the search "
		"scans each path once and\nstops at PATH.\n\n"
		"On a store, ROOT and PATH are store paths (logical or "
		"physical), paths\ninside them or symlinks to them (such as "
		"./result).  With --image they\nare top-level entries of the "
		"image: logical paths, basenames, hash parts\nor bare names "
		"(hello-2.12) when one entry has that name.\n\n"
		"References come from the same sources as for 'storedisk "
		"closure' (--db,\n--registration, --paths, --scan, and the "
		"Nix database of /nix/store by\ndefault): the search stays "
		"within the closure of ROOT that source gives;\nwith a "
		"database or registration it follows only registered "
		"references,\nshowing a registered one whose hash the scan "
		"does not find as\n\"(registered reference, not found by a "
		"scan)\".\n\n"
		"  --image IMAGE          search a squashfs or EROFS image "
		"instead of a store\n"
		"                         (with --base, --store-dir and "
		"--scan only)\n"
		"  --base BASE.img        with --image: IMAGE is a layer over "
		"BASE (repeatable,\n"
		"                         in order); search the union a guest "
		"sees through\n"
		"                         overlayfs, where a chain may cross "
		"into BASE's paths\n"
		"  --json                 the chain as JSON\n"
		"  -h, --help             this help\n\n");
	sd_closure_cli_help(f);
	fprintf(f,
		"\n"
		"Exit codes: 0 chain found, 1 PATH is not in the closure of "
		"ROOT (or a failure:\nROOT or PATH not in the store, I/O), 2 "
		"usage error or unreadable image.\n");
}

static void print_json(const struct sd_why_result *r)
{
	struct sd_json j;
	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "root", r->root);
	sd_json_kv_string(&j, "path", r->path);
	sd_json_kv_bool(&j, "found", r->found);
	sd_json_kv_u64(&j, "paths_scanned", r->scanned);
	sd_json_key(&j, "chain");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < r->nhops; i++) {
		const struct sd_why_hop *h = &r->hops[i];
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "from", h->from);
		sd_json_kv_string(&j, "to", h->to);
		sd_json_kv_string(&j, "file", h->file);
		sd_json_kv_string(&j, "where", h->where);
		if (h->file) {
			sd_json_kv_u64(&j, "offset", h->offset);
		} else {
			sd_json_key(&j, "offset");
			sd_json_string(&j, NULL);
		}
		sd_json_kv_string(&j, "excerpt", h->excerpt);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_object_end(&j);
}

static void print_text(const struct sd_why_result *r)
{
	puts(r->root);
	for (size_t i = 0; i < r->nhops; i++) {
		const struct sd_why_hop *h = &r->hops[i];
		if (!h->file)
			printf("-> %s\n   (registered reference, not found by "
			       "a scan)\n",
			       h->to);
		else
			printf("-> %s\n   %s:%llu (%s): %s\n", h->to, h->file,
			       (unsigned long long)h->offset, h->where,
			       h->excerpt);
	}
}

/*
 * Search a store on disk: within the closure of ROOT that the source of
 * references gives, unless references come from a scan.
 */
static int why_store(struct sd_closure_cli *cc, const char *root,
		     const char *path, struct sd_why_result *res,
		     struct sd_error *err)
{
	*res = (struct sd_why_result){0};
	int rc = sd_closure_cli_open(cc, err);
	if (rc)
		return rc;
	if (cc->opts.source == SD_CLOSURE_SCAN)
		return sd_why_store(cc->st, root, path, NULL, &sd_interrupted,
				    res, err);
	const char *roots[] = {root};
	rc = sd_closure_cli_compute(cc, roots, 1, false, err);
	if (rc)
		return rc;
	struct sd_why_within within = {
		.closure = cc->closure,
		.registered = cc->opts.source == SD_CLOSURE_REGISTRATION,
	};
	return sd_why_store(cc->st, root, path, &within, &sd_interrupted, res,
			    err);
}

/* Search an image. */
static int why_image(const struct sd_closure_cli *cc, const char *image,
		     const struct sd_cli_bases *bases, const char *root,
		     const char *path, struct sd_why_result *res,
		     struct sd_error *err)
{
	char *sd = sd_cli_store_dir(
		cc->store_dir ? cc->store_dir : SD_DEFAULT_STORE_DIR, err);
	if (!sd)
		return err->code;
	int rc = sd_why_union(image, bases->v, bases->n, sd, root, path,
			      &sd_interrupted, res, err);
	free(sd);
	return rc;
}

static int exit_code(int rc, bool image)
{
	if (rc == SD_ERR_USAGE)
		return SD_EXIT_BAD_INPUT;
	if (image && (rc == SD_ERR_CORRUPT || rc == SD_ERR_IO ||
		      rc == SD_ERR_UNSUPPORTED))
		return SD_EXIT_BAD_INPUT;
	return SD_EXIT_FOUND;
}

int sd_cmd_why(int argc, char **argv)
{
	static const struct option longopts[] = {
		SD_CLOSURE_LONGOPTS,
		{"image", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"base", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sd_closure_cli cc = {0};
	int code = SD_EXIT_BAD_INPUT;
	const char *image = NULL;
	struct sd_cli_bases bases = {0};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (sd_closure_cli_option(&cc, c, optarg))
			continue;
		switch (c) {
		case 'i': image = optarg; break;
		case 'j': json = true; break;
		case 'B':
			if (!sd_cli_bases_push(&bases, optarg))
				goto out;
			break;
		case 'h':
			code = SD_EXIT_OK;
			help(stdout);
			goto out;
		default: help(stderr); goto out;
		}
	}
	if (optind + 2 != argc) {
		sd_cli_errorf("why takes ROOT and PATH");
		help(stderr);
		goto out;
	}
	if (bases.n && !image) {
		sd_cli_errorf("--base goes with --image (the layer it is a "
			      "base of)");
		goto out;
	}
	const char *store_only = cc.store           ? "--store"
				 : cc.db            ? "--db"
				 : cc.registration  ? "--registration"
				 : cc.paths         ? "--paths"
				 : cc.allow_file    ? "--allow"
				 : cc.allow_missing ? "--allow-missing"
						    : NULL;
	if (image && store_only) {
		sd_cli_errorf("%s does not go with --image", store_only);
		goto out;
	}
	const char *root = argv[optind], *path = argv[optind + 1];

	struct sd_error err;
	sd_error_init(&err);
	struct sd_why_result res;
	int rc = image ? why_image(&cc, image, &bases, root, path, &res, &err)
		       : why_store(&cc, root, path, &res, &err);
	if (rc) {
		sd_cli_error(&err);
		code = exit_code(rc, image != NULL);
	} else {
		if (json)
			print_json(&res);
		else if (res.found)
			print_text(&res);
		if (!res.found)
			sd_cli_errorf("%s is not in the closure of %s",
				      res.path, res.root);
		code = res.found ? SD_EXIT_OK : SD_EXIT_FOUND;
		if (fflush(stdout) != 0)
			code = SD_EXIT_FOUND;
	}
	sd_why_result_release(&res);
out:
	sd_closure_cli_release(&cc);
	sd_cli_bases_release(&bases);
	return code;
}
