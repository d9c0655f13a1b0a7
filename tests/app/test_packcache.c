/* SPDX-License-Identifier: MIT */
/*
 * Tests of the stat cache in a pack (app/packcache.h) and of the
 * reference check over files known from it (sd_packscan_skip): a file
 * read through the tap is learnt (its SHA-256, its tokens), the next pack
 * knows it without reading, and the check skips a known file only when
 * its tokens show no finding.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/closure_tree.h"
#include "app/packcache.h"
#include "app/packscan.h"
#include "closure/closure.h"
#include "closure/nix32.h"
#include "closure/store.h"
#include "core/compcache.h"
#include "core/sha256.h"
#include "core/statcache.h"
#include "tests/common/tmpdir.h"

#define HA "0c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HB "1c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HC "2c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HX "3c6kzph7l0dcbqmbcngxsqifxnnqbgv2" /* no store path */
#define A HA "-a"
#define B HB "-b"
#define C HC "-c"

static char many[2000 * 33];

static void make_store(void)
{
	tt_mkdir("s/" A);
	tt_mkdir("s/" B);
	tt_mkdir("s/" C);
	/* B is in the closure, HX is no store path and bare */
	tt_write("s/" A "/clean", "uses " HB " and " HX "\n", (size_t)-1, 0644);
	tt_write("s/" A "/outside", "uses " HC "\n", (size_t)-1, 0644);
	tt_write("s/" A "/absent", "see /nix/store/" HX "-x\n", (size_t)-1,
		 0644);
	tt_write("s/" A "/empty", "", 0, 0644);
	/* more distinct windows than the stat cache keeps: 2000 words of
	 * 32 nix32 characters, each its own window */
	size_t at = 0;
	for (unsigned i = 0; i < 2000; i++) {
		memset(many + at, 'a', 32);
		for (int k = 0; k < 3; k++)
			many[at + 31 - k] =
				sd_nix32_alphabet[(i >> (5 * k)) % 32];
		many[at + 32] = ' ';
		at += 33;
	}
	tt_write("s/" A "/many", many, at, 0644);
	tt_write("s/" B "/f", "b", (size_t)-1, 0644);
	tt_write("s/" C "/f", "c", (size_t)-1, 0644);
}

struct pack {
	struct sd_store *st;
	struct sd_closure *cl;
	struct sd_tree *tree;
	struct sd_packscan_opts po;
	struct sd_packscan *ps;
	struct sd_packcache *pc;
};

/* The tree of A and B, the check of the closure {B}, the stat cache. */
static void begin(struct pack *p, struct sd_compcache *c)
{
	memset(p, 0, sizeof(*p));
	struct sd_error err;
	cr_assert_eq(sd_store_new("/nix/store", tt_path("s"), &p->st, &err), 0,
		     "%s", err.msg);
	struct sd_closure_opts o = {.source = SD_CLOSURE_SCAN};
	const char *roots[] = {"/nix/store/" B};
	cr_assert_eq(sd_closure_compute(p->st, roots, 1, &o, &p->cl, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(p->cl->npaths, 1);
	const char *bases[] = {A, B};
	cr_assert_eq(sd_app_closure_tree(bases, 2, tt_path("s"), 1, 1, NULL,
					 &p->tree, &err),
		     0, "%s", err.msg);
	p->po.st = p->st;
	p->po.cl = p->cl;
	cr_assert_eq(sd_packscan_new(p->tree, &p->po, &p->ps, &err), 0);
	cr_assert_eq(sd_packcache_new(p->tree, c, "/nix/store", &p->pc, &err),
		     0);
}

static void end(struct pack *p)
{
	sd_packcache_free(p->pc);
	sd_packscan_free(p->ps);
	sd_tree_free(p->tree);
	sd_closure_free(p->cl);
	sd_store_free(p->st);
}

static struct sd_node *node(struct pack *p, const char *path)
{
	struct sd_node *n = sd_tree_lookup(p->tree, path);
	cr_assert_not_null(n, "%s", path);
	return n;
}

/* Read @n whole through the tree's taps, as a writer does. */
static void read_whole(struct pack *p, struct sd_node *n)
{
	struct sd_stream *s;
	char buf[1000];
	size_t got;
	cr_assert_eq(sd_tree_open(p->tree, n, &s, NULL), 0);
	do
		cr_assert_eq(sd_stream_read(s, buf, sizeof(buf), &got, NULL),
			     0);
	while (got);
	sd_stream_close(s);
}

static void sha_of(const char *rel, uint8_t out[SD_SHA256_LEN])
{
	cr_assert_eq(sd_sha256_file(tt_path(rel), out, NULL), 0);
}

static void setup(void)
{
	tt_setup("sdpackcache");
}

Test(packcache, learnt_then_known_and_checked_by_tokens, .init = setup,
     .fini = tt_teardown)
{
	make_store();
	/* files changed within 2 s of a pack are not recorded */
	sleep(3);
	struct sd_compcache *c;
	cr_assert_eq(sd_compcache_open(&c, tt_path("cache"), NULL, NULL), 0);
	static const char *files[] = {A "/clean", A "/outside", A "/absent",
				      A "/many",  A "/empty",   B "/f"};
	enum { NF = sizeof(files) / sizeof(files[0]) };

	/* first pack: nothing known; reading learns every digest */
	struct pack p;
	begin(&p, c);
	struct sd_packcache_counters cn;
	sd_packcache_counters(p.pc, &cn);
	cr_assert_eq(cn.files, NF);
	cr_assert_eq(cn.known, 0);
	uint8_t sha[SD_SHA256_LEN], want[SD_SHA256_LEN];
	cr_assert_not(sd_packcache_digest(p.pc, node(&p, A "/clean"), sha));
	for (int i = 0; i < NF; i++)
		read_whole(&p, node(&p, files[i]));
	for (int i = 0; i < NF; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "s/%s", files[i]);
		cr_assert(sd_packcache_digest(p.pc, node(&p, files[i]), sha),
			  "%s", files[i]);
		sha_of(rel, want);
		cr_assert_eq(memcmp(sha, want, sizeof(sha)), 0, "%s", files[i]);
	}
	const uint8_t *tok;
	size_t len;
	/* learnt, not known: no tokens to skip by */
	cr_assert_not(
		sd_packcache_tokens(p.pc, node(&p, A "/clean"), &tok, &len));
	cr_assert_eq(sd_packscan_finish(p.ps, NULL), 0);
	size_t nf;
	sd_packscan_findings(p.ps, &nf);
	cr_assert_eq(nf, 2, "outside and absent");
	sd_packcache_store(p.pc);
	sd_packcache_counters(p.pc, &cn);
	cr_assert_eq(cn.groups_stored, 2);
	end(&p);

	/* second pack: every file known without a read */
	begin(&p, c);
	sd_packcache_counters(p.pc, &cn);
	cr_assert_eq(cn.known, NF);
	cr_assert(sd_packcache_digest(p.pc, node(&p, A "/clean"), sha));
	sha_of("s/" A "/clean", want);
	cr_assert_eq(memcmp(sha, want, sizeof(sha)), 0);
	/* the clean file's tokens: HB and HX, each seen bare */
	cr_assert(sd_packcache_tokens(p.pc, node(&p, A "/clean"), &tok, &len));
	cr_assert_eq(len, 1 + 2 * 33);
	cr_assert_eq(tok[0], 0);
	cr_assert_eq(memcmp(tok + 1, HB, 32), 0);
	cr_assert_eq(tok[1 + 32], 1);
	cr_assert_eq(memcmp(tok + 1 + 33, HX, 32), 0);
	/* the absent mention: HX seen as a full path */
	cr_assert(sd_packcache_tokens(p.pc, node(&p, A "/absent"), &tok, &len));
	cr_assert_eq(len, 1 + 33);
	cr_assert_eq(tok[1 + 32], 3);
	/* the check skips what holds no finding, and only that */
	cr_assert(sd_packcache_tokens(p.pc, node(&p, A "/clean"), &tok, &len));
	cr_assert(sd_packscan_skip(p.ps, node(&p, A "/clean"), tok, len));
	const char *must_read[] = {A "/outside", A "/absent", A "/many"};
	for (int i = 0; i < 3; i++) {
		cr_assert(sd_packcache_tokens(p.pc, node(&p, must_read[i]),
					      &tok, &len));
		cr_assert_not(sd_packscan_skip(p.ps, node(&p, must_read[i]),
					       tok, len),
			      "%s", must_read[i]);
	}
	cr_assert(sd_packcache_tokens(p.pc, node(&p, A "/many"), &tok, &len));
	cr_assert_eq(len, 1);
	cr_assert_eq(tok[0], 1, "too many tokens: the list is not kept");
	cr_assert(sd_packcache_tokens(p.pc, node(&p, B "/f"), &tok, &len));
	cr_assert(sd_packscan_skip(p.ps, node(&p, B "/f"), tok, len));
	/* an invalid list is never trusted */
	static const uint8_t bad[] = {0, 'x'};
	cr_assert_not(sd_packscan_skip(p.ps, node(&p, B "/f"), bad, 2));
	/* the check's findings come out the same: the unskipped files are
	 * read by sd_packscan_finish */
	cr_assert_eq(sd_packscan_finish(p.ps, NULL), 0);
	const struct sd_packscan_finding *f = sd_packscan_findings(p.ps, &nf);
	cr_assert_eq(nf, 2);
	cr_assert_eq(f[0].kind + f[1].kind,
		     SD_PACKSCAN_OUTSIDE + SD_PACKSCAN_ABSENT);
	/* nothing learnt, every record found: no group is written again */
	sd_packcache_store(p.pc);
	sd_packcache_counters(p.pc, &cn);
	cr_assert_eq(cn.groups_stored, 0);
	end(&p);

	/* a file rewritten with the same size: its ctime moved, unknown */
	tt_write("s/" A "/clean", "uses " HB " and " HX "!", (size_t)-1, 0644);
	begin(&p, c);
	sd_packcache_counters(p.pc, &cn);
	cr_assert_eq(cn.known, NF - 1);
	cr_assert_not(sd_packcache_digest(p.pc, node(&p, A "/clean"), sha));
	end(&p);
	sd_compcache_close(c);
}

/* A small file's content rides its record: the next pack gives it
 * without a read; a larger one has none; a record whose content does
 * not fit the file's size is not trusted. */
Test(packcache, small_files_keep_their_content, .init = setup,
     .fini = tt_teardown)
{
	make_store();
	sleep(3);
	struct sd_compcache *c;
	cr_assert_eq(sd_compcache_open(&c, tt_path("cache"), NULL, NULL), 0);
	struct pack p;
	char buf[SD_PACKCACHE_MAX_CONTENT];
	const char *clean = "uses " HB " and " HX "\n";

	begin(&p, c);
	cr_assert_not(sd_packcache_content(p.pc, node(&p, A "/clean"), buf));
	read_whole(&p, node(&p, A "/clean"));
	read_whole(&p, node(&p, A "/many"));
	read_whole(&p, node(&p, B "/f"));
	/* learnt in this pack: given at once */
	memset(buf, 0, sizeof(buf));
	cr_assert(sd_packcache_content(p.pc, node(&p, A "/clean"), buf));
	cr_assert_eq(memcmp(buf, clean, strlen(clean)), 0);
	cr_assert_not(sd_packcache_content(p.pc, node(&p, A "/many"), buf),
		      "66 KB: over SD_PACKCACHE_MAX_CONTENT");
	sd_packcache_store(p.pc);
	end(&p);

	/* the next pack: known, content included, nothing read */
	begin(&p, c);
	memset(buf, 0, sizeof(buf));
	cr_assert(sd_packcache_content(p.pc, node(&p, A "/clean"), buf));
	cr_assert_eq(memcmp(buf, clean, strlen(clean)), 0);
	cr_assert(sd_packcache_content(p.pc, node(&p, B "/f"), buf));
	cr_assert_eq(buf[0], 'b');
	cr_assert_not(sd_packcache_content(p.pc, node(&p, A "/many"), buf));
	cr_assert_not(sd_packcache_content(p.pc, node(&p, A "/outside"), buf),
		      "never read: unknown");
	/* the token list is the same as without content */
	const uint8_t *tok;
	size_t len;
	cr_assert(sd_packcache_tokens(p.pc, node(&p, A "/clean"), &tok, &len));
	cr_assert_eq(len, 1 + 2 * 33);
	cr_assert(sd_packscan_skip(p.ps, node(&p, A "/clean"), tok, len));
	end(&p);

	/* a record whose content does not fit its file's size is not
	 * trusted: forge one (clean's record, one byte of content more) */
	begin(&p, c);
	struct sd_file_ident id = node(&p, A "/clean")->src_ident;
	char *host = sd_node_src_path_dup(node(&p, A));
	cr_assert_not_null(host);
	end(&p);
	struct sd_statcache_group *g;
	cr_assert_eq(sd_statcache_load(c, host, &g, NULL), 0);
	const struct sd_statcache_rec *r = sd_statcache_find(g, "clean", &id);
	cr_assert_not_null(r);
	cr_assert_eq(r->extra[r->extra_len - 1], SD_PACKCACHE_CONTENT_MARK);
	struct sd_statcache_rec forged = *r;
	uint8_t *e = malloc(r->extra_len + 1);
	memcpy(e, r->extra, r->extra_len - 1);
	e[r->extra_len - 1] = 'x';
	e[r->extra_len] = SD_PACKCACHE_CONTENT_MARK;
	forged.extra = e;
	forged.extra_len = r->extra_len + 1;
	cr_assert(sd_statcache_store(c, host, &forged, 1, INT64_MAX));
	sd_statcache_group_free(g);
	begin(&p, c);
	cr_assert_not(sd_packcache_content(p.pc, node(&p, A "/clean"), buf));
	uint8_t sha[SD_SHA256_LEN];
	cr_assert_not(sd_packcache_digest(p.pc, node(&p, A "/clean"), sha),
		      "an invalid record makes the file unknown");
	end(&p);
	free(e);
	free(host);
	sd_compcache_close(c);
}
