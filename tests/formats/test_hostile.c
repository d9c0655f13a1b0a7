/* SPDX-License-Identifier: MIT */
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

	cr_assert_eq(th_write(t, comp, -1, 4096, 1, tt_path("good.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
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

Test(hostile, truncated_gzip)
{
	truncations("gzip");
}
Test(hostile, truncated_lz4)
{
	truncations("lz4");
}
Test(hostile, truncated_none)
{
	truncations("none");
}

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

/* One flip every few bytes, every bit of the superblock: the reader on
 * its own, where the corruption sweep (tests/sweep) aims 1,000 seeded
 * corruptions per compressor at every region through the commands. */
Test(hostile, bit_flips_gzip)
{
	bit_flips("gzip", 17);
}
Test(hostile, bit_flips_none)
{
	bit_flips("none", 13);
}
Test(hostile, bit_flips_zstd)
{
	bit_flips("zstd", 37);
}
Test(hostile, bit_flips_xz)
{
	bit_flips("xz", 53);
}
Test(hostile, bit_flips_lz4)
{
	bit_flips("lz4", 37);
}

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
	cr_assert_eq(sd_format_squashfs.read(tt_path("no-such-file"), &t, &err),
		     SD_ERR_IO);
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
	cr_assert_eq(th_write(t, "none", -1, 0, 1, tt_path("loop.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
	sd_tree_free(t);
	unsigned char *img = th_slurp(tt_path("loop.sqfs"), len);

	/* entry: offset u16, inode diff s16, type u16 (1 = dir), size u16
	 * (name length - 1 = 0), name "b"; its header is the 12 bytes
	 * before it (the only entry of a's listing) */
	const unsigned char pat[] = {1, 0, 0, 0, 'b'};
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
	cr_assert_eq(rd32(img + *hdr), 0,
		     "header count (1 entry, stored "
		     "off by one)");
	return img;
}

Test(hostile, directory_loop_to_root)
{
	size_t len, ent, hdr;
	unsigned char *img = loop_image(&len, &ent, &hdr);
	uint32_t root_ref = rd32(img + 32);  /* root_inode_ref (low) */
	uint32_t count = rd32(img + 4);      /* inode_count */
	uint32_t base = rd32(img + hdr + 8); /* header inode number */

	cr_assert_eq(root_ref >> 16, 0, "tiny image: one inode block");
	wr16(img + ent, (uint16_t)(root_ref & 0xFFFF));
	wr16(img + ent + 2,
	     (uint16_t)(int16_t)((int32_t)count - (int32_t)base));

	struct sd_error err;
	struct sd_tree *t = NULL;
	th_spit(tt_path("patched.sqfs"), img, len);
	sd_error_init(&err);
	cr_assert_eq(sd_format_squashfs.read(tt_path("patched.sqfs"), &t, &err),
		     SD_ERR_CORRUPT, "loop not detected");
	cr_assert(strstr(err.msg, "loop"), "message: %s", err.msg);
	free(img);
}

Test(hostile, invalid_names)
{
	const char *bad[] = {"/", ".", "\0"};

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
			      NULL, &err),
		     0, "%s", err.msg);
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
	cr_assert_eq(sd_format_squashfs.read(tt_path("patched.sqfs"), &t, &err),
		     SD_ERR_CORRUPT, "accepted (message: %s)", err.msg);
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
	expect_corrupt(img, len,
		       "/p/zeros: inode claims 268435456 data "
		       "blocks, more than the inode table can hold");
	wr64(img + f + 24, 8192);

	/* symlink (type 3): target_size is the u32 at 16 + 4 */
	size_t s = find_inode(img, len, 3, 20, false, 5);
	wr32(img + s + 20, 0x7FFFFFFF);
	expect_corrupt(img, len,
		       "/p/link: symlink inode claims a "
		       "2147483647-byte target, more than the inode table "
		       "can hold");
	wr32(img + s + 20, 5);

	/* a size that fits the bound but whose bytes are not there */
	wr64(img + f + 24, 8192 + 1000 * 4096);
	expect_corrupt(img, len, "/p/zeros: cannot read inode table");
	free(img);
}

/* ------------------------------------------------------------------ */
/* Hand-made hostile images, both formats, every reader entry point:   */
/* the walk (format read: what ls, cat, extract, export, diff and      */
/* verify start from), streaming every file (cat, extract, verify's    */
/* scan) and info.  Each must end in SD_ERR_CORRUPT (or UNSUPPORTED)   */
/* with a one-line message, never a crash, a hang or an unbounded      */
/* allocation.                                                         */

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sdlimits.h"
#include "formats/erofs/erofs.h"
#include "formats/erofs/erofs_disk.h"

#if defined(__SANITIZE_ADDRESS__)
#define TH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TH_ASAN 1
#endif
#endif

/*
 * Bound this test process's address space (criterion runs each test in
 * its own process) so that an allocation sized by a hostile field fails
 * instead of succeeding; not under ASan, which reserves terabytes.
 */
static void bound_memory(void)
{
#ifndef TH_ASAN
	struct rlimit r = {768u << 20, 768u << 20};
	cr_assert_eq(setrlimit(RLIMIT_AS, &r), 0);
#endif
}

/* One message check: an error status, one non-empty line, @want in it. */
static void check_error(int ret, const struct sd_error *err, const char *what,
			const char *want)
{
	cr_assert(ret == SD_ERR_CORRUPT || ret == SD_ERR_UNSUPPORTED,
		  "%s: status %d: %s", what, ret, err->msg);
	cr_assert_neq(err->msg[0], '\0', "%s: no message", what);
	cr_assert_null(strchr(err->msg, '\n'), "%s: %s", what, err->msg);
	if (want && *want)
		cr_assert(strstr(err->msg, want), "%s: '%s' lacks '%s'", what,
			  err->msg, want);
}

/*
 * Every entry point on the image @d of format @f: the read (walk) must
 * fail with @want in its message ("": any message) or succeed with a file
 * whose stream fails (damage only the data shows); with @want NULL it may
 * also succeed outright.  Every file is streamed.  info fails when
 * the read did (it walks the same tree).  Returns whether the read
 * succeeded.
 */
static bool every_entry_point(const struct sd_format *f, const unsigned char *d,
			      size_t len, const char *want)
{
	const char *path = tt_path("hostile.img");
	struct sd_image_info info;
	struct sd_tree *t = NULL;
	struct sd_error err;
	int ret;

	th_spit(path, d, len);
	/* kept for the CLI's sweep over them (tests/cli/test-hostile.sh) */
	const char *keep = getenv("SD_HOSTILE_KEEP");
	if (keep) {
		static unsigned seq;
		char kept[4096];
		snprintf(kept, sizeof(kept), "%s/%04u.%s", keep, seq++,
			 f->name);
		th_spit(kept, d, len);
	}
	sd_error_init(&err);
	ret = f->read(path, &t, &err);
	if (ret) {
		cr_assert_null(t);
		check_error(ret, &err, "read", want);
	} else {
		size_t failed = th_stream_all(t);
		sd_tree_free(t);
		cr_assert(!want || failed > 0,
			  "read and every stream accepted "
			  "it (wanted '%s')",
			  want);
	}
	sd_error_init(&err);
	memset(&info, 0, sizeof(info));
	int iret = f->info(path, &info, &err);
	if (ret)
		check_error(iret, &err, "info", NULL);
	else if (iret)
		check_error(iret, &err, "info", NULL);
	return ret == 0;
}

/* ---- EROFS images from our writer, patched -------------------------- */

struct eimg {
	unsigned char *d;
	size_t len;
	uint64_t meta; /* byte offset of nid 0 */
	unsigned bs;
	uint64_t root;
};

/*
 * /p/a/{b/, bb, c}, /p/big (a 20000-byte file with its own mtime, so an
 * extended inode with a 64-bit size), /p/link -> a; @comp "none" or "lz4".
 */
static struct eimg erofs_image(const char *comp)
{
	struct sd_write_options o = {
		.compressor = comp, .level = -1, .jobs = 1};
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *p = th_dir(t, NULL, "p");
	struct sd_node *a = th_dir(t, p, "a");
	static char big[20000];
	struct sd_error err;
	struct eimg im;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 7 + (i / 1000) % 3);
	th_dir(t, a, "b");
	th_file(t, a, "bb", "xx", 2);
	th_file(t, a, "c", "ccc", 3);
	th_file(t, p, "big", big, sizeof(big))->mtime = 7;
	th_symlink(t, p, "link", "a");
	th_finalize(t);
	int fd = open(tt_path("good.erofs"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	sd_error_init(&err);
	cr_assert_eq(sd_format_erofs.write(t, &o, fd, NULL, NULL, &err), 0,
		     "%s", err.msg);
	close(fd);
	sd_tree_free(t);
	im.d = th_slurp(tt_path("good.erofs"), &im.len);
	im.bs = 1u << im.d[EROFS_SUPER_OFFSET + EROFS_SB_OFF_BLKSZBITS];
	im.meta = (uint64_t)get_le32(im.d + EROFS_SUPER_OFFSET +
				     EROFS_SB_OFF_META_BLKADDR) *
		  im.bs;
	im.root = get_le16(im.d + EROFS_SUPER_OFFSET + EROFS_SB_OFF_ROOT_NID);
	/* the superblock checksum would refuse every patch below the
	 * superblock first: images without one are legal */
	uint8_t *compat =
		im.d + EROFS_SUPER_OFFSET + EROFS_SB_OFF_FEATURE_COMPAT;
	put_le32(compat, get_le32(compat) & ~EROFS_FEATURE_COMPAT_SB_CHKSUM);
	return im;
}

static uint8_t *e_inode(struct eimg *im, uint64_t nid)
{
	cr_assert_lt(im->meta + nid * 32, im->len);
	return im->d + im->meta + nid * 32;
}

static bool e_extended(struct eimg *im, uint64_t nid)
{
	return get_le16(e_inode(im, nid)) & 1;
}

static uint64_t e_size(struct eimg *im, uint64_t nid)
{
	uint8_t *ino = e_inode(im, nid);
	return e_extended(im, nid) ? get_le64(ino + EROFS_IE_OFF_SIZE)
				   : get_le32(ino + EROFS_IC_OFF_SIZE);
}

/* The (one) block of directory @nid: inline after the inode or at its
 * raw block address. */
static uint8_t *e_dirblock(struct eimg *im, uint64_t nid)
{
	uint8_t *ino = e_inode(im, nid);
	bool ext = e_extended(im, nid);
	unsigned layout = (get_le16(ino) >> 1) & 7;
	uint32_t u = get_le32(ino + (ext ? EROFS_IE_OFF_U : EROFS_IC_OFF_U));

	cr_assert_leq(e_size(im, nid), im->bs, "one-block directory");
	if (layout == EROFS_INODE_FLAT_INLINE && e_size(im, nid) < im->bs)
		return ino + (ext ? 64 : 32) +
		       erofs_xattr_ibody_size(get_le16(ino + 2));
	cr_assert_eq(layout, EROFS_INODE_FLAT_PLAIN);
	return im->d + (uint64_t)u * im->bs;
}

/* The dirent named @name in directory @nid; its name in *@name_at. */
static uint8_t *e_dirent(struct eimg *im, uint64_t nid, const char *name,
			 uint8_t **name_at)
{
	uint8_t *blk = e_dirblock(im, nid);
	size_t size = (size_t)e_size(im, nid), n = get_le16(blk + 8) / 12;
	size_t want = strlen(name);

	for (size_t i = 0; i < n; i++) {
		uint8_t *de = blk + 12 * i;
		size_t off = get_le16(de + 8);
		size_t end = i + 1 < n ? get_le16(de + 12 + 8) : size;
		while (i + 1 == n && end > off && blk[end - 1] == 0)
			end--;
		if (end - off == want && !memcmp(blk + off, name, want)) {
			if (name_at)
				*name_at = blk + off;
			return de;
		}
	}
	cr_assert_fail("no entry %s", name);
	return NULL;
}

static uint64_t e_nid(struct eimg *im, uint64_t dir, const char *name)
{
	return get_le64(e_dirent(im, dir, name, NULL));
}

/* every_entry_point() on @im patched, then restore it from @orig. */
static void e_try(struct eimg *im, const unsigned char *orig, const char *want)
{
	every_entry_point(&sd_format_erofs, im->d, im->len, want);
	memcpy(im->d, orig, im->len);
}

Test(hostile, erofs_cycles_refs_names_sizes)
{
	struct eimg im = erofs_image("none");
	unsigned char *orig = malloc(im.len);
	uint8_t *name;

	cr_assert_not_null(orig);
	memcpy(orig, im.d, im.len);
	/* the unpatched image reads */
	cr_assert(every_entry_point(&sd_format_erofs, im.d, im.len, NULL));
	uint64_t p = e_nid(&im, im.root, "p"), a = e_nid(&im, p, "a");
	uint64_t big = e_nid(&im, p, "big"), c = e_nid(&im, a, "c");
	cr_assert(e_extended(&im, big), "big has an extended inode");
	cr_assert(!e_extended(&im, c), "c has a compact inode");

	/* directory cycles: to the root, to the parent, to itself */
	put_le64(e_dirent(&im, p, "a", NULL), im.root);
	e_try(&im, orig, "directory loop");
	put_le64(e_dirent(&im, a, "b", NULL), p);
	e_try(&im, orig, "directory loop");
	put_le64(e_dirent(&im, a, "b", NULL), a);
	e_try(&im, orig, "directory loop");

	/* nids into the superblock, past the end, overflowing nid * 32 */
	cr_assert_leq(im.meta, EROFS_SUPER_OFFSET, "nid 0 before the sb");
	put_le64(e_dirent(&im, a, "c", NULL),
		 (EROFS_SUPER_OFFSET - im.meta) / 32);
	e_try(&im, orig, "");
	put_le64(e_dirent(&im, a, "c", NULL), im.len / 32);
	e_try(&im, orig, "beyond the image end");
	put_le64(e_dirent(&im, a, "c", NULL), 1ull << 40);
	e_try(&im, orig, "beyond the image end");
	put_le64(e_dirent(&im, a, "c", NULL), UINT64_MAX);
	e_try(&im, orig, "beyond the image end");
	put_le16(im.d + EROFS_SUPER_OFFSET + EROFS_SB_OFF_ROOT_NID,
		 (uint16_t)((EROFS_SUPER_OFFSET - im.meta) / 32));
	e_try(&im, orig, "");

	/* names: "." and ".." that are not, '/' and NUL, empty */
	e_dirent(&im, a, "b", &name);
	name[0] = '.';
	e_try(&im, orig, "\".\" does not point");
	e_dirent(&im, a, "bb", &name);
	memcpy(name, "..", 2);
	e_try(&im, orig, "\"..\" does not point");
	e_dirent(&im, a, "bb", &name);
	memcpy(name, "x/", 2);
	e_try(&im, orig, "invalid entry name");
	e_dirent(&im, a, "bb", &name);
	memcpy(name, "x\0", 2);
	e_try(&im, orig, "invalid entry name");
	e_dirent(&im, a, "b", &name);
	name[0] = '/';
	e_try(&im, orig, "invalid entry name");
	/* "bb" empty: its name offset moved to the next one's */
	uint8_t *de = e_dirent(&im, a, "bb", NULL);
	put_le16(de + 8, get_le16(de + 12 + 8));
	e_try(&im, orig, "bad name length");

	/* sizes: 2^32 - 1 (compact), 2^32 and 2^63 (extended) */
	put_le32(e_inode(&im, c) + EROFS_IC_OFF_SIZE, UINT32_MAX);
	e_try(&im, orig, "");
	put_le64(e_inode(&im, big) + EROFS_IE_OFF_SIZE, 1ull << 32);
	e_try(&im, orig, "");
	put_le64(e_inode(&im, big) + EROFS_IE_OFF_SIZE, 1ull << 63);
	e_try(&im, orig, "too large");
	put_le32(e_inode(&im, a) + EROFS_IC_OFF_SIZE, UINT32_MAX);
	e_try(&im, orig, "");
	free(orig);
	free(im.d);
}

/* A compressed file that claims a huge decompressed size: memory stays
 * bounded (the process may not map more than 768 MiB). */
Test(hostile, erofs_compressed_huge_size)
{
	struct eimg im = erofs_image("lz4");
	unsigned char *orig = malloc(im.len);

	cr_assert_not_null(orig);
	memcpy(orig, im.d, im.len);
	bound_memory();
	cr_assert(every_entry_point(&sd_format_erofs, im.d, im.len, NULL));
	uint64_t p = e_nid(&im, im.root, "p");
	uint64_t big = e_nid(&im, p, "big");
	uint8_t *ino = e_inode(&im, big);
	unsigned layout = (get_le16(ino) >> 1) & 7;
	cr_assert(layout == EROFS_INODE_COMPRESSED_FULL ||
			  layout == EROFS_INODE_COMPRESSED_COMPACT,
		  "big compressed");
	uint64_t sizes[] = {1ull << 32, SD_LIMIT_FILE_SIZE,
			    SD_LIMIT_FILE_SIZE + 1, 1ull << 63, UINT64_MAX};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		put_le64(e_inode(&im, big) + EROFS_IE_OFF_SIZE, sizes[i]);
		e_try(&im, orig, "");
	}
	free(orig);
	free(im.d);
}

/*
 * A hand-made EROFS image: a chain of @levels directories "d" below the
 * root, 4 KiB blocks, compact inodes 128 bytes apart (nid 4 * level),
 * each directory's entries inline after its inode.
 */
static unsigned char *deep_erofs(size_t levels, size_t *len)
{
	const size_t slot = 128, per_block = 4096 / slot;
	size_t blocks = 1 + (levels + 1 + per_block - 1) / per_block;
	unsigned char *img = calloc(blocks, 4096);
	unsigned char *sb = img + EROFS_SUPER_OFFSET;

	cr_assert_not_null(img);
	*len = blocks * 4096;
	put_le32(sb + EROFS_SB_OFF_MAGIC, EROFS_SUPER_MAGIC_V1);
	sb[EROFS_SB_OFF_BLKSZBITS] = 12;
	put_le16(sb + EROFS_SB_OFF_ROOT_NID, 0);
	put_le64(sb + EROFS_SB_OFF_INOS, levels + 1);
	put_le32(sb + EROFS_SB_OFF_BLOCKS, (uint32_t)blocks);
	put_le32(sb + EROFS_SB_OFF_META_BLKADDR, 1);
	for (size_t i = 0; i <= levels; i++) {
		unsigned char *ino = img + 4096 + i * slot, *de = ino + 32;
		size_t n = i < levels ? 3 : 2; /* ".", "..", "d" */
		uint64_t self = 4 * i, up = i ? 4 * (i - 1) : 0;

		put_le16(ino + EROFS_IC_OFF_FORMAT,
			 EROFS_INODE_FLAT_INLINE << 1);
		put_le16(ino + EROFS_IC_OFF_MODE, EROFS_S_IFDIR | 0555);
		put_le16(ino + EROFS_IC_OFF_NLINK, 2);
		put_le32(ino + EROFS_IC_OFF_SIZE, (uint32_t)(n * 12 + n + 1));
		put_le32(ino + EROFS_IC_OFF_INO, (uint32_t)i + 1);
		put_le64(de, self);
		put_le16(de + 8, (uint16_t)(n * 12));
		put_le64(de + 12, up);
		put_le16(de + 12 + 8, (uint16_t)(n * 12 + 1));
		if (n == 3) {
			put_le64(de + 24, 4 * (i + 1));
			put_le16(de + 24 + 8, (uint16_t)(n * 12 + 3));
		}
		for (size_t k = 0; k < n; k++)
			de[12 * k + 10] = EROFS_FT_DIR;
		memcpy(de + n * 12, "...d", n + 1);
	}
	return img;
}

struct deep_read {
	const struct sd_format *f;
	const char *path;
	int ret, iret;
	struct sd_error err, ierr;
	size_t nodes;
};

static void *deep_read_thread(void *arg)
{
	struct deep_read *r = arg;
	struct sd_image_info info;
	struct sd_tree *t = NULL;

	sd_error_init(&r->err);
	r->ret = r->f->read(r->path, &t, &r->err);
	r->nodes = t ? t->count : 0;
	sd_tree_free(t);
	sd_error_init(&r->ierr);
	memset(&info, 0, sizeof(info));
	r->iret = r->f->info(r->path, &info, &r->ierr);
	return NULL;
}

/* Read and info of @path on a thread with a 256 KiB stack (a walk that
 * recursed per level would overflow it long before 100,000 levels). */
static struct deep_read deep_read(const struct sd_format *f, const char *path)
{
	struct deep_read r = {.f = f, .path = path};
	pthread_attr_t attr;
	pthread_t th;

	cr_assert_eq(pthread_attr_init(&attr), 0);
	cr_assert_eq(pthread_attr_setstacksize(&attr, 256u << 10), 0);
	cr_assert_eq(pthread_create(&th, &attr, deep_read_thread, &r), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	pthread_attr_destroy(&attr);
	return r;
}

/* An image @levels deep reads whole (every node, info too) up to the
 * shared depth limit, and past it fails in read and info naming it. */
static void check_deep(const struct sd_format *f, const char *path,
		       size_t levels)
{
	struct deep_read r = deep_read(f, path);
	if (levels <= SD_LIMIT_DEPTH) {
		cr_assert_eq(r.ret, 0, "%s", r.err.msg);
		cr_assert_eq(r.nodes, levels + 1);
		cr_assert_eq(r.iret, 0, "%s", r.ierr.msg);
		return;
	}
	check_error(r.ret, &r.err, "read",
		    "directories nested "
		    "deeper than 4096 levels");
	check_error(r.iret, &r.ierr, "info", "nested deeper");
}

Test(hostile, erofs_nesting_depth)
{
	size_t levels[] = {SD_LIMIT_DEPTH, SD_LIMIT_DEPTH + 1, 100000};

	for (size_t i = 0; i < 3; i++) {
		size_t len;
		unsigned char *img = deep_erofs(levels[i], &len);
		th_spit(tt_path("deep.erofs"), img, len);
		free(img);
		check_deep(&sd_format_erofs, tt_path("deep.erofs"), levels[i]);
	}
}

/* ---- squashfs images from our writer, patched ----------------------- */

/* The directory-table entry of the @len-byte name @name with type @type:
 * the offset of its name (the entry's type is 4 bytes before it). */
static size_t s_entry_name(const unsigned char *img, size_t len, int type,
			   const char *name)
{
	size_t n = strlen(name), start = (size_t)rd64(img + 72);
	unsigned char pat[4 + 256];

	pat[0] = (unsigned char)type;
	pat[1] = 0;
	pat[2] = (unsigned char)(n - 1);
	pat[3] = 0;
	memcpy(pat + 4, name, n);
	for (size_t i = start; i + 4 + n <= len; i++)
		if (!memcmp(img + i, pat, 4 + n))
			return i + 4;
	cr_assert_fail("entry %s not found", name);
	return 0;
}

/* /a/{b/, bb, c}, uncompressed tables: names and references to patch. */
static unsigned char *s_image(size_t *len)
{
	struct sd_error err;
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *a = th_dir(t, NULL, "a");

	th_dir(t, a, "b");
	th_file(t, a, "bb", "xx", 2);
	th_file(t, a, "c", "ccc", 3);
	th_finalize(t);
	cr_assert_eq(th_write(t, "none", -1, 4096, 1, tt_path("s.sqfs"), NULL,
			      &err),
		     0, "%s", err.msg);
	sd_tree_free(t);
	return th_slurp(tt_path("s.sqfs"), len);
}

static void s_try(unsigned char *img, const unsigned char *orig, size_t len,
		  const char *want)
{
	every_entry_point(&sd_format_squashfs, img, len, want);
	memcpy(img, orig, len);
}

Test(hostile, squashfs_refs_names_sizes)
{
	size_t len;
	unsigned char *img = s_image(&len);
	unsigned char *orig = malloc(len);

	cr_assert_not_null(orig);
	memcpy(orig, img, len);
	cr_assert(every_entry_point(&sd_format_squashfs, img, len, NULL));

	/* names: "..", '/' and NUL in a two-byte name (squashfs stores
	 * length - 1: an empty name cannot be written) */
	size_t bb = s_entry_name(img, len, 2, "bb");
	memcpy(img + bb, "..", 2);
	s_try(img, orig, len, "invalid entry name");
	memcpy(img + bb, "x/", 2);
	s_try(img, orig, len, "invalid entry name");
	memcpy(img + bb, "\0x", 2);
	s_try(img, orig, len, "invalid entry name");
	/* a name that runs past the directory's listing */
	img[bb - 2] = 0xFF;
	s_try(img, orig, len, "");

	/* inode references: the table moved onto the superblock, the root
	 * and an entry's block far past the end */
	wr64(img + 64, 0);
	s_try(img, orig, len, "");
	wr64(img + 32, (uint64_t)0xFFFFFFFFu << 16);
	s_try(img, orig, len, "");
	/* the header of a's listing (12 bytes before its first entry,
	 * "b"): the metadata block of its entries' inodes */
	size_t b = s_entry_name(img, len, 1, "b");
	wr32(img + b - 8 - 12 + 4, 0xFFFFFFF0u);
	s_try(img, orig, len, "");
	size_t c = s_entry_name(img, len, 2, "c");
	wr16(img + c - 8, 0xFFF0); /* offset inside the metadata block */
	s_try(img, orig, len, "");

	/* sizes: a basic file of 2^32 - 1 bytes, a directory listing of
	 * 65535 bytes */
	size_t f = find_inode(img, len, 2, 28, false, 3);
	wr32(img + f + 28, UINT32_MAX);
	s_try(img, orig, len, "");
	free(orig);
	free(img);
}

Test(hostile, squashfs_huge_sizes_and_blocks)
{
	size_t len;
	unsigned char *img = sizes_image(&len);
	unsigned char *orig = malloc(len);

	cr_assert_not_null(orig);
	memcpy(orig, img, len);
	bound_memory();
	size_t f = find_inode(img, len, 9, 24, true, 8192);
	uint64_t sizes[] = {1ull << 32, SD_LIMIT_FILE_SIZE + 1, 1ull << 63,
			    UINT64_MAX};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		wr64(img + f + 24, sizes[i]);
		s_try(img, orig, len, "");
	}
	/* a block that claims more than the block size (a stored block's
	 * size: its 24 low bits; the list follows the 56-byte inode) */
	wr32(img + f + 56, 0x00FFFFFFu);
	s_try(img, orig, len, "larger than the block size");
	wr32(img + f + 56, 0x01000000u | 0x00FFFFFFu);
	s_try(img, orig, len, "larger than the block size");
	free(orig);
	free(img);
}

#include "formats/squashfs/writer.h"

/* A squashfs image of a chain of @levels directories "d" below the root,
 * written past the writers' limit check (which would refuse it). */
static void deep_squashfs(size_t levels, const char *path)
{
	struct sd_write_options o = {
		.compressor = "none", .level = -1, .jobs = 1};
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = NULL;
	struct sd_error err;

	for (size_t i = 0; i < levels; i++)
		d = th_dir(t, d, "d");
	th_finalize(t);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	sd_error_init(&err);
	cr_assert_eq(sd_sqfs_write_unchecked(t, &o, fd, NULL, NULL, &err), 0,
		     "%s", err.msg);
	close(fd);
	sd_tree_free(t);
}

Test(hostile, squashfs_nesting_depth)
{
	size_t levels[] = {SD_LIMIT_DEPTH, SD_LIMIT_DEPTH + 1, 100000};

	for (size_t i = 0; i < 3; i++) {
		deep_squashfs(levels[i], tt_path("deep.sqfs"));
		check_deep(&sd_format_squashfs, tt_path("deep.sqfs"),
			   levels[i]);
	}
}

/* The writers refuse what the readers would: one level too deep, a
 * symlink target too long, a file too large. */
Test(hostile, writers_refuse_beyond_the_limits)
{
	const struct sd_format *fmts[] = {&sd_format_squashfs,
					  &sd_format_erofs};
	struct sd_write_options o = {
		.compressor = "none", .level = -1, .jobs = 1};
	char target[SD_LIMIT_SYMLINK + 2];

	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	for (int k = 0; k < 3; k++) {
		struct sd_tree *t = sd_tree_new(1);
		struct sd_node *d = th_dir(t, NULL, "p");
		const char *want;
		if (k == 0) {
			for (size_t i = 1; i <= SD_LIMIT_DEPTH; i++)
				d = th_dir(t, d, "d");
			want = "directory nesting depth 4097, more than "
			       "storedisk reads back (limit 4096)";
		} else if (k == 1) {
			th_symlink(t, d, "l", target);
			want = "/p/l: symlink target bytes 4096, more than "
			       "storedisk reads back (limit 4095)";
		} else {
			th_file(t, d, "f", "", 0)->size =
				SD_LIMIT_FILE_SIZE + 1;
			want = "/p/f: file size 1099511627777, more than "
			       "storedisk reads back (limit 1099511627776)";
		}
		th_finalize(t);
		for (int f = 0; f < 2; f++) {
			struct sd_error err;
			int fd = open(tt_path("limit.img"),
				      O_RDWR | O_CREAT | O_TRUNC, 0644);
			cr_assert(fd >= 0);
			sd_error_init(&err);
			cr_assert_eq(
				fmts[f]->write(t, &o, fd, NULL, NULL, &err),
				SD_ERR_LIMIT, "%s: %s", fmts[f]->name, err.msg);
			cr_assert(strstr(err.msg, want), "%s: %s",
				  fmts[f]->name, err.msg);
			struct stat st;
			cr_assert_eq(fstat(fd, &st), 0);
			cr_assert_eq(st.st_size, 0, "nothing written");
			close(fd);
		}
		sd_tree_free(t);
	}
}
