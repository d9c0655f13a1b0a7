/* SPDX-License-Identifier: MIT */
/*
 * info.c — what a SquashFS image uses: sd_sqfs_info() (info.h).
 */
#include "formats/squashfs/info.h"

#include <string.h>

#include <sqfs/super.h>

#include "formats/squashfs/image.h"
#include "formats/squashfs/reader.h"

#define NO_TABLE 0xFFFFFFFFFFFFFFFFULL

static const char *comp_name(unsigned id)
{
	switch (id) {
	case SQFS_COMP_GZIP: return "gzip";
	case SQFS_COMP_LZMA: return "lzma";
	case SQFS_COMP_LZO: return "lzo";
	case SQFS_COMP_XZ: return "xz";
	case SQFS_COMP_LZ4: return "lz4";
	case SQFS_COMP_ZSTD: return "zstd";
	default: return "unknown";
	}
}

static void super_info(const struct sd_sqfs_image *img,
		       struct sd_image_info *info)
{
	const sqfs_super_t *s = &img->super;
	static const struct {
		unsigned flag;
		const char *name;
	} flags[] = {
		{SQFS_FLAG_UNCOMPRESSED_INODES, "uncompressed-inodes"},
		{SQFS_FLAG_UNCOMPRESSED_DATA, "uncompressed-data"},
		{SQFS_FLAG_UNCOMPRESSED_FRAGMENTS, "uncompressed-fragments"},
		{SQFS_FLAG_COMPRESSOR_OPTIONS, "compressor-options"},
	};

	info->image_bytes = img->file_size;
	info->fs_bytes = s->bytes_used;
	info->block_size = s->block_size;
	info->inodes = s->inode_count;
	info->build_time = s->modification_time;
	sd_image_info_add_compressor(info, comp_name(s->compression_id));
	if (s->fragment_entry_count > 0)
		sd_image_info_add_feature(info, "fragments");
	if (s->export_table_start != NO_TABLE)
		sd_image_info_add_feature(info, "export-table");
	if (s->xattr_id_table_start != NO_TABLE)
		sd_image_info_add_feature(info, "xattrs");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (s->flags & flags[i].flag)
			sd_image_info_add_feature(info, flags[i].name);
}

int sd_sqfs_info(const char *path, struct sd_image_info *out,
		 struct sd_error *err)
{
	struct sd_sqfs_image *img = NULL;
	struct sd_tree *tree = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sd_sqfs_image_open(path, &img, err);
	if (ret)
		return ret;
	super_info(img, out);
	sd_sqfs_image_close(img);
	ret = sd_sqfs_read(path, &tree, err);
	if (ret)
		return ret;
	out->files = tree->nfiles;
	out->dirs = tree->ndirs;
	out->symlinks = tree->nsymlinks;
	out->others = tree->nother;
	sd_tree_free(tree);
	return SD_OK;
}
