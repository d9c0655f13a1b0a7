/* SPDX-License-Identifier: MIT */
/*
 * The EROFS writer with compression (formats/erofs/writer_z.h): for every
 * compressor (none, lz4, lz4hc, lzma, zstd) and pcluster size (4 KiB,
 * 64 KiB) the image must mount in the kernel and match the source byte for
 * byte (skipped without the privilege), read back equal through our own
 * reader, be extracted exactly by fsck.erofs where erofs-utils 1.5 can
 * (none, lz4, lz4hc) and be described by dump.erofs -s.  Plus: the same
 * bytes for 1, 2 and 4 jobs, golden hashes, raw pclusters for
 * incompressible data, small images for compressible data, deduplicated
 * contents sharing their pclusters, and option checks.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/reader.h"
#include "formats/erofs/reader_int.h"
#include "formats/erofs/writer.h"
#include "helpers.h"
#include "tests/common/tools.h"

/*
 * SHA-256 of the golden images (see golden_images).  They pin the
 * compressors' output too, so a different liblz4 (1.9.4 here) or libzstd
 * (1.5.4) may change them.
 */
#define GOLDEN_LZ4HC \
	"fd21a3eb7cd00fd19b706decfeae2b06eae6d3832ab705610c160794b4ddb285"
#define GOLDEN_ZSTD \
	"bb4031e339d70ba789c6fbb1e6829e7b1d62daa7f09f8692dd5d5555ff9bd2b7"

#define MIB (1024u * 1024u)

TestSuite(erofs_compress, .init = th_setup, .fini = tt_teardown,
	  .timeout = 300);

static int write_img(const struct sd_tree *t, const char *comp, int level,
		     uint32_t pcluster, unsigned jobs, const char *path,
		     struct sd_write_stats *st, struct sd_error *err)
{
	struct sd_write_options o = {
		.compressor = comp,
		.level = level,
		.jobs = jobs,
		.pcluster_size = pcluster,
	};
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "create %s", path);
	sd_error_init(err);
	int ret = sd_erofs_write(t, &o, fd, NULL, st, err);
	close(fd);
	return ret;
}

static const char *write_ok(const struct sd_tree *t, const char *comp,
			    uint32_t pcluster, unsigned jobs, const char *name,
			    struct sd_write_stats *st)
{
	struct sd_write_stats dummy;
	struct sd_error err;
	const char *path = tt_path(name);

	cr_assert_eq(write_img(t, comp, -1, pcluster, jobs, path,
			       st ? st : &dummy, &err),
		     0, "write %s/%u: %s", comp, pcluster, err.msg);
	return path;
}

/* dump.erofs -s: magic, checksum, and the compression features. */
static void check_dump(const char *img, const char *comp, uint32_t pcluster)
{
	char cmd[PATH_MAX + 32];
	bool compressed = strcmp(comp, "none") != 0;
	bool cfgs = compressed && (pcluster > 4096 || !strcmp(comp, "lzma") ||
				   !strcmp(comp, "zstd"));

	if (!tt_have_tool("dump.erofs")) {
		printf("skip: dump.erofs not installed\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "dump.erofs -s '%s' 2>&1", img);
	char *out = tt_run(cmd);
	cr_assert(strstr(out, "Filesystem magic number:"), "%s", out);
	cr_assert(strstr(out, "sb_csum"), "%s", out);
	cr_assert_eq(strstr(out, "0padding") != NULL, compressed, "%s", out);
	/* erofs-utils 1.5 names the COMPR_CFGS / BIG_PCLUSTER bit so */
	cr_assert_eq(strstr(out, "big_pcluster") != NULL, cfgs, "%s", out);
	/* uncompressed: the root inode follows the superblock and
	 * compression records; compressed: the metadata area follows the
	 * data, root first at nid 1 (writer_zmeta.c) */
	cr_assert(strstr(out,
			 !compressed
				 ? "root nid:                          36"
				 : "root nid:                          1\n"),
		  "%s", out);
	cr_assert_eq(strstr(out, "metadata start block:        0\n") != NULL,
		     !compressed, "%s", out);
	free(out);
}

/* Read @img with our EROFS reader or fail the test. */
static struct sd_tree *erofs_read(const char *img)
{
	struct sd_tree *r = NULL;
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_erofs_read(img, &r, &err), 0, "read %s: %s", img,
		     err.msg);
	return r;
}

/* Our reader must give back exactly @t. */
static void check_reader(const struct sd_tree *t, const char *img)
{
	struct sd_tree *r = erofs_read(img);

	th_assert_same(t, r);
	sd_tree_free(r);
}

/* Deterministic, compressible text of @len bytes. */
static void *text(size_t len, unsigned seed)
{
	char *p = malloc(len + 64);
	size_t n = 0;

	cr_assert_not_null(p);
	for (unsigned i = 0; n < len; i++)
		n += (size_t)snprintf(p + n, 64, "line %u of file %u: %s\n", i,
				      seed, i % 7 ? "lorem ipsum" : "dolor");
	return p;
}

/* Alternating incompressible and compressible runs of @len bytes. */
static void *mixed(size_t len, uint32_t seed)
{
	return th_mixed(len, seed, 3000, 9000);
}

/* The edge-case tree of the compressor matrix. */
static struct sd_tree *edge_tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "aaaa-pkg");
	struct sd_node *bin = th_dir(t, p, "bin");
	struct sd_node *q = th_dir(t, NULL, "bbbb-dup");

	th_file(t, p, "empty", "", 0);
	th_random_file(t, p, "f4095", 4095, 1);
	th_random_file(t, p, "f4096", 4096, 2);
	th_random_file(t, p, "f4097", 4097, 3);
	th_file_take(t, p, "t4095", text(4095, 1), 4095);
	th_file_take(t, p, "t4096", text(4096, 2), 4096);
	th_file_take(t, p, "t4097", text(4097, 3), 4097);
	th_random_file(t, p, "random", 300000, 4);
	th_file_take(t, p, "text10m", text(10 * MIB, 5), 10 * MIB);
	th_file_take(t, p, "mixed", mixed(MIB + MIB / 2 + 12345, 6),
		     MIB + MIB / 2 + 12345);
	th_file_take(t, p, "tail", text(200001, 7), 200001);
	th_random_file(t, q, "random-again", 300000, 4);
	th_file_take(t, q, "mixed-again", mixed(MIB + MIB / 2 + 12345, 6),
		     MIB + MIB / 2 + 12345);
	struct sd_node *x =
		th_file(t, bin, "hello", "#!/bin/sh\necho hi\n", 18);
	x->mode = SD_MODE_EXEC;
	th_symlink(t, bin, "link", "../tail");
	th_finalize(t);
	return t;
}

/* ---- index inspection ---------------------------------------------- */

struct zinfo {
	unsigned layout;
	uint64_t size;
	uint32_t iu; /* compressed blocks */
	uint64_t nheads, nplain;
	uint32_t first_blk; /* first head's block */
	bool inline_tail;   /* ztailpacking: last pcluster inline */
};

/* Load inode @nid of @img through our reader and, if compressed, walk
 * its extents (the reader checks the index invariants on the way). */
static struct zinfo inspect(const char *img, uint64_t nid)
{
	struct zinfo z = {0};
	struct sd_erofs_image *im = NULL;
	struct sd_erofs_inode ino;
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_erofs_image_open(img, &im, &err), 0, "%s", err.msg);
	cr_assert_eq(sd_erofs_inode_load(im, nid, &ino, &err), 0, "%s",
		     err.msg);
	z.layout = ino.layout;
	z.size = ino.size;
	z.iu = ino.iu;
	if (z.layout == EROFS_INODE_COMPRESSED_COMPACT ||
	    z.layout == EROFS_INODE_COMPRESSED_FULL) {
		uint64_t lcn = 0, last = 0;

		cr_assert_eq(sd_erofs_z_init(im, &ino, &err), 0, "%s", err.msg);
		z.inline_tail = ino.z_advise & Z_EROFS_ADVISE_INLINE_PCLUSTER;
		while (lcn < ino.z_totalidx) {
			struct sd_erofs_zext e;

			cr_assert_eq(sd_erofs_z_extent(im, &ino, &lcn, &e,
						       &err),
				     0, "%s", err.msg);
			if (e.llen == 0)
				break;
			cr_assert(z.nheads == 0 || e.la > last);
			if (z.nheads == 0)
				z.first_blk = (uint32_t)(e.pa / 4096);
			last = e.la;
			z.nheads++;
			z.nplain += e.plain;
		}
	}
	sd_erofs_image_close(im);
	return z;
}

static uint64_t nid_of(const char *img, const char *path)
{
	struct sd_tree *r = erofs_read(img);
	struct sd_node *n = sd_tree_lookup(r, path);

	cr_assert_not_null(n, "%s missing", path);
	uint64_t nid = n->src_id;
	sd_tree_free(r);
	return nid;
}

/* ---- the compressor matrix ------------------------------------------ */

static void matrix(const char *comp)
{
	static const uint32_t pclusters[] = {4096, 65536};
	struct sd_tree *t = edge_tree();

	for (size_t i = 0; i < 2; i++) {
		uint32_t pc = pclusters[i];
		char name[64];
		struct sd_write_stats st;

		if (!strcmp(comp, "none") && pc != 4096)
			continue;
		snprintf(name, sizeof(name), "%s-%u.img", comp, pc);
		const char *img = write_ok(t, comp, pc, 2, name, &st);
		cr_assert_eq(st.files_deduplicated, 2, "%s/%u dedup %llu", comp,
			     pc, (unsigned long long)st.files_deduplicated);
		cr_assert_eq(st.data_bytes_in, t->file_bytes);
		check_reader(t, img);
		th_check_kernel_erofs(t, img);
		check_dump(img, comp, pc);
		if (!strcmp(comp, "none") || !strcmp(comp, "lz4") ||
		    !strcmp(comp, "lz4hc"))
			th_check_fsck_erofs(t, img);
		if (!strcmp(comp, "none"))
			continue;

		/* files shorter than a block stay uncompressed (inline when
		 * the tail fits after the inode); so does a file whose
		 * compressed form takes no less room than its plain one (one
		 * block of 4096 bytes: a pcluster block plus indexes) */
		struct zinfo z =
			inspect(img, nid_of(img, "aaaa-pkg/bin/hello"));
		cr_assert_eq(z.layout, EROFS_INODE_FLAT_INLINE);
		z = inspect(img, nid_of(img, "aaaa-pkg/t4095"));
		cr_assert_eq(z.layout, EROFS_INODE_FLAT_PLAIN);
		z = inspect(img, nid_of(img, "aaaa-pkg/t4096"));
		cr_assert_eq(z.layout, EROFS_INODE_FLAT_PLAIN);
		/* incompressible: stored plain, the tail inline */
		z = inspect(img, nid_of(img, "aaaa-pkg/random"));
		cr_assert_eq(z.layout, EROFS_INODE_FLAT_INLINE, "%s/%u", comp,
			     pc);
		/* the duplicate shares the owner's blocks */
		struct zinfo d =
			inspect(img, nid_of(img, "bbbb-dup/random-again"));
		cr_assert_eq(d.layout, EROFS_INODE_FLAT_INLINE);
		cr_assert_eq(d.iu, z.iu);
		z = inspect(img, nid_of(img, "aaaa-pkg/mixed"));
		d = inspect(img, nid_of(img, "bbbb-dup/mixed-again"));
		cr_assert_eq(z.layout, EROFS_INODE_COMPRESSED_COMPACT);
		cr_assert_eq(d.first_blk, z.first_blk);
		cr_assert_eq(d.iu, z.iu);
		cr_assert(z.nplain > 0 && z.nplain < z.nheads);
		/* 10 MiB of text: a few percent of its size at most */
		z = inspect(img, nid_of(img, "aaaa-pkg/text10m"));
		cr_assert_lt((uint64_t)z.iu * 4096, z.size / 4,
			     "%s/%u: text in %u blocks", comp, pc, z.iu);
		/* raw at most for a short rest at each 1 MiB segment end */
		cr_assert_leq(z.nplain, 10, "%s/%u: %llu raw", comp, pc,
			      (unsigned long long)z.nplain);
		cr_assert_lt(st.image_bytes, 4 * MIB, "%s/%u: %llu bytes", comp,
			     pc, (unsigned long long)st.image_bytes);
	}
	sd_tree_free(t);
}

Test(erofs_compress, none)
{
	matrix("none");
}
Test(erofs_compress, lz4)
{
	matrix("lz4");
}
Test(erofs_compress, lz4hc)
{
	matrix("lz4hc");
}
Test(erofs_compress, lzma)
{
	matrix("lzma");
}
Test(erofs_compress, zstd)
{
	matrix("zstd");
}

/* ---- determinism ---------------------------------------------------- */

/* Many files of assorted sizes and contents, a multi-segment file and
 * duplicates, so that workers race. */
static struct sd_tree *busy_tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "cccc-busy");

	for (unsigned i = 0; i < 120; i++) {
		char name[32];
		size_t len = 4096 + (i * 40503u) % 90000;

		snprintf(name, sizeof(name), "f%03u", i);
		if (i % 3 == 0)
			th_random_file(t, p, name, len, i);
		else if (i % 3 == 1)
			th_file_take(t, p, name, text(len, i % 10), len);
		else
			th_file_take(t, p, name, mixed(len, i % 5), len);
	}
	th_file_take(t, p, "zz-big", mixed(3 * MIB + 777, 9), 3 * MIB + 777);
	th_file_take(t, p, "zz-big-again", mixed(3 * MIB + 777, 9),
		     3 * MIB + 777);
	th_finalize(t);
	return t;
}

Test(erofs_compress, jobs_independent)
{
	static const char *comps[] = {"lz4hc", "zstd", "lzma", "lz4"};
	struct sd_tree *t = busy_tree();

	for (size_t c = 0; c < 4; c++) {
		char want[65], got[65], name[64];
		uint32_t pc = c % 2 ? 4096 : 65536;

		snprintf(name, sizeof(name), "%s-j1.img", comps[c]);
		th_image_sha(write_ok(t, comps[c], pc, 1, name, NULL), want);
		for (unsigned j = 2; j <= 4; j += 2) {
			snprintf(name, sizeof(name), "%s-j%u.img", comps[c], j);
			th_image_sha(write_ok(t, comps[c], pc, j, name, NULL),
				     got);
			cr_assert_str_eq(got, want, "%s: jobs %u differs",
					 comps[c], j);
		}
		snprintf(name, sizeof(name), "%s-j4.img", comps[c]);
		check_reader(t, tt_path(name));
	}
	sd_tree_free(t);
}

Test(erofs_compress, golden_images)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p =
		th_dir(t, NULL, "0123456789abcdfghijklmnpqrsvwxyz-hello");
	char hex[65];

	th_file(t, p, "small", "#!/bin/sh\necho Hello\n", 21);
	th_random_file(t, p, "random", 10000, 42);
	th_file_take(t, p, "text", text(100000, 42), 100000);
	th_file_take(t, p, "mixed", mixed(70000, 42), 70000);
	th_finalize(t);
	th_image_sha(write_ok(t, "lz4hc", 4096, 2, "g-lz4hc.img", NULL), hex);
	cr_assert_str_eq(hex, GOLDEN_LZ4HC, "lz4hc golden image changed: %s",
			 hex);
	th_image_sha(write_ok(t, "zstd", 65536, 2, "g-zstd.img", NULL), hex);
	cr_assert_str_eq(hex, GOLDEN_ZSTD, "zstd golden image changed: %s",
			 hex);
	sd_tree_free(t);
}

/* ---- big pclusters --------------------------------------------------- */

Test(erofs_compress, big_pclusters_up_to_1mib)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "dddd-big");

	th_file_take(t, p, "text", text(5 * MIB + 3, 1), 5 * MIB + 3);
	th_file_take(t, p, "mixed", mixed(2 * MIB + 5, 2), 2 * MIB + 5);
	th_random_file(t, p, "random", 700000, 3);
	th_finalize(t);
	for (uint32_t pc = 128 * 1024; pc <= MIB; pc *= 8) {
		static const char *comps[] = {"lz4", "lzma", "zstd"};

		for (size_t c = 0; c < 3; c++) {
			char name[64];

			snprintf(name, sizeof(name), "%s-%u.img", comps[c], pc);
			const char *img =
				write_ok(t, comps[c], pc, 2, name, NULL);
			check_reader(t, img);
			th_check_kernel_erofs(t, img);
		}
	}
	sd_tree_free(t);
}

/* ---- options ---------------------------------------------------------- */

Test(erofs_compress, options)
{
	static const struct {
		const char *comp;
		int level;
		uint32_t pcluster;
		int want;
	} cases[] = {
		{"lz4", -1, 0, 0},
		{"lz4", 3, 0, SD_ERR_USAGE},
		{"lz4hc", 1, 4096, 0},
		{"lz4hc", 12, 1u << 20, 0},
		{"lz4hc", 13, 0, SD_ERR_USAGE},
		{"lzma", 0, 0, 0},
		{"lzma", 9, 0, 0},
		{"lzma", 10, 0, SD_ERR_USAGE},
		{"zstd", 1, 0, 0},
		{"zstd", 22, 0, 0},
		{"zstd", 0, 0, SD_ERR_USAGE},
		{"zstd", 23, 0, SD_ERR_USAGE},
		{"lz4", -1, 2048, SD_ERR_USAGE},
		{"lz4", -1, 3 * 4096, SD_ERR_USAGE},
		{"lz4", -1, 2u << 20, SD_ERR_USAGE},
		{"none", -1, 5000, SD_ERR_USAGE},
		{"xz", -1, 0, SD_ERR_UNSUPPORTED},
		{"gzip", -1, 0, SD_ERR_UNSUPPORTED},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_write_options o = {
			.compressor = cases[i].comp,
			.level = cases[i].level,
			.pcluster_size = cases[i].pcluster,
			.jobs = 1,
		};
		struct sd_error err;

		sd_error_init(&err);
		cr_assert_eq(sd_erofs_check_options(&o, &err), cases[i].want,
			     "%s:%d pcluster %u: %s", cases[i].comp,
			     cases[i].level, cases[i].pcluster, err.msg);
	}
}

/* ---- sources that changed -------------------------------------------- */

/* A source file whose size is not what the tree says fails the pack with
 * SD_ERR_IO naming its host path, on every path of the compressed
 * pipeline (writer_zpipe.h), whichever thread read it: a small file
 * stored plain, a single segment, a file of several segments, one of two
 * multi-segment files of the same size (hashed before the pipeline). */
Test(erofs_compress, source_changed)
{
	static const size_t real[] = {100, 5000, 5000, 5000};
	static const size_t claimed[] = {3000, 10000, 3 * MIB, 3 * MIB};
	static const bool twin[] = {false, false, false, true};

	for (int i = 0; i < 4; i++)
		for (unsigned jobs = 1; jobs <= 3; jobs += 2) {
			struct sd_tree *t = sd_tree_new(1);
			struct sd_node *p = th_dir(t, NULL, "cccc-changed");
			struct sd_error err;
			struct sd_node *n =
				th_random_file(t, p, "shrunk", real[i], 1);

			n->size = claimed[i];
			th_random_file(t, p, "after", 70000, 3);
			if (twin[i])
				th_random_file(t, p, "twin", claimed[i], 2);
			th_finalize(t);
			cr_assert_eq(write_img(t, "lz4", 0, 4096, jobs,
					       tt_path("changed.img"), NULL,
					       &err),
				     SD_ERR_IO, "case %d jobs %u", i, jobs);
			cr_assert_not_null(strstr(err.msg, n->src_path),
					   "case %d jobs %u: %s", i, jobs,
					   err.msg);
			sd_tree_free(t);
		}
}

/* With two broken files the error names the first in tree order, for
 * any thread count (errors stay with their item until collected). */
Test(erofs_compress, first_error_in_tree_order)
{
	for (unsigned jobs = 1; jobs <= 4; jobs++) {
		struct sd_tree *t = sd_tree_new(1);
		struct sd_node *p = th_dir(t, NULL, "cccc-changed");
		struct sd_error err;
		struct sd_node *a, *b;

		th_random_file(t, p, "a-fine", 2 * MIB + 5, 7);
		a = th_random_file(t, p, "b-first", 5000, 1);
		b = th_random_file(t, p, "c-second", 5000, 2);
		a->size = 2 * MIB;
		b->size = 9000;
		th_finalize(t);
		int ret = write_img(t, "lz4hc", 9, 4096, jobs,
				    tt_path("first.img"), NULL, &err);
		cr_assert_eq(ret, SD_ERR_IO, "jobs %u: %d %s", jobs, ret,
			     err.msg);
		cr_assert_not_null(strstr(err.msg, a->src_path), "jobs %u: %s",
				   jobs, err.msg);
		sd_tree_free(t);
	}
}
