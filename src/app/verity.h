/* SPDX-License-Identifier: MIT */
/*
 * verity.h — a dm-verity hash tree appended to an image (pack --verity,
 * info, verify --verity-root).
 *
 * The layout is the one `veritysetup format --hash-offset=H IMAGE IMAGE`
 * writes (cryptsetup's docs/on-disk-format of dm-verity, format version
 * 1, SHA-256, 4096-byte data and hash blocks), with the hash area on the
 * image file itself, past the filesystem:
 *
 *   [0, H)            the filesystem, zero-padded to a 4096 multiple;
 *                     data_blocks = H / 4096 blocks, all hashed.  The
 *                     filesystem's superblock and its size are unchanged,
 *                     so the image still mounts without dm-verity.
 *   [H, H+512)        the verity superblock, little-endian:
 *                       +0   "verity\0\0"     +8   version (1)
 *                       +12  hash_type (1)    +16  uuid[16]
 *                       +32  algorithm[32] ("sha256", NUL-padded)
 *                       +64  data_block_size  +68  hash_block_size
 *                       +72  data_blocks (u64)
 *                       +80  salt_size (u16)  +88  salt[256]
 *   [H+512, H+4096)   zeros
 *   [H+4096, end)     the hash levels, top (one block) first, level 0
 *                     (the hashes of the data blocks) last; each block
 *                     holds 128 SHA-256 digests of the level below,
 *                     zero-padded; a digest is SHA-256(salt || block).
 *   root hash         SHA-256(salt || the top level's block); with a
 *                     single data block, SHA-256(salt || that block).
 *
 * Determinism: the salt is SHA-256 of the XXH3-128 digests of the 2 MiB
 * pieces of [0, H) in order (each its canonical big-endian 16 bytes; the
 * last piece may be shorter) followed by H as 8 little-endian bytes, and
 * the superblock's UUID is the salt's first 16 bytes marked as a version-4 UUID, so the same image gives the
 * same tree and root hash on every host.  The tree is ours
 * (verity_build.c says why not libcryptsetup's, which the tests use as
 * the oracle: `veritysetup format` with the same salt and UUID writes the
 * same bytes); so is the check (sd_verity_check), top-down as the kernel
 * walks it.
 *
 * Threat model: the tree covers an image changed at rest or in transit
 * after packing (with the root hash kept apart); not a malicious packer.
 * The library never prints.
 */
#ifndef SD_APP_VERITY_H
#define SD_APP_VERITY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sha256.h"

#define SD_VERITY_BLOCK 4096u  /* data and hash block size, bytes */
#define SD_VERITY_SB_SIZE 512u /* the verity superblock */

/* A tree's parameters, as written or as read from its superblock. */
struct sd_verity {
	uint64_t hash_offset; /* bytes: where the superblock is (H) */
	uint64_t data_blocks; /* 4096-byte blocks hashed, from offset 0 */
	uint64_t tree_bytes;  /* superblock block + hash blocks, bytes */
	uint8_t salt[SD_SHA256_LEN];
	uint8_t root[SD_SHA256_LEN]; /* the root hash */
	char algorithm[8];           /* "sha256" */
};

/*
 * Append a tree to the image at @path (the format writer finished; the
 * file is not open for writing elsewhere): pad the file with zeros to a
 * 4096 multiple, derive the salt (one XXH3 read), write the superblock and
 * the hash levels after it, level 0 hashed by @jobs threads (0 or 1: this
 * one alone), and fill *@out.  @digest, if not NULL, receives the SHA-256
 * of the whole file, tree included, computed by one more thread in the
 * same pass.  @interrupted, if not NULL, is polled: SD_ERR_INTERRUPTED.
 * SD_ERR_IO naming @path on a failed read, SD_ERR_OUTPUT on a failed
 * write, SD_ERR_USAGE for an empty file, SD_ERR_NOMEM.  On failure the
 * file holds a partial tree: the caller discards it.
 */
int sd_verity_append(const char *path, unsigned jobs,
		     volatile const int *interrupted, struct sd_verity *out,
		     uint8_t digest[SD_SHA256_LEN], struct sd_error *err);

/*
 * Look for a tree in the image at @path whose filesystem ends at
 * @fs_bytes: its superblock at @fs_bytes rounded up to 4096.  *@found is
 * false when there is none (no "verity\0\0" there, or the file ends
 * before).  When found, *@out holds its parameters and the root hash
 * computed from the top level (so a damaged tree gives another root).
 * A superblock that names other parameters than the ones above (version,
 * hash, block sizes, a 32-byte salt, data blocks covering [0, H)) is
 * SD_ERR_UNSUPPORTED; a tree or its superblock cut short (found, with
 * "verity\0\0" there), SD_ERR_CORRUPT; SD_ERR_IO.
 */
int sd_verity_read(const char *path, uint64_t fs_bytes, bool *found,
		   struct sd_verity *out, struct sd_error *err);

/* Where a check found the first damage. */
struct sd_verity_bad {
	bool bad;        /* false: the tree and data match the root */
	bool hash;       /* true: a hash block; false: a data block */
	bool top;        /* hash: the top block, against the root */
	unsigned level;  /* hash: its level (0 hashes the data) */
	uint64_t block;  /* data: block index; hash: block in its level */
	uint64_t offset; /* byte offset of that block in the file */
};

/*
 * Check the whole tree of @v (from sd_verity_read) against @root: every
 * hash block from the top down, then every data block.  The first
 * mismatch in that order goes to *@bad (a hash block whose digest in its
 * parent differs, or whose spare area after its digests is not zero; a
 * data block whose digest in level 0 differs; @root itself not matching
 * the top block is the top block, level levels-1); 0 either way.
 * SD_ERR_IO, SD_ERR_CORRUPT if the file ends early, SD_ERR_NOMEM.
 */
int sd_verity_check(const char *path, const struct sd_verity *v,
		    const uint8_t root[SD_SHA256_LEN],
		    struct sd_verity_bad *bad, struct sd_error *err);

/*
 * Write @root as one lowercase hex line ("<64 hex>\n") to @path so that
 * it appears whole or not at all (core/atomicfile.h).  SD_ERR_OUTPUT
 * naming @path, or atomicfile's errors.
 */
int sd_verity_write_roothash(const char *path,
			     const uint8_t root[SD_SHA256_LEN],
			     struct sd_error *err);

/*
 * Read a root hash written so (64 hex digits, either case, and an
 * optional "\n"; nothing else) from @path into @root.  SD_ERR_IO naming
 * @path when it cannot be read (ENOENT among them), SD_ERR_INVALID when
 * it holds anything else.
 */
int sd_verity_read_roothash(const char *path, uint8_t root[SD_SHA256_LEN],
			    struct sd_error *err);

#endif
