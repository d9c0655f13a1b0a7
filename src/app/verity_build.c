/* SPDX-License-Identifier: MIT */
/*
 * verity_build.c — sd_verity_append: the tree written after the image
 * (verity.h has the layout).
 *
 * Our own rather than libcryptsetup's crypt_format, which the first
 * version used: measured on the 2 GB benchmark corpus (a 1.1 GB squashfs
 * lz4 image), libcryptsetup hashed the data in one thread with one 4 KiB
 * read(2) per block (275,463 reads), and the SHA-256 of the whole image
 * that gave the salt was a second full pass before it: --verity cost
 * 34-47% of the pack.  Here two passes of @jobs threads over 2 MiB reads
 * do it: the salt's (XXH3-128 of each piece, memory speed), then level
 * 0's, which reads each piece into records (the salt, then a block) and
 * hashes them in one sd_sha256_batch_run: intel-ipsec-mb's multi-buffer
 * SHA-256 where built in (16 blocks side by side with AVX-512), 2.2-2.5
 * times OpenSSL's speed a core (sha256_batch.h); the image's SHA-256
 * digest, when asked for, is computed by a thread of its own beside level
 * 0.  The bytes are veritysetup's: tests/app/test_verity.c compares them
 * with `veritysetup format` given the same salt and UUID.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "app/verity.h"
#include "app/verity_int.h"
#include "app/sha256_batch.h"
#include "core/le.h"

#define UNIT_BLOCKS 128u /* data blocks one level-0 hash block covers */
#define GRAB_UNITS 4u    /* units a worker takes at a time: 2 MiB */
#define READ_CHUNK (1u << 20)

/* Write all of @buf at @off. */
static int write_at(int fd, const char *path, const void *buf, size_t len,
		    uint64_t off, struct sd_error *err)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done,
				   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sd_error_errno(err, SD_ERR_OUTPUT,
					      n < 0 ? errno : EIO,
					      "%s: write at %llu", path,
					      (unsigned long long)(off + done));
		done += (size_t)n;
	}
	return 0;
}

/* The superblock's UUID: the salt's first 16 bytes as a version-4 UUID. */
static void uuid_of(const uint8_t salt[SD_SHA256_LEN], uint8_t u[16])
{
	memcpy(u, salt, 16);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

/* The superblock's block (verity.h's table), zero-padded to 4096. */
static void fill_sb(uint8_t *blk, const struct sd_verity *v)
{
	memset(blk, 0, SD_VERITY_BLOCK);
	memcpy(blk, "verity\0\0", 8);
	put_le32(blk + 8, 1);  /* format version */
	put_le32(blk + 12, 1); /* hash type: the salt first */
	uuid_of(v->salt, blk + 16);
	memcpy(blk + 32, "sha256", 6);
	put_le32(blk + 64, SD_VERITY_BLOCK);
	put_le32(blk + 68, SD_VERITY_BLOCK);
	put_le64(blk + 72, v->data_blocks);
	put_le16(blk + 80, SD_SHA256_LEN);
	memcpy(blk + 88, v->salt, SD_SHA256_LEN);
}

/*
 * A pass over the data blocks by several threads, each taking GRAB_UNITS
 * units of UNIT_BLOCKS data blocks (2 MiB) at a time: with @xxh, the
 * salt's pass, which puts the XXH3-128 of piece i (canonical, 16 bytes)
 * at @xxh + 16 i; without, level 0's, which writes the pieces' hash
 * blocks at @l0_off.
 */
struct pass {
	int fd;
	const char *path;
	const uint8_t *salt;
	uint8_t *xxh;
	uint64_t data_blocks, units, l0_off;
	volatile const int *interrupted;
	atomic_uint_fast64_t next; /* the next unit to take */
	atomic_int failed;
	pthread_mutex_t lock;
	int rc; /* the first failure, its message in err */
	struct sd_error err;
};

static void pass_fail(struct pass *z, int rc, const struct sd_error *e)
{
	pthread_mutex_lock(&z->lock);
	if (!z->rc) {
		z->rc = rc;
		z->err = *e;
	}
	pthread_mutex_unlock(&z->lock);
	atomic_store(&z->failed, 1);
}

static void *pass_worker(void *arg)
{
	struct pass *z = arg;
	struct sd_error err;
	sd_error_init(&err);
	size_t grab = (size_t)GRAB_UNITS * UNIT_BLOCKS;
	/* The salt's pass reads blocks back to back, level 0's into
	 * records (the salt before each block) for the batch. */
	uint8_t *in = malloc(grab * (z->xxh ? SD_VERITY_BLOCK : SD_VERITY_REC));
	uint8_t *out = malloc((size_t)GRAB_UNITS * SD_VERITY_BLOCK);
	struct sd_sha256_batch *sb = NULL;
	int rc = in && out ? 0
			   : sd_error_set(&err, SD_ERR_NOMEM, "out of memory");
	if (!rc && !z->xxh) {
		rc = sd_sha256_batch_new(&sb, SD_SHA256_AUTO, &err);
		if (!rc)
			sd_verity_recs_salt(in, grab, z->salt);
	}
	while (!rc && !atomic_load(&z->failed)) {
		if (z->interrupted && *z->interrupted) {
			rc = sd_error_set(&err, SD_ERR_INTERRUPTED,
					  "interrupted");
			break;
		}
		uint64_t u = atomic_fetch_add(&z->next, GRAB_UNITS);
		if (u >= z->units)
			break;
		uint64_t nu = z->units - u < GRAB_UNITS ? z->units - u
							: GRAB_UNITS;
		uint64_t b0 = u * UNIT_BLOCKS;
		uint64_t nb = z->data_blocks - b0;
		if (nb > nu * UNIT_BLOCKS)
			nb = nu * UNIT_BLOCKS;
		if (z->xxh) {
			rc = sd_verity_read_at(z->fd, z->path, in,
					       (size_t)nb * SD_VERITY_BLOCK,
					       b0 * SD_VERITY_BLOCK, &err);
			if (rc)
				break;
			XXH128_canonical_t c;
			XXH128_canonicalFromHash(
				&c,
				XXH3_128bits(in, (size_t)nb * SD_VERITY_BLOCK));
			memcpy(z->xxh + u / GRAB_UNITS * sizeof(c.digest),
			       c.digest, sizeof(c.digest));
			continue;
		}
		rc = sd_verity_read_recs(z->fd, z->path, in, (size_t)nb,
					 b0 * SD_VERITY_BLOCK, &err);
		size_t out_len = (size_t)nu * SD_VERITY_BLOCK;
		/* The digests back to back, the last block's tail zeros. */
		memset(out, 0, out_len);
		if (!rc)
			rc = sd_sha256_batch_run(sb, in, SD_VERITY_REC,
						 SD_VERITY_REC, (size_t)nb, out,
						 &err);
		if (!rc)
			rc = write_at(z->fd, z->path, out, out_len,
				      z->l0_off + u * SD_VERITY_BLOCK, &err);
	}
	if (rc)
		pass_fail(z, rc, &err);
	sd_sha256_batch_free(sb);
	free(out);
	free(in);
	return NULL;
}

/* Run pass_worker on @jobs threads, this one among them. */
static int run_pass(struct pass *z, unsigned jobs, struct sd_error *err)
{
	pthread_t tid[64];
	unsigned extra = jobs > 1 ? jobs - 1 : 0, started = 0;
	if (extra > sizeof(tid) / sizeof(tid[0]))
		extra = sizeof(tid) / sizeof(tid[0]);
	while (started < extra &&
	       !pthread_create(&tid[started], NULL, pass_worker, z))
		started++; /* fewer threads when one cannot start */
	pass_worker(z);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (z->rc)
		*err = z->err;
	return z->rc;
}

/*
 * The salt: SHA-256 of the XXH3-128 digests of the 2 MiB pieces of
 * [0, H) in order (canonical, big-endian, 16 bytes each; the last piece
 * may be shorter) followed by H as 8 little-endian bytes.  It only has to
 * be the same for the same image and differ between images; the pieces
 * are hashed by @jobs threads at memory speed, where one SHA-256 pass over
 * the image cost a second per GB.
 */
static int derive_salt(int fd, const char *path, struct sd_verity *v,
		       unsigned jobs, volatile const int *interrupted,
		       struct sd_error *err)
{
	uint64_t units = (v->data_blocks + UNIT_BLOCKS - 1) / UNIT_BLOCKS;
	uint64_t pieces = (units + GRAB_UNITS - 1) / GRAB_UNITS;
	size_t len = (size_t)pieces * 16 + 8;
	uint8_t *in = malloc(len);
	if (!in)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	struct pass z = {
		.fd = fd,
		.path = path,
		.xxh = in,
		.data_blocks = v->data_blocks,
		.units = units,
		.interrupted = interrupted,
	};
	atomic_init(&z.next, 0);
	atomic_init(&z.failed, 0);
	pthread_mutex_init(&z.lock, NULL);
	sd_error_init(&z.err);
	int rc = run_pass(&z, jobs, err);
	pthread_mutex_destroy(&z.lock);
	put_le64(in + len - 8, v->hash_offset);
	unsigned n = 0;
	if (!rc && (EVP_Digest(in, len, v->salt, &n, EVP_sha256(), NULL) != 1 ||
		    n != SD_SHA256_LEN))
		rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
	free(in);
	return rc;
}

/* The SHA-256 of [0, len) by a thread of its own, beside level 0. */
struct whole {
	int fd;
	const char *path;
	uint64_t len;
	EVP_MD_CTX *ctx;
	int rc;
	struct sd_error err;
};

static int hash_range(EVP_MD_CTX *ctx, int fd, const char *path, uint64_t off,
		      uint64_t len, struct sd_error *err)
{
	uint8_t *buf = malloc(READ_CHUNK);
	int rc = buf ? 0 : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (uint64_t at = 0; !rc && at < len;) {
		size_t n = len - at < READ_CHUNK ? (size_t)(len - at)
						 : READ_CHUNK;
		rc = sd_verity_read_at(fd, path, buf, n, off + at, err);
		if (!rc && EVP_DigestUpdate(ctx, buf, n) != 1)
			rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
		at += n;
	}
	free(buf);
	return rc;
}

static void *whole_thread(void *arg)
{
	struct whole *w = arg;
	w->rc = hash_range(w->ctx, w->fd, w->path, 0, w->len, &w->err);
	return NULL;
}

/* Level @i (>= 1) from level i-1, one 128-block read (into the records
 * @rec, salted) a block; the last block written stays in @blk. */
static int hash_level(int fd, const char *path, const struct sd_verity *v,
		      const struct sd_verity_levels *l, unsigned i,
		      struct sd_sha256_batch *sb, uint8_t *rec, uint8_t *blk,
		      struct sd_error *err)
{
	uint64_t below =
		v->hash_offset + (1 + l->start[i - 1]) * SD_VERITY_BLOCK;
	uint64_t here = v->hash_offset + (1 + l->start[i]) * SD_VERITY_BLOCK;
	int rc = 0;
	for (uint64_t j = 0; !rc && j < l->size[i]; j++) {
		uint64_t c0 = j * UNIT_BLOCKS, nc = l->size[i - 1] - c0;
		if (nc > UNIT_BLOCKS)
			nc = UNIT_BLOCKS;
		rc = sd_verity_read_recs(fd, path, rec, (size_t)nc,
					 below + c0 * SD_VERITY_BLOCK, err);
		memset(blk, 0, SD_VERITY_BLOCK);
		if (!rc)
			rc = sd_sha256_batch_run(sb, rec, SD_VERITY_REC,
						 SD_VERITY_REC, (size_t)nc, blk,
						 err);
		if (!rc)
			rc = write_at(fd, path, blk, SD_VERITY_BLOCK,
				      here + j * SD_VERITY_BLOCK, err);
	}
	return rc;
}

/* Everything after the salt: the superblock, the levels, the root. */
static int write_tree(int fd, const char *path, struct sd_verity *v,
		      unsigned jobs, volatile const int *interrupted,
		      struct sd_error *err)
{
	struct sd_verity_levels l;
	sd_verity_levels_of(v->data_blocks, &l);
	uint8_t *in = malloc((size_t)UNIT_BLOCKS * SD_VERITY_REC);
	uint8_t *blk = malloc(SD_VERITY_BLOCK);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct sd_sha256_batch *sb = NULL;
	int rc = in && blk && ctx
			 ? sd_sha256_batch_new(&sb, SD_SHA256_AUTO, err)
			 : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!rc) {
		sd_verity_recs_salt(in, UNIT_BLOCKS, v->salt);
		fill_sb(blk, v);
		rc = write_at(fd, path, blk, SD_VERITY_BLOCK, v->hash_offset,
			      err);
	}
	if (!rc && !l.n) { /* one data block: the root is its digest */
		rc = sd_verity_read_at(fd, path, blk, SD_VERITY_BLOCK, 0, err);
		if (!rc && sd_verity_block_digest(ctx, v->salt, blk, v->root))
			rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
	} else if (!rc) {
		struct pass z = {
			.fd = fd,
			.path = path,
			.salt = v->salt,
			.data_blocks = v->data_blocks,
			.units = l.size[0],
			.l0_off = v->hash_offset +
				  (1 + l.start[0]) * SD_VERITY_BLOCK,
			.interrupted = interrupted,
		};
		atomic_init(&z.next, 0);
		atomic_init(&z.failed, 0);
		pthread_mutex_init(&z.lock, NULL);
		sd_error_init(&z.err);
		rc = run_pass(&z, jobs, err);
		pthread_mutex_destroy(&z.lock);
		for (unsigned i = 1; !rc && i < l.n; i++)
			rc = hash_level(fd, path, v, &l, i, sb, in, blk, err);
		if (!rc && l.n == 1) /* the top is level 0's one block */
			rc = sd_verity_read_at(fd, path, blk, SD_VERITY_BLOCK,
					       z.l0_off, err);
		if (!rc && sd_verity_block_digest(ctx, v->salt, blk, v->root))
			rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
	}
	sd_sha256_batch_free(sb);
	EVP_MD_CTX_free(ctx);
	free(blk);
	free(in);
	return rc;
}

int sd_verity_append(const char *path, unsigned jobs,
		     volatile const int *interrupted, struct sd_verity *out,
		     uint8_t digest[SD_SHA256_LEN], struct sd_error *err)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->algorithm, sizeof(out->algorithm), "sha256");
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st))
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	uint64_t size = rc ? 0 : (uint64_t)st.st_size;
	if (!rc && !size)
		rc = sd_error_set(err, SD_ERR_USAGE, "%s: empty image", path);
	out->data_blocks = (size + SD_VERITY_BLOCK - 1) / SD_VERITY_BLOCK;
	out->hash_offset = out->data_blocks * SD_VERITY_BLOCK;
	struct sd_verity_levels l;
	sd_verity_levels_of(out->data_blocks, &l);
	out->tree_bytes = (1 + l.blocks) * SD_VERITY_BLOCK;
	/* The padding and the tree's room at once (a hole until written). */
	if (!rc && ftruncate(fd, (off_t)(out->hash_offset + out->tree_bytes)))
		rc = sd_error_errno(err, SD_ERR_OUTPUT, errno, "%s", path);
	if (!rc)
		rc = derive_salt(fd, path, out, jobs, interrupted, err);

	struct whole w = {.fd = fd, .path = path, .len = out->hash_offset};
	sd_error_init(&w.err);
	pthread_t wt;
	bool threaded = false;
	if (!rc && digest) {
		w.ctx = EVP_MD_CTX_new();
		if (!w.ctx || EVP_DigestInit_ex(w.ctx, EVP_sha256(), NULL) != 1)
			rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
		else
			threaded = !pthread_create(&wt, NULL, whole_thread, &w);
	}
	if (!rc)
		rc = write_tree(fd, path, out, jobs, interrupted, err);
	if (threaded)
		pthread_join(wt, NULL);
	else if (!rc && digest) /* no thread: the same pass, here */
		whole_thread(&w);
	if (!rc && w.rc) {
		*err = w.err;
		rc = w.rc;
	}
	/* The digest goes on over the tree just written. */
	if (!rc && digest)
		rc = hash_range(w.ctx, fd, path, out->hash_offset,
				out->tree_bytes, err);
	unsigned len = 0;
	if (!rc && digest &&
	    (EVP_DigestFinal_ex(w.ctx, digest, &len) != 1 ||
	     len != SD_SHA256_LEN))
		rc = sd_error_set(err, SD_ERR_NOMEM, "SHA-256 failed");
	EVP_MD_CTX_free(w.ctx);
	close(fd);
	return rc;
}
