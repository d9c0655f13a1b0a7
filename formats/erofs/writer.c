/* SPDX-License-Identifier: MIT */
/*
 * writer.c — the EROFS writer's entry point: options, tree checks, the
 * superblock, the UUID and the checksum (see writer.h).
 *
 * MINIX look-alikes.  libblkid probes MINIX at byte 1024 too: a v1/v2
 * magic in the u16 at byte 1040 (the low 16 bits of our inode count
 * `inos`), or the v3 magic in the u16 at byte 1048 (the low 16 bits of
 * `build_time`), plus checks that an EROFS superblock can pass (the
 * checksum's halves are the MINIX bitmap block counts).  Two matching
 * probes make `blkid -p` report an ambiguous result and no label, so a
 * by-label udev link never appears.  We therefore never write those
 * values:
 *   - inos: if its low 16 bits would be a MINIX v1/v2 magic (either byte
 *     order), it is written one higher.  The kernel uses inos only for
 *     statfs (f_files); nothing iterates over it.
 *   - build_time: if its low 16 bits would be the MINIX v3 magic (either
 *     byte order), it is written one second earlier; every inode then
 *     differs from it and so is an extended inode carrying the real
 *     mtime (compact inodes take build_time as theirs).
 */
#include "formats/erofs/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kver.h"
#include "formats/erofs/crc32c.h"
#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/writer_z.h"

/* u16 values libblkid takes for MINIX superblock magics. */
static bool minix_v12_magic(uint16_t v)
{
	static const uint16_t magics[] = {
		0x137F, 0x138F, 0x2468, 0x2478, /* v1, v1 30-char, v2, v2 */
		0x7F13, 0x8F13, 0x6824, 0x7824, /* the same, byte-swapped */
	};

	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (v == magics[i])
			return true;
	return false;
}

static bool minix_v3_magic(uint16_t v)
{
	return v == 0x4D5A || v == 0x5A4D;
}

int sd_erofs_check_options(const struct sd_write_options *opts,
			   struct sd_error *err)
{
	struct ez_config cfg;
	int ret = ez_config_init(&cfg, opts->compressor, opts->level,
				 opts->pcluster_size, err);

	if (ret)
		return ret;
	if (opts->ztailpacking && cfg.alg == EZ_NONE)
		return sd_error_set(err, SD_ERR_USAGE,
				    "EROFS tail packing "
				    "(--ztailpacking) needs a compressor");
	if (opts->block_size && opts->block_size != EW_BLKSIZE)
		return sd_error_set(err, SD_ERR_USAGE,
				    "EROFS block size must be 4096, not %u",
				    opts->block_size);
	if (opts->label && strlen(opts->label) > EROFS_SB_VOLUME_NAME_SIZE)
		return sd_error_set(err, SD_ERR_USAGE,
				    "EROFS label \"%s\" is longer than 16 "
				    "bytes",
				    opts->label);
	return SD_OK;
}

static int collect(struct sd_node *node, void *ctx)
{
	struct ew_state *w = ctx;

	w->nodes[node->index] = node;
	return node->type == SD_NODE_OTHER;
}

/* Hash block 0 and the metadata area as written (with uuid and checksum
 * zero). */
static int hash_meta(struct ew_state *w, const uint8_t *block0,
		     struct sd_sha256 *h, struct sd_error *err)
{
	uint8_t *buf;
	uint64_t off = w->meta_base > EW_BLKSIZE ? w->meta_base : EW_BLKSIZE;

	sd_sha256_update(h, block0, EW_BLKSIZE);
	buf = malloc(EW_CHUNK_SIZE);
	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	while (off < w->meta_end) {
		uint64_t want = w->meta_end - off;
		size_t len = want < EW_CHUNK_SIZE ? (size_t)want
						  : EW_CHUNK_SIZE;
		ssize_t n = pread(w->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return sd_error_errno(err, SD_ERR_OUTPUT,
					      n < 0 ? errno : EIO,
					      "cannot read back EROFS image");
		}
		sd_sha256_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	return SD_OK;
}

/* Whether some file's final layout is compressed. */
static bool any_compressed(const struct ew_state *w)
{
	for (size_t i = 0; i < w->count; i++)
		if (w->ino[i].layout == EROFS_INODE_COMPRESSED_COMPACT ||
		    w->ino[i].layout == EROFS_INODE_COMPRESSED_FULL)
			return true;
	return false;
}

/*
 * Compression configuration records (INCOMPAT_COMPR_CFGS) after the
 * superblock: needed for lzma and zstd, and for lz4 with big pclusters;
 * lz4 with 4 KiB pclusters keeps the legacy form (none, lz4_max_distance
 * in the superblock) that every kernel and erofs-utils reads.  Writes
 * them at @p if not NULL; returns their length.
 */
static uint32_t compr_cfgs(const struct ez_config *cfg, uint8_t *p)
{
	uint32_t len;

	if (cfg->alg == EZ_NONE ||
	    ((cfg->alg == EZ_LZ4 || cfg->alg == EZ_LZ4HC) &&
	     cfg->pcluster == EW_BLKSIZE))
		return 0;
	switch (cfg->disk_alg) {
	case Z_EROFS_COMPRESSION_LZ4:
		len = Z_EROFS_LZ4_CFGS_SIZE;
		if (p) {
			put_le16(p + 2 + Z_EROFS_LZ4_CFGS_OFF_MAX_DISTANCE,
				 UINT16_MAX); /* lz4's 64 KiB window */
			put_le16(p + 2 + Z_EROFS_LZ4_CFGS_OFF_MAX_PCLUSTERBLKS,
				 (uint16_t)(cfg->pcluster / EW_BLKSIZE));
		}
		break;
	case Z_EROFS_COMPRESSION_LZMA:
		len = Z_EROFS_LZMA_CFGS_SIZE;
		if (p) {
			put_le32(p + 2 + Z_EROFS_LZMA_CFGS_OFF_DICT_SIZE,
				 cfg->dict_size);
			put_le16(p + 2 + Z_EROFS_LZMA_CFGS_OFF_FORMAT, 0);
		}
		break;
	default:
		len = Z_EROFS_ZSTD_CFGS_SIZE;
		if (p) {
			unsigned wlog = 0;

			while ((1u << (wlog + 1)) <= cfg->dict_size)
				wlog++;
			p[2 + Z_EROFS_ZSTD_CFGS_OFF_FORMAT] = 0;
			p[2 + Z_EROFS_ZSTD_CFGS_OFF_WINDOWLOG] =
				(uint8_t)(wlog - 10);
		}
		break;
	}
	if (p)
		put_le16(p, (uint16_t)len);
	return Z_EROFS_CFGS_LEN_SIZE + len;
}

/* Fill block 0's superblock, UUID and checksum and write it. */
static int write_super(struct ew_state *w, const struct sd_write_options *opts,
		       struct sd_error *err)
{
	uint8_t block0[EW_BLKSIZE];
	uint8_t *sb = block0 + EROFS_SUPER_OFFSET;
	const char *label = opts->label ? opts->label : EW_DEFAULT_LABEL;
	uint64_t inos = w->count;
	uint32_t feat_incompat = 0;
	ssize_t n;
	int ret;

	do
		n = pread(w->fd, block0, EW_BLKSIZE, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)EW_BLKSIZE)
		return sd_error_errno(err, SD_ERR_IO, n < 0 ? errno : EIO,
				      "cannot read back EROFS image");
	memset(sb, 0, EROFS_SB_SIZE);
	if (minix_v12_magic((uint16_t)inos))
		inos++;
	if (w->any_chunked)
		feat_incompat |= EROFS_FEATURE_INCOMPAT_CHUNKED_FILE;
	if (w->zcfg.alg != EZ_NONE)
		feat_incompat |= EROFS_FEATURE_INCOMPAT_ZERO_PADDING;
	if (w->ztail)
		feat_incompat |= EROFS_FEATURE_INCOMPAT_ZTAILPACKING;
	memset(block0 + EROFS_SUPER_OFFSET + EROFS_SB_SIZE, 0,
	       w->meta_start - EROFS_SUPER_OFFSET - EROFS_SB_SIZE);
	if (compr_cfgs(&w->zcfg, block0 + EROFS_SUPER_OFFSET + EROFS_SB_SIZE)) {
		feat_incompat |= EROFS_FEATURE_INCOMPAT_COMPR_CFGS;
		put_le16(sb + EROFS_SB_OFF_U1,
			 (uint16_t)(1u << w->zcfg.disk_alg));
	}
	put_le32(sb + EROFS_SB_OFF_MAGIC, EROFS_SUPER_MAGIC_V1);
	put_le32(sb + EROFS_SB_OFF_FEATURE_COMPAT,
		 EROFS_FEATURE_COMPAT_SB_CHKSUM);
	sb[EROFS_SB_OFF_BLKSZBITS] = EW_BLKBITS;
	put_le16(sb + EROFS_SB_OFF_ROOT_NID, (uint16_t)w->ino[0].nid);
	put_le64(sb + EROFS_SB_OFF_INOS, inos);
	put_le64(sb + EROFS_SB_OFF_BUILD_TIME, (uint64_t)w->build_time);
	put_le32(sb + EROFS_SB_OFF_BLOCKS, w->data_next);
	put_le32(sb + EROFS_SB_OFF_META_BLKADDR,
		 (uint32_t)(w->meta_base / EW_BLKSIZE));
	put_le32(sb + EROFS_SB_OFF_XATTR_BLKADDR, 0);
	memcpy(sb + EROFS_SB_OFF_VOLUME_NAME, label, strlen(label));
	put_le32(sb + EROFS_SB_OFF_FEATURE_INCOMPAT, feat_incompat);

	if (opts->has_uuid) {
		memcpy(sb + EROFS_SB_OFF_UUID, opts->uuid, EROFS_SB_UUID_SIZE);
	} else {
		/* SHA-256 of the metadata area and of every data content,
		 * as a version 8 (custom) RFC 9562 UUID. */
		uint8_t d[SD_SHA256_LEN];

		ret = hash_meta(w, block0, w->digest, err);
		if (ret)
			return ret;
		sd_sha256_final(w->digest, d);
		w->digest = NULL;
		d[6] = (uint8_t)((d[6] & 0x0F) | 0x80);
		d[8] = (uint8_t)((d[8] & 0x3F) | 0x80);
		memcpy(sb + EROFS_SB_OFF_UUID, d, EROFS_SB_UUID_SIZE);
	}
	put_le32(sb + EROFS_SB_OFF_CHECKSUM,
		 sd_crc32c(EROFS_SB_CHKSUM_SEED, sb,
			   EW_BLKSIZE - EROFS_SUPER_OFFSET));
	return ew_pwrite(w->fd, block0, EW_BLKSIZE, 0, err);
}

int sd_erofs_write(const struct sd_tree *tree,
		   const struct sd_write_options *opts, int fd,
		   volatile const int *interrupted,
		   struct sd_write_stats *stats, struct sd_error *err)
{
	struct ew_state w = {0};
	int ret = sd_erofs_check_options(opts, err);

	if (!ret)
		ret = sd_tree_check_limits(tree, err);
	if (ret)
		return ret;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	w.tree = tree;
	w.fd = fd;
	w.count = tree->count;
	w.interrupted = interrupted;
	w.stats = stats;
	w.progress = opts->progress;
	w.progress_ctx = opts->progress_ctx;
	w.build_time = tree->mtime;
	w.jobs = opts->jobs ? opts->jobs : 1;
	w.chunks_ok = sd_kver_allows(opts->min_kernel, "erofs", "chunk-based");
	ez_config_init(&w.zcfg, opts->compressor, opts->level,
		       opts->pcluster_size, err);
	w.ztail = opts->ztailpacking && w.zcfg.alg != EZ_NONE;
	w.cache = opts->cache;
	w.file_digest = opts->file_digest;
	w.file_content = opts->file_content;
	w.file_digest_ctx = opts->file_digest_ctx;
	w.meta_start = (EROFS_SUPER_OFFSET + EROFS_SB_SIZE +
			compr_cfgs(&w.zcfg, NULL) + EROFS_ISLOT_SIZE - 1) &
		       ~(uint64_t)(EROFS_ISLOT_SIZE - 1);
	if (minix_v3_magic((uint16_t)w.build_time))
		w.build_time--;
	w.nodes = calloc(w.count, sizeof(*w.nodes));
	w.ino = calloc(w.count, sizeof(*w.ino));
	w.digest = sd_sha256_new();
	if (!w.nodes || !w.ino || !w.digest) {
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (sd_tree_walk(tree->root, collect, &w)) {
		for (size_t i = 0; i < w.count; i++)
			if (w.nodes[i] && w.nodes[i]->type == SD_NODE_OTHER) {
				ret = ew_node_error(err, SD_ERR_UNSUPPORTED,
						    w.nodes[i],
						    "device nodes, FIFOs and "
						    "sockets cannot be stored");
				goto out;
			}
	}
	ret = ew_layout(&w, err);
	if (!ret)
		ret = ew_meta_begin(&w, err);
	if (!ret)
		ret = w.zcfg.alg == EZ_NONE ? ew_write_nodes(&w, err)
					    : ewz_write_image(&w, err);
	if (!ret)
		ret = ew_meta_end(&w, err);
	if (!ret &&
	    ftruncate(fd, (off_t)((uint64_t)w.data_next * EW_BLKSIZE)) != 0)
		ret = sd_error_errno(err, SD_ERR_IO, errno,
				     "cannot size EROFS image");
	if (!ret)
		ret = write_super(&w, opts, err);
	if (!ret && stats) {
		stats->image_bytes = (uint64_t)w.data_next * EW_BLKSIZE;
		stats->nothing_compressed = w.zcfg.alg != EZ_NONE &&
					    !any_compressed(&w);
	}
out:
	ew_meta_free(&w);
	sd_sha256_free(w.digest);
	if (w.ino)
		for (size_t i = 0; i < w.count; i++)
			free(w.ino[i].chunks);
	free(w.ino);
	free(w.nodes);
	return ret;
}
