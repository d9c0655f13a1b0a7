/* SPDX-License-Identifier: MIT */
/*
 * test_erofs_reader.c — the EROFS reader against mkfs.erofs images:
 * every layout and compressor mkfs.erofs offers is read back and compared
 * byte for byte with the source tree; damaged and crafted images give
 * SD_ERR_CORRUPT (or at least never crash).  Skipped when mkfs.erofs is
 * not installed.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <dirent.h>

#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/reader.h"
#include "tests/common/tmpdir.h"
#include "tests/common/tools.h"
#include "tests/formats/helpers.h"

static void setup(void)
{
	tt_setup("sderofsr");
}

TestSuite(erofs_reader, .init = setup, .fini = tt_teardown, .timeout = 900);

static bool have_mkfs(void)
{
	return system("mkfs.erofs --help >/dev/null 2>&1") == 0 ||
	       tt_have_tool("mkfs.erofs");
}

#define NEED_MKFS()                                                     \
	do {                                                            \
		if (!have_mkfs()) {                                     \
			printf("skipping: mkfs.erofs not installed\n"); \
			cr_skip_test("mkfs.erofs not installed");       \
		}                                                       \
	} while (0)

/* mkfs.erofs @opts @img @src (fixed time 1); fails the test on error. */
static void mkfs(const char *opts, const char *img, const char *src)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
		 "mkfs.erofs -T1 %s '%s' '%s' >/dev/null 2>&1", opts, img, src);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

static void random_file(const char *rel, size_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len ? len : 1);
	cr_assert(buf);
	th_random(buf, len, seed);
	tt_write(rel, buf, len, 0644);
	free(buf);
}

static bool have_dev;

/* The source tree of the round-trip tests. */
static void make_source(bool big_dir)
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 100000};
	char name[300], target[4096];

	tt_mkdir("src/sizes");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "src/sizes/f%zu", sizes[i]);
		random_file(name, sizes[i], (uint32_t)i + 1);
	}
	/* compressible data: many pclusters, some raw, some compressed */
	char *text = malloc(300000);
	cr_assert(text);
	size_t n = 0;
	for (unsigned i = 0; n + 16 < 300000; i++)
		n += (size_t)snprintf(text + n, 300000 - n, "line %u\n", i);
	tt_write("src/text", text, n, 0755);
	memset(text, 0, 300000);
	tt_write("src/zeros", text, 300000, 0644);
	th_random(text, 20000, 99);
	memset(text + 20000, 'z', 30000);
	tt_write("src/mixed", text, 50000, 0600);
	free(text);

	tt_symlink("sizes/f1", "src/short-link");
	memset(target, 'a', 4095);
	for (size_t i = 100; i < 4095; i += 100)
		target[i] = '/';
	target[4095] = '\0';
	tt_symlink(target, "src/long-link");

	memset(name, 'n', 255);
	memcpy(name, "src/", 4);
	name[4 + 255] = '\0';
	tt_write(name, "255", 3, 0644);

	char deep[1024] = "src/deep";
	for (int d = 0; d < 100; d++) {
		size_t l = strlen(deep);
		snprintf(deep + l, sizeof(deep) - l, "/%c", 'a' + d % 26);
	}
	tt_mkdir(deep + 4 - 4);
	size_t l = strlen(deep);
	snprintf(deep + l, sizeof(deep) - l, "/leaf");
	tt_write(deep, "bottom", 6, 0644);

	cr_assert_eq(link(tt_path("src/sizes/f4097"), tt_path("src/hardlink")),
		     0);
	cr_assert_eq(mkfifo(tt_path("src/fifo"), 0640), 0);
	have_dev = mknod(tt_path("src/chardev"), S_IFCHR | 0600,
			 makedev(1, 3)) == 0 &&
		   mknod(tt_path("src/blkdev"), S_IFBLK | 0600,
			 makedev(259, 70000)) == 0;
	if (big_dir) {
		tt_mkdir("src/big");
		for (int i = 0; i < 10000; i++) {
			snprintf(name, sizeof(name), "src/big/entry-%05d", i);
			tt_write(name, "", 0, 0644);
		}
	}
}

static uint32_t new_encode_dev(dev_t d)
{
	unsigned maj = major(d), min = minor(d);
	return (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
}

static size_t compare_dir(const struct sd_tree *t, const char *host,
			  const char *rel);

static void compare_one(const struct sd_tree *t, const char *host,
			const char *rel)
{
	struct stat st;
	struct sd_node *n = sd_tree_lookup(t, rel);

	cr_assert_eq(lstat(host, &st), 0, "%s", host);
	cr_assert(n, "%s missing from the image tree", rel);
	cr_assert_eq(n->mode, st.st_mode & 07777, "%s mode", rel);
	cr_assert_eq(n->uid, st.st_uid, "%s uid", rel);
	cr_assert_eq(n->gid, st.st_gid, "%s gid", rel);
	cr_assert_eq(n->mtime, 1, "%s mtime", rel);
	if (S_ISDIR(st.st_mode)) {
		cr_assert_eq(n->type, SD_NODE_DIR, "%s", rel);
		cr_assert_eq(n->nchildren, compare_dir(t, host, rel), "%s",
			     rel);
	} else if (S_ISREG(st.st_mode)) {
		size_t len, hlen;
		cr_assert_eq(n->type, SD_NODE_FILE, "%s", rel);
		cr_assert_eq(n->size, (uint64_t)st.st_size, "%s size", rel);
		void *a = th_content(t, n, &len);
		void *b = th_slurp(host, &hlen);
		cr_assert_eq(len, hlen, "%s length", rel);
		cr_assert(memcmp(a, b, len) == 0, "%s content differs", rel);
		free(a);
		free(b);
	} else if (S_ISLNK(st.st_mode)) {
		char buf[4097];
		ssize_t k = readlink(host, buf, sizeof(buf) - 1);
		cr_assert(k > 0);
		buf[k] = '\0';
		cr_assert_eq(n->type, SD_NODE_SYMLINK, "%s", rel);
		cr_assert_str_eq(n->target, buf, "%s target", rel);
		cr_assert_eq(n->size, (uint64_t)k);
	} else {
		cr_assert_eq(n->type, SD_NODE_OTHER, "%s", rel);
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			cr_assert_eq(n->rdev, new_encode_dev(st.st_rdev),
				     "%s rdev", rel);
	}
}

/* Compare every entry of host directory @host; returns the entry count. */
static size_t compare_dir(const struct sd_tree *t, const char *host,
			  const char *rel)
{
	DIR *d = opendir(host);
	size_t count = 0;

	cr_assert(d, "%s", host);
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t hl = strlen(host) + strlen(e->d_name) + 2;
		size_t rl = strlen(rel) + strlen(e->d_name) + 2;
		char *h = malloc(hl), *r = malloc(rl);
		cr_assert(h && r);
		snprintf(h, hl, "%s/%s", host, e->d_name);
		snprintf(r, rl, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		compare_one(t, h, r);
		free(h);
		free(r);
		count++;
	}
	closedir(d);
	return count;
}

static struct sd_tree *read_ok(const char *img)
{
	struct sd_tree *t = NULL;
	struct sd_error err;

	sd_error_init(&err);
	int ret = sd_erofs_read(img, &t, &err);
	cr_assert_eq(ret, 0, "%s: %s", img, err.msg);
	return t;
}

static void roundtrip(const char *opts)
{
	const char *img = tt_path("img");

	unlink(img);
	mkfs(opts, img, tt_path("src"));
	struct sd_tree *t = read_ok(img);
	cr_assert_eq(t->mtime, 1);
	cr_assert_eq(t->root->nchildren, compare_dir(t, tt_path("src"), ""),
		     "mkfs.erofs %s", opts);
	cr_assert_eq(th_stream_all(t), 0);
	sd_tree_free(t);
}

Test(erofs_reader, probe)
{
	uint8_t head[4096] = {0};

	cr_assert(!sd_erofs_probe(head, sizeof(head)));
	put_le32(head + 1024, EROFS_SUPER_MAGIC_V1);
	cr_assert(sd_erofs_probe(head, sizeof(head)));
	cr_assert(!sd_erofs_probe(head, 1026));
}

Test(erofs_reader, uncompressed_layouts)
{
	NEED_MKFS();
	make_source(true);
	roundtrip("");
	roundtrip("-Enoinline_data");
	roundtrip("-Eforce-inode-extended");
	roundtrip("-Eforce-inode-compact");
	roundtrip("--chunksize=4096");
	roundtrip("--chunksize=65536 -Eforce-inode-blockmap");
	if (!have_dev)
		printf("note: devices not tested (mknod not permitted)\n");
}

Test(erofs_reader, lz4_layouts)
{
	NEED_MKFS();
	make_source(false);
	roundtrip("-zlz4");
	roundtrip("-zlz4 -C4096");
	roundtrip("-zlz4 -C65536");
	roundtrip("-zlz4 -Elegacy-compress");
	roundtrip("-zlz4 -Eztailpacking");
	roundtrip("-zlz4 -Eztailpacking -Enoinline_data");
}

Test(erofs_reader, lz4hc_layouts)
{
	NEED_MKFS();
	make_source(false);
	roundtrip("-zlz4hc");
	roundtrip("-zlz4hc,12 -C65536");
	roundtrip("-zlz4hc -C16384 -Elegacy-compress");
	roundtrip("-zlz4hc,9 -C32768 -Eztailpacking");
	roundtrip("-zlz4hc -C8192 -Eztailpacking -Elegacy-compress "
		  "-Eforce-inode-extended");
	roundtrip("-zlz4hc --max-extent-bytes=8192");
}

/* ---- hostile images ------------------------------------------------ */

/* Read @img: either an error with a one-line reason or a tree whose files
 * all stream (failures allowed). */
static int read_any(const char *img)
{
	struct sd_tree *t = NULL;
	struct sd_error err;

	sd_error_init(&err);
	int ret = sd_erofs_read(img, &t, &err);
	if (ret) {
		cr_assert(err.msg[0] != '\0');
		cr_assert(!strchr(err.msg, '\n'));
		return ret;
	}
	th_stream_all(t);
	sd_tree_free(t);
	return 0;
}

static void small_source(void)
{
	tt_mkdir("src/sub/deeper");
	tt_write("src/a", "hello\n", (size_t)-1, 0644);
	random_file("src/rnd", 9000, 5);
	char *t = malloc(40000);
	cr_assert(t);
	for (int i = 0; i < 40000; i++)
		t[i] = (char)('a' + (i / 7) % 5);
	tt_write("src/sub/text", t, 40000, 0644);
	free(t);
	tt_write("src/sub/deeper/f", "x", 1, 0644);
	tt_symlink("a", "src/link");
}

Test(erofs_reader, truncated)
{
	NEED_MKFS();
	small_source();
	const char *opts[] = {"", "-zlz4hc -Eztailpacking"};
	for (int o = 0; o < 2; o++) {
		mkfs(opts[o], tt_path("img"), tt_path("src"));
		size_t len;
		uint8_t *img = th_slurp(tt_path("img"), &len);
		for (size_t cut = 0; cut < len;
		     cut += (cut < 2048 ? 97 : 509)) {
			th_spit(tt_path("cut"), img, cut);
			cr_assert_eq(read_any(tt_path("cut")), SD_ERR_CORRUPT,
				     "truncated at %zu", cut);
		}
		free(img);
	}
}

Test(erofs_reader, bit_flips)
{
	NEED_MKFS();
	small_source();
	const char *opts[] = {"", "-zlz4", "-zlz4hc -C16384 -Elegacy-compress",
			      "-zlz4 -Eztailpacking"};
	for (int o = 0; o < 4; o++) {
		mkfs(opts[o], tt_path("img"), tt_path("src"));
		size_t len;
		uint8_t *img = th_slurp(tt_path("img"), &len);
		uint32_t r = 12345 + (uint32_t)o;
		for (int k = 0; k < 400; k++) {
			uint8_t *copy = malloc(len);
			cr_assert(copy);
			memcpy(copy, img, len);
			for (int f = 0; f < 1 + k % 4; f++) {
				r = r * 1103515245u + 12345u;
				size_t at = (r >> 8) % len;
				copy[at] ^= (uint8_t)(1u << (r & 7));
			}
			th_spit(tt_path("flip"), copy, len);
			read_any(tt_path("flip"));
			free(copy);
		}
		free(img);
	}
}

/* ---- crafted damage ------------------------------------------------ */

struct image {
	uint8_t *d;
	size_t len;
	uint64_t meta;
	unsigned bs;
};

static struct image load_image(void)
{
	struct image im;

	im.d = th_slurp(tt_path("img"), &im.len);
	im.bs = 1u << im.d[1024 + EROFS_SB_OFF_BLKSZBITS];
	im.meta = (uint64_t)get_le32(im.d + 1024 + EROFS_SB_OFF_META_BLKADDR) *
		  im.bs;
	return im;
}

static uint8_t *inode_at(struct image *im, uint64_t nid)
{
	return im->d + im->meta + nid * 32;
}

/* The first block of compact directory inode @nid (inline or not). */
static uint8_t *dir_block(struct image *im, uint64_t nid)
{
	uint8_t *ino = inode_at(im, nid);
	unsigned layout = (get_le16(ino) >> 1) & 7;

	cr_assert_eq(get_le16(ino) & 1, 0, "compact inode");
	if (layout == EROFS_INODE_FLAT_INLINE &&
	    get_le32(ino + EROFS_IC_OFF_SIZE) < im->bs)
		return ino + 32 + erofs_xattr_ibody_size(get_le16(ino + 2));
	return im->d + (uint64_t)get_le32(ino + EROFS_IC_OFF_U) * im->bs;
}

/* The dirent named @name in the (one-block) directory @nid. */
static uint8_t *find_dirent(struct image *im, uint64_t nid, const char *name)
{
	uint8_t *ino = inode_at(im, nid);
	uint8_t *blk = dir_block(im, nid);
	unsigned n = get_le16(blk + EROFS_DIRENT_OFF_NAMEOFF) / 12;
	unsigned size = get_le32(ino + EROFS_IC_OFF_SIZE);

	for (unsigned i = 0; i < n; i++) {
		uint8_t *de = blk + 12 * i;
		unsigned off = get_le16(de + EROFS_DIRENT_OFF_NAMEOFF);
		unsigned end = i + 1 < n ? get_le16(de + 12 + 8) : size;
		if (end - off >= strlen(name) &&
		    !memcmp(blk + off, name, strlen(name)) &&
		    (end - off == strlen(name) || blk[off + strlen(name)] == 0))
			return de;
	}
	cr_assert_fail("no entry %s", name);
	return NULL;
}

/* Rewrite the superblock checksum after editing the superblock. */
static void fix_csum(struct image *im)
{
	uint8_t *sb = im->d + 1024;
	put_le32(sb + EROFS_SB_OFF_CHECKSUM, 0);
	/* crc32c(~0) without final inversion, as the kernel */
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < im->bs - 1024u; i++) {
		crc ^= sb[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	put_le32(sb + EROFS_SB_OFF_CHECKSUM, crc);
}

static void expect_corrupt(struct image *im, const char *needle)
{
	struct sd_tree *t = NULL;
	struct sd_error err;

	if (!strstr(needle, "checksum"))
		fix_csum(im); /* damage behind a valid checksum */
	th_spit(tt_path("bad"), im->d, im->len);
	sd_error_init(&err);
	int ret = sd_erofs_read(tt_path("bad"), &t, &err);
	if (ret == 0) {
		/* damage found only when reading the data */
		size_t failed = th_stream_all(t);
		sd_tree_free(t);
		cr_assert(failed > 0, "damage not detected (%s)", needle);
		return;
	}
	cr_assert_eq(ret, SD_ERR_CORRUPT, "%s", err.msg);
	cr_assert(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
	cr_assert(strstr(err.msg, tt_path("bad")), "%s", err.msg);
}

Test(erofs_reader, crafted)
{
	NEED_MKFS();
	small_source();
	mkfs("-Enoinline_data", tt_path("img"), tt_path("src"));
	struct image im = load_image();
	uint8_t *orig = malloc(im.len);
	cr_assert(orig);
	memcpy(orig, im.d, im.len);
	uint64_t root = get_le16(im.d + 1024 + EROFS_SB_OFF_ROOT_NID);
	cr_assert_eq(get_le16(inode_at(&im, root)) & 1, 0, "compact root");
	uint8_t *rootblk = dir_block(&im, root);
	uint8_t *de = find_dirent(&im, root, "sub");
	uint64_t sub = get_le64(de);
	uint64_t rnd = get_le64(find_dirent(&im, root, "rnd"));

	/* the undamaged image reads */
	th_spit(tt_path("bad"), im.d, im.len);
	sd_tree_free(read_ok(tt_path("bad")));

	/* directory loops: an entry pointing back at an ancestor */
	put_le64(de, root);
	expect_corrupt(&im, "directory loop");
	memcpy(im.d, orig, im.len);
	put_le64(find_dirent(&im, sub, "deeper"), sub);
	expect_corrupt(&im, "directory loop");
	memcpy(im.d, orig, im.len);

	/* "." and ".." must point where they belong */
	put_le64(find_dirent(&im, sub, ".."), rnd);
	expect_corrupt(&im, "\"..\" does not point");
	memcpy(im.d, orig, im.len);

	/* a name offset out of the block */
	put_le16(rootblk + 12 + EROFS_DIRENT_OFF_NAMEOFF, 0xFFF0);
	expect_corrupt(&im, "name offset out of bounds");
	memcpy(im.d, orig, im.len);
	put_le16(rootblk + EROFS_DIRENT_OFF_NAMEOFF, 13);
	expect_corrupt(&im, "bad first name offset");
	memcpy(im.d, orig, im.len);

	/* an entry nid beyond the image */
	put_le64(find_dirent(&im, root, "a"), 1ull << 40);
	expect_corrupt(&im, "nid beyond the image end");
	memcpy(im.d, orig, im.len);

	/* a huge i_size, a data block beyond the end */
	put_le32(inode_at(&im, rnd) + EROFS_IC_OFF_SIZE, 0xFFFFFFF0u);
	expect_corrupt(&im, "beyond the image end");
	memcpy(im.d, orig, im.len);
	put_le32(inode_at(&im, rnd) + EROFS_IC_OFF_U, 99999);
	expect_corrupt(&im, "data block 99999");
	memcpy(im.d, orig, im.len);

	/* an unknown data layout, a type that does not match the entry */
	put_le16(inode_at(&im, rnd), 7 << 1);
	expect_corrupt(&im, "data layout");
	memcpy(im.d, orig, im.len);
	find_dirent(&im, root, "rnd")[EROFS_DIRENT_OFF_FILE_TYPE] =
		EROFS_FT_DIR;
	expect_corrupt(&im, "entry type");
	memcpy(im.d, orig, im.len);

	/* the superblock checksum, and fields behind a valid checksum */
	cr_assert(get_le32(im.d + 1024 + EROFS_SB_OFF_FEATURE_COMPAT) &
		  EROFS_FEATURE_COMPAT_SB_CHKSUM);
	im.d[1024 + EROFS_SB_OFF_VOLUME_NAME] ^= 0x40;
	expect_corrupt(&im, "checksum");
	memcpy(im.d, orig, im.len);
	put_le16(im.d + 1024 + EROFS_SB_OFF_ROOT_NID, (uint16_t)rnd);
	fix_csum(&im);
	expect_corrupt(&im, "root inode is not a directory");
	memcpy(im.d, orig, im.len);
	put_le32(im.d + 1024 + EROFS_SB_OFF_BLOCKS, 100000);
	fix_csum(&im);
	expect_corrupt(&im, "truncated");
	memcpy(im.d, orig, im.len);
	im.d[1024 + EROFS_SB_OFF_BLKSZBITS] = 20;
	fix_csum(&im);
	expect_corrupt(&im, "block size");
	memcpy(im.d, orig, im.len);

	/* not EROFS at all */
	memset(im.d + 1024, 0, 4);
	expect_corrupt(&im, "magic");

	free(orig);
	free(im.d);
}

/* A compressed file with a corrupt pcluster fails to stream with a reason;
 * a huge extended i_size is refused. */
Test(erofs_reader, crafted_compressed)
{
	NEED_MKFS();
	small_source();
	mkfs("-zlz4 -Eforce-inode-extended", tt_path("img"), tt_path("src"));
	struct image im = load_image();
	uint8_t *orig = malloc(im.len);
	cr_assert(orig);
	memcpy(orig, im.d, im.len);
	uint64_t root = get_le16(im.d + 1024 + EROFS_SB_OFF_ROOT_NID);
	uint8_t *rino = inode_at(&im, root);
	cr_assert_eq(get_le16(rino) & 1, 1, "extended root");

	/* scribble over every data block after the metadata: streams fail
	 * or give other bytes, never crash */
	for (size_t off = im.meta + im.bs; off < im.len; off += 64)
		im.d[off] ^= 0xA5;
	th_spit(tt_path("bad"), im.d, im.len);
	read_any(tt_path("bad"));
	memcpy(im.d, orig, im.len);

	/* the root directory's i_size set to 2^62 */
	put_le64(rino + EROFS_IE_OFF_SIZE, 1ull << 62);
	expect_corrupt(&im, "too large");
	free(orig);
	free(im.d);
}

/* ------------------------------------------------------------------ */
/* Images made by mkfs.erofs 1.9.3 (tests/formats/data/, see           */
/* make-erofs-images.sh there): read without erofs-utils installed.    */

#include "formats/erofs/crc32c.h"

#define FRAG_TEST "q5i0fyvqg6yx5ra0ljqbjp9s0xsy8xmp-frag-test-1.0"
#define FRAG_DEP "c6ryzlnyxy9i4pn5qk0gbwz9n7fncg1w-frag-dep-1.0"

static const char *const mkfs19_images[] = {
	"erofs-lz4hc-ztail-frag.img", /* compact indexes, tail fragments */
	"erofs-lz4hc-full-frag.img",  /* full indexes, tail fragments */
	"erofs-zstd-allfrag.img",     /* whole-file fragments */
	"erofs-lzma-frag-dedupe.img", /* MicroLZMA, dedupe */
};

static const char *data_image(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", SD_TEST_DATA, name);
	return path;
}

/* sd_erofs_read() that must succeed. */
static struct sd_tree *erofs_read_ok(const char *path)
{
	struct sd_tree *t = NULL;
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_erofs_read(path, &t, &err), 0, "%s", err.msg);
	cr_assert_not_null(t);
	return t;
}

/* "line 1\nline 2\n..." cut to @len bytes, as make-erofs-images.sh. */
static struct sd_node *text_file(struct sd_tree *t, struct sd_node *dir,
				 const char *name, size_t len)
{
	char *buf = malloc(len + 32);
	size_t n = 0;

	cr_assert_not_null(buf);
	for (unsigned i = 1; n < len; i++)
		n += (size_t)snprintf(buf + n, 32, "line %u\n", i);
	struct sd_node *f = th_file(t, dir, name, buf, len);
	free(buf);
	return f;
}

/* The tree every mkfs19 image holds. */
static struct sd_tree *mkfs19_tree(void)
{
	struct sd_tree *t = sd_tree_new(1);
	char ref[200];

	cr_assert_not_null(t);
	t->root->mode = sd_normal_mode(SD_NODE_DIR, 0755);
	t->root->mtime = 1;
	struct sd_node *top = th_dir(t, NULL, FRAG_TEST);
	struct sd_node *share = th_dir(t, top, "share");
	struct sd_node *lib = th_dir(t, top, "lib");
	struct sd_node *bin = th_dir(t, top, "bin");
	text_file(t, share, "text-300", 300);
	text_file(t, share, "text-5000", 5000);
	text_file(t, share, "text-12000", 12000);
	th_random_file(t, lib, "rand-3000", 3000, 1);
	th_random_file(t, lib, "rand-6000", 6000, 2);
	th_file(t, top, "empty", "", 0);
	th_symlink(t, bin, "link", "../share/text-300");
	snprintf(ref, sizeof(ref), "/nix/store/%s/share/text-300\n", FRAG_TEST);
	th_file(t, th_dir(t, NULL, FRAG_DEP), "ref", ref, strlen(ref));
	th_finalize(t);
	return t;
}

Test(erofs_reader, mkfs19_images_read_back)
{
	struct sd_tree *want = mkfs19_tree();

	for (size_t i = 0; i < sizeof(mkfs19_images) / sizeof(mkfs19_images[0]);
	     i++) {
		struct sd_tree *got =
			erofs_read_ok(data_image(mkfs19_images[i]));
		th_assert_same(want, got);
		cr_assert_eq(th_stream_all(got), 0, "%s", mkfs19_images[i]);
		sd_tree_free(got);
	}
	sd_tree_free(want);
}

Test(erofs_reader, mkfs19_info_lists_fragments)
{
	for (size_t i = 0; i < sizeof(mkfs19_images) / sizeof(mkfs19_images[0]);
	     i++) {
		struct sd_image_info info;
		struct sd_error err;
		bool frag = false;

		sd_error_init(&err);
		cr_assert_eq(sd_erofs_info(data_image(mkfs19_images[i]), &info,
					   &err),
			     0, "%s", err.msg);
		for (size_t k = 0; k < info.nfeatures; k++)
			frag |= strcmp(info.features[k], "fragments") == 0;
		cr_assert(frag, "%s: no fragments feature", mkfs19_images[i]);
		cr_assert_eq(info.files, 7);
	}
}

Test(erofs_reader, mkfs19_48bit_refused_by_name)
{
	struct sd_tree *t = NULL;
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_erofs_read(data_image("erofs-lz4-48bit.img"), &t, &err),
		     SD_ERR_UNSUPPORTED);
	cr_assert_null(t);
	cr_assert_not_null(strstr(err.msg, "EROFS feature 48bit (Linux 6.15) "
					   "is not supported"),
			   "%s", err.msg);
}

/* A copy of data image @name in the test directory, patched by @fn; the
 * superblock checksum is recomputed (the inodes share its block). */
static const char *patched(const char *name,
			   void (*fn)(uint8_t *img, size_t len, void *ctx),
			   void *ctx)
{
	size_t len;
	uint8_t *img = th_slurp(data_image(name), &len);
	uint32_t blksz = 1u << img[EROFS_SUPER_OFFSET + EROFS_SB_OFF_BLKSZBITS];

	fn(img, len, ctx);
	uint8_t *sb = img + EROFS_SUPER_OFFSET;
	put_le32(sb + EROFS_SB_OFF_CHECKSUM, 0);
	put_le32(sb + EROFS_SB_OFF_CHECKSUM,
		 sd_crc32c(EROFS_SB_CHKSUM_SEED, sb,
			   blksz - EROFS_SUPER_OFFSET));
	th_spit(tt_path("patched.img"), img, len);
	free(img);
	return tt_path("patched.img");
}

/* Byte offset of the map header of inode @nid (compact, no xattrs). */
static size_t map_header(const uint8_t *img, uint64_t nid)
{
	const uint8_t *sb = img + EROFS_SUPER_OFFSET;
	size_t off = ((size_t)get_le32(sb + EROFS_SB_OFF_META_BLKADDR)
		      << sb[EROFS_SB_OFF_BLKSZBITS]) +
		     (size_t)(nid * 32);

	cr_assert_eq(get_le16(img + off + EROFS_IC_OFF_FORMAT) &
			     EROFS_I_VERSION_MASK,
		     EROFS_INODE_LAYOUT_COMPACT);
	cr_assert_eq(get_le16(img + off + EROFS_IC_OFF_XATTR_ICOUNT), 0);
	return (off + EROFS_INODE_COMPACT_SIZE + 7) & ~(size_t)7;
}

/* The nid of @path in data image @name. */
static uint64_t nid_of(const char *name, const char *path)
{
	struct sd_tree *t = erofs_read_ok(data_image(name));
	const struct sd_node *n = sd_tree_lookup(t, path);

	cr_assert_not_null(n, "%s: no %s", name, path);
	uint64_t nid = n->src_id;
	sd_tree_free(t);
	return nid;
}

struct patch {
	uint64_t nid;
	uint64_t value;
};

static void set_whole_offset(uint8_t *img, size_t len, void *ctx)
{
	struct patch *p = ctx;
	size_t h = map_header(img, p->nid);

	cr_assert(h + 8 <= len);
	cr_assert(img[h + Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] &
			  Z_EROFS_FRAGMENT_INODE_FLAG,
		  "not a whole-file fragment");
	put_le64(img + h, p->value | 1ull << 63);
}

static void set_tail_offset(uint8_t *img, size_t len, void *ctx)
{
	struct patch *p = ctx;
	size_t h = map_header(img, p->nid);

	cr_assert(h + 8 <= len);
	cr_assert(get_le16(img + h + Z_EROFS_MAP_HEADER_OFF_ADVISE) &
			  Z_EROFS_ADVISE_FRAGMENT_PCLUSTER,
		  "not a tail fragment");
	put_le32(img + h + Z_EROFS_MAP_HEADER_OFF_FRAGMENTOFF,
		 (uint32_t)p->value);
}

static void set_packed_nid(uint8_t *img, size_t len, void *ctx)
{
	(void)len;
	put_le64(img + EROFS_SUPER_OFFSET + EROFS_SB_OFF_PACKED_NID,
		 ((struct patch *)ctx)->value);
}

static void packed_as_fragment(uint8_t *img, size_t len, void *ctx)
{
	(void)ctx;
	uint64_t nid =
		get_le64(img + EROFS_SUPER_OFFSET + EROFS_SB_OFF_PACKED_NID);
	size_t h = map_header(img, nid);

	cr_assert(h + 8 <= len);
	img[h + Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] |=
		Z_EROFS_FRAGMENT_INODE_FLAG;
}

/* Read every file under @n until one fails; its status. */
static int read_files(const struct sd_tree *t, const struct sd_node *n,
		      char *buf, struct sd_error *err)
{
	int ret = 0;

	if (n->type == SD_NODE_FILE) {
		struct sd_stream *s = NULL;
		size_t k = 1;
		ret = sd_tree_open(t, n, &s, err);
		while (ret == 0 && k > 0)
			ret = sd_stream_read(s, buf, 1 << 16, &k, err);
		sd_stream_close(s);
	}
	for (size_t i = 0; ret == 0 && i < n->nchildren; i++)
		ret = read_files(t, n->children[i], buf, err);
	return ret;
}

/* sd_erofs_read(), then every file read, must fail with SD_ERR_CORRUPT
 * and a message holding @want1 and @want2. */
static void expect_frag_corrupt(const char *img, const char *want1,
				const char *want2)
{
	struct sd_tree *t = NULL;
	struct sd_error err;
	int ret;

	sd_error_init(&err);
	ret = sd_erofs_read(img, &t, &err);
	if (ret == 0) {
		/* the tree reads: the damage is in a file's data */
		char *buf = malloc(1 << 16);
		cr_assert_not_null(buf);
		ret = read_files(t, t->root, buf, &err);
		free(buf);
		sd_tree_free(t);
	}
	cr_assert_eq(ret, SD_ERR_CORRUPT, "%s: %d %s", img, ret, err.msg);
	cr_assert_not_null(strstr(err.msg, want1), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, want2), "%s", err.msg);
}

Test(erofs_reader, mkfs19_bad_whole_fragment_offset)
{
	struct patch p = {
		nid_of("erofs-zstd-allfrag.img", FRAG_TEST "/share/text-300"),
		1ull << 40,
	};
	char nid[40];

	snprintf(nid, sizeof(nid), "inode %llu:", (unsigned long long)p.nid);
	expect_frag_corrupt(patched("erofs-zstd-allfrag.img", set_whole_offset,
				    &p),
			    nid, "beyond the packed inode's");
	/* just past the end by one byte */
	p.value = 0x7FFFFFFFFFFFFFFFull;
	expect_frag_corrupt(patched("erofs-zstd-allfrag.img", set_whole_offset,
				    &p),
			    nid, "beyond the packed inode's");
}

Test(erofs_reader, mkfs19_bad_tail_fragment_offset)
{
	static const char *const imgs[] = {"erofs-lz4hc-ztail-frag.img",
					   "erofs-lz4hc-full-frag.img"};
	char nid[40];

	for (size_t i = 0; i < 2; i++) {
		struct patch p = {
			nid_of(imgs[i], FRAG_TEST "/share/text-12000"),
			0xFFFFFF00u,
		};
		snprintf(nid, sizeof(nid),
			 "inode %llu:", (unsigned long long)p.nid);
		expect_frag_corrupt(patched(imgs[i], set_tail_offset, &p), nid,
				    "beyond the packed inode's");
	}
}

Test(erofs_reader, mkfs19_packed_inode_errors)
{
	const char *img = "erofs-zstd-allfrag.img";
	struct patch none = {0, 0};
	struct patch root = {0, 0};
	uint8_t sb[EROFS_SB_SIZE];
	size_t len;
	uint8_t *raw = th_slurp(data_image(img), &len);

	memcpy(sb, raw + EROFS_SUPER_OFFSET, sizeof(sb));
	free(raw);
	root.value = get_le16(sb + EROFS_SB_OFF_ROOT_NID);
	uint64_t packed = get_le64(sb + EROFS_SB_OFF_PACKED_NID);
	char nid[40];

	/* files in fragments, no packed inode */
	expect_frag_corrupt(patched(img, set_packed_nid, &none), "inode",
			    "fragment data but the image has no packed inode");
	/* the packed inode is a directory */
	snprintf(nid, sizeof(nid),
		 "inode %llu:", (unsigned long long)root.value);
	expect_frag_corrupt(patched(img, set_packed_nid, &root), nid,
			    "the packed inode is not a regular file");
	/* the packed inode claims to be a fragment itself (a loop) */
	snprintf(nid, sizeof(nid), "inode %llu:", (unsigned long long)packed);
	expect_frag_corrupt(patched(img, packed_as_fragment, NULL), nid,
			    "the packed inode is itself a fragment");
}

struct flip {
	size_t off;
	uint8_t mask;
};

static void flip_byte(uint8_t *img, size_t len, void *ctx)
{
	struct flip *f = ctx;

	cr_assert(f->off < len);
	img[f->off] ^= f->mask;
}

/* Every byte of the packed inode and its indexes, damaged three ways:
 * a clean read or an error with a message, never a crash or a hang. */
Test(erofs_reader, mkfs19_damaged_packed_inode)
{
	static const uint8_t masks[] = {0xFF, 0x01, 0x80};

	for (size_t i = 0; i < sizeof(mkfs19_images) / sizeof(mkfs19_images[0]);
	     i++) {
		size_t len;
		uint8_t *raw = th_slurp(data_image(mkfs19_images[i]), &len);
		const uint8_t *sb = raw + EROFS_SUPER_OFFSET;
		size_t start =
			((size_t)get_le32(sb + EROFS_SB_OFF_META_BLKADDR)
			 << sb[EROFS_SB_OFF_BLKSZBITS]) +
			(size_t)(get_le64(sb + EROFS_SB_OFF_PACKED_NID) * 32);
		free(raw);
		for (size_t off = start; off < start + 96 && off < len; off++)
			for (size_t m = 0; m < sizeof(masks); m++) {
				struct flip f = {off, masks[m]};
				const char *p = patched(mkfs19_images[i],
							flip_byte, &f);
				struct sd_tree *t = NULL;
				struct sd_error err;
				sd_error_init(&err);
				if (sd_erofs_read(p, &t, &err) != 0) {
					cr_assert_neq(err.msg[0], '\0');
					continue;
				}
				th_stream_all(t);
				sd_tree_free(t);
			}
	}
}
