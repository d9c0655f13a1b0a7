/* SPDX-License-Identifier: MIT */
/*
 * sqfs_format.c — the SquashFS entry in the format registry
 * (see squashfs.h).
 */
#include "formats/squashfs/squashfs.h"

#include "formats/squashfs/comp.h"
#include "formats/squashfs/info.h"
#include "formats/squashfs/reader.h"
#include "formats/squashfs/writer.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* "hsqs" (0x73717368 little-endian) and version 4.0 at offset 28. */
static bool sqfs_probe(const uint8_t *head, size_t len)
{
	if (len < 32)
		return false;
	return head[0] == 'h' && head[1] == 's' && head[2] == 'q' &&
	       head[3] == 's' && le16(head + 28) == 4 && le16(head + 30) == 0;
}

static int sqfs_check_options(const struct sd_write_options *opts,
			      struct sd_error *err)
{
	if (opts->label || opts->has_uuid || opts->pcluster_size)
		return sd_error_set(err, SD_ERR_USAGE,
				    "squashfs has no volume label, UUID or "
				    "physical clusters (--label, --uuid and "
				    "--pcluster-size are for EROFS)");
	struct sd_sqfs_comp comp;
	int rc = sd_sqfs_comp_setup(opts, &comp, err);
	if (!rc)
		sd_sqfs_comp_cleanup(&comp);
	return rc;
}

const struct sd_format sd_format_squashfs = {
	.name = "squashfs",
	.default_compressor = SD_SQFS_DEFAULT_COMPRESSOR,
	.write = sd_sqfs_write,
	.check_options = sqfs_check_options,
	.probe = sqfs_probe,
	.read = sd_sqfs_read,
	.info = sd_sqfs_info,
};
