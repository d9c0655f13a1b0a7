/* SPDX-License-Identifier: MIT */
/*
 * Tests of app/verity.h: the tree appended to a file is byte for byte
 * what `veritysetup format` writes with the same salt and UUID (zero, one
 * and two hash levels, a size that is not a 4096 multiple), its root hash
 * is golden, sd_verity_read finds it and computes the same root, and
 * the whole file's digest comes with the append, and
 * sd_verity_check names the first bad data block or hash block.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/verity.h"
#include "core/hex.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sd-verity");
}

TestSuite(verity, .init = setup, .fini = tt_teardown);

/* @len bytes of a fixed pattern at tt_path(@rel); its path, malloc'd. */
static char *make(const char *rel, size_t len)
{
	uint8_t *buf = malloc(len);
	cr_assert(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131u) ^ (i >> 12) ^ (i >> 5));
	tt_write(rel, buf, len, 0644);
	free(buf);
	return strdup(tt_path(rel));
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s", path);
	struct stat st;
	cr_assert(!fstat(fileno(f), &st));
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	cr_assert(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	cr_assert_eq(*len, (size_t)st.st_size);
	fclose(f);
	return buf;
}

static void flip(const char *path, uint64_t off)
{
	FILE *f = fopen(path, "r+b");
	cr_assert(f);
	cr_assert(!fseeko(f, (off_t)off, SEEK_SET));
	int c = fgetc(f);
	cr_assert(c != EOF);
	cr_assert(!fseeko(f, (off_t)off, SEEK_SET));
	fputc(c ^ 1, f);
	cr_assert(!fclose(f));
}

/*
 * A file of @len bytes with our tree against a copy formatted by
 * veritysetup with the same salt and UUID: the same bytes, the same root.
 * Returns our parameters; *@path: our file (malloc'd).
 */
static struct sd_verity same_as_veritysetup_jobs(size_t len, unsigned jobs,
						 char **path)
{
	char *ours = make("ours", len), *theirs = make("theirs", len);
	struct sd_verity v;
	struct sd_error err;
	sd_error_init(&err);
	uint8_t digest[32], whole[32];
	cr_assert_eq(sd_verity_append(ours, jobs, NULL, &v, digest, &err), 0,
		     "%s", err.msg);
	/* the digest that came with it is the whole file's */
	cr_assert_eq(sd_sha256_file(ours, whole, &err), 0);
	cr_assert(!memcmp(digest, whole, 32));
	cr_assert_eq(v.hash_offset, (len + 4095) / 4096 * 4096);
	cr_assert_eq(v.data_blocks, v.hash_offset / 4096);
	if (system("veritysetup --version >/dev/null 2>&1"))
		cr_skip_test("veritysetup not installed (cryptsetup-bin)");
	char salt[65], uuid[37], root[65], cmd[1024];
	sd_hex_encode(v.salt, 32, salt);
	uint8_t u[16];
	memcpy(u, v.salt, 16);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	char uh[33];
	sd_hex_encode(u, 16, uh);
	snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", uh, uh + 8,
		 uh + 12, uh + 16, uh + 20);
	cr_assert(!truncate(theirs, (off_t)v.hash_offset));
	snprintf(cmd, sizeof(cmd),
		 "veritysetup format --hash-offset=%llu --data-blocks=%llu "
		 "--salt=%s --uuid=%s '%s' '%s' | sed -n 's/^Root hash:"
		 "[[:space:]]*//p' >'%s.root'",
		 (unsigned long long)v.hash_offset,
		 (unsigned long long)v.data_blocks, salt, uuid, theirs, theirs,
		 theirs);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	size_t la, lb, lr;
	uint8_t *a = slurp(ours, &la), *b = slurp(theirs, &lb);
	cr_assert_eq(la, lb, "ours %zu bytes, veritysetup's %zu", la, lb);
	cr_assert_eq(la, v.hash_offset + v.tree_bytes);
	cr_assert(!memcmp(a, b, la), "the tree differs from veritysetup's");
	snprintf(cmd, sizeof(cmd), "%s.root", theirs);
	char *r = (char *)slurp(cmd, &lr);
	sd_hex_encode(v.root, 32, root);
	cr_assert(lr >= 64 && !memcmp(r, root, 64), "root %s", root);
	free(r);
	free(a);
	free(b);
	free(theirs);
	*path = ours;
	return v;
}

static struct sd_verity same_as_veritysetup(size_t len, char **path)
{
	return same_as_veritysetup_jobs(len, 1, path);
}

Test(verity, one_data_block_no_levels)
{
	char *p;
	struct sd_verity v = same_as_veritysetup(1000, &p);
	cr_assert_eq(v.data_blocks, 1);
	cr_assert_eq(v.tree_bytes, 4096); /* the superblock's block alone */
	free(p);
}

Test(verity, one_level)
{
	char *p;
	struct sd_verity v = same_as_veritysetup(100 * 4096, &p);
	cr_assert_eq(v.tree_bytes, 2 * 4096);
	free(p);
}

Test(verity, two_levels_padded_golden_root_read_and_check)
{
	char *p;
	struct sd_verity v = same_as_veritysetup(200 * 4096 + 5, &p);
	cr_assert_eq(v.data_blocks, 201);
	cr_assert_eq(v.tree_bytes, 4 * 4096); /* sb, top, 2 of level 0 */
	char root[65];
	sd_hex_encode(v.root, 32, root);
	cr_assert_str_eq(
		root,
		"60bd4013f52a299b3acad186d00262b45605d2dc71582775f7d3e5e1781dcd75");

	struct sd_error err;
	sd_error_init(&err);
	struct sd_verity r;
	bool found;
	/* the filesystem's end anywhere in the last data block */
	cr_assert_eq(sd_verity_read(p, 200 * 4096 + 1, &found, &r, &err), 0,
		     "%s", err.msg);
	cr_assert(found);
	cr_assert_eq(r.hash_offset, v.hash_offset);
	cr_assert_eq(r.data_blocks, v.data_blocks);
	cr_assert_eq(r.tree_bytes, v.tree_bytes);
	cr_assert(!memcmp(r.salt, v.salt, 32));
	cr_assert(!memcmp(r.root, v.root, 32), "root from the top level");
	/* no superblock elsewhere */
	cr_assert_eq(sd_verity_read(p, 4096, &found, &r, &err), 0);
	cr_assert(!found);

	struct sd_verity_bad bad;
	cr_assert_eq(sd_verity_check(p, &v, v.root, &bad, &err), 0);
	cr_assert(!bad.bad);
	/* data block 7 */
	flip(p, 7 * 4096 + 9);
	cr_assert_eq(sd_verity_check(p, &v, v.root, &bad, &err), 0);
	cr_assert(bad.bad && !bad.hash);
	cr_assert_eq(bad.block, 7);
	cr_assert_eq(bad.offset, 7 * 4096);
	flip(p, 7 * 4096 + 9);
	/* level 0's second block: found before any data block */
	uint64_t l0 = v.hash_offset + 2 * 4096;
	flip(p, l0 + 4096 + 3);
	flip(p, 150 * 4096);
	cr_assert_eq(sd_verity_check(p, &v, v.root, &bad, &err), 0);
	cr_assert(bad.bad && bad.hash && !bad.top);
	cr_assert_eq(bad.level, 0);
	cr_assert_eq(bad.block, 1);
	cr_assert_eq(bad.offset, l0 + 4096);
	flip(p, l0 + 4096 + 3);
	flip(p, 150 * 4096);
	/* another root: the top block is named against it */
	uint8_t other[32];
	memcpy(other, v.root, 32);
	other[31] ^= 1;
	cr_assert_eq(sd_verity_check(p, &v, other, &bad, &err), 0);
	cr_assert(bad.bad && bad.hash && bad.top);
	cr_assert_eq(bad.level, 1);
	cr_assert_eq(bad.offset, v.hash_offset + 4096);
	free(p);
}

/* Three levels (128 * 128 + 1 data blocks: level 0 has 129 blocks,
 * level 1 two), hashed by 3 threads that each take 512 data blocks at a
 * time, the last take short. */
Test(verity, three_levels_threads)
{
	char *p;
	struct sd_verity v = same_as_veritysetup_jobs(16385 * 4096, 3, &p);
	cr_assert_eq(v.data_blocks, 16385);
	cr_assert_eq(v.tree_bytes, (1 + 1 + 2 + 129) * 4096);
	/* golden: the salt from 33 pieces of 2 MiB, the last one short */
	char root[65];
	sd_hex_encode(v.root, 32, root);
	cr_assert_str_eq(
		root,
		"3a3c658e4bb90197301b4527b539b922e8c89280d72474c106edb6d573620616");
	free(p);
}

Test(verity, interrupted)
{
	char *p = make("stop", 1000 * 4096);
	struct sd_verity v;
	struct sd_error err;
	sd_error_init(&err);
	volatile int stop = 1;
	cr_assert_eq(sd_verity_append(p, 2, &stop, &v, NULL, &err),
		     SD_ERR_INTERRUPTED);
	free(p);
}

Test(verity, tree_cut_short_is_corrupt)
{
	char *p = make("cut", 200 * 4096);
	struct sd_verity v;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_verity_append(p, 1, NULL, &v, NULL, &err), 0, "%s",
		     err.msg);
	cr_assert(!truncate(p, (off_t)(v.hash_offset + v.tree_bytes - 1)));
	bool found;
	struct sd_verity r;
	cr_assert_eq(sd_verity_read(p, 200 * 4096, &found, &r, &err),
		     SD_ERR_CORRUPT);
	cr_assert(found);
	cr_assert(strstr(err.msg, "needs"), "%s", err.msg);
	/* the superblock itself cut short: found, and said so */
	cr_assert(!truncate(p, (off_t)(v.hash_offset + 200)));
	cr_assert_eq(sd_verity_read(p, 200 * 4096, &found, &r, &err),
		     SD_ERR_CORRUPT);
	cr_assert(found);
	cr_assert(strstr(err.msg, "superblock at 819200 is cut short"), "%s",
		  err.msg);
	free(p);
}

/* What pack writes, sd_verity_read_roothash reads back; a line with
 * anything more, or no file, is refused. */
Test(verity, roothash_file_round_trip)
{
	uint8_t root[32], back[32];
	struct sd_error err;
	sd_error_init(&err);
	for (size_t i = 0; i < sizeof(root); i++)
		root[i] = (uint8_t)(i * 37 + 5);
	char *p = strdup(tt_path("img.roothash"));
	cr_assert_eq(sd_verity_write_roothash(p, root, &err), 0, "%s", err.msg);
	cr_assert_eq(sd_verity_read_roothash(p, back, &err), 0, "%s", err.msg);
	cr_assert(!memcmp(root, back, 32));

	char hex[65];
	sd_hex_encode(root, 32, hex);
	/* without its line end, and in upper case: the same */
	for (size_t i = 0; i < 64; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	tt_write("upper", hex, 64, 0644);
	cr_assert_eq(sd_verity_read_roothash(tt_path("upper"), back, &err), 0,
		     "%s", err.msg);
	cr_assert(!memcmp(root, back, 32));

	static const char *const bad[] = {
		"",
		"\n",
		"0123\n",
		/* 65 digits */
		"00000000000000000000000000000000000000000000000000000000000000000\n",
		/* 64 and a second line */
		"0000000000000000000000000000000000000000000000000000000000000000\nx",
		/* two line ends */
		"0000000000000000000000000000000000000000000000000000000000000000\n\n",
		/* not hex */
		"000000000000000000000000000000000000000000000000000000000000000g\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tt_write("bad", bad[i], strlen(bad[i]), 0644);
		cr_assert_eq(sd_verity_read_roothash(tt_path("bad"), back,
						     &err),
			     SD_ERR_INVALID, "case %zu", i);
		cr_assert(strstr(err.msg, "not a root hash"), "%s", err.msg);
	}
	cr_assert_eq(sd_verity_read_roothash(tt_path("none"), back, &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "No such file"), "%s", err.msg);
	free(p);
}
