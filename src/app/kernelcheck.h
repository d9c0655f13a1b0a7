/* SPDX-License-Identifier: MIT */
/*
 * kernelcheck.h — pack --min-kernel: refusing write options an older
 * kernel cannot mount.
 *
 * Which option needs which feature is decided here (the versions come
 * from core/kver.h): the format itself (EROFS 5.4, SquashFS 2.6.29), the
 * compressor (EROFS lz4/lz4hc 5.4, lzma 5.16, zstd 6.10; SquashFS gzip and
 * none 2.6.29, xz 2.6.38, lz4 3.19, zstd 4.14), EROFS physical
 * clusters larger than 4 KiB (big pclusters, 5.13) and EROFS
 * --ztailpacking with a compressor (5.17).  Data-dependent
 * features are the writer's business (sd_write_options.min_kernel).
 */
#ifndef SD_APP_KERNELCHECK_H
#define SD_APP_KERNELCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "formats/format.h"

/*
 * Check @opts (compressor already defaulted; @default_compressor: the
 * user did not choose it) against opts->min_kernel: 0, or SD_ERR_USAGE
 * naming the option and the version it needs, e.g. "--compress zstd
 * needs Linux 6.10 (EROFS Zstandard compression), --min-kernel is 6.1".
 */
int sd_kernel_check_write(const struct sd_format *fmt,
			  const struct sd_write_options *opts,
			  bool default_compressor, struct sd_error *err);

/*
 * The kernel table name of compressor @compressor of @format ("lz4hc"
 * writes "lz4", squashfs "none" writes "gzip"), or NULL for none.
 */
const char *sd_kernel_compressor_feature(const char *format,
					 const char *compressor);

#endif
