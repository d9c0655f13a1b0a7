/* SPDX-License-Identifier: MIT */
/*
 * reader_info.c — what an EROFS image uses: sd_erofs_info() (reader.h).
 *
 * The superblock gives the image-wide features (incompatible bits, the
 * compression algorithms the kernel will be asked to set up, the
 * checksum); a full read of the tree (sd_erofs_read_scan) shows each
 * inode's form and data layout and, for compressed files, the map
 * header's advice bits and the size of every physical cluster.
 */
#include "formats/erofs/reader.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/reader_int.h"
#include "formats/format.h"

#define NO_NID UINT64_MAX

static const char *const alg_names[Z_EROFS_COMPRESSION_MAX] = {
	[Z_EROFS_COMPRESSION_LZ4] = "lz4",
	[Z_EROFS_COMPRESSION_LZMA] = "lzma",
	[Z_EROFS_COMPRESSION_DEFLATE] = "deflate",
	[Z_EROFS_COMPRESSION_ZSTD] = "zstd",
};

struct scan {
	struct sd_image_info *info;
	bool compressed;   /* some inode is compressed */
	uint64_t max_plen; /* largest pcluster seen (bytes) */
	int ret;           /* first error of the extent walk */
	struct sd_error *err;
};

/* Largest pcluster of a compressed inode with big pclusters. */
static int scan_extents(struct scan *s, const struct sd_erofs_image *img,
			const struct sd_erofs_inode *ino)
{
	uint64_t lcn = 0;
	struct sd_erofs_zext ext;

	while (lcn < ino->z_totalidx) {
		uint64_t before = lcn;
		int ret = sd_erofs_z_extent(img, ino, &lcn, &ext, s->err);
		if (ret)
			return ret;
		if (lcn <= before)
			return sd_erofs_corrupt(img, ino->nid, s->err,
						"lcluster %llu: extents do "
						"not advance",
						(unsigned long long)before);
		if (ext.plen > s->max_plen)
			s->max_plen = ext.plen;
	}
	return SD_OK;
}

static void on_inode(void *ctx, const struct sd_erofs_image *img,
		     const struct sd_erofs_inode *ino)
{
	struct scan *s = ctx;
	struct sd_image_info *info = s->info;

	sd_image_info_add_feature(info, ino->isize == EROFS_INODE_COMPACT_SIZE
						? "compact-inodes"
						: "extended-inodes");
	if (ino->xattr_size)
		sd_image_info_add_feature(info, "xattrs");
	switch (ino->mode & EROFS_S_IFMT) {
	case EROFS_S_IFREG:
	case EROFS_S_IFDIR:
	case EROFS_S_IFLNK: break;
	default: return; /* no data layout */
	}
	switch (ino->layout) {
	case EROFS_INODE_FLAT_PLAIN: return;
	case EROFS_INODE_FLAT_INLINE:
		if (ino->size % img->blksz)
			sd_image_info_add_feature(info, "inline-data");
		return;
	case EROFS_INODE_CHUNK_BASED:
		sd_image_info_add_feature(info, "chunk-based");
		return;
	default: break;
	}
	s->compressed = true;
	sd_image_info_add_feature(info, "compressed-files");
	if (ino->z_frag_whole || ino->z_frag_tail)
		sd_image_info_add_feature(info, "fragments");
	if (ino->z_frag_whole)
		return; /* no indexes, no algorithm of its own */
	if (ino->layout == EROFS_INODE_COMPRESSED_COMPACT)
		sd_image_info_add_feature(info, "compact-indexes");
	if (ino->z_algs[0] < Z_EROFS_COMPRESSION_MAX)
		sd_image_info_add_compressor(info, alg_names[ino->z_algs[0]]);
	if (ino->z_advise & Z_EROFS_ADVISE_INLINE_PCLUSTER)
		sd_image_info_add_feature(info, "ztailpacking");
	if (ino->z_advise & Z_EROFS_ADVISE_INTERLACED_PCLUSTER)
		sd_image_info_add_feature(info, "interlaced-pcluster");
	if (s->max_plen < img->blksz)
		s->max_plen = img->blksz;
	if (ino->z_advise &
	    (Z_EROFS_ADVISE_BIG_PCLUSTER_1 | Z_EROFS_ADVISE_BIG_PCLUSTER_2)) {
		sd_image_info_add_feature(info, "big-pcluster");
		if (!s->ret)
			s->ret = scan_extents(s, img, ino);
	}
}

/* Image-wide features from the superblock @sb of @img. */
static void super_features(const struct sd_erofs_image *img, const uint8_t *sb,
			   struct sd_image_info *info)
{
	uint32_t in = img->feature_incompat;

	if (img->feature_compat & EROFS_FEATURE_COMPAT_SB_CHKSUM)
		sd_image_info_add_feature(info, "sb-checksum");
	if (in & EROFS_FEATURE_INCOMPAT_ZERO_PADDING)
		sd_image_info_add_feature(info, "zero-padding");
	if (in & EROFS_FEATURE_INCOMPAT_COMPR_CFGS)
		sd_image_info_add_feature(info, "compression-configs");
	if (in & EROFS_FEATURE_INCOMPAT_CHUNKED_FILE)
		sd_image_info_add_feature(info, "chunk-based");
	/* one bit, two meanings: the second compression head on
	 * compressed images (with configurations), else extra devices */
	if (in & EROFS_FEATURE_INCOMPAT_DEVICE_TABLE)
		sd_image_info_add_feature(
			info, (in & EROFS_FEATURE_INCOMPAT_COMPR_CFGS)
				      ? "compr-head2"
				      : "device-table");
	if (in & EROFS_FEATURE_INCOMPAT_ZTAILPACKING)
		sd_image_info_add_feature(info, "ztailpacking");
	/* FRAGMENTS and DEDUPE share a bit; a packed inode means
	 * fragments */
	if (in & EROFS_FEATURE_INCOMPAT_FRAGMENTS)
		sd_image_info_add_feature(info,
					  get_le64(sb + EROFS_SB_OFF_PACKED_NID)
						  ? "fragments"
						  : "dedupe");
	if (in & EROFS_FEATURE_INCOMPAT_XATTR_PREFIXES)
		sd_image_info_add_feature(info, "long-xattr-prefixes");
	if (img->blksz < 4096)
		sd_image_info_add_feature(info, "sub-page-blocks");
	else if (img->blksz > 4096)
		sd_image_info_add_feature(info, "blocks-larger-than-page");
	/* the algorithms the kernel sets up at mount (it refuses unknown
	 * ones); without configurations only LZ4 exists */
	if (in & EROFS_FEATURE_INCOMPAT_COMPR_CFGS)
		for (unsigned a = 0; a < Z_EROFS_COMPRESSION_MAX; a++)
			if (img->compr_algs & (1u << a))
				sd_image_info_add_compressor(info,
							     alg_names[a]);
}

/* The superblock bytes and what they say directly. */
static int read_super(const char *path, struct sd_image_info *info,
		      struct sd_error *err)
{
	struct sd_erofs_image *img = NULL;
	uint8_t sb[EROFS_SB_SIZE];
	int ret = sd_erofs_image_open(path, &img, err);

	if (ret)
		return ret;
	ret = sd_erofs_pread(img, NO_NID, "superblock", sb, sizeof(sb),
			     EROFS_SUPER_OFFSET, err);
	if (!ret) {
		info->image_bytes = img->size;
		info->block_size = img->blksz;
		info->fs_bytes = (uint64_t)get_le32(sb + EROFS_SB_OFF_BLOCKS)
				 << img->blkszbits;
		info->inodes = get_le64(sb + EROFS_SB_OFF_INOS);
		info->build_time = img->build_time;
		memcpy(info->uuid, sb + EROFS_SB_OFF_UUID, EROFS_SB_UUID_SIZE);
		info->has_uuid = true;
		memcpy(info->label, sb + EROFS_SB_OFF_VOLUME_NAME,
		       EROFS_SB_VOLUME_NAME_SIZE);
		info->label[EROFS_SB_VOLUME_NAME_SIZE] = '\0';
		info->has_label = info->label[0] != '\0';
		super_features(img, sb, info);
	}
	sd_erofs_image_close(img);
	return ret;
}

int sd_erofs_info(const char *path, struct sd_image_info *out,
		  struct sd_error *err)
{
	struct scan s = {.info = out, .err = err};
	struct sd_tree *tree = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_super(path, out, err);
	if (ret)
		return ret;
	ret = sd_erofs_read_scan(path, &tree, on_inode, &s, err);
	if (!ret && s.ret)
		ret = s.ret;
	if (ret) {
		sd_tree_free(tree);
		return ret;
	}
	out->files = tree->nfiles;
	out->dirs = tree->ndirs;
	out->symlinks = tree->nsymlinks;
	out->others = tree->nother;
	sd_tree_free(tree);
	if (s.compressed) {
		out->pcluster_size = (uint32_t)s.max_plen;
		if (out->ncompressors == 0)
			sd_image_info_add_compressor(out, "lz4");
	}
	return SD_OK;
}
