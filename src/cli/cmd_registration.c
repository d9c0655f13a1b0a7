/* SPDX-License-Identifier: MIT */
/* storedisk registration — print the registration of a closure or image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/closure_tree.h"
#include "app/registration.h"
#include "cli/cli.h"
#include "cli/closure_opts.h"
#include "formats/format.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk registration [OPTIONS] ROOT...\n"
		"       storedisk registration --image IMAGE [--store-dir DIR]\n"
		"Print the registration of the ROOTs' closure, or of an "
		"image's store paths,\nin the nix-store --load-db format: per "
		"path the path, narHash, narSize,\nderiver, the number of "
		"references and the references.  narHash and narSize\nare "
		"computed from the files (Nix's NAR serialisation and "
		"SHA-256), as\nnix-store -q --hash / --size report them.\n\n"
		"  --image IMAGE          the store paths of a squashfs or "
		"EROFS image\n"
		"                         (references found by scanning)\n"
		"  --base16               narHash as 64 hex digits, as "
		"nix-store --dump-db\n"
		"                         prints it (default: sha256:<nix32>)\n"
		"  --keep-derivers        copy each path's deriver from the "
		"source (--db,\n"
		"                         --registration); by default it is "
		"left empty, as\n"
		"                         closureInfo does, so every source "
		"gives the same text\n"
		"  -h, --help             this help\n\n");
	sd_closure_cli_help(f);
	fprintf(f, "\nExit codes: 0 success, 1 failure, 2 usage error or "
		   "unreadable image.\n");
}

static int of_image(const char *image, const char *store_dir, bool base16,
		    char **text, size_t *len, struct sd_error *err)
{
	const struct sd_format *fmt;
	struct sd_tree *tree = NULL;
	char *sd = sd_cli_store_dir(store_dir, err);
	int rc = sd ? sd_format_detect(image, &fmt, err) : err->code;
	if (!rc)
		rc = fmt->read(image, &tree, err);
	if (!rc)
		rc = sd_app_registration_of_image(tree, sd, base16, text, len,
						  err);
	sd_tree_free(tree);
	free(sd);
	return rc;
}

static int of_closure(struct sd_closure_cli *cc, int argc, char **argv,
		      const struct sd_app_reg_options *ro, char **text,
		      size_t *len, struct sd_error *err)
{
	int rc = sd_closure_cli_run(cc, (const char *const *)argv, (size_t)argc,
				    false, err);
	if (rc)
		return rc;
	const struct sd_closure *cl = cc->closure;
	const char **bases = calloc(cl->npaths + 1, sizeof(*bases));
	if (!bases)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < cl->npaths; i++)
		bases[i] = cl->paths[i].sp->base;
	struct sd_tree *tree = NULL;
	rc = sd_app_closure_tree(bases, cl->npaths, cc->st->phys_dir, 1,
				 sd_cli_ncpus(), NULL, &tree, err);
	if (!rc)
		rc = sd_app_registration(tree, cl, ro, text, len, err);
	sd_tree_free(tree);
	free(bases);
	return rc;
}

int sd_cmd_registration(int argc, char **argv)
{
	static const struct option longopts[] = {
		SD_CLOSURE_LONGOPTS,
		{"image", required_argument, NULL, 'i'},
		{"base16", no_argument, NULL, 'b'},
		{"keep-derivers", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sd_closure_cli cc = {0};
	const char *image = NULL;
	bool base16 = false, keep_derivers = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (sd_closure_cli_option(&cc, c, optarg))
			continue;
		switch (c) {
		case 'i': image = optarg; break;
		case 'b': base16 = true; break;
		case 'k': keep_derivers = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (image && optind != argc) {
		sd_cli_errorf("--image takes no ROOT arguments");
		return SD_EXIT_BAD_INPUT;
	}
	if (image && keep_derivers) {
		sd_cli_errorf("--keep-derivers does not apply to --image (an "
			      "image records no derivers)");
		return SD_EXIT_BAD_INPUT;
	}
	struct sd_error err;
	sd_error_init(&err);
	char *text = NULL;
	size_t len = 0;
	int rc;
	if (image)
		rc = of_image(image, cc.store_dir ? cc.store_dir : "/nix/store",
			      base16, &text, &len, &err);
	else {
		struct sd_app_reg_options ro = {
			.scan_refs = cc.paths != NULL,
			.keep_derivers = keep_derivers,
			.base16 = base16,
		};
		rc = of_closure(&cc, argc - optind, argv + optind, &ro, &text,
				&len, &err);
	}
	sd_closure_cli_release(&cc);
	if (rc) {
		sd_cli_error(&err);
		free(text);
		return rc == SD_ERR_USAGE || (image && rc != SD_ERR_NOMEM)
			       ? SD_EXIT_BAD_INPUT
			       : SD_EXIT_FOUND;
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return fflush(stdout) == 0 ? SD_EXIT_OK : SD_EXIT_FOUND;
}
