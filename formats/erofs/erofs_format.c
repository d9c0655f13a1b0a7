/* SPDX-License-Identifier: MIT */
/* erofs_format.c — the EROFS entry in the format registry (erofs.h). */
#include "formats/erofs/erofs.h"

#include "formats/erofs/reader.h"
#include "formats/erofs/writer.h"

const struct sd_format sd_format_erofs = {
	.name = "erofs",
	.default_compressor = "none",
	.write = sd_erofs_write,
	.check_options = sd_erofs_check_options,
	.probe = sd_erofs_probe,
	.read = sd_erofs_read,
	.info = sd_erofs_info,
};
