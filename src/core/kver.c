/* SPDX-License-Identifier: MIT */
/*
 * kver.c — kernel versions and the feature table (see kver.h).
 *
 * Sources: the mainline history of fs/erofs and fs/squashfs in
 * torvalds/linux (commit title, abbreviated hash where checked, and the
 * first release tag containing it), cross-checked with the "(Linux X.Y+)"
 * notes of erofs-utils' man/mkfs.erofs.1.  A feature's version is the
 * first release whose reader accepts it; for superblock feature bits that
 * is also the first release whose mount does not refuse the image
 * ("unidentified incompatible feature").
 */
#include "core/kver.h"

#include <stdio.h>
#include <string.h>

#define K(a, b, c) SD_KVER(a, b, c)

const struct sd_kfeature sd_kfeatures[] = {
	/* ---- EROFS ------------------------------------------------- */
	/* "erofs: move erofs out of staging" (47e4937a4a7c), v5.4; it was
	 * in drivers/staging since v4.19 with an on-disk format still
	 * settling.  Compact (32 B) and extended (64 B) inodes, FLAT_PLAIN
	 * and FLAT_INLINE (tail inline after the inode) data, xattrs,
	 * LZ4 with full and compact (v5.3, "staging: erofs: add compacted
	 * ondisk compression indexes") lcluster indexes and 0PADDING
	 * (v5.3, "staging: erofs: introduce LZ4 decompression inplace")
	 * are all read by the first fs/erofs release. */
	{"erofs", "erofs", K(5, 4, 0), false, "outside staging",
	 "CONFIG_EROFS_FS"},
	{"erofs", "compact-inodes", K(5, 4, 0), false, "32-byte inodes", NULL},
	{"erofs", "extended-inodes", K(5, 4, 0), false, "64-byte inodes", NULL},
	{"erofs", "inline-data", K(5, 4, 0), false,
	 "tail data inline after the inode (FLAT_INLINE)", NULL},
	{"erofs", "xattrs", K(5, 4, 0), false, "extended attributes",
	 "CONFIG_EROFS_FS_XATTR"},
	{"erofs", "compressed-files", K(5, 4, 0), false,
	 "compressed files (lcluster indexes)", "CONFIG_EROFS_FS_ZIP"},
	{"erofs", "compact-indexes", K(5, 4, 0), false,
	 "compact lcluster indexes (COMPRESSED_COMPACT)", NULL},
	{"erofs", "zero-padding", K(5, 4, 0), false,
	 "0PADDING of compressed data (in-place decompression)", NULL},
	{"erofs", "lz4", K(5, 4, 0), false, "LZ4 compression",
	 "CONFIG_EROFS_FS_ZIP"},
	/* "erofs: support superblock checksum" (b858a4844cfb), v5.5; a
	 * compatible feature: older kernels ignore it. */
	{"erofs", "sb-checksum", K(5, 5, 0), true, "superblock CRC-32C", NULL},
	/* "erofs: add on-disk compression configurations" (14373711dd54)
	 * and "erofs: support parsing big pcluster compress indexes"
	 * (b86269f43892), v5.13: INCOMPAT_COMPR_CFGS / BIG_PCLUSTER. */
	{"erofs", "compression-configs", K(5, 13, 0), false,
	 "per-algorithm compression configurations", NULL},
	{"erofs", "big-pcluster", K(5, 13, 0), false,
	 "physical clusters larger than a block", NULL},
	/* "erofs: introduce chunk-based file on-disk format"
	 * (2a9dc7a8fec6) and "erofs: support reading chunk-based
	 * uncompressed files" (c5aa903a59db), v5.15. */
	{"erofs", "chunk-based", K(5, 15, 0), false,
	 "chunk-based files (holes, chunk deduplication)", NULL},
	/* "erofs: add multiple device support" (dfeab2e95a75), v5.15. */
	{"erofs", "device-table", K(5, 15, 0), false, "extra devices (blobs)",
	 NULL},
	/* "erofs: lzma compression support" (622ceaddb764), v5.16, with
	 * "erofs: introduce the secondary compression head" (v5.16). */
	{"erofs", "lzma", K(5, 16, 0), false, "MicroLZMA compression",
	 "CONFIG_EROFS_FS_ZIP_LZMA"},
	{"erofs", "compr-head2", K(5, 16, 0), false,
	 "a second compression algorithm per file (HEAD2)", NULL},
	/* "erofs: add on-disk compressed tail-packing inline support"
	 * (ab92184ff8f1), v5.17: INCOMPAT_ZTAILPACKING. */
	{"erofs", "ztailpacking", K(5, 17, 0), false,
	 "compressed tail pcluster inline after the indexes", NULL},
	/* "erofs: support interlaced uncompressed data for compressed
	 * files" (fdffc091e6f9) and "erofs: support on-disk compressed
	 * fragments data" (b15b2e307c3a), both merged for v6.1, and
	 * "erofs: introduce partial-referenced pclusters" (v6.1,
	 * INCOMPAT_DEDUPE, the same bit as FRAGMENTS). */
	{"erofs", "interlaced-pcluster", K(6, 1, 0), false,
	 "uncompressed pclusters stored interlaced", NULL},
	{"erofs", "fragments", K(6, 1, 0), false,
	 "file tails or files in the packed inode", NULL},
	{"erofs", "dedupe", K(6, 1, 0), false,
	 "partially referenced pclusters (deduplication)", NULL},
	/* "erofs: enable long extended attribute name prefixes" (v6.4):
	 * INCOMPAT_XATTR_PREFIXES; "erofs: set block size to the on-disk
	 * block size" (v6.4): blocks smaller than a page. */
	{"erofs", "long-xattr-prefixes", K(6, 4, 0), false,
	 "long xattr name prefixes", NULL},
	{"erofs", "sub-page-blocks", K(6, 4, 0), false,
	 "blocks smaller than the 4 KiB page", NULL},
	/* "erofs: DEFLATE compression support" (ffa09b3bd024), v6.6. */
	{"erofs", "deflate", K(6, 6, 0), false, "DEFLATE compression",
	 "CONFIG_EROFS_FS_ZIP_DEFLATE"},
	/* "erofs: Zstandard compression support" (7c35de4df105), v6.10. */
	{"erofs", "zstd", K(6, 10, 0), false, "Zstandard compression",
	 "CONFIG_EROFS_FS_ZIP_ZSTD"},

	/* ---- SquashFS ---------------------------------------------- */
	/* "Squashfs: initial version" series (SquashFS 4.0 in fs/squashfs),
	 * v2.6.29, with zlib, fragments, the NFS export table and
	 * deduplicated (shared) blocks. */
	{"squashfs", "squashfs", K(2, 6, 29), false, "SquashFS 4.0",
	 "CONFIG_SQUASHFS"},
	{"squashfs", "gzip", K(2, 6, 29), false, "zlib compression",
	 "CONFIG_SQUASHFS_ZLIB"},
	{"squashfs", "fragments", K(2, 6, 29), false,
	 "tail ends packed into fragment blocks", NULL},
	{"squashfs", "export-table", K(2, 6, 29), false,
	 "NFS export (inode lookup) table", "CONFIG_SQUASHFS_EXPORT"},
	{"squashfs", "compressor-options", K(2, 6, 29), true,
	 "compressor options after the superblock", NULL},
	/* "Squashfs: add xattr support" series, v2.6.35; earlier
	 * kernels mount the image without showing xattrs. */
	{"squashfs", "xattrs", K(2, 6, 35), true, "extended attributes",
	 "CONFIG_SQUASHFS_XATTR"},
	/* "Squashfs: add LZO compression support" (79cb8ced7eef),
	 * v2.6.36. */
	{"squashfs", "lzo", K(2, 6, 36), false, "LZO compression",
	 "CONFIG_SQUASHFS_LZO"},
	/* "Squashfs: add XZ compression support" (7a43ae523744),
	 * v2.6.38. */
	{"squashfs", "xz", K(2, 6, 38), false, "XZ compression",
	 "CONFIG_SQUASHFS_XZ"},
	/* "Squashfs: Add LZ4 compression configuration option"
	 * (62421645bb70), v3.19. */
	{"squashfs", "lz4", K(3, 19, 0), false, "LZ4 compression",
	 "CONFIG_SQUASHFS_LZ4"},
	/* "squashfs: Add zstd support" (87bf54bb43dd), v4.14. */
	{"squashfs", "zstd", K(4, 14, 0), false, "Zstandard compression",
	 "CONFIG_SQUASHFS_ZSTD"},
	/* The old LZMA id (2) was never merged into mainline. */
	{"squashfs", "lzma", SD_KVER_NEVER, false,
	 "legacy LZMA compression (never in mainline)", NULL},
	{NULL, NULL, 0, false, NULL, NULL},
};

const struct sd_kfeature *sd_kfeature_find(const char *format, const char *name)
{
	if (!format || !name)
		return NULL;
	for (const struct sd_kfeature *f = sd_kfeatures; f->format; f++)
		if (!strcmp(f->format, format) && !strcmp(f->name, name))
			return f;
	return NULL;
}

/* One decimal part 0..255 at *@p, advancing it. */
static bool parse_part(const char **p, unsigned *out)
{
	unsigned v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 255)
			return false;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

bool sd_kver_parse(const char *s, uint32_t *out)
{
	unsigned a, b, c = 0;

	if (!s || !parse_part(&s, &a) || a == 0 || *s++ != '.' ||
	    !parse_part(&s, &b))
		return false;
	if (*s == '.') {
		s++;
		if (!parse_part(&s, &c))
			return false;
	}
	if (*s)
		return false;
	*out = SD_KVER(a, b, c);
	return true;
}

uint32_t sd_kver_release(const char *s)
{
	unsigned part[3] = {0, 0, 0};
	int np = 0;
	const char *p = s;

	while (np < 3) {
		if (*p < '0' || *p > '9')
			break;
		unsigned v = 0;
		while (*p >= '0' && *p <= '9') {
			if (v < 1000)
				v = v * 10 + (unsigned)(*p - '0');
			p++;
		}
		part[np++] = v > 255 ? 255 : v;
		if (*p != '.')
			break;
		p++;
	}
	if (np < 2 || part[0] == 0)
		return 0;
	return SD_KVER(part[0], part[1], part[2]);
}

void sd_kver_format(uint32_t v, char *buf, size_t len)
{
	if (v == SD_KVER_NEVER)
		snprintf(buf, len, "none");
	else if (v & 0xFF)
		snprintf(buf, len, "%u.%u.%u", v >> 16, (v >> 8) & 0xFF,
			 v & 0xFF);
	else
		snprintf(buf, len, "%u.%u", v >> 16, (v >> 8) & 0xFF);
}

bool sd_kver_allows(uint32_t min, const char *format, const char *name)
{
	const struct sd_kfeature *f = sd_kfeature_find(format, name);

	return min == 0 || !f || min >= f->since;
}
