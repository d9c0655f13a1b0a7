/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h — CRC-32C (Castagnoli), as the EROFS superblock checksum uses.
 */
#ifndef SD_FORMATS_EROFS_CRC32C_H
#define SD_FORMATS_EROFS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continue the reflected CRC-32C register @crc over @len bytes at @data
 * and return the new register.  No inversion is applied on entry or exit:
 * the standard CRC-32C of a buffer is ~sd_crc32c(~0u, buf, len), and the
 * EROFS superblock checksum is sd_crc32c(0xFFFFFFFF, ...) as is.
 */
uint32_t sd_crc32c(uint32_t crc, const void *data, size_t len);

#endif
