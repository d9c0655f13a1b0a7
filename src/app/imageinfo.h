/* SPDX-License-Identifier: MIT */
/*
 * imageinfo.h — what an image is made of and which kernel mounts it
 * (storedisk info).
 *
 * The format's reader describes the image (formats/format.h,
 * sd_format.info); this module looks every feature and compressor up in
 * the kernel table (core/kver.h) and computes min_kernel, the oldest
 * mainline Linux release that mounts the image: the latest version among
 * the format itself, its compressors and its features, leaving out
 * compatible features (older kernels mount the image and ignore them)
 * and names the table does not know.  The library never prints.
 */
#ifndef SD_APP_IMAGEINFO_H
#define SD_APP_IMAGEINFO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "app/verity.h"
#include "core/kver.h"
#include "formats/format.h"

/* A compressor or feature with what the kernel table says of it. */
struct sd_info_item {
	const char *name;
	const struct sd_kfeature *kernel; /* NULL: not in the table */
};

#define SD_INFO_MAX_CONFIGS 16

struct sd_info {
	const char *format;         /* "erofs", "squashfs" */
	struct sd_image_info image; /* as the reader saw it */
	struct sd_info_item compressors[SD_INFO_MAX_NAMES];
	size_t ncompressors;
	struct sd_info_item features[SD_INFO_MAX_NAMES];
	size_t nfeatures;
	uint32_t min_kernel;       /* SD_KVER; SD_KVER_NEVER: no
				      mainline kernel mounts it */
	const char *min_kernel_by; /* the name that decided it */
	/* Kernel options a kernel of that version must also have
	 * (CONFIG_EROFS_FS, CONFIG_EROFS_FS_ZIP_LZMA, ...), no
	 * duplicates. */
	const char *configs[SD_INFO_MAX_CONFIGS];
	size_t nconfigs;
	/* A dm-verity tree past the filesystem's end (app/verity.h,
	 * sd_verity_read at image.fs_bytes), with its root hash. */
	bool has_verity;
	struct sd_verity verity;
	/* A verity superblock there that cannot be used (other parameters,
	 * the tree cut short): why, and has_verity false; "" otherwise. */
	char verity_problem[SD_ERROR_MSG_MAX];
};

/*
 * Detect @path's format and describe it into *@out.  SD_ERR_IO if it
 * cannot be read, SD_ERR_CORRUPT if it is not an image or is damaged,
 * SD_ERR_UNSUPPORTED for a feature the reader refuses.  A verity tree
 * past the filesystem is looked for too: one that cannot be used is no
 * error (the filesystem still reads) but a verity_problem; SD_ERR_IO and
 * SD_ERR_NOMEM are.
 */
int sd_info_read(const char *path, struct sd_info *out, struct sd_error *err);

#endif
