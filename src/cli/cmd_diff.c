/* SPDX-License-Identifier: MIT */
/* storedisk diff — what differs between two images (app/diff.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/diff.h"
#include "app/diff_closure.h"
#include "app/inspect.h"
#include "app/unionimage.h"
#include "cli/cli.h"
#include "cli/inspect_print.h"
#include "cli/interrupt.h"
#include "cli/json.h"
#include "closure/storepath.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk diff [OPTIONS] [--base BASE.img]... IMAGE-A "
		"IMAGE-B\n"
		"Show which store paths and which entries differ between two "
		"images, of either\nformat (a squashfs and an EROFS image of "
		"the same closure are identical):\nentries added or removed "
		"(reported once per subtree), and for entries in both:\n"
		"type, mode, owner, mtime, size, symlink target and content "
		"(with the offset\nof the first differing byte).  "
		"Format-specific details (inode numbers, link\ncounts, "
		"compression, layout, directory sizes) are not compared.\n"
		"Store paths are also paired by name as `nix store "
		"diff-closures` pairs them\n(name and version split at the "
		"first '-' not followed by a letter, an\noutput name such as "
		"-bin dropped): \"hello: 2.12 → 2.12.1, +12.3 KiB\" (the\n"
		"change in file bytes).  Files at the image root that are not "
		"store paths\n(nix-path-registration, storedisk-manifest, the "
		"links of pack --root-symlink)\nare counted as image files.\n\n"
		"  --base BASE.img    both images are layers over BASE "
		"(repeatable, in order):\n"
		"                     compare the unions a guest sees "
		"through overlayfs, e.g.\n"
		"                     what a rebuild of the layer changed\n"
		"  --base-a BASE.img  IMAGE-A only is a layer over BASE "
		"(likewise --base-b);\n"
		"                     a side's bases are its --base and "
		"--base-a/-b in the\n"
		"                     order given.  Entries both sides take "
		"from one base\n"
		"                     file are identical and not read\n"
		"  --json             machine-readable report on stdout\n"
		"  --store-dir DIR    logical store directory (default "
		"/nix/store)\n"
		"  -h, --help         this help\n\n"
		"Exit codes: 0 identical, 1 different, 2 an image is "
		"unreadable or usage error.\n");
}

/* An image file's identity: one file is one content. */
struct file_id {
	dev_t dev;
	ino_t ino;
};

/* The identities of @image and its @bases: [0] the image, [i] base i. */
static struct file_id *file_ids(const char *image,
				const struct sd_cli_bases *bases)
{
	struct file_id *v = calloc(bases->n + 1, sizeof(*v));
	for (size_t i = 0; v && i <= bases->n; i++) {
		struct stat st;
		if (stat(i ? bases->v[i - 1] : image, &st) == 0)
			v[i] = (struct file_id){st.st_dev, st.st_ino};
	}
	return v;
}

/* Top-level names collected per kind (pre-order: equal ones adjacent). */
struct name_list {
	const char **v;
	size_t n, cap;
};

struct diff_out {
	bool json;
	/* diff --base: the trees and the file identity of each of their
	 * images (0: the layer, i: base i), for on_same */
	const struct sd_tree *ta, *tb;
	struct file_id *ida, *idb;
	const char *store_dir;
	struct sd_json j;
	struct name_list added, removed, changed;
	struct name_list files; /* top-level entries that are not store
				   * paths, any kind of change */
	bool nomem;
};

static void push_name(struct diff_out *o, struct name_list *l, const char *name)
{
	if (l->n && !strcmp(l->v[l->n - 1], name))
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		const char **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			o->nomem = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = name;
}

/* The top-level entry (store path) above @node, NULL for the root. */
static const struct sd_node *top_of(const struct sd_node *node)
{
	if (!node->parent)
		return NULL;
	while (node->parent->parent)
		node = node->parent;
	return node;
}

static const char *const field_names[] = {
	"type", "mode", "owner", "mtime", "size", "target", "content",
};

static void print_change(FILE *f, const struct sd_diff_item *it)
{
	const struct sd_node *a = it->a, *b = it->b;
	const char *sep = ": ";
	if (it->fields & SD_DIFF_TYPE)
		fprintf(f, "%stype %s -> %s", sep,
			sd_inspect_type_name(a->type),
			sd_inspect_type_name(b->type)),
			sep = ", ";
	if (it->fields & SD_DIFF_MODE)
		fprintf(f, "%smode %04o -> %04o", sep, (unsigned)a->mode,
			(unsigned)b->mode),
			sep = ", ";
	if (it->fields & SD_DIFF_OWNER)
		fprintf(f,
			"%sowner %" PRIu32 ":%" PRIu32 " -> %" PRIu32
			":%" PRIu32,
			sep, a->uid, a->gid, b->uid, b->gid),
			sep = ", ";
	if (it->fields & SD_DIFF_MTIME)
		fprintf(f, "%smtime %" PRId64 " -> %" PRId64, sep, a->mtime,
			b->mtime),
			sep = ", ";
	if (it->fields & SD_DIFF_SIZE)
		fprintf(f, "%ssize %" PRIu64 " -> %" PRIu64, sep, a->size,
			b->size),
			sep = ", ";
	if (it->fields & SD_DIFF_TARGET) {
		fprintf(f, "%starget ", sep);
		sd_print_escaped(f, a->target ? a->target : "");
		fputs(" -> ", f);
		sd_print_escaped(f, b->target ? b->target : "");
		sep = ", ";
	}
	if (it->fields & SD_DIFF_CONTENT)
		fprintf(f, "%scontent differs from byte %" PRIu64, sep,
			it->offset);
}

static void print_json_item(struct diff_out *o, const struct sd_diff_item *it,
			    const struct sd_node *node)
{
	static const char *const kinds[] = {"", "added", "removed", "changed"};
	char *path = sd_node_path_under(node, o->store_dir);
	sd_json_object_begin(&o->j);
	sd_json_kv_string(&o->j, "path",
			  node->parent && path ? path : o->store_dir);
	sd_json_kv_string(&o->j, "change", kinds[it->kind]);
	sd_json_key(&o->j, "fields");
	sd_json_array_begin(&o->j);
	for (size_t i = 0; i < sizeof(field_names) / sizeof(*field_names); i++)
		if (it->fields & (1u << i))
			sd_json_string(&o->j, field_names[i]);
	sd_json_array_end(&o->j);
	if (it->fields & SD_DIFF_CONTENT)
		sd_json_kv_u64(&o->j, "first_difference", it->offset);
	if (it->a) {
		sd_json_key(&o->j, "a");
		sd_print_json_entry(&o->j, it->a, o->store_dir);
	}
	if (it->b) {
		sd_json_key(&o->j, "b");
		sd_print_json_entry(&o->j, it->b, o->store_dir);
	}
	sd_json_object_end(&o->j);
	free(path);
}

/* Store paths both sides take from one base image file are the same. */
static bool on_same(void *ctx, const struct sd_node *a, const struct sd_node *b)
{
	const struct diff_out *o = ctx;
	if (!o->ida || !o->idb || !a->parent || a->parent->parent)
		return false;
	size_t ia = sd_union_origin(o->ta, a), ib = sd_union_origin(o->tb, b);
	return ia && ib && o->ida[ia].ino && o->ida[ia].dev == o->idb[ib].dev &&
	       o->ida[ia].ino == o->idb[ib].ino;
}

static int on_item(void *ctx, const struct sd_diff_item *it)
{
	struct diff_out *o = ctx;
	const struct sd_node *node = it->a ? it->a : it->b;
	const struct sd_node *top = top_of(node);
	if (top && sd_storepath_base_problem(top->name, top->name_len)) {
		push_name(o, &o->files, top->name);
	} else if (top) {
		struct name_list *l = &o->changed;
		if (top == node && it->kind == SD_DIFF_ADDED)
			l = &o->added;
		else if (top == node && it->kind == SD_DIFF_REMOVED)
			l = &o->removed;
		push_name(o, l, top->name);
	}
	if (o->json) {
		print_json_item(o, it, node);
		return o->nomem ? SD_ERR_NOMEM : 0;
	}
	static const char *const words[] = {"", "added  ", "removed",
					    "changed"};
	char *path = sd_node_path_under(node, o->store_dir);
	printf("%s ", words[it->kind]);
	sd_print_escaped(stdout, node->parent && path ? path : o->store_dir);
	free(path);
	if (it->kind == SD_DIFF_CHANGED)
		print_change(stdout, it);
	else
		printf(" (%s)", sd_inspect_type_name(node->type));
	putchar('\n');
	return o->nomem ? SD_ERR_NOMEM : 0;
}

static void json_names(struct sd_json *j, const char *key,
		       const struct name_list *l)
{
	sd_json_key(j, key);
	sd_json_array_begin(j);
	for (size_t i = 0; i < l->n; i++)
		sd_json_string(j, l->v[i]);
	sd_json_array_end(j);
}

/* "+12.3 KiB", "-512 B": a signed size in binary units. */
static void format_delta(int64_t d, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	char sign = d < 0 ? '-' : '+';
	uint64_t m = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	if (m < 1024) {
		snprintf(buf, len, "%c%" PRIu64 " B", sign, m);
		return;
	}
	double v = (double)m / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(*units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%c%.1f %s", sign, v, units[u]);
}

/* Nix's showVersions: "∅" for none, "ε" for the empty version. */
static void print_versions(char *const *v, size_t n)
{
	if (!n)
		fputs("∅", stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", stdout);
		sd_print_escaped(stdout, *v[i] ? v[i] : "ε");
	}
}

static bool has_version(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* The versions of @v not in @w (borrowed; malloc'ed array). */
static char **versions_only(char *const *v, size_t n, char *const *w, size_t nw,
			    size_t *nout)
{
	char **r = malloc((n ? n : 1) * sizeof(*r));
	*nout = 0;
	for (size_t i = 0; r && i < n; i++)
		if (!has_version(w, nw, v[i]))
			r[(*nout)++] = v[i];
	return r;
}

/* "  hello: 2.12 → 2.12.1, +12.3 KiB"; the same versions with other
 * hashes: "  hello: 2.12, other hash, +40 B". */
static bool print_closure_change(const struct sd_closure_change *c)
{
	size_t nr, na;
	char **rm = versions_only(c->versions_a, c->nversions_a, c->versions_b,
				  c->nversions_b, &nr);
	char **ad = versions_only(c->versions_b, c->nversions_b, c->versions_a,
				  c->nversions_a, &na);
	if (!rm || !ad) {
		free(rm);
		free(ad);
		return false;
	}
	fputs("  ", stdout);
	sd_print_escaped(stdout, c->name);
	fputs(": ", stdout);
	if (nr || na) {
		print_versions(rm, nr);
		fputs(" → ", stdout);
		print_versions(ad, na);
	} else {
		print_versions(c->versions_a, c->nversions_a);
		fputs(", other hash", stdout);
	}
	if (c->size_delta) {
		char buf[32];
		format_delta(c->size_delta, buf, sizeof(buf));
		printf(", %s", buf);
	}
	putchar('\n');
	free(rm);
	free(ad);
	return true;
}

static void json_strings(struct sd_json *j, const char *key, char *const *v,
			 size_t n)
{
	sd_json_key(j, key);
	sd_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		sd_json_string(j, v[i]);
	sd_json_array_end(j);
}

static void json_closure_changes(struct sd_json *j,
				 const struct sd_closure_changes *cc)
{
	sd_json_key(j, "closure_changes");
	sd_json_array_begin(j);
	for (size_t i = 0; i < cc->n; i++) {
		const struct sd_closure_change *c = &cc->v[i];
		sd_json_object_begin(j);
		sd_json_kv_string(j, "name", c->name);
		json_strings(j, "versions_a", c->versions_a, c->nversions_a);
		json_strings(j, "versions_b", c->versions_b, c->nversions_b);
		sd_json_key(j, "size_delta");
		sd_json_i64(j, c->size_delta);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
}

static void print_summary(struct diff_out *o, const char *a, const char *b,
			  bool same, const struct sd_closure_changes *cc)
{
	if (o->json) {
		sd_json_array_end(&o->j);
		sd_json_kv_bool(&o->j, "identical", same);
		sd_json_key(&o->j, "store_paths");
		sd_json_object_begin(&o->j);
		json_names(&o->j, "added", &o->added);
		json_names(&o->j, "removed", &o->removed);
		json_names(&o->j, "changed", &o->changed);
		sd_json_object_end(&o->j);
		json_names(&o->j, "image_files", &o->files);
		json_closure_changes(&o->j, cc);
		sd_json_object_end(&o->j);
		return;
	}
	if (same) {
		printf("%s and %s have the same contents\n", a, b);
		return;
	}
	if (cc->n)
		puts("store paths by name:");
	for (size_t i = 0; i < cc->n; i++)
		if (!print_closure_change(&cc->v[i]))
			o->nomem = true;
	printf("store paths: %zu added, %zu removed, %zu changed", o->added.n,
	       o->removed.n, o->changed.n);
	if (o->files.n)
		printf("; image files changed: %zu", o->files.n);
	putchar('\n');
}

int sd_cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"store-dir", required_argument, NULL, 'S'},
		{"base", required_argument, NULL, 'B'},
		{"base-a", required_argument, NULL, 'A'},
		{"base-b", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store_dir = "/nix/store";
	struct diff_out o = {0};
	struct sd_cli_bases ba = {0}, bb = {0};
	int c, code = SD_EXIT_BAD_INPUT;
	bool ok = true;
	optind = 1;
	while (ok && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'S': store_dir = optarg; break;
		case 'B':
			ok = sd_cli_bases_push(&ba, optarg) &&
			     sd_cli_bases_push(&bb, optarg);
			break;
		case 'A': ok = sd_cli_bases_push(&ba, optarg); break;
		case 'b': ok = sd_cli_bases_push(&bb, optarg); break;
		case 'h':
			code = SD_EXIT_OK;
			help(stdout);
			ok = false;
			break;
		default: help(stderr); ok = false;
		}
	}
	if (ok && argc - optind != 2) {
		sd_cli_errorf("diff takes two images%s",
			      ba.n || bb.n ? " (the layers over the --base "
					     "images)"
					   : "");
		help(stderr);
		ok = false;
	}
	if (!ok) {
		sd_cli_bases_release(&ba);
		sd_cli_bases_release(&bb);
		return code;
	}
	const char *pa = argv[optind], *pb = argv[optind + 1];
	struct sd_error err;
	sd_error_init(&err);
	char *sd = sd_cli_store_dir(store_dir, &err);
	struct sd_tree *ta = NULL, *tb = NULL;
	if (!sd || sd_union_open(pa, ba.v, ba.n, &ta, &err) ||
	    sd_union_open(pb, bb.v, bb.n, &tb, &err)) {
		sd_cli_error(&err);
		sd_tree_free(ta);
		free(sd);
		sd_cli_bases_release(&ba);
		sd_cli_bases_release(&bb);
		return SD_EXIT_BAD_INPUT;
	}
	o.store_dir = sd;
	o.ta = ta;
	o.tb = tb;
	if (ba.n && bb.n) {
		o.ida = file_ids(pa, &ba);
		o.idb = file_ids(pb, &bb);
	}
	if (o.json) {
		sd_json_init(&o.j, stdout);
		sd_json_object_begin(&o.j);
		sd_json_kv_string(&o.j, "a", pa);
		sd_json_kv_string(&o.j, "b", pb);
		sd_json_key(&o.j, "entries");
		sd_json_array_begin(&o.j);
	}
	struct sd_diff_options opts = {.report = on_item,
				       .same = on_same,
				       .ctx = &o,
				       .interrupted = &sd_interrupted};
	struct sd_diff_stats st;
	sd_interrupt_install(NULL);
	int rc = sd_diff_trees(ta, tb, &opts, &st, &err);
	struct sd_closure_changes cc = {0};
	if (!rc)
		rc = sd_diff_closures(ta, tb, &cc, &err);
	bool same = !st.added && !st.removed && !st.changed;
	int exit_code = same ? SD_EXIT_OK : SD_EXIT_FOUND;
	if (rc) {
		if (rc == SD_ERR_NOMEM && o.nomem)
			sd_error_set(&err, rc, "out of memory");
		sd_cli_error(&err);
		exit_code = SD_EXIT_BAD_INPUT;
		if (o.json)
			putchar('\n');
	} else {
		/* with bases, the unions were compared: say so */
		char da[4096], db[4096];
		print_summary(
			&o, sd_cli_union_name(pa, ba.n, "over", da, sizeof(da)),
			sd_cli_union_name(pb, bb.n, "over", db, sizeof(db)),
			same, &cc);
	}
	sd_closure_changes_release(&cc);
	free(o.files.v);
	free(o.added.v);
	free(o.removed.v);
	free(o.changed.v);
	sd_tree_free(ta);
	sd_tree_free(tb);
	free(o.ida);
	free(o.idb);
	sd_cli_bases_release(&ba);
	sd_cli_bases_release(&bb);
	free(sd);
	return exit_code;
}
