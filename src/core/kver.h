/* SPDX-License-Identifier: MIT */
/*
 * kver.h — Linux kernel versions and the one table of which kernel first
 * reads each on-disk feature of the image formats.
 *
 * A version is KERNEL_VERSION-style: (major << 16) | (minor << 8) | patch,
 * e.g. SD_KVER(5, 15, 0); 0 means "no version given".  The table
 * (kver.c) is the single place where kernel facts live: formats/ use it
 * to avoid features a requested kernel lacks (pack --min-kernel), src/app
 * to compute an image's min_kernel.  Each entry cites the mainline commit
 * (title, abbreviated hash where known) and the release that first
 * contained it, taken from torvalds/linux history of fs/erofs and
 * fs/squashfs.
 */
#ifndef SD_CORE_KVER_H
#define SD_CORE_KVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_KVER(a, b, c) \
	(((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | (uint32_t)(c))
/* A feature no mainline kernel reads. */
#define SD_KVER_NEVER UINT32_MAX

struct sd_kfeature {
	const char *format; /* "erofs", "squashfs" */
	const char *name;   /* feature id as formats report it, e.g.
			       "chunk-based"; the format's own name for
			       the format itself */
	uint32_t since;     /* first mainline release that reads it, or
			       SD_KVER_NEVER */
	bool compat;        /* older kernels mount the image anyway
			       (ignoring the feature): it does not raise
			       min_kernel */
	const char *what;   /* one-line description */
	const char *config; /* kernel option it needs beyond the format's
			       own (CONFIG_...), or NULL */
};

/* The entry for @name of @format, or NULL if the table has none. */
const struct sd_kfeature *sd_kfeature_find(const char *format,
					   const char *name);

/* All entries, terminated by an entry whose format is NULL. */
extern const struct sd_kfeature sd_kfeatures[];

/*
 * Parse "X.Y" or "X.Y.Z" (decimal, each part 0..255, X >= 1).  Returns
 * false on anything else.
 */
bool sd_kver_parse(const char *s, uint32_t *out);

/*
 * The version at the start of a kernel release string (uname -r,
 * "6.1.0-57-cloud-amd64" is 6.1.0): "X.Y" or "X.Y.Z", whatever follows;
 * a part above 255 counts as 255.  0 when @s does not start with "X.Y"
 * (X >= 1).
 */
uint32_t sd_kver_release(const char *s);

/* "X.Y" (or "X.Y.Z" when Z is not 0) into @buf; "none" for
 * SD_KVER_NEVER. */
void sd_kver_format(uint32_t v, char *buf, size_t len);

/*
 * Whether a kernel of version @min (0: any / not restricted) reads
 * @name of @format: true when @min is 0, when the table has no entry
 * (nothing known to restrict), or when @min >= the entry's version.
 */
bool sd_kver_allows(uint32_t min, const char *format, const char *name);

#endif
