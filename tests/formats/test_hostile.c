/*
 * The reader against damaged and hostile images: truncation at many
 * lengths, bit flips at many offsets, foreign files, and hand-patched
 * directory loops and bad names.  Every read must end in an error with a
 * message or in a tree whose files all stream (possibly with errors)
 * without crashing or hanging.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "formats/squashfs/squashfs.h"
#include "helpers.h"

TestSuite(hostile, .init = th_setup, .fini = tt_teardown, .timeout = 600);

/* A small tree with 4 KiB blocks: data, fragments, dirs and symlinks. */
static struct sd_tree *small_tree(void)
{
	struct sd_tree *t = sd_tree_new(1234);
	struct sd_node *p = th_dir(t, NULL, "abc-pkg");
	struct sd_node *bin = th_dir(t, p, "bin");
	struct sd_node *lib = th_dir(t, p, "lib");
	char name[32];

	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "lib%d.so", i);
		th_random_file(t, lib, name, (size_t)(i * 997) % 9000,
			       (uint32_t)i);
	}
	th_file(t, bin, "sh", "#!/bin/sh\n", 10);
	th_symlink(t, bin, "bash", "sh");
	th_dir(t, p, "empty");
	th_finalize(t);
	return t;
}

static size_t total_reads, total_ok;

/* Read @data as an image; on success stream every file. */
static void try_image(const void *data, size_t len)
{
	struct sd_error err;
	struct sd_tree *t = NULL;
	const char *path = tt_path("hostile.sqfs");

	th_spit(path, data, len);
	sd_error_init(&err);
	int ret = sd_format_squashfs.read(path, &t, &err);
	total_reads++;
	if (ret != 0) {
		cr_assert_null(t);
		cr_assert(ret == SD_ERR_CORRUPT || ret == SD_ERR_UNSUPPORTED,
			  "status %d: %s", ret, err.msg);
		cr_assert_neq(err.msg[0], '\0');
		cr_assert_null(strchr(err.msg, '\n'));
		return;
	}
	total_ok++;
	cr_assert_not_null(t);
	th_stream_all(t);
	sd_tree_free(t);
}

static void *write_small(const char *comp, size_t *len)
{
	struct sd_error err;
	struct sd_tree *t = small_tree();

	cr_assert_eq(th_write(t, comp, -1, 4096, 1, tt_path("good.sqfs"),
			      NULL, &err), 0, "%s", err.msg);
	sd_tree_free(t);
	return th_slurp(tt_path("good.sqfs"), len);
}

static void truncations(const char *comp)
{
	size_t len;
	unsigned char *img = write_small(comp, &len);

	total_reads = total_ok = 0;
	for (size_t n = 0; n < len; n += (n < 200 ? 1 : 61))
		try_image(img, n);
	/* bytes_used ends before the padding: cut just around it */
	for (size_t n = len - 4096 > 0 ? len - 4096 : 0; n < len; n += 13)
		try_image(img, n);
	cr_assert_gt(total_reads, 100);
	free(img);
}

Test(hostile, truncated_gzip) { truncations("gzip"); }
Test(hostile, truncated_lz4) { truncations("lz4"); }
Test(hostile, truncated_none) { truncations("none"); }

static void bit_flips(const char *comp, size_t step)
{
	size_t len;
	unsigned char *img = write_small(comp, &len);
	uint32_t x = 12345;

	total_reads = total_ok = 0;
	for (size_t off = 0; off < len; off += (off < 96 ? 1 : step)) {
		x = x * 1103515245u + 12345u;
		unsigned char bit = (unsigned char)(1u << ((x >> 16) & 7));
		img[off] ^= bit;
		try_image(img, len);
		img[off] ^= bit;
	}
	/* every bit of the superblock */
	for (size_t off = 0; off < 96; off++) {
		for (int b = 0; b < 8; b++) {
			img[off] ^= (unsigned char)(1u << b);
			try_image(img, len);
			img[off] ^= (unsigned char)(1u << b);
		}
	}
	cr_assert_gt(total_reads, 100);
	cr_assert_gt(total_ok, 0, "flips in file data must still read");
	free(img);
}

Test(hostile, bit_flips_gzip) { bit_flips("gzip", 3); }
Test(hostile, bit_flips_none) { bit_flips("none", 2); }
Test(hostile, bit_flips_zstd) { bit_flips("zstd", 7); }
Test(hostile, bit_flips_xz) { bit_flips("xz", 11); }
Test(hostile, bit_flips_lz4) { bit_flips("lz4", 7); }

Test(hostile, foreign_files)
{
	unsigned char buf[65536];

	try_image("", 0);
	try_image("hsqs", 4);
	memset(buf, 0, sizeof(buf));
	try_image(buf, sizeof(buf));
	th_random(buf, sizeof(buf), 99);
	try_image(buf, sizeof(buf));
	/* random bytes behind a plausible superblock head */
	memcpy(buf, "hsqs", 4);
	buf[28] = 4;
	buf[29] = 0;
	buf[30] = 0;
	buf[31] = 0;
	for (uint32_t seed = 0; seed < 200; seed++) {
		th_random(buf + 4, 24, seed);
		th_random(buf + 32, sizeof(buf) - 32, seed + 1000);
		try_image(buf, sizeof(buf));
	}
	const char *text = "#!/bin/sh\necho this is not an image\n";
	try_image(text, strlen(text));
	cr_assert_eq(total_ok, 0);

	struct sd_error err;
	struct sd_tree *t = NULL;
	sd_error_init(&err);
	cr_assert_eq(sd_format_squashfs.read(tt_path("no-such-file"), &t,
					     &err), SD_ERR_IO);
	cr_assert_eq(sd_format_squashfs.read("/", &t, &err), SD_ERR_IO);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/*
 * An uncompressed image of /a/b (two nested directories) and the
 * position of the directory entry "b" and of its header.
 */
static unsigned char *loop_image(size_t *len, size_t *ent, size_t *hdr)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *a = th_dir(t, NULL, "a");
	th_dir(t, a, "b");
	th_finalize(t);
	cr_assert_eq(th_write(t, "none", -1, 0, 1, tt_path("loop.sqfs"),
			      NULL, &err), 0, "%s", err.msg);
	sd_tree_free(t);
	unsigned char *img = th_slurp(tt_path("loop.sqfs"), len);

	/* entry: offset u16, inode diff s16, type u16 (1 = dir), size u16
	 * (name length - 1 = 0), name "b"; its header is the 12 bytes
	 * before it (the only entry of a's listing) */
	const unsigned char pat[] = { 1, 0, 0, 0, 'b' };
	size_t dir_start = rd32(img + 72); /* directory_table_start (low) */
	*ent = 0;
	for (size_t i = dir_start; i + sizeof(pat) <= *len; i++) {
		if (memcmp(img + i, pat, sizeof(pat)) == 0) {
			*ent = i - 4;
			break;
		}
	}
	cr_assert_neq(*ent, 0, "entry b not found");
	*hdr = *ent - 12;
	cr_assert_eq(rd32(img + *hdr), 0, "header count (1 entry, stored "
		     "off by one)");
	return img;
}

Test(hostile, directory_loop_to_root)
{
	size_t len, ent, hdr;
	unsigned char *img = loop_image(&len, &ent, &hdr);
	uint32_t root_ref = rd32(img + 32);   /* root_inode_ref (low) */
	uint32_t count = rd32(img + 4);       /* inode_count */
	uint32_t base = rd32(img + hdr + 8);  /* header inode number */

	cr_assert_eq(root_ref >> 16, 0, "tiny image: one inode block");
	wr16(img + ent, (uint16_t)(root_ref & 0xFFFF));
	wr16(img + ent + 2, (uint16_t)(int16_t)((int32_t)count -
						 (int32_t)base));

	struct sd_error err;
	struct sd_tree *t = NULL;
	th_spit(tt_path("patched.sqfs"), img, len);
	sd_error_init(&err);
	cr_assert_eq(sd_format_squashfs.read(tt_path("patched.sqfs"), &t,
					     &err), SD_ERR_CORRUPT,
		     "loop not detected");
	cr_assert(strstr(err.msg, "loop"), "message: %s", err.msg);
	free(img);
}

Test(hostile, invalid_names)
{
	const char *bad[] = { "/", ".", "\0" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len, ent, hdr;
		unsigned char *img = loop_image(&len, &ent, &hdr);
		img[ent + 8] = (unsigned char)bad[i][0];

		struct sd_error err;
		struct sd_tree *t = NULL;
		th_spit(tt_path("patched.sqfs"), img, len);
		sd_error_init(&err);
		cr_assert_eq(sd_format_squashfs.read(tt_path("patched.sqfs"),
						     &t, &err),
			     SD_ERR_CORRUPT, "name %zu accepted", i);
		cr_assert(strstr(err.msg, "name"), "message: %s", err.msg);
		free(img);
	}
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(unsigned char *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/*
 * An uncompressed image (raw inode table, 4 KiB blocks) of /p/zeros, a
 * sparse 8 KiB file (so its inode is an extended one, with a 64-bit
 * file_size), and /p/link -> "zeros".
 */
static unsigned char *sizes_image(size_t *len)
{
	static const unsigned char zeros[8192];
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "p");

	th_file(t, p, "zeros", zeros, sizeof(zeros));
	th_symlink(t, p, "link", "zeros");
	th_finalize(t);
	cr_assert_eq(th_write(t, "none", -1, 4096, 1, tt_path("sizes.sqfs"),
			      NULL, &err), 0, "%s", err.msg);
	sd_tree_free(t);
	return th_slurp(tt_path("sizes.sqfs"), len);
}

/*
 * The offset of the first inode in the inode table of type @type whose
 * 64-bit (@wide) or 32-bit field at @field (from the inode start) holds
 * @value.
 */
static size_t find_inode(const unsigned char *img, size_t len, int type,
			 size_t field, bool wide, uint64_t value)
{
	size_t start = (size_t)rd64(img + 64); /* inode_table_start */
	size_t end = (size_t)rd64(img + 72);   /* directory_table_start */

	cr_assert_lt(end, len);
	for (size_t i = start; i + field + 8 <= end; i++) {
		uint64_t v = wide ? rd64(img + i + field)
				  : rd32(img + i + field);
		if (img[i] == type && img[i + 1] == 0 && v == value)
			return i;
	}
	cr_assert_fail("inode of type %d not found", type);
	return 0;
}

/* Read the patched image: SD_ERR_CORRUPT with a message containing @what. */
static void expect_corrupt(const unsigned char *img, size_t len,
			   const char *what)
{
	struct sd_error err;
	struct sd_tree *t = NULL;

	th_spit(tt_path("patched.sqfs"), img, len);
	sd_error_init(&err);
	cr_assert_eq(sd_format_squashfs.read(tt_path("patched.sqfs"), &t,
					     &err), SD_ERR_CORRUPT,
		     "accepted (message: %s)", err.msg);
	cr_assert_null(t);
	cr_assert(strstr(err.msg, what), "message: %s", err.msg);
	cr_assert_null(strchr(err.msg, '\n'));
}

/* Sizes libsquashfs would allocate for are refused before it does. */
Test(hostile, inode_sizes_beyond_the_inode_table)
{
	size_t len;
	unsigned char *img = sizes_image(&len);

	/* "none" keeps gzip's id but stores every block raw */
	cr_assert(img[rd64(img + 64) + 1] & 0x80, "inode table compressed");
	sd_tree_free(th_read(tt_path("sizes.sqfs"))); /* unpatched: reads */

	/* extended file (type 9): file_size is the u64 at 16 + 8 */
	size_t f = find_inode(img, len, 9, 24, true, 8192);
	wr64(img + f + 24, (uint64_t)1 << 40);
	expect_corrupt(img, len, "/p/zeros: inode claims 268435456 data "
		       "blocks, more than the inode table can hold");
	wr64(img + f + 24, 8192);

	/* symlink (type 3): target_size is the u32 at 16 + 4 */
	size_t s = find_inode(img, len, 3, 20, false, 5);
	wr32(img + s + 20, 0x7FFFFFFF);
	expect_corrupt(img, len, "/p/link: symlink inode claims a "
		       "2147483647-byte target, more than the inode table "
		       "can hold");
	wr32(img + s + 20, 5);

	/* a size that fits the bound but whose bytes are not there */
	wr64(img + f + 24, 8192 + 1000 * 4096);
	expect_corrupt(img, len, "/p/zeros: cannot read inode table");
	free(img);
}
