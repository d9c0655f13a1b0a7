/* SPDX-License-Identifier: MIT */
/* storedisk layers — split closures into a stack of layers (app/layers.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/layers.h"
#include "cli/cli.h"
#include "cli/closure_opts.h"
#include "cli/json.h"
#include "core/atomicfile.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk layers --max N [OPTIONS] ROOT...\n"
		"Split the closures of the ROOTs into a stack of at most N "
		"layers, the paths\nmost depended on lowest, and print one "
		"path list per layer (bottom first).\nEach layer is packed "
		"on the ones below it:\n"
		"  storedisk pack --paths layer-2.paths --base layer-1.img "
		"-o layer-2.img\n"
		"A ROOT needs the layers up to the highest holding a path of "
		"its closure.\n\n"
		"  --max N                at most N layers (1 or more)\n"
		"  --out-dir DIR          write DIR/layer-K.paths for each "
		"layer K and print a\n"
		"                         summary instead of the lists (DIR "
		"is made when\n"
		"                         missing)\n"
		"  --json                 the plan as JSON\n"
		"  -h, --help             this help\n\n");
	sd_closure_cli_help(f);
	fprintf(f, "\nReferences come from --db, --registration or --scan "
		   "(a --paths list has none).\n"
		   "Exit codes: 0 success, 1 failure (missing reference, bad "
		   "input, a list not\nwritten), 2 usage error.\n");
}

/* DIR/layer-K.paths, malloc'ed. */
static char *list_path(const char *dir, size_t k)
{
	size_t len = strlen(dir) + 32;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/layer-%zu.paths", dir, k + 1);
	return p;
}

/* Write layer @y's paths, one a line, to @path: whole or not at all. */
static int write_list(const struct sd_closure *c, const struct sd_layer *y,
		      const char *path, struct sd_error *err)
{
	struct sd_atomic_file af;
	size_t len = 0, at = 0;
	char *buf;
	int ret;

	for (size_t i = 0; i < y->npaths; i++)
		len += strlen(c->paths[y->paths[i]].path) + 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < y->npaths; i++) {
		size_t n = strlen(c->paths[y->paths[i]].path);
		memcpy(buf + at, c->paths[y->paths[i]].path, n);
		at += n;
		buf[at++] = '\n';
	}
	ret = sd_atomic_open(&af, path, err);
	bool opened = !ret;
	for (at = 0; !ret && at < len;) {
		ssize_t w = write(af.fd, buf + at, len - at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			ret = sd_error_errno(err, SD_ERR_IO,
					     w < 0 ? errno : ENOSPC, "%s",
					     path);
		else
			at += (size_t)w;
	}
	if (!ret)
		ret = sd_atomic_commit(&af, false, err);
	if (opened) /* removes the temporary file; safe after commit */
		sd_atomic_abort(&af);
	free(buf);
	return ret;
}

static void print_json(const struct sd_closure_cli *cc,
		       const struct sd_layers *l, size_t max,
		       const char *out_dir)
{
	const struct sd_closure *c = cc->closure;
	struct sd_json j;

	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "store_dir", cc->st->store_dir);
	sd_json_kv_u64(&j, "max_layers", max);
	sd_json_kv_u64(&j, "bytes", c->bytes);
	sd_json_key(&j, "layers");
	sd_json_array_begin(&j);
	for (size_t k = 0; k < l->nlayers; k++) {
		const struct sd_layer *y = &l->layers[k];
		sd_json_object_begin(&j);
		sd_json_kv_u64(&j, "layer", k + 1);
		sd_json_kv_u64(&j, "bytes", y->bytes);
		sd_json_kv_u64(&j, "popularity_max", y->popularity_max);
		sd_json_kv_u64(&j, "popularity_min", y->popularity_min);
		if (out_dir) {
			char *p = list_path(out_dir, k);
			sd_json_kv_string(&j, "file", p ? p : "");
			free(p);
		}
		sd_json_key(&j, "paths");
		sd_json_array_begin(&j);
		for (size_t i = 0; i < y->npaths; i++)
			sd_json_string(&j, c->paths[y->paths[i]].path);
		sd_json_array_end(&j);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_key(&j, "roots");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < c->nroots; i++) {
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "root", c->paths[c->roots[i]].path);
		sd_json_kv_u64(&j, "layers", l->root_top[i] + 1);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_object_end(&j);
}

static void print_header(const struct sd_layers *l, size_t k, FILE *f)
{
	const struct sd_layer *y = &l->layers[k];

	fprintf(f,
		"# layer %zu of %zu: %zu path%s, %llu byte%s, popularity "
		"%llu..%llu\n",
		k + 1, l->nlayers, y->npaths, sd_plural(y->npaths, "", "s"),
		(unsigned long long)y->bytes, sd_plural(y->bytes, "", "s"),
		(unsigned long long)y->popularity_max,
		(unsigned long long)y->popularity_min);
}

int sd_cmd_layers(int argc, char **argv)
{
	static const struct option longopts[] = {
		SD_CLOSURE_LONGOPTS,
		{"max", required_argument, NULL, 'm'},
		{"out-dir", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sd_closure_cli cc = {0};
	const char *out_dir = NULL;
	bool json = false;
	int64_t max = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (sd_closure_cli_option(&cc, c, optarg))
			continue;
		switch (c) {
		case 'm':
			if (!sd_cli_parse_i64(optarg, &max) || max < 1 ||
			    max > 1000000) {
				sd_cli_errorf("--max: not a number of layers "
					      "(1 or more): '%s'",
					      optarg);
				return SD_EXIT_BAD_INPUT;
			}
			break;
		case 'o': out_dir = optarg; break;
		case 'j': json = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (!max) {
		sd_cli_errorf("give the number of layers with --max N");
		return SD_EXIT_BAD_INPUT;
	}
	if (optind >= argc) {
		sd_cli_errorf("give at least one ROOT");
		return SD_EXIT_BAD_INPUT;
	}
	struct sd_error err;
	struct sd_layers *l = NULL;
	struct stat st;

	sd_error_init(&err);
	/* made when missing (its parent must exist), as mkdir would */
	if (out_dir && mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
		sd_cli_errorf("--out-dir %s: %s", out_dir, strerror(errno));
		return SD_EXIT_BAD_INPUT;
	}
	if (out_dir && (stat(out_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		sd_cli_errorf("--out-dir %s: not a directory", out_dir);
		return SD_EXIT_BAD_INPUT;
	}
	int rc = sd_closure_cli_run(&cc, (const char *const *)argv + optind,
				    (size_t)(argc - optind), false, &err);
	if (!rc)
		rc = sd_layers_plan(cc.closure, cc.opts.source, (size_t)max, &l,
				    &err);
	for (size_t k = 0; !rc && out_dir && k < l->nlayers; k++) {
		char *p = list_path(out_dir, k);
		rc = p ? write_list(cc.closure, &l->layers[k], p, &err)
		       : sd_error_set(&err, SD_ERR_NOMEM, "out of memory");
		free(p);
	}
	if (!rc && json) {
		print_json(&cc, l, (size_t)max, out_dir);
	} else if (!rc) {
		const struct sd_closure *cl = cc.closure;
		for (size_t k = 0; k < l->nlayers; k++) {
			print_header(l, k, stdout);
			if (out_dir) {
				char *p = list_path(out_dir, k);
				printf("%s\n", p ? p : "");
				free(p);
				continue;
			}
			for (size_t i = 0; i < l->layers[k].npaths; i++)
				puts(cl->paths[l->layers[k].paths[i]].path);
		}
		for (size_t i = 0; i < cl->nroots; i++)
			printf("# root %s needs layers 1..%zu\n",
			       cl->paths[cl->roots[i]].path,
			       l->root_top[i] + 1);
	}
	sd_layers_free(l);
	sd_closure_cli_release(&cc);
	if (rc) {
		sd_cli_error(&err);
		return rc == SD_ERR_USAGE ? SD_EXIT_BAD_INPUT : SD_EXIT_FOUND;
	}
	return fflush(stdout) == 0 ? SD_EXIT_OK : SD_EXIT_FOUND;
}
