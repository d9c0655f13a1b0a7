/* SPDX-License-Identifier: MIT */
/*
 * image.c — opening and validating a SquashFS image (see image.h).
 */
#include "formats/squashfs/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqfs/block.h>
#include <sqfs/error.h>

#include "formats/squashfs/fdfile.h"
#include "formats/squashfs/sqfserr.h"

#define NO_TABLE 0xFFFFFFFFFFFFFFFFULL

int sd_sqfs_image_error(const struct sd_sqfs_image *img, struct sd_error *err,
			int sq, const char *what)
{
	return sd_error_set(
		err, sq == SQFS_ERROR_ALLOC ? SD_ERR_NOMEM : SD_ERR_CORRUPT,
		"%s: %s: %s", img->path, what, sd_sqfs_strerror(sq));
}

static int bad(const struct sd_sqfs_image *img, struct sd_error *err,
	       const char *what)
{
	return sd_error_set(err, SD_ERR_CORRUPT, "%s: %s", img->path, what);
}

/* Checks libsquashfs leaves to its readers. */
static int check_super(const struct sd_sqfs_image *img, struct sd_error *err)
{
	const sqfs_super_t *s = &img->super;
	sqfs_u64 end = s->bytes_used;

	if (end > img->file_size)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: truncated image: superblock says "
				    "%llu bytes, file has %llu",
				    img->path, (unsigned long long)end,
				    (unsigned long long)img->file_size);
	if (s->inode_count == 0 || s->id_count == 0)
		return bad(img, err, "superblock: no inodes or no IDs");
	if (s->inode_table_start < sizeof(sqfs_super_t) ||
	    s->inode_table_start >= s->directory_table_start ||
	    s->directory_table_start >= end ||
	    s->id_table_start < s->directory_table_start ||
	    s->id_table_start >= end)
		return bad(img, err,
			   "superblock: table offsets out of order "
			   "or beyond the image end");
	if (s->fragment_table_start != NO_TABLE &&
	    (s->fragment_table_start < s->directory_table_start ||
	     s->fragment_table_start >= end))
		return bad(img, err,
			   "superblock: fragment table offset "
			   "out of range");
	if (s->export_table_start != NO_TABLE &&
	    (s->export_table_start < s->directory_table_start ||
	     s->export_table_start >= end))
		return bad(img, err,
			   "superblock: export table offset "
			   "out of range");
	if (s->xattr_id_table_start != NO_TABLE &&
	    s->xattr_id_table_start >= end)
		return bad(img, err,
			   "superblock: xattr table offset "
			   "out of range");
	if (s->fragment_entry_count > 0) {
		sqfs_u64 bytes = (sqfs_u64)s->fragment_entry_count * 16;
		sqfs_u64 index = (bytes + SQFS_META_BLOCK_SIZE - 1) /
				 SQFS_META_BLOCK_SIZE * 8;
		if (s->fragment_table_start == NO_TABLE ||
		    index > end - s->fragment_table_start)
			return bad(img, err,
				   "superblock: fragment count "
				   "does not fit the image");
	}
	if ((s->root_inode_ref >> 16) >=
		    s->directory_table_start - s->inode_table_start ||
	    (s->root_inode_ref & 0xFFFF) >= SQFS_META_BLOCK_SIZE)
		return bad(img, err,
			   "superblock: root inode reference out "
			   "of range");
	return SD_OK;
}

static int open_file(struct sd_sqfs_image *img, const char *path,
		     struct sd_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, e, "%s", path);
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return sd_error_set(err, SD_ERR_IO, "%s: %s", path,
				    S_ISDIR(st.st_mode) ? "is a directory"
							: "not a regular file");
	}
	img->file = sd_sqfs_fdfile_create(fd, false, true);
	if (!img->file) {
		int e = errno;
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, e, "%s", path);
	}
	img->file_size = img->file->get_size(img->file);
	return SD_OK;
}

static int load_compressor(struct sd_sqfs_image *img, struct sd_error *err)
{
	sqfs_compressor_config_t cfg;
	const sqfs_super_t *s = &img->super;
	int ret;

	ret = sqfs_compressor_config_init(&cfg, s->compression_id,
					  s->block_size,
					  SQFS_COMP_FLAG_UNCOMPRESS);
	if (!ret)
		ret = sqfs_compressor_create(&cfg, &img->cmp);
	if (ret) {
		const char *name =
			sqfs_compressor_name_from_id(s->compression_id);
		return sd_error_set(err,
				    name ? SD_ERR_UNSUPPORTED : SD_ERR_CORRUPT,
				    "%s: compressor %s (id %u): %s", img->path,
				    name ? name : "unknown", s->compression_id,
				    sd_sqfs_strerror(ret));
	}
	if (s->flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
		ret = img->cmp->read_options(img->cmp, img->file);
		if (ret)
			return sd_sqfs_image_error(
				img, err, ret,
				"cannot read compressor options");
	}
	return SD_OK;
}

/*
 * The inode table runs up to the directory table; the directory table up
 * to whichever of the ID, fragment and export tables comes next
 * (check_super put them all after it).  A metadata reader refuses to
 * seek outside its range.
 */
static int create_meta_readers(struct sd_sqfs_image *img, struct sd_error *err)
{
	const sqfs_super_t *s = &img->super;
	sqfs_u64 dir_end = s->id_table_start;

	if (s->fragment_table_start < dir_end)
		dir_end = s->fragment_table_start;
	if (s->export_table_start < dir_end)
		dir_end = s->export_table_start;
	img->inodes = sqfs_meta_reader_create(img->file, img->cmp,
					      s->inode_table_start,
					      s->directory_table_start);
	img->dirs = sqfs_meta_reader_create(img->file, img->cmp,
					    s->directory_table_start, dir_end);
	if (!img->inodes || !img->dirs)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return SD_OK;
}

static int load(struct sd_sqfs_image *img, struct sd_error *err)
{
	int ret = sqfs_super_read(&img->super, img->file);

	if (ret)
		return sd_sqfs_image_error(img, err, ret,
					   "not a valid squashfs superblock");
	ret = check_super(img, err);
	if (!ret)
		ret = load_compressor(img, err);
	if (ret)
		return ret;

	img->ids = sqfs_id_table_create(0);
	if (!img->ids)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sqfs_id_table_read(img->ids, img->file, &img->super, img->cmp);
	if (ret)
		return sd_sqfs_image_error(img, err, ret,
					   "cannot read ID table");

	img->data = sqfs_data_reader_create(img->file, img->super.block_size,
					    img->cmp, 0);
	if (!img->data)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sqfs_data_reader_load_fragment_table(img->data, &img->super);
	if (ret)
		return sd_sqfs_image_error(img, err, ret,
					   "cannot read fragment table");

	return create_meta_readers(img, err);
}

int sd_sqfs_image_open(const char *path, struct sd_sqfs_image **out,
		       struct sd_error *err)
{
	struct sd_sqfs_image *img = calloc(1, sizeof(*img));
	int ret;

	*out = NULL;
	if (!img || !(img->path = strdup(path))) {
		free(img);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	ret = open_file(img, path, err);
	if (!ret)
		ret = load(img, err);
	if (ret) {
		sd_sqfs_image_close(img);
		return ret;
	}
	*out = img;
	return SD_OK;
}

void sd_sqfs_image_done_walking(struct sd_sqfs_image *img)
{
	if (img) {
		sqfs_destroy(img->inodes);
		sqfs_destroy(img->dirs);
		img->inodes = NULL;
		img->dirs = NULL;
	}
}

void sd_sqfs_image_close(struct sd_sqfs_image *img)
{
	if (!img)
		return;
	sd_sqfs_image_done_walking(img);
	sqfs_destroy(img->data);
	sqfs_destroy(img->ids);
	sqfs_destroy(img->cmp);
	sqfs_destroy(img->file);
	free(img->path);
	free(img);
}
