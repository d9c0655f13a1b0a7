/* SPDX-License-Identifier: MIT */
/* storedisk closure — print the closure of store paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/closure_opts.h"
#include "cli/json.h"
#include "cli/mentions.h"
#include "closure/nix32.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk closure [OPTIONS] ROOT...\n"
		"Print the closure of the ROOTs: every store path they reach "
		"by references,\nas logical paths sorted bytewise, one per "
		"line.\n\n"
		"A ROOT is a store path (logical or physical), a path inside "
		"one, or a\nsymlink to either (such as ./result).\n\n"
		"  --json                 paths, references, sizes as JSON\n"
		"  --graph                reference edges, one \"FROM TO\" "
		"per line\n"
		"  -h, --help             this help\n\n");
	sd_closure_cli_help(f);
	fprintf(f, "\nExit codes: 0 success, 1 failure (missing reference, "
		   "bad input), 2 usage error.\n");
}

static void print_json(const struct sd_closure_cli *cc)
{
	const struct sd_closure *c = cc->closure;
	struct sd_json j;
	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "store_dir", cc->st->store_dir);
	sd_json_key(&j, "roots");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < c->nroots; i++)
		sd_json_string(&j, c->paths[c->roots[i]].path);
	sd_json_array_end(&j);
	sd_json_kv_u64(&j, "bytes", c->bytes);
	sd_json_key(&j, "paths");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < c->npaths; i++) {
		const struct sd_closure_path *p = &c->paths[i];
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "path", p->path);
		sd_json_kv_u64(&j, "bytes", p->bytes);
		if (p->has_nar) {
			char h[SD_NARHASH_LEN * 2];
			sd_nix32_encode(p->nar_hash, SD_NARHASH_LEN, h);
			size_t hl = sd_nix32_encoded_len(SD_NARHASH_LEN);
			char buf[8 + SD_NARHASH_LEN * 2];
			snprintf(buf, sizeof(buf), "sha256:%.*s", (int)hl, h);
			sd_json_kv_string(&j, "nar_hash", buf);
			sd_json_kv_u64(&j, "nar_size", p->nar_size);
		}
		sd_json_key(&j, "references");
		sd_json_array_begin(&j);
		for (size_t k = 0; k < p->nrefs; k++)
			sd_json_string(&j, c->paths[p->refs[k]].path);
		sd_json_array_end(&j);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_key(&j, "missing");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < c->nmissing; i++) {
		const struct sd_closure_missing *m = &c->missing[i];
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "hash", m->hash);
		sd_json_kv_string(&j, "path", m->path);
		sd_json_kv_string(&j, "referrer", m->referrer);
		sd_json_kv_bool(&j, "allowed", m->allowed);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_key(&j, "absent");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < c->nabsent; i++) {
		const struct sd_closure_absent *a = &c->absent[i];
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "hash", a->hash);
		sd_json_kv_string(&j, "file", a->file);
		sd_json_kv_string(&j, "where", sd_cli_what_str(a->what));
		sd_json_kv_u64(&j, "offset", a->offset);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_key(&j, "invalid_entries");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < cc->st->nwarnings; i++) {
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "entry", cc->st->warnings[i].entry);
		sd_json_kv_string(&j, "reason", cc->st->warnings[i].reason);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_object_end(&j);
}

static int print_graph(const struct sd_closure *c, struct sd_error *err)
{
	struct sd_closure_edge *edges;
	size_t n;
	int rc = sd_closure_edges(c, &edges, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", c->paths[edges[i].from].path,
		       c->paths[edges[i].to].path);
	free(edges);
	return SD_OK;
}

int sd_cmd_closure(int argc, char **argv)
{
	static const struct option longopts[] = {
		SD_CLOSURE_LONGOPTS,
		{"json", no_argument, NULL, 'j'},
		{"graph", no_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sd_closure_cli cc = {0};
	bool json = false, graph = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (sd_closure_cli_option(&cc, c, optarg))
			continue;
		switch (c) {
		case 'j': json = true; break;
		case 'g': graph = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (json && graph) {
		sd_cli_errorf("give only one of --json and --graph");
		return SD_EXIT_BAD_INPUT;
	}
	struct sd_error err;
	sd_error_init(&err);
	int rc = sd_closure_cli_run(&cc, (const char *const *)argv + optind,
				    (size_t)(argc - optind), false, &err);
	if (!rc) {
		sd_cli_report_absent(cc.closure, cc.st->store_dir);
		if (json)
			print_json(&cc);
		else if (graph)
			rc = print_graph(cc.closure, &err);
		else
			for (size_t i = 0; i < cc.closure->npaths; i++)
				puts(cc.closure->paths[i].path);
	}
	sd_closure_cli_release(&cc);
	if (rc) {
		sd_cli_error(&err);
		return rc == SD_ERR_USAGE ? SD_EXIT_BAD_INPUT : SD_EXIT_FOUND;
	}
	return fflush(stdout) == 0 ? SD_EXIT_OK : SD_EXIT_FOUND;
}
