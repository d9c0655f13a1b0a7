/* SPDX-License-Identifier: MIT */
/* Round trips, options and limits of the SquashFS writer and reader. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "formats/format.h"
#include "formats/squashfs/squashfs.h"
#include "helpers.h"

#define KIB 1024u

static const char *const compressors[] = {"gzip", "xz", "lz4", "zstd", "none"};

/* A tree exercising every kind of node, owner, mode and edge size. */
static struct sd_tree *sample_tree(uint32_t bs)
{
	struct sd_tree *t = sd_tree_new(1700000000);
	const size_t sizes[] = {0,      1,  4095,   4096,      4097,
				bs - 1, bs, bs + 1, 3 * bs + 7};
	char name[32];

	struct sd_node *store = th_dir(t, NULL, "abc-pkg-1.0");
	struct sd_node *bin = th_dir(t, store, "bin");
	struct sd_node *share = th_dir(t, store, "share");
	th_dir(t, share, "empty");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "f%zu-%zu", i, sizes[i]);
		th_random_file(t, share, name, sizes[i], (uint32_t)(i + 7));
	}
	struct sd_node *x = th_file(t, bin, "tool", "#!/bin/sh\necho hi\n", 18);
	x->mode = 0555;
	x->uid = 1000;
	x->gid = 4000000000u;
	x->mtime = 4294967295ll;
	struct sd_node *odd = th_file(t, bin, "setuid", "x", 1);
	odd->mode = 04711;
	odd->uid = 65534;
	odd->gid = 65534;
	th_symlink(t, bin, "link", "../share/f1-1");
	th_symlink(t, store, "abs", "/nix/store/abc-pkg-1.0/bin/tool");
	th_symlink(t, NULL, "z-long",
		   "a/very/long/target/"
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	/* names that sort differently bytewise than by locale */
	th_file(t, store, "B", "upper", 5);
	th_file(t, store, "a", "lower", 5);
	th_file(t, store, "a.b", "dot", 3);
	th_file(t, store, "\xc3\xa9t\xc3\xa9", "utf8", 4);
	share->mtime = 0;
	store->gid = 30000;
	t->root->mode = 0755;
	th_finalize(t);
	return t;
}

TestSuite(squashfs, .init = th_setup, .fini = tt_teardown, .timeout = 120);

static void roundtrip(const char *comp, uint32_t bs)
{
	struct sd_write_stats st;
	struct sd_error err;
	struct sd_tree *t = sample_tree(bs ? bs : 128 * KIB);
	const char *img = tt_path("img.sqfs");

	int ret = th_write(t, comp, -1, bs, 2, img, &st, &err);
	cr_assert_eq(ret, 0, "%s: write: %s", comp, err.msg);
	cr_assert_eq(st.image_bytes % 4096, 0);
	cr_assert_eq(st.data_bytes_in, t->file_bytes);

	size_t len;
	void *bytes = th_slurp(img, &len);
	cr_assert_eq(len, st.image_bytes);
	free(bytes);

	struct sd_tree *r = th_read(img);
	th_assert_same(t, r);
	sd_tree_free(r);
	sd_tree_free(t);
}

Test(squashfs, roundtrip_gzip)
{
	roundtrip("gzip", 0);
}
Test(squashfs, roundtrip_xz)
{
	roundtrip("xz", 0);
}
Test(squashfs, roundtrip_lz4)
{
	roundtrip("lz4", 0);
}
Test(squashfs, roundtrip_zstd)
{
	roundtrip("zstd", 0);
}
Test(squashfs, roundtrip_none)
{
	roundtrip("none", 0);
}
Test(squashfs, roundtrip_default)
{
	roundtrip(NULL, 0);
}
Test(squashfs, roundtrip_block_4k)
{
	roundtrip("gzip", 4096);
}
Test(squashfs, roundtrip_block_1m_xz)
{
	roundtrip("xz", 1024 * KIB);
}
Test(squashfs, roundtrip_xz_block_4k)
{
	roundtrip("xz", 4096);
}

Test(squashfs, levels)
{
	struct sd_error err;
	struct sd_tree *t = sample_tree(128 * KIB);
	const struct {
		const char *c;
		int level;
	} ok[] = {
		{"gzip", 1}, {"gzip", 9}, {"xz", 0},
		{"lz4", 9},  {"zstd", 1}, {"zstd", 19},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(th_write(t, ok[i].c, ok[i].level, 0, 1,
				      tt_path("l.sqfs"), NULL, &err),
			     0, "%s %d: %s", ok[i].c, ok[i].level, err.msg);
		struct sd_tree *r = th_read(tt_path("l.sqfs"));
		th_assert_same(t, r);
		sd_tree_free(r);
	}
	sd_tree_free(t);
}

Test(squashfs, bad_options)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	th_finalize(t);
	const char *img = tt_path("bad.sqfs");

	cr_assert_eq(th_write(t, "brotli", -1, 0, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	cr_assert(strstr(err.msg, "brotli"));
	cr_assert_eq(th_write(t, "gzip", 10, 0, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	cr_assert_eq(th_write(t, "zstd", 0, 0, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	cr_assert_eq(th_write(t, "none", 3, 0, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	cr_assert_eq(th_write(t, "gzip", -1, 3000, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	cr_assert_eq(th_write(t, "gzip", -1, 2048, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	cr_assert_eq(th_write(t, "gzip", -1, 2 * 1024 * KIB, 1, img, NULL,
			      &err),
		     SD_ERR_USAGE);
	cr_assert_eq(th_write(t, "gzip", -1, 96 * KIB, 1, img, NULL, &err),
		     SD_ERR_USAGE);
	sd_tree_free(t);
}

Test(squashfs, jobs_do_not_change_bytes)
{
	struct sd_error err;
	struct sd_tree *t = sample_tree(128 * KIB);
	struct sd_node *big = th_dir(t, NULL, "zz-big");
	char name[16];

	for (unsigned i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "b%u", i);
		th_random_file(t, big, name, 300 * KIB + i * 1000, 100 + i);
		snprintf(name, sizeof(name), "s%u", i);
		th_random_file(t, big, name, 100 + i * 50, 200 + i);
	}
	th_finalize(t);
	for (size_t c = 0; c < sizeof(compressors) / sizeof(compressors[0]);
	     c++) {
		size_t l1, l4;
		cr_assert_eq(th_write(t, compressors[c], -1, 0, 1,
				      tt_path("j1.sqfs"), NULL, &err),
			     0, "%s", err.msg);
		cr_assert_eq(th_write(t, compressors[c], -1, 0, 4,
				      tt_path("j4.sqfs"), NULL, &err),
			     0, "%s", err.msg);
		void *a = th_slurp(tt_path("j1.sqfs"), &l1);
		void *b = th_slurp(tt_path("j4.sqfs"), &l4);
		cr_assert_eq(l1, l4, "%s: sizes differ", compressors[c]);
		cr_assert(memcmp(a, b, l1) == 0, "%s: bytes differ",
			  compressors[c]);
		free(a);
		free(b);
	}
	sd_tree_free(t);
}

static uint64_t image_size(struct sd_tree *t, struct sd_write_stats *st)
{
	struct sd_error err;

	cr_assert_eq(th_write(t, "gzip", -1, 0, 3, tt_path("d.sqfs"), st, &err),
		     0, "%s", err.msg);
	return st->image_bytes;
}

Test(squashfs, dedup_identical_contents)
{
	struct sd_write_stats st1, st2;
	struct sd_tree *one = sd_tree_new(1), *two = sd_tree_new(1);

	/* one copy of each content */
	th_random_file(one, NULL, "big", 1024 * KIB, 42);
	th_random_file(one, NULL, "mid", 200 * KIB + 5, 43);
	th_random_file(one, NULL, "small", 1000, 44);
	th_finalize(one);

	/* the same contents three times under other names and places */
	struct sd_node *d1 = th_dir(two, NULL, "d1");
	struct sd_node *d2 = th_dir(two, NULL, "d2");
	th_random_file(two, NULL, "big", 1024 * KIB, 42);
	th_random_file(two, NULL, "mid", 200 * KIB + 5, 43);
	th_random_file(two, NULL, "small", 1000, 44);
	th_random_file(two, d1, "big-copy", 1024 * KIB, 42);
	th_random_file(two, d1, "mid-copy", 200 * KIB + 5, 43);
	th_random_file(two, d1, "small-copy", 1000, 44);
	th_random_file(two, d2, "big-copy2", 1024 * KIB, 42);
	th_random_file(two, d2, "small-copy2", 1000, 44);
	th_finalize(two);

	uint64_t s1 = image_size(one, &st1);
	uint64_t s2 = image_size(two, &st2);
	cr_assert_eq(st1.files_deduplicated, 0);
	cr_assert_eq(st2.files_deduplicated, 5, "deduplicated %llu",
		     (unsigned long long)st2.files_deduplicated);
	cr_assert(s2 <= s1 + 4096, "one copy %llu bytes, three copies %llu",
		  (unsigned long long)s1, (unsigned long long)s2);

	struct sd_tree *r = th_read(tt_path("d.sqfs"));
	th_assert_same(two, r);
	sd_tree_free(r);
	sd_tree_free(one);
	sd_tree_free(two);
}

Test(squashfs, empty_tree_and_empty_files)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(0);
	th_finalize(t);
	cr_assert_eq(th_write(t, "zstd", -1, 0, 1, tt_path("e.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
	struct sd_tree *r = th_read(tt_path("e.sqfs"));
	th_assert_same(t, r);
	sd_tree_free(r);
	sd_tree_free(t);

	t = sd_tree_new(5);
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "e%d", i);
		th_file(t, NULL, name, "", 0);
	}
	th_finalize(t);
	for (size_t c = 0; c < sizeof(compressors) / sizeof(compressors[0]);
	     c++) {
		cr_assert_eq(th_write(t, compressors[c], -1, 0, 2,
				      tt_path("e.sqfs"), NULL, &err),
			     0, "%s", err.msg);
		r = th_read(tt_path("e.sqfs"));
		th_assert_same(t, r);
		sd_tree_free(r);
	}
	sd_tree_free(t);
}

Test(squashfs, sparse_file)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	size_t len = 5 * 128 * KIB + 300;
	char *buf = calloc(1, len);

	buf[2 * 128 * KIB + 10] = 'x';
	th_file(t, NULL, "sparse", buf, len);
	th_file(t, NULL, "zeros", buf, 128 * KIB * 2);
	free(buf);
	th_finalize(t);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 2, tt_path("s.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
	struct sd_tree *r = th_read(tt_path("s.sqfs"));
	th_assert_same(t, r);
	sd_tree_free(r);
	sd_tree_free(t);
}

Test(squashfs, big_directory_and_deep_nesting)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = th_dir(t, NULL, "many");
	char name[64];

	for (int i = 0; i < 2500; i++) {
		snprintf(name, sizeof(name), "entry-with-a-longish-name-%04d",
			 i);
		if (i % 3 == 0)
			th_symlink(t, d, name, "target");
		else if (i % 3 == 1)
			th_dir(t, d, name);
		else
			th_file(t, d, name, name, strlen(name));
	}
	struct sd_node *deep = th_dir(t, NULL, "deep");
	for (int i = 0; i < 300; i++)
		deep = th_dir(t, deep, "d");
	th_file(t, deep, "bottom", "bottom", 6);
	th_finalize(t);
	cr_assert_eq(th_write(t, "lz4", -1, 0, 2, tt_path("m.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
	struct sd_tree *r = th_read(tt_path("m.sqfs"));
	th_assert_same(t, r);
	cr_assert_not_null(sd_tree_lookup(r, "many/entry-with-a-longish-name-"
					     "2499"));
	sd_tree_free(r);
	sd_tree_free(t);
}

Test(squashfs, refuses_other_nodes)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = th_dir(t, NULL, "dev");
	sd_error_init(&err);
	struct sd_node *n = sd_tree_add(t, d, "null", 4, SD_NODE_OTHER, &err);
	cr_assert_not_null(n);
	th_finalize(t);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 1, tt_path("o.sqfs"), NULL,
			      &err),
		     SD_ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "dev/null"), "message: %s", err.msg);
	sd_tree_free(t);
}

Test(squashfs, time_limits)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(4294967296ll);
	th_finalize(t);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 1, tt_path("t.sqfs"), NULL,
			      &err),
		     SD_ERR_LIMIT);
	sd_tree_free(t);

	t = sd_tree_new(1);
	struct sd_node *f = th_file(t, NULL, "old", "x", 1);
	f->mtime = -1;
	th_finalize(t);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 1, tt_path("t.sqfs"), NULL,
			      &err),
		     SD_ERR_LIMIT);
	cr_assert(strstr(err.msg, "old"), "message: %s", err.msg);
	sd_tree_free(t);
}

Test(squashfs, interrupted)
{
	struct sd_error err;
	struct sd_write_options o = {
		.compressor = "gzip", .level = -1, .jobs = 2};
	volatile int stop = 1;
	struct sd_tree *t = sd_tree_new(1);
	th_random_file(t, NULL, "f", 1000, 1);
	th_finalize(t);
	int fd = open(tt_path("i.sqfs"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	sd_error_init(&err);
	cr_assert_eq(sd_format_squashfs.write(t, &o, fd, &stop, NULL, &err),
		     SD_ERR_INTERRUPTED);
	close(fd);
	sd_tree_free(t);
}

Test(squashfs, registry_and_detect)
{
	struct sd_error err;
	const struct sd_format *f = NULL;
	struct sd_tree *t = sd_tree_new(1);
	th_finalize(t);

	cr_assert_eq(sd_format_find("squashfs"), &sd_format_squashfs);
	cr_assert_null(sd_format_find("ext4"));
	cr_assert_eq(sd_formats[0], &sd_format_squashfs);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 1, tt_path("r.sqfs"), NULL,
			      &err),
		     0);
	cr_assert_eq(sd_format_detect(tt_path("r.sqfs"), &f, &err), 0);
	cr_assert_eq(f, &sd_format_squashfs);

	th_spit(tt_path("junk"), "definitely not an image", 23);
	cr_assert_eq(sd_format_detect(tt_path("junk"), &f, &err),
		     SD_ERR_CORRUPT);
	th_spit(tt_path("empty"), "", 0);
	cr_assert_eq(sd_format_detect(tt_path("empty"), &f, &err),
		     SD_ERR_CORRUPT);
	cr_assert_eq(sd_format_detect(tt_path("missing"), &f, &err), SD_ERR_IO);
	sd_tree_free(t);
}

Test(squashfs, source_errors_are_reported)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	th_random_file(t, NULL, "a-ok", 300 * KIB, 1);
	struct sd_node *gone = th_random_file(t, NULL, "b-gone", 200 * KIB, 2);
	th_finalize(t);
	char *src = strdup(gone->src_path);
	cr_assert_eq(unlink(src), 0);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 3, tt_path("x.sqfs"), NULL,
			      &err),
		     SD_ERR_IO);
	cr_assert_neq(err.msg[0], '\0');

	/* the file is shorter than the tree says */
	th_spit(src, "short", 5);
	cr_assert_eq(th_write(t, "gzip", -1, 0, 3, tt_path("x.sqfs"), NULL,
			      &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "b-gone") || strstr(err.msg, src),
		  "message: %s", err.msg);
	free(src);
	sd_tree_free(t);
}

/*
 * Small files are read in runs (writer_pipe.c): whichever thread reads
 * them, the error reported is the first failing file in tree order (one
 * that grew, before one that is gone), for every number of jobs.
 */
Test(squashfs, small_file_errors_in_tree_order)
{
	static const unsigned jobs[] = {1, 2, 3, 8};
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *n[40];
	char name[32], grown[2000];

	for (unsigned i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "s%02u", i);
		n[i] = th_random_file(t, NULL, name, 100 + 37 * i, i);
	}
	th_finalize(t);
	cr_assert_eq(unlink(n[29]->src_path), 0);
	memset(grown, 'g', sizeof(grown));
	th_spit(n[17]->src_path, grown, sizeof(grown));
	for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		struct sd_error err;

		sd_error_init(&err);
		cr_assert_eq(th_write(t, "lz4", -1, 4096, jobs[j],
				      tt_path("small.sqfs"), NULL, &err),
			     SD_ERR_IO);
		cr_assert(strstr(err.msg, n[17]->src_path) &&
				  strstr(err.msg, "grew"),
			  "jobs %u: %s", jobs[j], err.msg);
	}
	sd_tree_free(t);
}

/*
 * The writer's own pipeline (writer_pipe.c) must write the bytes
 * libsquashfs 1.2's block processor wrote (the golden hash below was taken
 * from the block-processor writer), for any number of workers: full and
 * partial blocks, tails shared by several files (fragment dedup, also of
 * a fragment block already written and read back), whole-file duplicates
 * (block writer dedup), sparse blocks, an all-zero tail, files of exactly
 * one and two blocks, empty files, and a 4 KiB block size so that the
 * item ring wraps many times.
 */
static struct sd_tree *pipeline_tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = th_dir(t, NULL, "p");
	size_t bs = 4096;
	char name[32];
	unsigned char *buf = malloc(40 * bs);

	cr_assert_not_null(buf);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "r%02u", i);
		th_random_file(t, d, name, (i % 7) * bs + 100 * i + 1, i % 9);
	}
	memset(buf, 0, 40 * bs);
	buf[3 * bs + 5] = 1;
	th_file(t, d, "sparse-head", buf, 6 * bs + 300); /* zero tail */
	th_file(t, d, "zeros-small", buf, 200);          /* zero tail only */
	th_file(t, d, "one-block", buf + 3 * bs, bs);
	th_file(t, d, "two-blocks", buf + 2 * bs, 2 * bs);
	th_file(t, d, "empty-a", buf, 0);
	for (unsigned i = 0; i < 40 * bs; i++)
		buf[i] = (unsigned char)(i * 7 + i / 5000);
	th_file(t, d, "big-a", buf, 30 * bs + 17);
	th_file(t, d, "big-b", buf, 30 * bs + 17);     /* duplicate */
	th_file(t, d, "tail-only", buf + 30 * bs, 17); /* = big's tail */
	th_file(t, d, "empty-b", buf, 0);
	free(buf);
	th_finalize(t);
	return t;
}

Test(squashfs, pipeline_bytes_as_block_processor)
{
	static const char *const golden[] = {
		"gzip",
		"bcb81c0b165507a57b433f1ac61965e1"
		"8a2aa8069a5f0fc49d661b995b1a81a0",
		"lz4",
		"fbd2a4e2a11b8136aef6891014ccabcd"
		"d8f2ae0ee64a3245c36db3750aca74f8",
		"none",
		"9805e74a2dfeaffd0ba39ac5d68fcbdd"
		"aecd0de9901f34441bbc13b9e781f94a",
	};
	struct sd_tree *t = pipeline_tree();
	struct sd_error err;

	for (size_t g = 0; g < sizeof(golden) / sizeof(golden[0]); g += 2) {
		static const unsigned jobs[] = {1, 2, 3, 8};

		for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
			struct sd_write_stats st;
			uint8_t sum[SD_SHA256_LEN];
			char hex[2 * SD_SHA256_LEN + 1];

			cr_assert_eq(th_write(t, golden[g], -1, 4096, jobs[j],
					      tt_path("pipe.sqfs"), &st, &err),
				     0, "%s", err.msg);
			cr_assert_eq(sd_sha256_file(tt_path("pipe.sqfs"), sum,
						    &err),
				     0, "%s", err.msg);
			for (size_t i = 0; i < SD_SHA256_LEN; i++)
				snprintf(hex + 2 * i, 3, "%02x", sum[i]);
			cr_assert_str_eq(hex, golden[g + 1], "%s, %u jobs: %s",
					 golden[g], jobs[j], hex);
			cr_assert_eq(st.files_deduplicated, 1, "%s: %llu",
				     golden[g],
				     (unsigned long long)st.files_deduplicated);
		}
		struct sd_tree *r = th_read(tt_path("pipe.sqfs"));
		th_assert_same(t, r);
		sd_tree_free(r);
	}
	sd_tree_free(t);
}

/* Two unreadable files: the first in tree order is named, for any jobs. */
Test(squashfs, pipeline_reports_first_failing_file)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_error err;
	char name[32];
	char *gone[2];
	unsigned k = 0;

	for (unsigned i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "f%02u", i);
		struct sd_node *n =
			th_random_file(t, NULL, name, 5000 + 3000 * i, i);
		if (i == 11 || i == 23)
			gone[k++] = strdup(n->src_path);
	}
	th_finalize(t);
	cr_assert_eq(unlink(gone[1]), 0);
	cr_assert_eq(unlink(gone[0]), 0);
	for (unsigned jobs = 1; jobs <= 4; jobs++) {
		cr_assert_eq(th_write(t, "lz4", -1, 4096, jobs,
				      tt_path("gone.sqfs"), NULL, &err),
			     SD_ERR_IO, "jobs %u", jobs);
		cr_assert(strstr(err.msg, "f11"), "jobs %u: %s", jobs, err.msg);
	}
	free(gone[0]);
	free(gone[1]);
	sd_tree_free(t);
}
