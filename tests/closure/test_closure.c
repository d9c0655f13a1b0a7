/* SPDX-License-Identifier: MIT */
/* Tests of the store model, root resolution and the closure engine. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closure/closure.h"
#include "closure/graph.h"
#include "closure/store.h"
#include "helpers.h"

#define SD "/nix/store"

/* Fake store paths: name -> hash via ct_hash(name). */
static char hs[16][33];
static char base[16][128];
enum { A, B, C, D, E, F, G, H, I, J, K, Z, NP };
static const char *names[NP] = {
	"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "z",
};
static char gone[33]; /* hash of a path absent from the store */

static const char *bp(int i) /* basename */
{
	return base[i];
}

static const char *lp(int i) /* logical path, rotating buffer */
{
	static char b[8][256];
	static int n;
	char *s = b[n++ % 8];
	ct_fmt(s, sizeof(b[0]), SD "/%s", base[i]);
	return s;
}

static const char *sp(int i, const char *rel) /* physical sub path */
{
	static char b[8][512];
	static int n;
	char *s = b[n++ % 8];
	ct_fmt(s, sizeof(b[0]), "nix/store/%s%s%s", base[i], rel[0] ? "/" : "",
	       rel);
	return s;
}

static void put(int i, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void put(int i, const char *rel, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(text));
	tt_write(sp(i, rel), text, (size_t)-1, 0644);
}

/*
 * Diamond a->{b,c}, b->d, c->d (c's reference is an entry name, a's to c
 * a symlink target); chain e->f->g; cycle h<->i; j refers to itself;
 * k refers to a path that is not in the store; z stands alone.
 */
static void make_store(void)
{
	ct_setup();
	ct_hash("gone", gone);
	for (int i = 0; i < NP; i++) {
		ct_hash(names[i], hs[i]);
		ct_fmt(base[i], sizeof(base[i]), "%s-%s", hs[i], names[i]);
		tt_mkdir(sp(i, ""));
	}
	tt_mkdir(sp(A, "bin"));
	put(A, "bin/a", "#!/bin/sh\nexec " SD "/%s/bin/b \"$@\"\n", bp(B));
	char t[256];
	ct_fmt(t, sizeof(t), SD "/%s/lib", bp(C));
	tt_symlink(t, sp(A, "lib"));
	put(B, "data", "ref:%s;", hs[D]); /* bare hash */
	char d[256];
	ct_fmt(d, sizeof(d), "share/%s-x", hs[D]); /* in a name */
	tt_mkdir(sp(C, d));
	put(C, "share/empty", "%s", "");
	put(D, "plain", "%s", "hello"); /* 5 bytes */
	put(E, "f", "%s", hs[F]);
	put(F, "g", "%s", hs[G]);
	put(G, "x", "%s", "");
	put(H, "i", "%s", hs[I]);
	put(I, "h", "%s", hs[H]);
	put(J, "self", SD "/%s", bp(J));
	put(K, "bin", "pre " SD "/%s-gone/bin/x", gone);
	put(Z, "zz", "%s", hs[A]);
	/* non store-path entries */
	tt_mkdir("nix/store/.links");
	tt_write("nix/store/not-a-path", "", 0, 0644);
}

static struct sd_store *open_store(void)
{
	struct sd_store *st = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_store_new(SD, tt_path("nix/store"), &st, &err), 0, "%s",
		     err.msg);
	return st;
}

static size_t idx(const struct sd_closure *c, int i)
{
	long k = sd_closure_find(c, hs[i]);
	cr_assert_geq(k, 0, "%s not in closure", names[i]);
	return (size_t)k;
}

static bool has_ref(const struct sd_closure *c, int from, int to)
{
	const struct sd_closure_path *p = &c->paths[idx(c, from)];
	for (size_t k = 0; k < p->nrefs; k++)
		if (p->refs[k] == idx(c, to))
			return true;
	return false;
}

static void check_sorted(const struct sd_closure *c)
{
	for (size_t i = 1; i < c->npaths; i++)
		cr_assert_lt(strcmp(c->paths[i - 1].path, c->paths[i].path), 0);
	for (size_t i = 0; i < c->npaths; i++)
		for (size_t k = 1; k < c->paths[i].nrefs; k++)
			cr_assert_lt(c->paths[i].refs[k - 1],
				     c->paths[i].refs[k]);
}

static struct sd_closure *compute(struct sd_store *st, int root,
				  const struct sd_closure_opts *o, int expect,
				  struct sd_error *err)
{
	struct sd_closure *c = NULL;
	const char *roots[1] = {lp(root)};
	sd_error_init(err);
	int rc = sd_closure_compute(st, roots, 1, o, &c, err);
	cr_assert_eq(rc, expect, "rc %d: %s", rc, err->msg);
	if (!rc)
		check_sorted(c);
	return c;
}

/* Nix's lock file beside a store path (<path>.lock, left by a Nix process
 * that died) is dropped silently; another entry with the same hash part
 * still warns; a .lock entry without its path is a store path. */
Test(store, lock_files, .init = make_store, .fini = tt_teardown)
{
	char rel[256];
	ct_fmt(rel, sizeof(rel), "nix/store/%s.lock", bp(D));
	tt_write(rel, "", 0, 0644);
	ct_fmt(rel, sizeof(rel), "nix/store/%s-other", hs[E]);
	tt_write(rel, "", 0, 0644);
	char lone[64];
	ct_hash("lone", lone);
	ct_fmt(rel, sizeof(rel), "nix/store/%s-Cargo.lock", lone);
	tt_write(rel, "", 0, 0644);

	struct sd_store *st = open_store();
	cr_assert_eq(st->npaths, NP + 1);
	cr_assert_eq(st->nwarnings, 3);
	char other[128];
	ct_fmt(other, sizeof(other), "%s-other", hs[E]);
	bool warned = false;
	for (size_t i = 0; i < st->nwarnings; i++) {
		cr_assert_null(strstr(st->warnings[i].entry, ".lock"));
		warned |= !strcmp(st->warnings[i].entry, other);
	}
	cr_assert(warned);
	cr_assert_str_eq(sd_store_find_hash(st, hs[D])->base, bp(D));
	const struct sd_store_path *l = sd_store_find_hash(st, lone);
	cr_assert_not_null(l);
	cr_assert_str_eq(l->name, "Cargo.lock");
	sd_store_free(st);
}

Test(store, open_and_warnings, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	cr_assert_eq(st->npaths, NP);
	cr_assert_eq(st->nwarnings, 2);
	cr_assert_str_eq(st->warnings[0].entry, ".links");
	cr_assert_str_eq(st->warnings[1].entry, "not-a-path");
	for (size_t i = 1; i < st->npaths; i++)
		cr_assert_lt(strcmp(st->paths[i - 1].base, st->paths[i].base),
			     0);
	const struct sd_store_path *p = sd_store_find_hash(st, hs[D]);
	cr_assert_not_null(p);
	cr_assert_str_eq(p->base, bp(D));
	cr_assert_eq(&st->paths[p->index], p);
	cr_assert_null(sd_store_find_hash(st, gone));
	cr_assert_not_null(sd_store_find_base(st, bp(D), strlen(bp(D))));
	char other[128];
	ct_fmt(other, sizeof(other), "%s-other", hs[D]);
	cr_assert_null(sd_store_find_base(st, other, strlen(other)));
	cr_assert_str_eq(st->store_dir, SD);
	sd_store_free(st);

	struct sd_error err;
	cr_assert_eq(sd_store_new(SD, tt_path("missing"), &st, &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "missing"), "%s", err.msg);
	cr_assert_eq(sd_store_new("relative", tt_path("nix/store"), &st, &err),
		     SD_ERR_USAGE);
}

static const struct sd_store_path *resolve(struct sd_store *st, const char *arg,
					   int expect)
{
	const struct sd_store_path *p = NULL;
	struct sd_error err;
	sd_error_init(&err);
	int rc = sd_store_resolve_root(st, arg, &p, &err);
	cr_assert_eq(rc, expect, "%s: rc %d %s", arg, rc, err.msg);
	if (rc)
		cr_assert(strstr(err.msg, arg), "message '%s' lacks '%s'",
			  err.msg, arg);
	return p;
}

Test(store, resolve_roots, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	char arg[1024];

	cr_assert_eq(resolve(st, lp(A), 0)->index,
		     sd_store_find_hash(st, hs[A])->index);
	/* physical path */
	cr_assert_str_eq(resolve(st, tt_path(sp(B, "")), 0)->base, bp(B));
	/* trailing slash and a path inside a store path */
	ct_fmt(arg, sizeof(arg), "%s/", tt_path(sp(B, "")));
	cr_assert_str_eq(resolve(st, arg, 0)->base, bp(B));
	cr_assert_str_eq(resolve(st, tt_path(sp(A, "bin/a")), 0)->base, bp(A));
	ct_fmt(arg, sizeof(arg), SD "/%s/bin/a", bp(A));
	cr_assert_str_eq(resolve(st, arg, 0)->base, bp(A));
	/* symlink to a logical path that does not exist physically */
	tt_symlink(lp(C), "result");
	cr_assert_str_eq(resolve(st, tt_path("result"), 0)->base, bp(C));
	/* through it into a sub path */
	cr_assert_str_eq(resolve(st, tt_path("result/lib/x"), 0)->base, bp(C));
	/* relative chain: link2 -> result -> logical path */
	tt_symlink("result", "link2");
	cr_assert_str_eq(resolve(st, tt_path("link2"), 0)->base, bp(C));
	/* relative symlink to the physical store, relative argument */
	ct_fmt(arg, sizeof(arg), "nix/store/%s", bp(D));
	tt_symlink(arg, "rel");
	char cwd[1024];
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(tt_tmp), 0);
	cr_assert_str_eq(resolve(st, "rel", 0)->base, bp(D));
	cr_assert_str_eq(resolve(st, "./rel/", 0)->base, bp(D));
	ct_fmt(arg, sizeof(arg), "nix/store/../store/%s", bp(E));
	cr_assert_str_eq(resolve(st, arg, 0)->base, bp(E));
	cr_assert_eq(chdir(cwd), 0);
	/* a directory symlinked to the store dir */
	tt_symlink(tt_path("nix/store"), "storelink");
	ct_fmt(arg, sizeof(arg), "%s/%s", tt_path("storelink"), bp(F));
	cr_assert_str_eq(resolve(st, arg, 0)->base, bp(F));

	/* errors */
	resolve(st, tt_path("not-there"), SD_ERR_MISSING);
	tt_write("outside", "x", 1, 0644);
	resolve(st, tt_path("outside"), SD_ERR_INVALID);
	ct_fmt(arg, sizeof(arg), SD "/%s-gone", gone);
	resolve(st, arg, SD_ERR_MISSING);
	resolve(st, SD "/not-a-path", SD_ERR_INVALID);
	resolve(st, SD, SD_ERR_INVALID);
	tt_symlink("loop", "loop");
	resolve(st, tt_path("loop"), SD_ERR_INVALID);
	sd_store_free(st);
}

Test(closure, scan_diamond, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	struct sd_error err;
	struct sd_closure_opts o = {.source = SD_CLOSURE_SCAN,
				    .evidence = true};
	struct sd_closure *c = compute(st, A, &o, 0, &err);
	cr_assert_eq(c->npaths, 4);
	cr_assert(has_ref(c, A, B));
	cr_assert(has_ref(c, A, C));
	cr_assert(has_ref(c, B, D));
	cr_assert(has_ref(c, C, D));
	cr_assert_eq(c->paths[idx(c, A)].nrefs, 2);
	cr_assert_eq(c->paths[idx(c, D)].nrefs, 0);
	cr_assert_eq(c->nroots, 1);
	cr_assert_eq(c->roots[0], idx(c, A));
	cr_assert_eq(c->paths[idx(c, D)].bytes, 5);
	cr_assert_eq(c->nmissing, 0);
	/* evidence */
	const struct sd_closure_path *a = &c->paths[idx(c, A)];
	for (size_t k = 0; k < a->nrefs; k++) {
		const struct sd_closure_evidence *ev = &a->evidence[k];
		char want[512];
		if (a->refs[k] == idx(c, B)) {
			ct_fmt(want, sizeof(want), "%s/bin/a", lp(A));
			cr_assert_str_eq(ev->file, want);
			cr_assert_eq(ev->what, SD_REFSCAN_CONTENT);
			cr_assert_eq(ev->offset,
				     strlen("#!/bin/sh\nexec " SD "/"));
		} else {
			ct_fmt(want, sizeof(want), "%s/lib", lp(A));
			cr_assert_str_eq(ev->file, want);
			cr_assert_eq(ev->what, SD_REFSCAN_TARGET);
		}
	}
	const struct sd_closure_path *cc = &c->paths[idx(c, C)];
	cr_assert_eq(cc->evidence[0].what, SD_REFSCAN_NAME);

	struct sd_closure_edge *edges;
	size_t ne;
	cr_assert_eq(sd_closure_edges(c, &edges, &ne, &err), 0);
	cr_assert_eq(ne, 4);
	for (size_t i = 1; i < ne; i++)
		cr_assert(edges[i - 1].from < edges[i].from ||
			  (edges[i - 1].from == edges[i].from &&
			   edges[i - 1].to < edges[i].to));
	free(edges);
	sd_closure_free(c);
	sd_store_free(st);
}

Test(closure, scan_chain_cycle_self, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	struct sd_error err;
	struct sd_closure_opts o = {.source = SD_CLOSURE_SCAN};
	struct sd_closure *c = compute(st, E, &o, 0, &err);
	cr_assert_eq(c->npaths, 3);
	cr_assert(has_ref(c, E, F));
	cr_assert(has_ref(c, F, G));
	cr_assert_null(c->paths[0].evidence);
	sd_closure_free(c);

	c = compute(st, H, &o, 0, &err);
	cr_assert_eq(c->npaths, 2);
	cr_assert(has_ref(c, H, I));
	cr_assert(has_ref(c, I, H));
	sd_closure_free(c);

	c = compute(st, J, &o, 0, &err);
	cr_assert_eq(c->npaths, 1);
	cr_assert(has_ref(c, J, J));
	sd_closure_free(c);

	/* z -> a pulls in the diamond; two roots, duplicates fine */
	const char *roots[3] = {lp(Z), lp(E), lp(Z)};
	cr_assert_eq(sd_closure_compute(st, roots, 3, &o, &c, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(c->npaths, 8);
	cr_assert_eq(c->nroots, 3);
	cr_assert_eq(c->roots[0], c->roots[2]);
	sd_closure_free(c);
	sd_store_free(st);
}

Test(closure, scan_absent, .init = make_store, .fini = tt_teardown)
{
	/* A full path whose hash is not in the store is no reference (Nix's
	 * rule): it is listed as absent and refuses nothing. */
	struct sd_store *st = open_store();
	struct sd_error err;
	struct sd_closure_opts o = {.source = SD_CLOSURE_SCAN};
	struct sd_closure *c = compute(st, K, &o, 0, &err);
	cr_assert_eq(c->npaths, 1);
	cr_assert_eq(c->nmissing, 0);
	cr_assert_eq(c->nabsent, 1);
	cr_assert_str_eq(c->absent[0].hash, gone);
	char want[512];
	ct_fmt(want, sizeof(want), "%s/bin", lp(K));
	cr_assert_str_eq(c->absent[0].file, want);
	cr_assert_eq(c->absent[0].what, SD_REFSCAN_CONTENT);
	/* the hash part's offset: after "<store-dir>/" at offset 4 */
	cr_assert_eq(c->absent[0].offset, 4 + strlen(SD) + 1);
	sd_closure_free(c);
	sd_store_free(st);
}

/* A registration matching the fake store (both layouts mixed). */
static void write_registration(bool with_missing)
{
	char text[8192];
	size_t n = 0;
#define ADD(...) n += (size_t)ct_fmt(text + n, sizeof(text) - n, __VA_ARGS__)
	ADD("%s\n\n2\n%s\n%s\n", lp(A), lp(B), lp(C));
	ADD("%s\nsha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"
	    "\n120\n\n1\n%s\n",
	    lp(B), lp(D));
	ADD("%s\n\n1\n%s\n", lp(C), lp(D));
	ADD("%s\n\n0\n", lp(D));
	ADD("%s\n\n1\n%s\n", lp(H), lp(I));
	ADD("%s\n\n1\n%s\n", lp(I), lp(H));
	ADD("%s\n\n1\n%s\n", lp(J), lp(J));
	if (with_missing)
		ADD("%s\n\n1\n" SD "/%s-gone\n", lp(K), gone);
	else
		ADD("%s\n\n0\n", lp(K));
#undef ADD
	tt_write("reg", text, n, 0644);
}

Test(closure, registration, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	struct sd_error err;
	write_registration(false);
	struct sd_closure_opts o = {.source = SD_CLOSURE_REGISTRATION,
				    .file = tt_path("reg")};
	struct sd_closure *c = compute(st, A, &o, 0, &err);
	cr_assert_eq(c->npaths, 4);
	cr_assert(has_ref(c, A, B));
	cr_assert(has_ref(c, A, C));
	cr_assert(has_ref(c, B, D));
	cr_assert(has_ref(c, C, D));
	const struct sd_closure_path *b = &c->paths[idx(c, B)];
	cr_assert(b->has_nar);
	cr_assert_eq(b->nar_size, 120);
	cr_assert_eq(b->nar_hash[0], 0xba);
	cr_assert_str_eq(b->deriver, "");
	cr_assert(!c->paths[idx(c, A)].has_nar);
	cr_assert_eq(c->paths[idx(c, D)].bytes, 5);
	sd_closure_free(c);

	c = compute(st, H, &o, 0, &err);
	cr_assert_eq(c->npaths, 2);
	cr_assert(has_ref(c, I, H));
	sd_closure_free(c);
	c = compute(st, J, &o, 0, &err);
	cr_assert(has_ref(c, J, J));
	sd_closure_free(c);

	/* not registered */
	compute(st, E, &o, SD_ERR_MISSING, &err);
	cr_assert(strstr(err.msg, "not registered"), "%s", err.msg);
	sd_store_free(st);
}

Test(closure, registration_missing, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	struct sd_error err;
	write_registration(true);
	struct sd_closure_opts o = {.source = SD_CLOSURE_REGISTRATION,
				    .file = tt_path("reg")};
	compute(st, K, &o, SD_ERR_MISSING, &err);
	char want[512];
	/* record k is lines 31-34: path, deriver, count, ref */
	ct_fmt(want, sizeof(want), "%s:34: reference " SD "/%s-gone of %s",
	       tt_path("reg"), gone, lp(K));
	cr_assert(strstr(err.msg, want), "%s\nwant %s", err.msg, want);
	o.allow_missing = true;
	struct sd_closure *c = compute(st, K, &o, 0, &err);
	cr_assert_eq(c->npaths, 1);
	cr_assert_eq(c->nmissing, 1);
	cr_assert_eq(c->missing[0].line, 34);
	sd_closure_free(c);

	/* a reference in the store but without its own record */
	tt_write("reg2", "", 0, 0644);
	char text[1024];
	ct_fmt(text, sizeof(text), "%s\n\n1\n%s\n", lp(E), lp(F));
	tt_write("reg2", text, (size_t)-1, 0644);
	o.file = tt_path("reg2");
	compute(st, E, &o, SD_ERR_INVALID, &err);
	cr_assert(strstr(err.msg, "reg2:4"), "%s", err.msg);
	sd_store_free(st);
}

Test(closure, paths_source, .init = make_store, .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	struct sd_error err;
	char text[1024];
	ct_fmt(text, sizeof(text), "%s\n%s\n\n%s\n", lp(E), lp(A), lp(G));
	tt_write("paths", text, (size_t)-1, 0644);
	struct sd_closure_opts o = {.source = SD_CLOSURE_PATHS,
				    .file = tt_path("paths")};
	struct sd_closure *c = compute(st, A, &o, 0, &err);
	cr_assert_eq(c->npaths, 3);
	for (size_t i = 0; i < c->npaths; i++)
		cr_assert_eq(c->paths[i].nrefs, 0);
	sd_closure_free(c);
	/* no roots: the whole list */
	cr_assert_eq(sd_closure_compute(st, NULL, 0, &o, &c, &err), 0);
	cr_assert_eq(c->npaths, 3);
	sd_closure_free(c);
	/* root not listed */
	compute(st, B, &o, SD_ERR_MISSING, &err);
	cr_assert(strstr(err.msg, "not listed"), "%s", err.msg);
	/* listed path missing from the store */
	ct_fmt(text, sizeof(text), "%s\n" SD "/%s-gone\n", lp(A), gone);
	tt_write("paths", text, (size_t)-1, 0644);
	compute(st, A, &o, SD_ERR_MISSING, &err);
	cr_assert(strstr(err.msg, "paths:2"), "%s", err.msg);
	o.allow_missing = true;
	c = compute(st, A, &o, 0, &err);
	cr_assert_eq(c->npaths, 1);
	cr_assert_eq(c->nmissing, 1);
	sd_closure_free(c);
	sd_store_free(st);
}

Test(closure, symlink_root_logical_vs_physical, .init = make_store,
     .fini = tt_teardown)
{
	struct sd_store *st = open_store();
	struct sd_error err;
	tt_symlink(lp(E), "result");
	const char *roots[1] = {tt_path("result")};
	struct sd_closure_opts o = {.source = SD_CLOSURE_SCAN};
	struct sd_closure *c = NULL;
	cr_assert_eq(sd_closure_compute(st, roots, 1, &o, &c, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(c->npaths, 3);
	sd_closure_free(c);
	roots[0] = tt_path("outside");
	cr_assert_neq(sd_closure_compute(st, roots, 1, &o, &c, &err), 0);
	cr_assert(strstr(err.msg, "outside"), "%s", err.msg);
	sd_store_free(st);
}

Test(graph, reach)
{
	struct sd_graph g;
	cr_assert_eq(sd_graph_init(&g, 5, NULL), 0);
	sd_graph_add_edge(&g, 0, 1, NULL);
	sd_graph_add_edge(&g, 1, 0, NULL);
	sd_graph_add_edge(&g, 1, 2, NULL);
	sd_graph_add_edge(&g, 1, 2, NULL);
	sd_graph_add_edge(&g, 3, 3, NULL);
	sd_graph_sort(&g);
	cr_assert_eq(g.adj[1].n, 2);
	bool seen[5] = {0};
	size_t root = 0;
	cr_assert_eq(sd_graph_reach(&g, &root, 1, seen, NULL), 0);
	cr_assert(seen[0] && seen[1] && seen[2] && !seen[3] && !seen[4]);
	sd_graph_release(&g);
}
