/* SPDX-License-Identifier: MIT */
/*
 * imageinfo.c — an image's features and its min_kernel (imageinfo.h).
 */
#include "app/imageinfo.h"

#include <stdio.h>
#include <string.h>

static void add_config(struct sd_info *in, const char *config)
{
	if (!config)
		return;
	for (size_t i = 0; i < in->nconfigs; i++)
		if (!strcmp(in->configs[i], config))
			return;
	if (in->nconfigs < SD_INFO_MAX_CONFIGS)
		in->configs[in->nconfigs++] = config;
}

/* Look @name up, raise min_kernel if it needs a later kernel. */
static const struct sd_kfeature *account(struct sd_info *in, const char *name)
{
	const struct sd_kfeature *k = sd_kfeature_find(in->format, name);

	if (!k)
		return NULL;
	add_config(in, k->config);
	if (!k->compat && k->since > in->min_kernel) {
		in->min_kernel = k->since;
		in->min_kernel_by = k->name;
	}
	return k;
}

int sd_info_read(const char *path, struct sd_info *out, struct sd_error *err)
{
	const struct sd_format *fmt = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sd_format_detect(path, &fmt, err);
	if (ret)
		return ret;
	if (!fmt->info)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "%s: %s images "
				    "cannot be described",
				    path, fmt->name);
	ret = fmt->info(path, &out->image, err);
	if (ret)
		return ret;
	out->format = fmt->name;
	account(out, fmt->name);
	for (size_t i = 0; i < out->image.ncompressors; i++) {
		struct sd_info_item *it = &out->compressors[i];
		it->name = out->image.compressors[i];
		it->kernel = account(out, it->name);
	}
	out->ncompressors = out->image.ncompressors;
	for (size_t i = 0; i < out->image.nfeatures; i++) {
		struct sd_info_item *it = &out->features[i];
		it->name = out->image.features[i];
		it->kernel = account(out, it->name);
	}
	out->nfeatures = out->image.nfeatures;
	struct sd_error verr;
	sd_error_init(&verr);
	ret = sd_verity_read(path, out->image.fs_bytes, &out->has_verity,
			     &out->verity, &verr);
	if (ret == SD_ERR_IO || ret == SD_ERR_NOMEM) {
		if (err)
			*err = verr;
		return ret;
	}
	if (ret) {
		out->has_verity = false;
		snprintf(out->verity_problem, sizeof(out->verity_problem), "%s",
			 verr.msg);
	}
	return SD_OK;
}
