/* SPDX-License-Identifier: MIT */
/*
 * verity.c — the dm-verity tree of an image (verity.h).  The level
 * arithmetic follows cryptsetup's lib/verity/verity_hash.c (hash_levels)
 * and docs of the dm-verity on-disk format.
 */
#include "app/verity.h"
#include "app/verity_int.h"
#include "app/sha256_batch.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/atomicfile.h"
#include "core/hex.h"
#include "core/le.h"

#define CHUNK_BLOCKS 256u /* data blocks read per preadv in the check */
#define IOV_BATCH 256     /* iovecs a preadv (IOV_MAX is 1024) */
#define HASH_PER_BLOCK_BITS SD_VERITY_HASH_PER_BLOCK_BITS

void sd_verity_levels_of(uint64_t data_blocks, struct sd_verity_levels *l)
{
	memset(l, 0, sizeof(*l));
	while (HASH_PER_BLOCK_BITS * l->n < 64 &&
	       ((data_blocks - 1) >> (HASH_PER_BLOCK_BITS * l->n)))
		l->n++;
	uint64_t pos = 0;
	for (unsigned i = l->n; i-- > 0;) {
		unsigned shift = (i + 1) * HASH_PER_BLOCK_BITS;
		uint64_t s = shift >= 64
				     ? 1
				     : (data_blocks + (1ull << shift) - 1) >>
					       shift;
		l->start[i] = pos;
		l->size[i] = s;
		pos += s;
	}
	l->blocks = pos;
}

/* SHA-256 fetched once.  EVP_sha256() makes every EVP_DigestInit_ex
 * fetch the implementation again under the provider store's lock:
 * perf put 12.5% of a tree's time in pthread_rwlock_(rd|un)lock
 * (OpenSSL 3's "explicit fetching" advice).  Kept for the process. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

int sd_verity_block_digest(EVP_MD_CTX *ctx, const uint8_t *salt,
			   const uint8_t *block, uint8_t out[SD_SHA256_LEN])
{
	unsigned len = 0;
	pthread_once(&sha256_once, sha256_fetch);
	const EVP_MD *md = sha256_fetched ? sha256_fetched : EVP_sha256();
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, salt, SD_SHA256_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, block, SD_VERITY_BLOCK) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != SD_SHA256_LEN)
		return -1;
	return 0;
}

/* The error of a read at @at that returned @r <= 0 (errno set if < 0). */
static int read_error(const char *path, ssize_t r, uint64_t at,
		      struct sd_error *err)
{
	if (r < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: read at %llu",
				      path, (unsigned long long)at);
	return sd_error_set(err, SD_ERR_CORRUPT,
			    "%s: the verity tree is cut short (the file ends "
			    "at %llu)",
			    path, (unsigned long long)at);
}

int sd_verity_read_at(int fd, const char *path, void *buf, size_t len,
		      uint64_t off, struct sd_error *err)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, (uint8_t *)buf + got, len - got,
				  (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return read_error(path, r, off + got, err);
		got += (size_t)r;
	}
	return 0;
}

void sd_verity_recs_salt(uint8_t *rec, size_t n, const uint8_t *salt)
{
	for (size_t k = 0; k < n; k++)
		memcpy(rec + k * SD_VERITY_REC, salt, SD_SHA256_LEN);
}

int sd_verity_read_recs(int fd, const char *path, uint8_t *rec, size_t n,
			uint64_t off, struct sd_error *err)
{
	struct iovec iov[IOV_BATCH];
	size_t len = n * SD_VERITY_BLOCK, got = 0;
	while (got < len) {
		/* From the block the last read stopped in, up to IOV_BATCH. */
		size_t k = got / SD_VERITY_BLOCK, in = got % SD_VERITY_BLOCK;
		int cnt = 0;
		for (; k < n && cnt < IOV_BATCH; k++, cnt++, in = 0) {
			iov[cnt].iov_base =
				rec + k * SD_VERITY_REC + SD_SHA256_LEN + in;
			iov[cnt].iov_len = SD_VERITY_BLOCK - in;
		}
		ssize_t r = preadv(fd, iov, cnt, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return read_error(path, r, off + got, err);
		got += (size_t)r;
	}
	return 0;
}

/* Parse the superblock @sb of a tree at @h into @v. */
static int parse_sb(const char *path, const uint8_t *sb, uint64_t h,
		    struct sd_verity *v, struct sd_error *err)
{
	char alg[33];
	memcpy(alg, sb + 32, 32);
	alg[32] = '\0';
	if (get_le32(sb + 8) != 1 || get_le32(sb + 12) != 1 ||
	    strcmp(alg, "sha256") || get_le32(sb + 64) != SD_VERITY_BLOCK ||
	    get_le32(sb + 68) != SD_VERITY_BLOCK ||
	    get_le16(sb + 80) != SD_SHA256_LEN)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "%s: the verity superblock at %llu is not "
				    "version 1, hash type 1, sha256, 4096-byte "
				    "blocks and a 32-byte salt",
				    path, (unsigned long long)h);
	v->data_blocks = get_le64(sb + 72);
	if (v->data_blocks != h / SD_VERITY_BLOCK)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "%s: the verity tree at %llu covers %llu "
				    "data blocks, not the %llu before it",
				    path, (unsigned long long)h,
				    (unsigned long long)v->data_blocks,
				    (unsigned long long)(h / SD_VERITY_BLOCK));
	v->hash_offset = h;
	memcpy(v->salt, sb + 88, SD_SHA256_LEN);
	snprintf(v->algorithm, sizeof(v->algorithm), "sha256");
	return 0;
}

int sd_verity_read(const char *path, uint64_t fs_bytes, bool *found,
		   struct sd_verity *out, struct sd_error *err)
{
	memset(out, 0, sizeof(*out));
	*found = false;
	if (fs_bytes > UINT64_MAX / 2) /* a damaged size: no file is so big */
		return 0;
	uint64_t h = (fs_bytes + SD_VERITY_BLOCK - 1) / SD_VERITY_BLOCK *
		     SD_VERITY_BLOCK;
	if (!h)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	struct stat st;
	uint8_t *blk = malloc(SD_VERITY_BLOCK);
	int rc = blk ? 0 : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!rc && fstat(fd, &st))
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	if (rc || (uint64_t)st.st_size < h + 8)
		goto out;
	uint64_t have = (uint64_t)st.st_size - h;
	size_t sb_len = have < SD_VERITY_SB_SIZE ? (size_t)have
						 : SD_VERITY_SB_SIZE;
	rc = sd_verity_read_at(fd, path, blk, sb_len, h, err);
	if (rc || memcmp(blk, "verity\0\0", 8))
		goto out;
	*found = true;
	if (sb_len < SD_VERITY_SB_SIZE) {
		rc = sd_error_set(err, SD_ERR_CORRUPT,
				  "%s: the verity superblock at %llu is cut "
				  "short (the file ends at %llu)",
				  path, (unsigned long long)h,
				  (unsigned long long)st.st_size);
		goto out;
	}
	rc = parse_sb(path, blk, h, out, err);
	if (rc)
		goto out;
	struct sd_verity_levels l;
	sd_verity_levels_of(out->data_blocks, &l);
	out->tree_bytes = (1 + l.blocks) * SD_VERITY_BLOCK;
	if ((uint64_t)st.st_size < h + out->tree_bytes) {
		rc = sd_error_set(err, SD_ERR_CORRUPT,
				  "%s: the verity tree at %llu needs %llu "
				  "bytes, the file has %llu after it",
				  path, (unsigned long long)h,
				  (unsigned long long)out->tree_bytes,
				  (unsigned long long)(st.st_size - h));
		goto out;
	}
	/* The root: the top level's block, or the one data block. */
	uint64_t top = l.n ? h + SD_VERITY_BLOCK : 0;
	rc = sd_verity_read_at(fd, path, blk, SD_VERITY_BLOCK, top, err);
	EVP_MD_CTX *ctx = rc ? NULL : EVP_MD_CTX_new();
	if (!rc &&
	    (!ctx || sd_verity_block_digest(ctx, out->salt, blk, out->root)))
		rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
	EVP_MD_CTX_free(ctx);
out:
	free(blk);
	close(fd);
	return rc;
}

/* Name the bad hash block @j of level @i. */
static void bad_hash(struct sd_verity_bad *bad, const struct sd_verity *v,
		     const struct sd_verity_levels *l, unsigned i, uint64_t j)
{
	bad->bad = true;
	bad->hash = true;
	bad->level = i;
	bad->block = j;
	bad->offset = v->hash_offset + (1 + l->start[i] + j) * SD_VERITY_BLOCK;
}

/* Every hash level against its parent, top down. */
static bool check_levels(EVP_MD_CTX *ctx, const struct sd_verity *v,
			 const struct sd_verity_levels *l, const uint8_t *area,
			 const uint8_t root[SD_SHA256_LEN],
			 struct sd_verity_bad *bad)
{
	uint8_t d[SD_SHA256_LEN];
	unsigned top = l->n - 1;
	const uint8_t *tb = area + l->start[top] * SD_VERITY_BLOCK;
	if (sd_verity_block_digest(ctx, v->salt, tb, d) ||
	    memcmp(d, root, SD_SHA256_LEN)) {
		bad_hash(bad, v, l, top, 0);
		bad->top = true;
		return false;
	}
	for (unsigned i = top; i > 0; i--) {
		const uint8_t *parent = area + l->start[i] * SD_VERITY_BLOCK;
		const uint8_t *child = area + l->start[i - 1] * SD_VERITY_BLOCK;
		for (uint64_t k = 0; k < l->size[i - 1]; k++) {
			if (sd_verity_block_digest(ctx, v->salt,
						   child + k * SD_VERITY_BLOCK,
						   d) ||
			    memcmp(d, parent + k * SD_SHA256_LEN,
				   SD_SHA256_LEN)) {
				bad_hash(bad, v, l, i - 1, k);
				return false;
			}
		}
	}
	return true;
}

/* The data blocks against level 0 (@want: its digests, or the root when
 * there is one data block), CHUNK_BLOCKS at a time through one batch. */
static int check_data(int fd, const char *path, const struct sd_verity *v,
		      const uint8_t *want, struct sd_verity_bad *bad,
		      struct sd_error *err)
{
	uint8_t *rec = malloc((size_t)CHUNK_BLOCKS * SD_VERITY_REC);
	uint8_t *d = malloc((size_t)CHUNK_BLOCKS * SD_SHA256_LEN);
	struct sd_sha256_batch *sb = NULL;
	int rc = rec && d ? sd_sha256_batch_new(&sb, SD_SHA256_AUTO, err)
			  : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!rc)
		sd_verity_recs_salt(rec, CHUNK_BLOCKS, v->salt);
	for (uint64_t b = 0; !rc && b < v->data_blocks;) {
		uint64_t nb = v->data_blocks - b;
		if (nb > CHUNK_BLOCKS)
			nb = CHUNK_BLOCKS;
		rc = sd_verity_read_recs(fd, path, rec, (size_t)nb,
					 b * SD_VERITY_BLOCK, err);
		if (!rc)
			rc = sd_sha256_batch_run(sb, rec, SD_VERITY_REC,
						 SD_VERITY_REC, (size_t)nb, d,
						 err);
		for (uint64_t k = 0; !rc && k < nb; k++, b++)
			if (memcmp(d + k * SD_SHA256_LEN,
				   want + b * SD_SHA256_LEN, SD_SHA256_LEN)) {
				bad->bad = true;
				bad->hash = false;
				bad->block = b;
				bad->offset = b * SD_VERITY_BLOCK;
				break;
			}
		if (bad->bad)
			break;
	}
	sd_sha256_batch_free(sb);
	free(d);
	free(rec);
	return rc;
}

int sd_verity_check(const char *path, const struct sd_verity *v,
		    const uint8_t root[SD_SHA256_LEN],
		    struct sd_verity_bad *bad, struct sd_error *err)
{
	memset(bad, 0, sizeof(*bad));
	struct sd_verity_levels l;
	sd_verity_levels_of(v->data_blocks, &l);
	size_t area_len = (size_t)(l.blocks * SD_VERITY_BLOCK);
	uint8_t *area = area_len ? malloc(area_len) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0)
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	else if ((area_len && !area) || !ctx)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!rc && area_len)
		rc = sd_verity_read_at(fd, path, area, area_len,
				       v->hash_offset + SD_VERITY_BLOCK, err);
	if (!rc && (!l.n || check_levels(ctx, v, &l, area, root, bad)))
		rc = check_data(fd, path, v,
				l.n ? area + l.start[0] * SD_VERITY_BLOCK
				    : root,
				bad, err);
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	free(area);
	return rc;
}

int sd_verity_write_roothash(const char *path,
			     const uint8_t root[SD_SHA256_LEN],
			     struct sd_error *err)
{
	char line[SD_SHA256_LEN * 2 + 2];
	sd_hex_encode(root, SD_SHA256_LEN, line);
	line[SD_SHA256_LEN * 2] = '\n';
	line[SD_SHA256_LEN * 2 + 1] = '\0';
	return sd_atomic_write(path, line, sizeof(line) - 1, err);
}

int sd_verity_read_roothash(const char *path, uint8_t root[SD_SHA256_LEN],
			    struct sd_error *err)
{
	/* One byte more than a line, to tell a longer file. */
	char buf[SD_SHA256_LEN * 2 + 2];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return sd_error_errno(err, SD_ERR_IO, e, "%s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	/* A longer file reads as 66 bytes without a line end there. */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len != SD_SHA256_LEN * 2 ||
	    sd_hex_decode(buf, root, SD_SHA256_LEN, NULL))
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: not a root hash (one line of 64 hex "
				    "digits)",
				    path);
	return SD_OK;
}
