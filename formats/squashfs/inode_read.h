/* SPDX-License-Identifier: MIT */
/*
 * inode_read.h — reading one inode of a SquashFS image, checked before
 * libsquashfs parses it.
 *
 * libsquashfs' sqfs_meta_reader_read_inode() sizes its allocation from
 * the inode's own fields before it reads the bytes they promise: a
 * regular file's block list from file_size / block_size, a symlink's
 * target from target_size, an extended directory's index from its entry
 * count and name sizes.  A few hostile bytes thus make it allocate
 * gigabytes (or fail to).  sd_sqfs_inode_read() decodes those fields
 * itself first and refuses the inode (SD_ERR_CORRUPT) when its
 * variable-size part
 *
 *   - needs more bytes than the rest of the inode table can hold (a
 *     metadata block decompresses to at most 8 KiB and occupies at least
 *     3 bytes on disk), or more than SD_SQFS_MAX_INODE_PAYLOAD;
 *   - or is not really there: it reads the part through before
 *     libsquashfs does, so libsquashfs never allocates more than the image
 *     actually holds.
 *
 * Directory index names are also limited to 256 bytes (as the kernel's).
 * Only then is the inode handed to libsquashfs.
 */
#ifndef SD_FORMATS_SQUASHFS_INODE_READ_H
#define SD_FORMATS_SQUASHFS_INODE_READ_H

#include <sqfs/inode.h>

#include "core/error.h"
#include "formats/squashfs/image.h"

/* Largest variable-size part of one inode we accept (bytes). */
#define SD_SQFS_MAX_INODE_PAYLOAD (256u << 20)

/*
 * Read the inode at @ref (metadata block offset from the inode table
 * start << 16 | byte offset in that block) through img->inodes into *@out
 * (free with sqfs_free).  @where names it in messages ("/", "/a/b"):
 * failures are SD_ERR_CORRUPT "IMAGE: WHERE: reason", or SD_ERR_NOMEM.
 */
int sd_sqfs_inode_read(struct sd_sqfs_image *img, sqfs_u64 ref,
		       const char *where, sqfs_inode_generic_t **out,
		       struct sd_error *err);

#endif
