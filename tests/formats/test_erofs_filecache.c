/* SPDX-License-Identifier: MIT */
/*
 * The EROFS writer's file entries (writer_z.h): driven with a file_digest
 * callback of the test's own (a table of digests by node) and a tap that
 * counts the files opened.  A warm cache writes every compressed file
 * without opening it (files_from_cache), a cold one none, a partly
 * emptied one some; a file entry with an impossible structure, a missing
 * segment entry or a file entry of another size is never used (the file
 * is read); the image bytes are the same as without a cache in every
 * case, with 1 and 2 jobs.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/compcache.h"
#include "core/le.h"
#include "core/sha256.h"
#include "formats/erofs/erofs.h"
#include "formats/erofs/writer.h"
#include "formats/erofs/writer_z.h"
#include "cachehelpers.h"
#include "helpers.h"

#define MIB (1024u * 1024u)

TestSuite(erofs_filecache, .init = th_setup, .fini = tt_teardown,
	  .timeout = 600);

struct cfg {
	const char *comp;
	uint32_t pcluster;
	bool ztail;
};

/* Write @t with cache @dir (NULL: none) and digests @k (NULL: none);
 * returns the image path (a tt_path buffer) and its stats in @st. */
static const char *write_fc(const struct sd_tree *t, const struct cfg *c,
			    unsigned jobs, const char *dir, struct th_known *k,
			    const char *name, struct sd_write_stats *st)
{
	struct sd_write_options o = {
		.compressor = c->comp,
		.level = -1,
		.jobs = jobs,
		.pcluster_size = c->pcluster,
		.ztailpacking = c->ztail,
		.file_digest = k ? th_known_digest : NULL,
		.file_digest_ctx = k,
	};

	th_write_cached(&sd_format_erofs, t, &o, dir, tt_path(name), st, NULL);
	return tt_path(name);
}

static void same_file(const char *a, const char *b)
{
	size_t la, lb;
	void *da = th_slurp(a, &la), *db = th_slurp(b, &lb);

	cr_assert(strcmp(a, b));
	cr_assert(la == lb && !memcmp(da, db, la), "%s and %s differ", a, b);
	free(da);
	free(db);
}

static void *text(size_t len, unsigned seed)
{
	char *p = malloc(len + 64);
	size_t n = 0;

	cr_assert_not_null(p);
	for (unsigned i = 0; n < len; i++)
		n += (size_t)snprintf(p + n, 64, "line %u of %u: %s\n", i, seed,
				      i % 7 ? "words words" : "other");
	return p;
}

/*
 * Compressible files of one and of several segments, duplicates of both
 * (a multi-segment pair, which the pre-hash finds), a file whose last
 * segment is short, a small file, an incompressible one (stored plain:
 * read anyway) and an empty one.  COMPRESSED: the files written from a
 * warm cache, plus aaaa-one/small under ztailpacking, which compresses
 * files shorter than a block too (bbbb-two/multi is never read either,
 * cold or warm: a duplicate the pre-hash finds with known digests, not
 * counted).
 */
#define COMPRESSED 6
static struct sd_tree *tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *a = th_dir(t, NULL, "aaaa-one");
	struct sd_node *b = th_dir(t, NULL, "bbbb-two");

	th_file_take(t, a, "empty", malloc(1), 0);
	th_file_take(t, a, "small", text(2000, 1), 2000);
	th_file_take(t, a, "one", text(300000, 2), 300000);
	th_file_take(t, a, "multi", text(2 * MIB + 300000, 3),
		     2 * MIB + 300000);
	th_file_take(t, a, "blocks", text(5 * 4096 + 100, 4), 5 * 4096 + 100);
	th_random_file(t, a, "random", 100000, 5);
	th_file_take(t, b, "one", text(300000, 2), 300000); /* dup: 1 */
	th_file_take(t, b, "multi", text(2 * MIB + 300000, 3),
		     2 * MIB + 300000);
	th_file_take(t, b, "two", text(MIB + 5000, 6),
		     MIB + 5000); /* 2 segments */
	th_file_take(t, b, "zeros", calloc(1, 70000), 70000);
	th_finalize(t);
	return t;
}

static const struct cfg cfgs[] = {
	{"lz4hc", 16384, false},
	{"lz4", 4096, true},
	{"zstd", 65536, true},
	{"lzma", 16384, false},
};

static struct sd_node *find(struct sd_tree *t, const char *dir,
			    const char *name)
{
	for (size_t i = 0; i < t->root->nchildren; i++) {
		struct sd_node *d = t->root->children[i];

		if (strcmp(d->name, dir))
			continue;
		for (size_t j = 0; j < d->nchildren; j++)
			if (!strcmp(d->children[j]->name, name))
				return d->children[j];
	}
	cr_assert_fail("no %s/%s", dir, name);
	return NULL;
}

/* Cold, warm, and partly emptied caches for every configuration at 1 and
 * 2 jobs. */
Test(erofs_filecache, cold_warm_partial)
{
	struct sd_tree *t = tree();
	struct th_known k;
	struct sd_write_stats st;
	char ref[512], dir[512], name[64];

	th_known_init(&k, t);
	for (size_t ci = 0; ci < sizeof(cfgs) / sizeof(cfgs[0]); ci++)
		for (unsigned jobs = 1; jobs <= 2; jobs++) {
			const struct cfg *c = &cfgs[ci];
			unsigned want = COMPRESSED + (c->ztail ? 1 : 0);
			uint64_t bytes_in;
			size_t n;

			snprintf(ref, sizeof(ref), "%s",
				 write_fc(t, c, jobs, NULL, NULL, "ref.img",
					  &st));
			cr_assert_eq(st.files_from_cache, 0);
			bytes_in = st.data_bytes_in;
			snprintf(name, sizeof(name), "c%zu-%u", ci, jobs);
			snprintf(dir, sizeof(dir), "%s", tt_path(name));
			same_file(ref, write_fc(t, c, jobs, dir, &k, "cold.img",
						&st));
			cr_assert_eq(st.files_from_cache, 0);
			th_known_reset_opens(&k);
			same_file(ref, write_fc(t, c, jobs, dir, &k, "warm.img",
						&st));
			cr_assert_eq(st.files_from_cache, want, "%s/%u: %llu",
				     c->comp, jobs,
				     (unsigned long long)st.files_from_cache);
			/* only the empty, the incompressible and (without
			 * ztailpacking) the small file */
			cr_assert_eq(th_known_opened(&k),
				     3 - (c->ztail ? 1 : 0), "%s/%u: %u opened",
				     c->comp, jobs, th_known_opened(&k));
			cr_assert_eq(
				!!k.opens[find(t, "aaaa-one", "small")->index],
				!c->ztail);
			cr_assert(
				k.opens[find(t, "aaaa-one", "random")->index]);
			cr_assert_eq(st.data_bytes_in, bytes_in);
			/* every other entry gone */
			char **e = NULL;
			n = 0;
			{
				char v1[600], sub[700];
				DIR *d1, *d2;
				struct dirent *de, *fe;
				unsigned m = 0;

				snprintf(v1, sizeof(v1), "%s/v1", dir);
				d1 = opendir(v1);
				cr_assert_not_null(d1);
				while ((de = readdir(d1))) {
					if (strlen(de->d_name) != 2)
						continue;
					snprintf(sub, sizeof(sub), "%s/%s", v1,
						 de->d_name);
					d2 = opendir(sub);
					while (d2 && (fe = readdir(d2))) {
						char p[800];

						if (strlen(fe->d_name) != 64 ||
						    m++ % 2)
							continue;
						snprintf(p, sizeof(p), "%s/%s",
							 sub, fe->d_name);
						cr_assert_eq(unlink(p), 0);
						n++;
					}
					if (d2)
						closedir(d2);
				}
				closedir(d1);
			}
			(void)e;
			cr_assert_gt(n, 0);
			same_file(ref, write_fc(t, c, jobs, dir, &k,
						"partial.img", &st));
			cr_assert_lt(st.files_from_cache, want);
			/* refilled */
			same_file(ref, write_fc(t, c, jobs, dir, &k,
						"again.img", &st));
			cr_assert_eq(st.files_from_cache, want);
		}
	th_known_release(&k);
	sd_tree_free(t);
}

static void doc_file_key(const struct ez_config *cfg, bool ztail, uint64_t size,
			 const uint8_t digest[32], uint8_t key[32])
{
	char params[512];
	uint8_t desc[44], sha[32], key2[32];
	struct sd_sha256 *h = sd_sha256_new();

	cr_assert_eq(ewz_cache_params(cfg, "file", ztail, params,
				      sizeof(params), NULL),
		     0);
	cr_assert(strstr(params, "format=erofs\nkind=file\n"), "%s", params);
	cr_assert(strstr(params, ztail ? ",ztail=1" : ",ztail=0"), "%s",
		  params);
	memcpy(desc, "file", 4);
	put_le64(desc + 4, size);
	memcpy(desc + 12, digest, 32);
	sd_sha256_update(h, desc, sizeof(desc));
	sd_sha256_final(h, sha);
	cr_assert_eq(sd_compcache_key(params, sha, key, NULL), 0);
	cr_assert_eq(ewz_file_key(params, size, digest, key2, NULL), 0);
	cr_assert(!memcmp(key, key2, 32));
}

/*
 * A warm cache, then for file aaaa-one/multi (unique content, three
 * segments): its file entry with an impossible structure (re-stored with
 * a valid checksum), the entry of its second segment removed, the file
 * entry of bbbb-two/two (another size) under its key.  Each time that
 * file is read (one fewer from the cache) and the bytes are the same.
 */
Test(erofs_filecache, bad_entries_never_used)
{
	struct sd_tree *t = tree();
	const struct cfg c = {"lz4hc", 16384, false};
	struct th_known k;
	struct sd_write_stats st;
	struct ez_config cfg;
	char ref[512], path[800];
	uint8_t key[32], okey[32];
	struct sd_node *multi, *two;

	th_known_init(&k, t);
	multi = find(t, "aaaa-one", "multi");
	two = find(t, "bbbb-two", "two");
	cr_assert_eq(ez_config_init(&cfg, "lz4hc", -1, 16384, NULL), 0);
	doc_file_key(&cfg, false, multi->size, k.sha[multi->index], key);
	doc_file_key(&cfg, false, two->size, k.sha[two->index], okey);
	snprintf(ref, sizeof(ref), "%s",
		 write_fc(t, &c, 1, NULL, NULL, "ref.img", &st));

	for (int m = 0; m < 6; m++) {
		char dir[512], name[32];
		size_t vlen, olen;
		uint8_t *v;

		snprintf(name, sizeof(name), "bad%d", m);
		snprintf(dir, sizeof(dir), "%s", tt_path(name));
		write_fc(t, &c, 1 + (unsigned)(m % 2), dir, &k, "cold.img",
			 &st);
		th_cache_entry_path(dir, key, path, sizeof(path));
		v = th_slurp(path, &vlen);
		cr_assert_eq(vlen, SD_COMPCACHE_HEADER_LEN + 3 * 40 + 8);
		uint8_t *val = v + SD_COMPCACHE_HEADER_LEN;
		vlen -= SD_COMPCACHE_HEADER_LEN;
		cr_assert(!memcmp(val + vlen - 4, "ewf1", 4));
		cr_assert_eq(get_le32(val + vlen - 8), 3);
		cr_assert_eq(get_le32(val + 32), 1 * MIB);
		cr_assert_eq(get_le32(val + 2 * 40 + 32), 300000);

		struct sd_compcache *cc;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_compcache_open(&cc, dir, NULL, &err), 0);
		switch (m / 2) {
		case 0: /* the last segment one byte longer */
			put_le32(val + 2 * 40 + 32, 300001);
			cr_assert(sd_compcache_replace(cc, key, val, vlen));
			break;
		case 1: { /* its second segment's entry gone */
			char params[512], sp[800];
			uint8_t skey[32];

			cr_assert_eq(ewz_cache_params(&cfg, "segment", false,
						      params, sizeof(params),
						      NULL),
				     0);
			cr_assert_eq(ewz_cache_key(params, MIB, 0, val + 40,
						   skey, NULL),
				     0);
			th_cache_entry_path(dir, skey, sp, sizeof(sp));
			cr_assert_eq(unlink(sp), 0, "%s", sp);
			break;
		}
		default: { /* bbbb-two/two's entry under its key */
			void *ov;

			cr_assert(sd_compcache_get(cc, okey, &ov, &olen));
			cr_assert(sd_compcache_replace(cc, key, ov, olen));
			free(ov);
			break;
		}
		}
		sd_compcache_close(cc);
		free(v);
		th_known_reset_opens(&k);
		same_file(ref, write_fc(t, &c, 1 + (unsigned)(m % 2), dir, &k,
					"bad.img", &st));
		cr_assert_eq(st.files_from_cache, COMPRESSED - 1,
			     "case %d: %llu", m,
			     (unsigned long long)st.files_from_cache);
		cr_assert(k.opens[multi->index], "case %d", m);
		cr_assert_eq(th_known_opened(&k), 4, "case %d", m);
	}
	th_known_release(&k);
	sd_tree_free(t);
}

/* Without digests (no stat cache) nothing is written from the cache, and
 * a digest known for only some files serves only those. */
Test(erofs_filecache, only_known_digests)
{
	struct sd_tree *t = tree();
	const struct cfg c = {"zstd", 16384, true};
	struct th_known k;
	struct sd_write_stats st;
	char ref[512], dir[512];

	th_known_init(&k, t);
	snprintf(ref, sizeof(ref), "%s",
		 write_fc(t, &c, 2, NULL, NULL, "ref.img", &st));
	snprintf(dir, sizeof(dir), "%s", tt_path("cache"));
	same_file(ref, write_fc(t, &c, 2, dir, &k, "cold.img", &st));
	same_file(ref, write_fc(t, &c, 2, dir, NULL, "nodig.img", &st));
	cr_assert_eq(st.files_from_cache, 0);
	k.have[find(t, "aaaa-one", "one")->index] = false;
	k.have[find(t, "bbbb-two", "two")->index] = false;
	th_known_reset_opens(&k);
	same_file(ref, write_fc(t, &c, 2, dir, &k, "some.img", &st));
	th_known_opened(&k);
	/* bbbb-one/one still comes from the cache (its own digest); with
	 * ztailpacking aaaa-one/small does too */
	cr_assert_eq(st.files_from_cache, COMPRESSED + 1 - 2, "%llu",
		     (unsigned long long)st.files_from_cache);
	th_known_release(&k);
	sd_tree_free(t);
}

/* file_content: the content of a file of at most SD_WRITE_CONTENT_MAX
 * bytes, from the test's own table (here: read from the tree, or a wrong
 * byte to prove the writer used it). */
struct contents {
	struct th_known k;
	void **data;  /* by node index: the small files' contents, read
			 before any counted write */
	bool give;    /* give any content at all */
	bool corrupt; /* give it with its first byte changed */
	_Atomic unsigned asked;
};

static bool content_of(void *ctx, const struct sd_node *n, void *buf)
{
	struct contents *c = ctx;

	atomic_fetch_add(&c->asked, 1);
	if (!c->give || !c->data[n->index])
		return false;
	memcpy(buf, c->data[n->index], (size_t)n->size);
	if (c->corrupt && n->size)
		((uint8_t *)buf)[0] ^= 1;
	return true;
}

static void keep_small(struct contents *c, const struct sd_node *n)
{
	if (n->type == SD_NODE_FILE && n->size <= SD_WRITE_CONTENT_MAX) {
		size_t len;
		c->data[n->index] = th_content(c->k.t, n, &len);
	}
	for (size_t i = 0; i < n->nchildren; i++)
		keep_small(c, n->children[i]);
}

static bool content_digest(void *ctx, const struct sd_node *n, uint8_t sha[32])
{
	return th_known_digest(&((struct contents *)ctx)->k, n, sha);
}

/* A small file (stored uncompressed, shorter than a block) whose content
 * the caller gives is written without being opened and counted in
 * files_from_cache; the bytes are the image's without it; a caller that
 * gives nothing changes nothing; and the content given is the content
 * written (a wrong one shows up in the image: the writer trusts it, as it
 * trusts file_digest). */
Test(erofs_filecache, small_files_from_file_content)
{
	struct sd_tree *t = tree();
	const struct cfg c = {"lz4hc", 16384, false};
	struct contents ct = {.give = true};
	struct sd_write_stats st;
	struct sd_compcache *cc;
	char ref[512], dir[512];
	struct sd_node *small = find(t, "aaaa-one", "small");

	th_known_init(&ct.k, t);
	ct.data = calloc(t->count, sizeof(void *));
	cr_assert_not_null(ct.data);
	keep_small(&ct, t->root);
	snprintf(ref, sizeof(ref), "%s",
		 write_fc(t, &c, 2, NULL, NULL, "ref.img", &st));
	snprintf(dir, sizeof(dir), "%s", tt_path("cache"));
	write_fc(t, &c, 2, dir, &ct.k, "cold.img", &st);
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		for (int give = 0; give <= 1; give++) {
			struct sd_error err;
			char name[64];

			ct.give = give;
			th_known_reset_opens(&ct.k);
			cr_assert_eq(sd_compcache_open(&cc, dir, NULL, &err),
				     0);
			struct sd_write_options o = {
				.compressor = c.comp,
				.level = -1,
				.jobs = jobs,
				.pcluster_size = c.pcluster,
				.cache = cc,
				.file_digest = content_digest,
				.file_content = content_of,
				.file_digest_ctx = &ct,
			};
			snprintf(name, sizeof(name), "c%u%d.img", jobs, give);
			int fd = open(tt_path(name), O_RDWR | O_CREAT | O_TRUNC,
				      0644);
			cr_assert(fd >= 0);
			cr_assert_eq(sd_erofs_write(t, &o, fd, NULL, &st, &err),
				     0, "%s", err.msg);
			close(fd);
			sd_compcache_close(cc);
			same_file(ref, tt_path(name));
			cr_assert_eq(ct.k.opens[small->index], give ? 0 : 1,
				     "small opened %u times",
				     ct.k.opens[small->index]);
			/* the compressed files, plus the small one */
			cr_assert_eq(st.files_from_cache,
				     (unsigned long long)COMPRESSED + give,
				     "%u jobs, give %d: %llu", jobs, give,
				     (unsigned long long)st.files_from_cache);
		}
	}
	cr_assert_gt(ct.asked, 0);
	/* a wrong content is what gets written: the writer did not read */
	ct.give = true;
	ct.corrupt = true;
	cr_assert_eq(sd_compcache_open(&cc, dir, NULL, NULL), 0);
	struct sd_write_options o = {
		.compressor = c.comp,
		.level = -1,
		.jobs = 2,
		.pcluster_size = c.pcluster,
		.cache = cc,
		.file_digest = content_digest,
		.file_content = content_of,
		.file_digest_ctx = &ct,
	};
	int fd = open(tt_path("wrong.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert_eq(sd_erofs_write(t, &o, fd, NULL, &st, NULL), 0);
	close(fd);
	sd_compcache_close(cc);
	size_t la, lb;
	void *da = th_slurp(ref, &la),
	     *db = th_slurp(tt_path("wrong.img"), &lb);
	cr_assert(la == lb && memcmp(da, db, la), "the given content is used");
	free(da);
	free(db);
	for (size_t i = 0; i < t->count; i++)
		free(ct.data[i]);
	free(ct.data);
	th_known_release(&ct.k);
	sd_tree_free(t);
}
