/* storedisk verify — front-end of app/verify.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/verify.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/listfile.h"
#include "closure/allowlist.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk verify [OPTIONS] IMAGE\n"
		"Prove that IMAGE is self-contained: every store reference "
		"inside it resolves inside it.\n\n"
		"  --store-dir DIR      logical store directory (default "
		"/nix/store)\n"
		"  --candidates FILE    store paths or hashes to look for as "
		"bare hashes\n"
		"                       (e.g. the host's store listing); full "
		"paths found in\n"
		"                       neither the image nor FILE become "
		"warnings\n"
		"  --allow FILE         hashes or paths accepted as known "
		"exceptions\n"
		"  --json               machine-readable report on stdout\n"
		"  -h, --help           this help\n\n"
		"Exit codes: 0 self-contained, 1 violations found, 2 the image "
		"cannot be read\n"
		"(corrupt, truncated, not an image) or usage error.\n");
}

static void print_findings_json(struct sd_json *j,
				const struct sd_verify_result *r,
				enum sd_finding_kind kind)
{
	sd_json_array_begin(j);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sd_finding *f = &r->findings[i];
		if (f->kind != kind)
			continue;
		sd_json_object_begin(j);
		sd_json_kv_string(j, "file", f->file);
		sd_json_kv_string(j, "where", f->where);
		sd_json_kv_u64(j, "offset", f->offset);
		sd_json_kv_u64(j, "occurrences", f->count);
		sd_json_kv_string(j, "path", f->path);
		sd_json_kv_string(j, "reason", f->reason);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
}

static void print_json(const char *image, const char *store_dir,
		       const struct sd_verify_result *r, const char *error)
{
	struct sd_json j;
	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "image", image);
	if (error) {
		sd_json_kv_string(&j, "error", error);
		sd_json_object_end(&j);
		return;
	}
	sd_json_kv_string(&j, "format", r->format);
	sd_json_kv_string(&j, "store_dir", store_dir);
	sd_json_kv_bool(&j, "self_contained", r->nviolations == 0);
	sd_json_kv_u64(&j, "paths", r->npaths);
	sd_json_kv_u64(&j, "files", r->nfiles);
	sd_json_kv_u64(&j, "directories", r->ndirs);
	sd_json_kv_u64(&j, "symlinks", r->nsymlinks);
	sd_json_kv_u64(&j, "bytes_scanned", r->bytes_scanned);
	sd_json_kv_u64(&j, "references_resolved", r->references);
	sd_json_key(&j, "violations");
	print_findings_json(&j, r, SD_FINDING_VIOLATION);
	sd_json_key(&j, "warnings");
	print_findings_json(&j, r, SD_FINDING_WARNING);
	sd_json_object_end(&j);
}

static void print_text(const char *image, const struct sd_verify_result *r)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sd_finding *f = &r->findings[i];
		printf("%s: %s:%llu (%s): %s: %s",
		       f->kind == SD_FINDING_VIOLATION ? "violation" : "warning",
		       f->file, (unsigned long long)f->offset, f->where,
		       f->path, f->reason);
		if (f->count > 1)
			printf(" (%llu occurrences)",
			       (unsigned long long)f->count);
		putchar('\n');
	}
	if (r->nviolations == 0)
		printf("%s: self-contained: %zu store paths, %zu files, "
		       "%llu references resolved, %zu warnings\n",
		       image, r->npaths, r->nfiles,
		       (unsigned long long)r->references, r->nwarnings);
	else
		printf("%s: NOT self-contained: %zu violations, %zu warnings "
		       "in %zu store paths\n",
		       image, r->nviolations, r->nwarnings, r->npaths);
}

int sd_cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store-dir", required_argument, NULL, 'S'},
		{"candidates", required_argument, NULL, 'c'},
		{"allow", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store_dir = "/nix/store";
	const char *candidates_file = NULL, *allow_file = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': store_dir = optarg; break;
		case 'c': candidates_file = optarg; break;
		case 'a': allow_file = optarg; break;
		case 'j': json = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (optind + 1 != argc) {
		sd_cli_errorf("verify takes exactly one IMAGE");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	const char *image = argv[optind];

	struct sd_error err;
	sd_error_init(&err);
	struct sd_verify_options opts = {0};
	struct sd_listfile cands = {0};
	struct sd_allowlist *allow = NULL;
	char *sd = sd_cli_store_dir(store_dir, &err);
	int rc = sd ? 0 : err.code;
	if (!rc && candidates_file) {
		rc = sd_listfile_load(&cands, candidates_file, &err);
		opts.has_candidates = true;
		opts.candidates = (const char *const *)cands.items;
		opts.ncandidates = cands.count;
	}
	if (!rc && allow_file)
		rc = sd_allowlist_load(allow_file, sd, &allow, &err);
	if (rc) {
		sd_cli_error(&err);
		free(sd);
		sd_listfile_release(&cands);
		return SD_EXIT_BAD_INPUT;
	}
	opts.store_dir = sd;
	opts.allowed = allow;

	struct sd_verify_result res;
	rc = sd_verify_image(image, &opts, &res, &err);
	int exit_code;
	if (rc) {
		sd_cli_error(&err);
		if (json)
			print_json(image, sd, NULL, err.msg);
		exit_code = SD_EXIT_BAD_INPUT;
	} else {
		if (json)
			print_json(image, sd, &res, NULL);
		else
			print_text(image, &res);
		exit_code = res.nviolations ? SD_EXIT_FOUND : SD_EXIT_OK;
		sd_verify_result_release(&res);
	}
	sd_allowlist_free(allow);
	sd_listfile_release(&cands);
	free(sd);
	return exit_code;
}
