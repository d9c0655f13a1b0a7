/* SPDX-License-Identifier: MIT */
/*
 * bzimage.h — the version of an x86 Linux kernel image (bzImage, as
 * /boot/vmlinuz-* is), read from its real-mode setup header as
 * Documentation/arch/x86/boot.rst describes it: the magic "HdrS" at
 * byte 0x202, the boot protocol version (le16) at 0x206, and from
 * protocol 2.00 on kernel_version (le16) at 0x20E: the offset of a
 * NUL-terminated version string, less 0x200 — the string uname -a shows,
 * "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP ...".
 */
#ifndef SD_APP_BZIMAGE_H
#define SD_APP_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/*
 * Read @path's version string: its first word (the release, uname -r,
 * "6.1.0-57-cloud-amd64") into @release (@release_len bytes, cut if
 * longer) and its leading "X.Y[.Z]" into *@version (core/kver.h SD_KVER;
 * a part above 255 counts as 255).  SD_ERR_IO if @path cannot be read
 * or is not a regular file (a FIFO is refused, never waited on),
 * SD_ERR_CORRUPT when it is not a bzImage (no "HdrS") or has no version
 * string (protocol before 2.00, offset 0, no "X.Y" at the offset).
 */
int sd_bzimage_version(const char *path, char *release, size_t release_len,
		       uint32_t *version, struct sd_error *err);

#endif
