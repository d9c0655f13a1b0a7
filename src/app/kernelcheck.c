/* SPDX-License-Identifier: MIT */
/*
 * kernelcheck.c — pack --min-kernel option checks (kernelcheck.h).
 */
#include "app/kernelcheck.h"

#include <stdio.h>
#include <string.h>

#include "core/kver.h"

const char *sd_kernel_compressor_feature(const char *format,
					 const char *compressor)
{
	if (!compressor)
		return NULL;
	if (!strcmp(format, "erofs")) {
		if (!strcmp(compressor, "none"))
			return NULL;
		if (!strcmp(compressor, "lz4hc"))
			return "lz4";
		return compressor;
	}
	if (!strcmp(compressor, "none"))
		return "gzip"; /* raw blocks under a gzip superblock id */
	return compressor;
}

/* SD_ERR_USAGE "OPTION needs Linux V (WHAT), --min-kernel is M" if the
 * table dates @name of @format after @min. */
static int need(const char *format, const char *name, uint32_t min,
		const char *option, struct sd_error *err)
{
	const struct sd_kfeature *k = sd_kfeature_find(format, name);
	char want[32], have[32];

	if (!k || min >= k->since)
		return SD_OK;
	sd_kver_format(k->since, want, sizeof(want));
	sd_kver_format(min, have, sizeof(have));
	if (k->since == SD_KVER_NEVER)
		return sd_error_set(err, SD_ERR_USAGE,
				    "%s: no Linux kernel "
				    "reads it (%s %s)",
				    option, format, k->what);
	return sd_error_set(err, SD_ERR_USAGE,
			    "%s needs Linux %s (%s %s), "
			    "--min-kernel is %s",
			    option, want,
			    !strcmp(format, "erofs") ? "EROFS" : "SquashFS",
			    k->what, have);
}

int sd_kernel_check_write(const struct sd_format *fmt,
			  const struct sd_write_options *opts,
			  bool default_compressor, struct sd_error *err)
{
	uint32_t min = opts->min_kernel;
	char option[96];
	int ret;

	if (min == 0)
		return SD_OK;
	snprintf(option, sizeof(option), "--format %s", fmt->name);
	ret = need(fmt->name, fmt->name, min, option, err);
	if (ret)
		return ret;
	const char *feat =
		sd_kernel_compressor_feature(fmt->name, opts->compressor);
	if (feat) {
		snprintf(option, sizeof(option), "--compress %s%s",
			 opts->compressor,
			 default_compressor ? " (the default)" : "");
		ret = need(fmt->name, feat, min, option, err);
		if (ret)
			return ret;
	}
	if (!strcmp(fmt->name, "erofs") && feat && opts->pcluster_size > 4096) {
		snprintf(option, sizeof(option), "--pcluster-size %u",
			 opts->pcluster_size);
		ret = need(fmt->name, "big-pcluster", min, option, err);
		if (ret)
			return ret;
	}
	if (!strcmp(fmt->name, "erofs") && feat && opts->ztailpacking)
		return need(fmt->name, "ztailpacking", min, "--ztailpacking",
			    err);
	return SD_OK;
}
