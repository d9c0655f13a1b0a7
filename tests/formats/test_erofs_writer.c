/* SPDX-License-Identifier: MIT */
/*
 * The EROFS writer (formats/erofs/writer.h): images are checked by the
 * kernel (mount -o loop,ro, skipped without the privilege), by erofs-utils
 * (fsck.erofs --extract, dump.erofs; skipped when not installed) and by
 * blkid -p (label, and never taken for MINIX), plus reproducibility, a
 * golden hash, limits and errors.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hosttree.h"
#include "core/sha256.h"
#include "formats/erofs/crc32c.h"
#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/reader.h"
#include "formats/erofs/writer.h"
#include "helpers.h"
#include "tests/common/tools.h"

/* SHA-256 of the golden image (see golden_image). */
#define GOLDEN_SHA256 \
	"2ed2f2fa17883de2e4856105aaf2f4dcf47b8f76fa29bec9fa3b15dd044f8a6f"

TestSuite(erofs_writer, .init = th_setup, .fini = tt_teardown, .timeout = 600);

static int write_opts(const struct sd_tree *t, const struct sd_write_options *o,
		      const char *path, struct sd_write_stats *stats,
		      struct sd_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "create %s", path);
	sd_error_init(err);
	int ret = sd_erofs_write(t, o, fd, NULL, stats, err);
	close(fd);
	return ret;
}

/* Write @t to tt_path(@name) with default options or fail. */
static const char *write_ok(const struct sd_tree *t, const char *name,
			    struct sd_write_stats *stats)
{
	struct sd_write_options o = {.jobs = 1};
	struct sd_write_stats st;
	struct sd_error err;
	const char *path = tt_path(name);

	cr_assert_eq(write_opts(t, &o, path, stats ? stats : &st, &err), 0,
		     "write: %s", err.msg);
	return path;
}

static void sb_read(const char *img, uint8_t sb[EROFS_SB_SIZE])
{
	int fd = open(img, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, sb, EROFS_SB_SIZE, EROFS_SUPER_OFFSET),
		     EROFS_SB_SIZE);
	close(fd);
}

/* blkid -p must say erofs with @label (and nothing ambiguous). */
static void check_blkid(const char *img, const char *label)
{
	char cmd[PATH_MAX + 64], want[64];

	if (!tt_have_tool("blkid")) {
		cr_log_warn("blkid not installed: check skipped");
		return;
	}
	snprintf(cmd, sizeof(cmd), "blkid -p '%s' 2>&1", img);
	char *out = tt_run(cmd);
	snprintf(want, sizeof(want), "LABEL=\"%s\"", label);
	cr_assert(strstr(out, "TYPE=\"erofs\""), "blkid: %s", out);
	cr_assert(strstr(out, want), "blkid: %s", out);
	free(out);
}

static struct sd_tree *sample_tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *a = th_dir(t, NULL, "aaaa-pkg");
	struct sd_node *bin = th_dir(t, a, "bin");
	struct sd_node *b = th_dir(t, NULL, "bbbb-other");

	th_file(t, a, "empty", "", 0);
	th_random_file(t, a, "f4095", 4095, 1);
	th_random_file(t, a, "f4096", 4096, 2);
	th_random_file(t, a, "f4097", 4097, 3);
	th_random_file(t, a, "f100k", 100000, 4);
	th_random_file(t, b, "f100k-again", 100000, 4);
	th_random_file(t, b, "big", 3 * 1024 * 1024 + 17, 5);
	th_random_file(t, b, "big-again", 3 * 1024 * 1024 + 17, 5);
	struct sd_node *x =
		th_file(t, bin, "hello", "#!/bin/sh\necho hi\n", 18);
	x->mode = SD_MODE_EXEC;
	th_symlink(t, bin, "link", "../f4097");
	th_symlink(t, NULL, "abs", "/nix/store/aaaa-pkg/bin/hello");
	th_dir(t, b, "-dash"); /* sorts before "." */
	th_dir(t, b, ".-dot"); /* sorts between "." and ".." */
	th_dir(t, b, ".hidden");
	th_finalize(t);
	return t;
}

Test(erofs_writer, kernel_fsck_blkid_dump)
{
	struct sd_tree *t = sample_tree();
	struct sd_write_stats st;
	const char *img = write_ok(t, "sample.img", &st);

	cr_assert_eq(st.files_deduplicated, 2, "dedup %llu",
		     (unsigned long long)st.files_deduplicated);
	cr_assert_eq(st.data_bytes_in, t->file_bytes);
	cr_assert_lt(st.image_bytes, t->file_bytes - 3 * 1024 * 1024);
	th_check_kernel_erofs(t, img);
	th_check_fsck_erofs(t, img);
	check_blkid(img, "nix-store");
	if (tt_have_tool("dump.erofs")) {
		char cmd[PATH_MAX + 32];

		snprintf(cmd, sizeof(cmd), "dump.erofs -s '%s' 2>&1", img);
		char *out = tt_run(cmd);
		cr_assert(strstr(out, "Filesystem magic number:"), "%s", out);
		cr_assert(strstr(out, "sb_csum"), "%s", out);
		/* no file has an all-zero 1 MiB chunk: no chunk-based
		 * layout (files without holes stay FLAT_PLAIN) */
		cr_assert_null(strstr(out, "chunked_file"), "%s", out);
		cr_assert(
			strstr(out,
			       "Filesystem root nid:                          36"),
			"%s", out);
		free(out);
	}
	sd_tree_free(t);
}

Test(erofs_writer, superblock_fields_and_checksum)
{
	struct sd_tree *t = sample_tree();
	const char *img = write_ok(t, "sb.img", NULL);
	uint8_t block[EW_BLKSIZE];
	int fd = open(img, O_RDONLY);
	struct stat st;

	cr_assert_eq(pread(fd, block, sizeof(block), 0), (ssize_t)EW_BLKSIZE);
	fstat(fd, &st);
	close(fd);
	uint8_t *sb = block + EROFS_SUPER_OFFSET;
	cr_assert_eq(get_le32(sb + EROFS_SB_OFF_MAGIC), EROFS_SUPER_MAGIC_V1);
	cr_assert_eq(sb[EROFS_SB_OFF_BLKSZBITS], 12);
	cr_assert_eq(get_le64(sb + EROFS_SB_OFF_INOS), t->count);
	cr_assert_eq(get_le64(sb + EROFS_SB_OFF_BUILD_TIME), 1);
	cr_assert_eq((uint64_t)get_le32(sb + EROFS_SB_OFF_BLOCKS) * 4096,
		     (uint64_t)st.st_size);
	cr_assert_str_eq((char *)sb + EROFS_SB_OFF_VOLUME_NAME, "nix-store");
	cr_assert_eq(sb[EROFS_SB_OFF_UUID + 6] >> 4, 8, "UUID version 8");
	cr_assert_eq(sb[EROFS_SB_OFF_UUID + 8] >> 6, 2, "UUID variant");
	uint32_t sum = get_le32(sb + EROFS_SB_OFF_CHECKSUM);
	put_le32(sb + EROFS_SB_OFF_CHECKSUM, 0);
	cr_assert_eq(sd_crc32c(0xFFFFFFFFu, sb, EW_BLKSIZE - 1024), sum);
	/* The standard CRC-32C check value. */
	cr_assert_eq(~sd_crc32c(~0u, "123456789", 9), 0xE3069283u);
	sd_tree_free(t);
}

Test(erofs_writer, reproducible_and_jobs_independent)
{
	struct sd_tree *t = sample_tree();
	struct sd_write_options o1 = {.jobs = 1}, o4 = {.jobs = 4};
	struct sd_write_stats st;
	struct sd_error err;
	char h1[65], h2[65], h3[65];

	cr_assert_eq(write_opts(t, &o1, tt_path("r1.img"), &st, &err), 0);
	cr_assert_eq(write_opts(t, &o1, tt_path("r2.img"), &st, &err), 0);
	cr_assert_eq(write_opts(t, &o4, tt_path("r4.img"), &st, &err), 0);
	th_image_sha(tt_path("r1.img"), h1);
	th_image_sha(tt_path("r2.img"), h2);
	th_image_sha(tt_path("r4.img"), h3);
	cr_assert_str_eq(h1, h2);
	cr_assert_str_eq(h1, h3);
	sd_tree_free(t);
}

/* A host file of @size bytes that is a hole but for @data at @off. */
static struct sd_node *sparse_file(struct sd_tree *t, struct sd_node *parent,
				   const char *name, uint64_t size,
				   const char *data, uint64_t off)
{
	char rel[64];
	struct sd_error err;
	struct sd_node *n = th_file(t, parent, name, "", 0);
	int fd;

	snprintf(rel, sizeof(rel), "sparse-%s", name);
	fd = open(tt_path(rel), O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	cr_assert_eq(pwrite(fd, data, strlen(data), (off_t)off),
		     (ssize_t)strlen(data));
	close(fd);
	sd_error_init(&err);
	cr_assert_eq(sd_node_set_src_path(n, tt_path(rel), &err), 0);
	n->size = size;
	return n;
}

/*
 * Uncompressed deduplication by size groups (writer_flat.h): equal sizes
 * with other content, equal content in another layout (the tail fits
 * inline after a compact inode only), duplicates with inline tails,
 * chunked files with a written zero chunk, a chunk whose first bytes
 * only are zero, a file of unique size with holes, a sparse host file.
 * The same bytes for 1, 2 and 4 jobs; read back equal; the image read
 * back and written again (a non-host content source) gives the same
 * bytes.
 */
Test(erofs_writer, uncompressed_groups_and_jobs)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "gggg-groups");
	const size_t big = 2 * EW_CHUNK_SIZE + 5000;
	const size_t uniq = 3 * EW_CHUNK_SIZE + 1;
	uint8_t *buf = malloc(uniq);
	const unsigned jobs[] = {1, 2, 4};
	char hex[3][65], again[65];
	struct sd_write_stats st;
	struct sd_error err;

	cr_assert_not_null(buf);
	th_random_file(t, p, "a8192", 8192, 10);
	th_random_file(t, p, "b8192", 8192, 11);
	th_random_file(t, p, "c8192", 8192, 10); /* = a */
	th_random_file(t, p, "d-compact", 8146, 12);
	th_random_file(t, p, "e-extended", 8146, 12)->mtime = 1700000000;
	th_random_file(t, p, "f-compact", 8146, 12); /* = d */
	th_random(buf, big, 13);
	memset(buf, 0, EW_CHUNK_SIZE);
	th_file(t, p, "g-hole", buf, big);
	th_file(t, p, "h-hole-again", buf, big); /* = g */
	th_random(buf, big, 14);
	memset(buf + EW_CHUNK_SIZE, 0, 64);
	th_file(t, p, "i-no-hole", buf, big);
	th_random(buf, uniq, 15);
	memset(buf + EW_CHUNK_SIZE, 0, 2 * EW_CHUNK_SIZE + 1);
	buf[2 * EW_CHUNK_SIZE - 1] = 1; /* chunk 1 zero but its last byte */
	th_file(t, p, "j-unique", buf, uniq);
	sparse_file(t, p, "k-sparse", 3 * EW_CHUNK_SIZE + 7, "data",
		    2 * EW_CHUNK_SIZE + 100);
	free(buf);
	th_finalize(t);

	for (int i = 0; i < 3; i++) {
		struct sd_write_options o = {.jobs = jobs[i]};
		char name[32];

		snprintf(name, sizeof(name), "groups-j%u.img", jobs[i]);
		cr_assert_eq(write_opts(t, &o, tt_path(name), &st, &err), 0,
			     "write: %s", err.msg);
		cr_assert_eq(st.files_deduplicated, 3, "jobs %u: dedup %llu",
			     jobs[i],
			     (unsigned long long)st.files_deduplicated);
		cr_assert_eq(st.data_bytes_in, t->file_bytes);
		th_image_sha(tt_path(name), hex[i]);
		cr_assert_str_eq(hex[i], hex[0], "jobs %u differs", jobs[i]);
	}
	/* holes: g's first chunk, j's last two, k's first two */
	cr_assert_lt(st.image_bytes, t->file_bytes - (5u << 20),
		     "image %llu bytes", (unsigned long long)st.image_bytes);

	const char *img = tt_path("groups-j1.img");
	struct sd_tree *r = NULL;
	struct sd_write_options o2 = {.jobs = 2};

	sd_error_init(&err);
	cr_assert_eq(sd_erofs_read(img, &r, &err), 0, "read: %s", err.msg);
	th_assert_same(t, r);
	cr_assert_eq(write_opts(r, &o2, tt_path("again.img"), &st, &err), 0,
		     "write again: %s", err.msg);
	th_image_sha(tt_path("again.img"), again);
	cr_assert_str_eq(again, hex[0], "written again from the image");
	sd_tree_free(r);
	/* no check_fsck: fsck.erofs 1.5 --extract cuts chunked files at
	 * their first hole (the kernel reads them whole) */
	th_check_kernel_erofs(t, img);
	sd_tree_free(t);
}

/* A source file whose size is not what the tree says fails the pack
 * with SD_ERR_IO naming its host path, on every path: a file alone in its size
 * group, a hashed group member, a chunked file probed for holes. */
Test(erofs_writer, uncompressed_source_changed)
{
	static const size_t claimed[] = {10000, 10000, 3 * EW_CHUNK_SIZE};
	static const bool twin[] = {false, true, false};

	for (int i = 0; i < 3; i++) {
		struct sd_tree *t = sd_tree_new(1);
		struct sd_node *p = th_dir(t, NULL, "cccc-changed");
		struct sd_write_options o = {.jobs = 2};
		struct sd_write_stats st;
		struct sd_error err;
		struct sd_node *n = th_random_file(t, p, "shrunk", 5000, 1);

		n->size = claimed[i];
		if (twin[i])
			th_random_file(t, p, "twin", claimed[i], 2);
		th_finalize(t);
		cr_assert_eq(write_opts(t, &o, tt_path("changed.img"), &st,
					&err),
			     SD_ERR_IO, "case %d", i);
		cr_assert_not_null(strstr(err.msg, n->src_path), "case %d: %s",
				   i, err.msg);
		sd_tree_free(t);
	}
}

/* A fixed small input; the hash changes only with a deliberate change of
 * the on-disk encoding (then check the new image and update it). */
Test(erofs_writer, golden_image)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p =
		th_dir(t, NULL, "0123456789abcdfghijklmnpqrsvwxyz-hello");
	struct sd_node *bin = th_dir(t, p, "bin");

	struct sd_node *h =
		th_file(t, bin, "hello", "#!/bin/sh\necho Hello\n", 21);
	h->mode = SD_MODE_EXEC;
	th_symlink(t, p, "lib", "bin");
	th_random_file(t, p, "data", 10000, 42);
	th_finalize(t);
	char hex[65];
	th_image_sha(write_ok(t, "golden.img", NULL), hex);
	cr_assert_str_eq(hex, GOLDEN_SHA256, "golden image changed: %s", hex);
	sd_tree_free(t);
}

Test(erofs_writer, label_and_uuid_options)
{
	struct sd_tree *t = sample_tree();
	struct sd_write_options o = {
		.jobs = 1, .label = "sixteen-bytes-ok", .has_uuid = true};
	struct sd_write_stats st;
	struct sd_error err;
	uint8_t sb[EROFS_SB_SIZE];

	for (int i = 0; i < 16; i++)
		o.uuid[i] = (uint8_t)(0x10 + i);
	cr_assert_eq(write_opts(t, &o, tt_path("l.img"), &st, &err), 0);
	sb_read(tt_path("l.img"), sb);
	cr_assert(memcmp(sb + EROFS_SB_OFF_UUID, o.uuid, 16) == 0);
	cr_assert(memcmp(sb + EROFS_SB_OFF_VOLUME_NAME, "sixteen-bytes-ok",
			 16) == 0);
	check_blkid(tt_path("l.img"), "sixteen-bytes-ok");
	if (tt_have_tool("blkid")) {
		char cmd[PATH_MAX + 64];

		snprintf(cmd, sizeof(cmd), "blkid -p '%s'", tt_path("l.img"));
		char *out = tt_run(cmd);
		cr_assert(strstr(out, "UUID=\"10111213-1415-1617-1819-"
				      "1a1b1c1d1e1f\""),
			  "%s", out);
		free(out);
	}
	sd_tree_free(t);
}

Test(erofs_writer, options_refused)
{
	struct sd_write_options o = {.jobs = 1};
	struct sd_error err;

	sd_error_init(&err);
	o.compressor = "none";
	cr_assert_eq(sd_erofs_check_options(&o, &err), 0);
	o.compressor = "gzip";
	cr_assert_eq(sd_erofs_check_options(&o, &err), SD_ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "gzip"), "%s", err.msg);
	o.compressor = "lz4";
	cr_assert_eq(sd_erofs_check_options(&o, &err), 0);
	o.compressor = "lz4hc";
	o.level = 13;
	cr_assert_eq(sd_erofs_check_options(&o, &err), SD_ERR_USAGE);
	o.level = -1;
	o.pcluster_size = 8192 + 4096;
	cr_assert_eq(sd_erofs_check_options(&o, &err), SD_ERR_USAGE);
	o.pcluster_size = 0;
	o.compressor = NULL;
	o.label = "seventeen-bytes-x";
	cr_assert_eq(sd_erofs_check_options(&o, &err), SD_ERR_USAGE);
	o.label = NULL;
	o.block_size = 8192;
	cr_assert_eq(sd_erofs_check_options(&o, &err), SD_ERR_USAGE);
}

Test(erofs_writer, other_nodes_refused_with_path)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = th_dir(t, NULL, "pkg");
	struct sd_error err;
	struct sd_write_stats st;
	struct sd_write_options o = {.jobs = 1};

	sd_error_init(&err);
	cr_assert_not_null(sd_tree_add(t, d, "fifo", 4, SD_NODE_OTHER, &err));
	th_finalize(t);
	cr_assert_eq(write_opts(t, &o, tt_path("o.img"), &st, &err),
		     SD_ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "pkg/fifo"), "%s", err.msg);
	sd_tree_free(t);
}

Test(erofs_writer, interrupted)
{
	struct sd_tree *t = sample_tree();
	struct sd_write_options o = {.jobs = 1};
	struct sd_write_stats st;
	struct sd_error err;
	volatile int stop = 1;
	int fd = open(tt_path("i.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);

	sd_error_init(&err);
	cr_assert_eq(sd_erofs_write(t, &o, fd, &stop, &st, &err),
		     SD_ERR_INTERRUPTED);
	close(fd);
	sd_tree_free(t);
}

Test(erofs_writer, edge_cases)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "edge");
	struct sd_node *many = th_dir(t, p, "many");
	char name[256], target[4096];

	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "entry-%05d", i);
		if (i % 100 == 0)
			th_random_file(t, many, name, (size_t)i, (uint32_t)i);
		else
			th_symlink(t, many, name, "x");
	}
	memset(name, 'n', 255);
	name[255] = '\0';
	th_file(t, p, name, "long name", 9);
	name[254] = '\0';
	th_dir(t, p, name);
	memset(target, 't', 4095);
	target[4095] = '\0';
	th_symlink(t, p, "long-target", target);
	target[4064] = '\0'; /* just fits inline after a compact inode */
	th_symlink(t, p, "target-4064", target);
	struct sd_node *d = p;
	for (int i = 0; i < 100; i++)
		d = th_dir(t, d, "d");
	th_file(t, d, "deep", "bottom", 6);
	/* Extended inodes: a large uid, another mtime. */
	struct sd_node *u = th_file(t, p, "owner", "x", 1);
	u->uid = 70000;
	u->gid = 70001;
	struct sd_node *m = th_file(t, p, "mtime", "y", 1);
	m->mtime = 1700000000;
	th_finalize(t);
	const char *img = write_ok(t, "edge.img", NULL);
	th_check_kernel_erofs(t, img);
	th_check_fsck_erofs(t, img);
	/* Owners through the kernel. */
	char mnt[PATH_MAX], path[PATH_MAX + 64];
	struct stat st;
	if (th_mount_erofs(img, mnt, sizeof(mnt))) {
		snprintf(path, sizeof(path), "%s/edge/owner", mnt);
		cr_assert_eq(lstat(path, &st), 0);
		cr_assert_eq(st.st_uid, 70000);
		cr_assert_eq(st.st_gid, 70001);
		th_unmount(mnt);
	}
	sd_tree_free(t);
}

Test(erofs_writer, sparse_5gib_and_hard_links)
{
	const uint64_t size = 5ull << 30;
	int fd;

	tt_mkdir("src");
	tt_mkdir("src/p");
	fd = open(tt_path("src/p/sparse"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	cr_assert_eq(pwrite(fd, "middle", 6, 3ll << 30), 6);
	cr_assert_eq(pwrite(fd, "end", 3, (off_t)size - 3), 3);
	close(fd);
	tt_write("src/p/shared", "0123456789", 10, 0644);
	char *big = malloc(300000);
	th_random(big, 300000, 7);
	tt_write("src/p/big", big, 300000, 0644);
	for (int i = 0; i < 20; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "src/p/link%02d", i);
		cr_assert_eq(link(tt_path("src/p/big"), tt_path(rel)), 0);
	}
	free(big);

	struct sd_tree *t = sd_tree_new(1);
	struct sd_error err;
	struct sd_write_stats st;
	sd_error_init(&err);
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", tt_path("src/p"), NULL,
				     &err),
		     0, "%s", err.msg);
	th_finalize(t);
	const char *img = write_ok(t, "sparse.img", &st);
	cr_assert_eq(st.files_deduplicated, 20);
	/* 300000-byte file once (74 blocks), two data chunks of the sparse
	 * file (1 MiB each), metadata: well under 3 MiB. */
	cr_assert_lt(st.image_bytes, 3u << 20, "image %llu bytes",
		     (unsigned long long)st.image_bytes);

	char mnt[PATH_MAX], path[PATH_MAX + 64], buf[8];
	if (!th_mount_erofs(img, mnt, sizeof(mnt))) {
		cr_log_warn("mount failed: kernel check skipped");
	} else {
		struct stat s;

		snprintf(path, sizeof(path), "%s/p/sparse", mnt);
		cr_assert_eq(stat(path, &s), 0);
		cr_assert_eq((uint64_t)s.st_size, size);
		fd = open(path, O_RDONLY);
		cr_assert_eq(pread(fd, buf, 6, 3ll << 30), 6);
		cr_assert(memcmp(buf, "middle", 6) == 0);
		cr_assert_eq(pread(fd, buf, 6, (off_t)size - 6), 6);
		cr_assert(memcmp(buf, "\0\0\0end", 6) == 0);
		cr_assert_eq(pread(fd, buf, 4, 1ll << 30), 4);
		cr_assert(memcmp(buf, "\0\0\0\0", 4) == 0);
		close(fd);
		/* Everything but the 5 GiB file, byte for byte. */
		for (size_t i = 0; i < t->root->children[0]->nchildren; i++) {
			struct sd_node *n = t->root->children[0]->children[i];
			if (strcmp(n->name, "sparse") != 0)
				th_check_host(t, n, mnt);
		}
		th_unmount(mnt);
	}
	sd_tree_free(t);
}

/* A tree of @count nodes (root, a directory, symlinks). */
static struct sd_tree *tree_of(size_t count, int64_t mtime)
{
	struct sd_tree *t = sd_tree_new(mtime);
	struct sd_node *d = th_dir(t, NULL, "p");
	char name[32];

	t->root->mtime = mtime;
	d->mtime = mtime;
	for (size_t i = 0; i + 2 < count; i++) {
		snprintf(name, sizeof(name), "l%06zu", i);
		th_symlink(t, d, name, "x")->mtime = mtime;
	}
	th_finalize(t);
	cr_assert_eq(t->count, count);
	return t;
}

/* Inode counts whose low 16 bits are MINIX v1/v2 magics (both byte
 * orders): libblkid must still see EROFS only. */
Test(erofs_writer, minix_inode_counts)
{
	static const size_t counts[] = {0x137F, 0x138F, 0x2468, 0x2478,
					0x7F13, 0x8F13, 0x6824, 0x7824};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct sd_tree *t = tree_of(counts[i], 1);
		char name[32];
		uint8_t sb[EROFS_SB_SIZE];

		snprintf(name, sizeof(name), "minix%zx.img", counts[i]);
		const char *img = write_ok(t, name, NULL);
		sb_read(img, sb);
		cr_assert_eq(get_le64(sb + EROFS_SB_OFF_INOS), counts[i] + 1);
		check_blkid(img, "nix-store");
		if (i == 0)
			th_check_fsck_erofs(t, img);
		unlink(img);
		sd_tree_free(t);
	}
}

/* Build times whose low 16 bits are the MINIX v3 magic (at byte 1048). */
Test(erofs_writer, minix_v3_build_time)
{
	static const int64_t times[] = {0x4D5A, 0x5A4D, 0x12344D5A};

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct sd_tree *t = tree_of(40, times[i]);
		uint8_t sb[EROFS_SB_SIZE];
		const char *img = write_ok(t, "v3.img", NULL);

		sb_read(img, sb);
		cr_assert_eq(get_le64(sb + EROFS_SB_OFF_BUILD_TIME),
			     (uint64_t)times[i] - 1);
		check_blkid(img, "nix-store");
		th_check_kernel_erofs(
			t, img); /* mtimes intact (extended inodes) */
		th_check_fsck_erofs(t, img);
		sd_tree_free(t);
	}
}

/* The metadata packer (writer_pack.c): first fit over open blocks, a
 * record of at most a block never crosses one, a longer one starts a new
 * block and leaves its last block open. */
Test(erofs_writer, pack_first_fit)
{
	struct ew_pack p;

	ew_pack_init(&p, 1152);
	cr_assert_eq(ew_pack_place(&p, 3000), 4096); /* no room in 0 */
	cr_assert_eq(ew_pack_place(&p, 2000), 1152); /* back into 0 */
	cr_assert_eq(ew_pack_place(&p, 900), 3168);  /* 0 is full now */
	cr_assert_eq(ew_pack_place(&p, 1000), 4096 + 3008);
	cr_assert_eq(ew_pack_place(&p, 5000), 2 * 4096); /* runs on into 3 */
	cr_assert_eq(ew_pack_place(&p, 100), 3 * 4096 + 928);
	cr_assert_eq(p.next, 4);
}

/* Random records: no overlap, none crosses a block, and never more
 * blocks than placing each at the next slot (a new block when it does
 * not fit), the layout before first fit. */
Test(erofs_writer, pack_never_worse_than_sequential)
{
	for (unsigned seed = 1; seed <= 20; seed++) {
		struct ew_pack p;
		uint64_t seq = 1152, end[2000], at[2000];
		uint32_t len[2000];
		unsigned r = seed;

		ew_pack_init(&p, 1152);
		for (int i = 0; i < 2000; i++) {
			uint64_t s;

			r = r * 1103515245u + 12345u;
			len[i] = 32 + (r >> 8) % 4065; /* 32..4096 */
			at[i] = ew_pack_place(&p, len[i]);
			end[i] = at[i] + len[i];
			cr_assert_leq(at[i] % 4096 + len[i], 4096,
				      "seed %u: record %d crosses a block",
				      seed, i);
			cr_assert_eq(at[i] % 32, 0);
			s = (seq + 31) & ~(uint64_t)31;
			if (s % 4096 + len[i] > 4096)
				s += 4096 - s % 4096;
			seq = s + len[i];
		}
		for (int i = 0; i < 2000; i++)
			for (int j = i + 1; j < 2000; j++)
				cr_assert(end[i] <= at[j] || end[j] <= at[i],
					  "seed %u: records %d and %d overlap",
					  seed, i, j);
		cr_assert_leq(p.next, (seq + 4095) / 4096, "seed %u", seed);
	}
}
