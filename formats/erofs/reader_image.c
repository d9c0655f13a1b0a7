/* SPDX-License-Identifier: MIT */
/*
 * reader_image.c — opening an EROFS image: bounds-checked reads, the
 * superblock, the probe and the error helpers (see reader_int.h).
 */
#include "formats/erofs/crc32c.h"
#include "formats/erofs/reader_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/reader.h"

#define NO_NID UINT64_MAX

/* Incompatible features we read (extra devices are refused separately). */
#define KNOWN_INCOMPAT                         \
	(EROFS_FEATURE_INCOMPAT_ZERO_PADDING | \
	 EROFS_FEATURE_INCOMPAT_COMPR_CFGS |   \
	 EROFS_FEATURE_INCOMPAT_CHUNKED_FILE | \
	 EROFS_FEATURE_INCOMPAT_DEVICE_TABLE | \
	 EROFS_FEATURE_INCOMPAT_ZTAILPACKING | \
	 EROFS_FEATURE_INCOMPAT_FRAGMENTS |    \
	 EROFS_FEATURE_INCOMPAT_XATTR_PREFIXES)

static int vfail(const struct sd_erofs_image *img, uint64_t nid, int code,
		 struct sd_error *err, const char *fmt, va_list ap)
{
	char what[SD_ERROR_MSG_MAX];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (nid == NO_NID)
		return sd_error_set(err, code, "%s: %s", img->path, what);
	return sd_error_set(err, code, "%s: inode %llu: %s", img->path,
			    (unsigned long long)nid, what);
}

int sd_erofs_corrupt(const struct sd_erofs_image *img, uint64_t nid,
		     struct sd_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int ret = vfail(img, nid, SD_ERR_CORRUPT, err, fmt, ap);
	va_end(ap);
	return ret;
}

int sd_erofs_fail(const struct sd_erofs_image *img, uint64_t nid, int code,
		  struct sd_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int ret = vfail(img, nid, code, err, fmt, ap);
	va_end(ap);
	return ret;
}

bool sd_erofs_in_image(const struct sd_erofs_image *img, uint64_t off,
		       uint64_t len)
{
	return off <= img->size && len <= img->size - off;
}

int sd_erofs_pread(const struct sd_erofs_image *img, uint64_t nid,
		   const char *what, void *buf, size_t len, uint64_t off,
		   struct sd_error *err)
{
	uint8_t *p = buf;

	if (!sd_erofs_in_image(img, off, len))
		return sd_erofs_corrupt(img, nid, err,
					"%s at byte %llu (+%zu) beyond the "
					"image end",
					what, (unsigned long long)off, len);
	while (len > 0) {
		ssize_t n = pread(img->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_error_errno(err, SD_ERR_IO, errno,
					      "%s: cannot read", img->path);
		if (n == 0)
			return sd_erofs_corrupt(img, nid, err,
						"%s: image shrank while "
						"being read",
						what);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SD_OK;
}

bool sd_erofs_probe(const uint8_t *head, size_t len)
{
	return len >= EROFS_SUPER_OFFSET + 4 &&
	       get_le32(head + EROFS_SUPER_OFFSET + EROFS_SB_OFF_MAGIC) ==
		       EROFS_SUPER_MAGIC_V1;
}

/* Verify the checksum: crc32c(~0) over [1024, 1024 + n) with the
 * checksum field zeroed, n = block size - 1024 (or the block size when
 * blocks are not larger than 1024, as the kernel does). */
static int check_sb_csum(struct sd_erofs_image *img, struct sd_error *err)
{
	size_t len = img->blksz;
	uint8_t *buf;

	if (len > EROFS_SUPER_OFFSET)
		len -= EROFS_SUPER_OFFSET;
	if (!sd_erofs_in_image(img, EROFS_SUPER_OFFSET, len))
		return sd_erofs_corrupt(img, NO_NID, err,
					"superblock "
					"checksum area beyond the image end");
	buf = malloc(len);
	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int ret = sd_erofs_pread(img, NO_NID, "superblock", buf, len,
				 EROFS_SUPER_OFFSET, err);
	if (!ret) {
		uint32_t want = get_le32(buf + EROFS_SB_OFF_CHECKSUM);
		put_le32(buf + EROFS_SB_OFF_CHECKSUM, 0);
		uint32_t got = sd_crc32c(EROFS_SB_CHKSUM_SEED, buf, len);
		if (got != want)
			ret = sd_erofs_corrupt(img, NO_NID, err,
					       "superblock checksum mismatch "
					       "(stored 0x%08x, computed "
					       "0x%08x)",
					       want, got);
	}
	free(buf);
	return ret;
}

/* Incompatible features newer than this reader, by name and the first
 * Linux release that reads them (erofs-utils 1.9 man/mkfs.erofs.1). */
static const struct {
	uint32_t bit;
	const char *name;
	const char *kernel;
} newer_incompat[] = {
	{EROFS_FEATURE_INCOMPAT_48BIT, "48bit", "Linux 6.15"},
	{EROFS_FEATURE_INCOMPAT_METABOX, "metabox", "Linux 6.17"},
};

static int check_incompat(const struct sd_erofs_image *img,
			  struct sd_error *err)
{
	uint32_t unknown = img->feature_incompat & ~KNOWN_INCOMPAT;
	char names[160] = "";
	size_t len = 0;
	unsigned n = 0;

	if (!unknown)
		return SD_OK;
	for (size_t i = 0;
	     i < sizeof(newer_incompat) / sizeof(newer_incompat[0]); i++) {
		if (!(unknown & newer_incompat[i].bit))
			continue;
		int w = snprintf(names + len, sizeof(names) - len, "%s%s (%s)",
				 n ? ", " : "", newer_incompat[i].name,
				 newer_incompat[i].kernel);
		if (w > 0 && (size_t)w < sizeof(names) - len)
			len += (size_t)w;
		n++;
		unknown &= ~newer_incompat[i].bit;
	}
	if (unknown) {
		int w = snprintf(names + len, sizeof(names) - len, "%s0x%x",
				 n ? ", " : "", unknown);
		if (w > 0 && (size_t)w < sizeof(names) - len)
			len += (size_t)w;
		n++;
	}
	return sd_erofs_fail(img, NO_NID, SD_ERR_UNSUPPORTED, err,
			     "EROFS feature%s %s %s not supported",
			     n > 1 ? "s" : "", names, n > 1 ? "are" : "is");
}

/* The packed inode (fragments): a regular file; every fragment offset
 * is later checked against its size. */
static int load_packed(struct sd_erofs_image *img, struct sd_error *err)
{
	struct sd_erofs_inode ino;
	int ret;

	if (!img->packed_nid ||
	    !(img->feature_incompat & EROFS_FEATURE_INCOMPAT_FRAGMENTS))
		return SD_OK;
	ret = sd_erofs_inode_load(img, img->packed_nid, &ino, err);
	if (ret)
		return ret;
	if ((ino.mode & EROFS_S_IFMT) != EROFS_S_IFREG)
		return sd_erofs_corrupt(img, img->packed_nid, err,
					"the packed "
					"inode is not a regular file (mode "
					"0%o)",
					ino.mode);
	ret = sd_erofs_pcache_new(&ino, &img->pcache, err);
	if (ret)
		return ret;
	img->packed_size = ino.size;
	img->has_packed = true;
	return SD_OK;
}

static int parse_sb(struct sd_erofs_image *img, struct sd_error *err)
{
	uint8_t sb[EROFS_SB_SIZE];
	int ret;

	if (img->size < EROFS_SUPER_OFFSET + EROFS_SB_SIZE)
		return sd_erofs_corrupt(img, NO_NID, err,
					"not an EROFS "
					"image: %llu bytes, too short for a "
					"superblock",
					(unsigned long long)img->size);
	ret = sd_erofs_pread(img, NO_NID, "superblock", sb, sizeof(sb),
			     EROFS_SUPER_OFFSET, err);
	if (ret)
		return ret;
	if (get_le32(sb + EROFS_SB_OFF_MAGIC) != EROFS_SUPER_MAGIC_V1)
		return sd_erofs_corrupt(img, NO_NID, err,
					"not an EROFS "
					"image: bad superblock magic 0x%08x",
					get_le32(sb + EROFS_SB_OFF_MAGIC));
	img->blkszbits = sb[EROFS_SB_OFF_BLKSZBITS];
	if (img->blkszbits < EROFS_BLKSZBITS_MIN ||
	    img->blkszbits > EROFS_BLKSZBITS_MAX)
		return sd_erofs_corrupt(img, NO_NID, err,
					"unsupported block "
					"size 2^%u (512 B .. 64 KiB are read)",
					img->blkszbits);
	img->blksz = 1u << img->blkszbits;
	img->feature_compat = get_le32(sb + EROFS_SB_OFF_FEATURE_COMPAT);
	if (img->feature_compat & EROFS_FEATURE_COMPAT_SB_CHKSUM) {
		ret = check_sb_csum(img, err);
		if (ret)
			return ret;
	}
	img->feature_incompat = get_le32(sb + EROFS_SB_OFF_FEATURE_INCOMPAT);
	ret = check_incompat(img, err);
	if (ret)
		return ret;
	if (get_le16(sb + EROFS_SB_OFF_EXTRA_DEVICES) != 0)
		return sd_erofs_fail(img, NO_NID, SD_ERR_UNSUPPORTED, err,
				     "EROFS feature device-table (Linux "
				     "5.15) is not supported: data on %u "
				     "extra device(s), e.g. a tar of "
				     "mkfs.erofs --tar=i",
				     get_le16(sb + EROFS_SB_OFF_EXTRA_DEVICES));
	if (sb[EROFS_SB_OFF_DIRBLKBITS] != 0)
		return sd_erofs_fail(img, NO_NID, SD_ERR_UNSUPPORTED, err,
				     "directory block size differs from the "
				     "block size");
	if (EROFS_SB_SIZE + sb[EROFS_SB_OFF_SB_EXTSLOTS] *
				    (uint32_t)EROFS_SB_EXTSLOT_SIZE >
	    (img->blksz > EROFS_SUPER_OFFSET ? img->blksz - EROFS_SUPER_OFFSET
					     : img->blksz))
		return sd_erofs_corrupt(img, NO_NID, err,
					"superblock "
					"extension slots exceed a block");
	if (img->feature_incompat & EROFS_FEATURE_INCOMPAT_COMPR_CFGS)
		img->compr_algs = get_le16(sb + EROFS_SB_OFF_U1) &
				  Z_EROFS_ALL_COMPR_ALGS;
	else
		img->compr_algs = 1u << Z_EROFS_COMPRESSION_LZ4;

	uint64_t blocks = get_le32(sb + EROFS_SB_OFF_BLOCKS);
	if (blocks << img->blkszbits > img->size)
		return sd_erofs_corrupt(img, NO_NID, err,
					"image truncated: "
					"superblock says %llu blocks (%llu "
					"bytes), the file has %llu bytes",
					(unsigned long long)blocks,
					(unsigned long long)(blocks
							     << img->blkszbits),
					(unsigned long long)img->size);
	img->meta_off = (uint64_t)get_le32(sb + EROFS_SB_OFF_META_BLKADDR)
			<< img->blkszbits;
	if (img->meta_off >= img->size)
		return sd_erofs_corrupt(
			img, NO_NID, err,
			"metadata block "
			"%u beyond the image end",
			get_le32(sb + EROFS_SB_OFF_META_BLKADDR));
	img->max_nid = (img->size - img->meta_off) >> EROFS_ISLOT_BITS;
	img->root_nid = get_le16(sb + EROFS_SB_OFF_ROOT_NID);
	img->packed_nid = get_le64(sb + EROFS_SB_OFF_PACKED_NID);
	uint64_t t = get_le64(sb + EROFS_SB_OFF_BUILD_TIME);
	/* clamped so that compact inodes can add their u32 mtime delta */
	img->build_time = t > (uint64_t)INT64_MAX - UINT32_MAX
				  ? INT64_MAX - UINT32_MAX
				  : (int64_t)t;
	return SD_OK;
}

int sd_erofs_image_open(const char *path, struct sd_erofs_image **out,
			struct sd_error *err)
{
	struct sd_erofs_image *img = calloc(1, sizeof(*img));
	struct stat st;
	int ret;

	*out = NULL;
	if (!img || !(img->path = strdup(path))) {
		free(img);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		ret = sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
		img->fd = -1;
		goto fail;
	}
	if (fstat(img->fd, &st) != 0) {
		ret = sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		ret = sd_error_set(err, SD_ERR_IO, "%s: not a regular file",
				   path);
		goto fail;
	}
	img->size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(img->fd, 0, SEEK_END);
		img->size = end > 0 ? (uint64_t)end : 0;
	}
	ret = parse_sb(img, err);
	if (!ret)
		ret = load_packed(img, err);
	if (ret)
		goto fail;
	*out = img;
	return SD_OK;
fail:
	sd_erofs_image_close(img);
	return ret;
}

void sd_erofs_image_close(struct sd_erofs_image *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	sd_erofs_pcache_free(img->pcache);
	free(img->path);
	free(img);
}
