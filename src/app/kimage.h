/* SPDX-License-Identifier: MIT */
/*
 * kimage.h — what a Linux kernel image file is: for which architecture,
 * and which release, so that vmcheck boots it under the right QEMU and
 * refuses, before booting, a kernel older than the image needs.
 *
 * Three kinds are told apart by their headers:
 *   - an x86 bzImage ("HdrS" at byte 0x202): architecture x86_64, the
 *     release from its setup header (bzimage.h);
 *   - an arm64 Image (le32 magic "ARM\x64" at byte 0x38, as the kernel's
 *     Documentation/arch/arm64/booting.rst describes its header; Debian's
 *     arm64 /boot/vmlinuz-* is one, uncompressed, with its EFI stub's "MZ"
 *     at byte 0): architecture aarch64;
 *   - anything else, read through libarchive's gzip, bzip2, xz, lzma, lz4
 *     and zstd decompressors when it is one of those (a compressed Image,
 *     as other distributions ship it: aarch64 when the decompressed bytes
 *     carry the arm64 magic), else as it is; architecture unknown.
 * For all but the bzImage the release is read from the kernel's banner,
 * the string init/version.c builds and dmesg shows first:
 * "Linux version RELEASE (BUILDER) (COMPILER) #N ...": the first
 * "Linux version " in the (decompressed) bytes followed by a release that
 * starts with "X.Y".
 */
#ifndef SD_APP_KIMAGE_H
#define SD_APP_KIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* How far into the (decompressed) image the banner is looked for. */
#define SD_KIMAGE_SCAN_MAX ((uint64_t)256 << 20)

struct sd_kimage {
	const char *arch;  /* "x86_64", "aarch64", or NULL: not known */
	const char *kind;  /* "bzImage", "arm64 Image", "gzip data", ... */
	char release[128]; /* uname -r: "6.1.0-57-cloud-arm64" */
	uint32_t version;  /* its leading X.Y[.Z] (core/kver.h SD_KVER) */
};

/*
 * Read @path's architecture and release into @out.  SD_ERR_IO when it
 * cannot be read (or a compressed one cannot be decompressed to the
 * end of the part scanned), SD_ERR_CORRUPT when no release is found (a
 * bzImage without a version string, no banner in the first
 * SD_KIMAGE_SCAN_MAX bytes: not a Linux kernel, or one compressed in a way
 * not read here), naming the kind seen.
 */
int sd_kimage_read(const char *path, struct sd_kimage *out,
		   struct sd_error *err);

#endif
