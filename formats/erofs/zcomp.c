/* SPDX-License-Identifier: MIT */
/*
 * zcomp.c — compression configuration and dispatch to the backends
 * (see zcomp.h).
 *
 * Levels: lz4 has none (0 or -1 accepted); lz4hc 1..12 (default 9); lzma 0..9 (default 6,
 * the xz presets); zstd 1..22 (default 3, zstd's own default).
 * Dictionary / window: 8 physical clusters, for lzma at most 8 MiB (the
 * kernel's limit), for zstd at most 1 MiB (likewise) and a power of two.
 */
#include "formats/erofs/zcomp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/erofs/erofs_disk.h"

#define EZ_MIN_PCLUSTER 4096u
#define EZ_ZSTD_MAX_WINDOW (1u << 20)

struct ez_comp {
	const struct ez_backend *be;
	struct ez_config cfg;
	void *state;
};

struct alg_info {
	const char *name;
	enum ez_alg alg;
	unsigned disk_alg;
	int min_level, max_level, default_level; /* -1: no levels */
	const struct ez_backend *be;
};

static const struct alg_info algs[] = {
	{"lz4", EZ_LZ4, Z_EROFS_COMPRESSION_LZ4, -1, -1, -1, &ez_backend_lz4},
	{"lz4hc", EZ_LZ4HC, Z_EROFS_COMPRESSION_LZ4, 1, 12, 9,
	 &ez_backend_lz4hc},
	{"lzma", EZ_LZMA, Z_EROFS_COMPRESSION_LZMA, 0, 9, 6, &ez_backend_lzma},
	{"zstd", EZ_ZSTD, Z_EROFS_COMPRESSION_ZSTD, 1, 22, 3, &ez_backend_zstd},
};

static const struct alg_info *find_alg(enum ez_alg alg)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].alg == alg)
			return &algs[i];
	return NULL;
}

int ez_config_init(struct ez_config *cfg, const char *name, int level,
		   uint32_t pcluster, struct sd_error *err)
{
	const struct alg_info *a = NULL;

	memset(cfg, 0, sizeof(*cfg));
	if (!pcluster)
		pcluster = EZ_MIN_PCLUSTER;
	if (pcluster < EZ_MIN_PCLUSTER ||
	    pcluster > Z_EROFS_PCLUSTER_MAX_SIZE || (pcluster & (pcluster - 1)))
		return sd_error_set(err, SD_ERR_USAGE,
				    "EROFS pcluster size must be a power of "
				    "two from 4096 to 1048576, not %u",
				    pcluster);
	cfg->pcluster = pcluster;
	cfg->level = -1;
	if (!name || !strcmp(name, "none")) {
		cfg->alg = EZ_NONE; /* a level is meaningless, ignored */
		return SD_OK;
	}
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcmp(name, algs[i].name))
			a = &algs[i];
	if (!a)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "EROFS compression \"%s\" is not "
				    "supported (lz4, lz4hc, lzma, zstd or "
				    "none)",
				    name);
	if (level > 0 && a->max_level < 0)
		return sd_error_set(err, SD_ERR_USAGE,
				    "EROFS compression %s "
				    "takes no level (use lz4hc:LEVEL)",
				    a->name);
	if (a->max_level >= 0 && level >= 0 &&
	    (level < a->min_level || level > a->max_level))
		return sd_error_set(err, SD_ERR_USAGE,
				    "EROFS %s level must "
				    "be %d to %d, not %d",
				    a->name, a->min_level, a->max_level, level);
	cfg->alg = a->alg;
	cfg->disk_alg = a->disk_alg;
	cfg->level = level >= 0 && a->max_level >= 0 ? level : a->default_level;
	uint64_t dict = 8ull * pcluster;
	if (a->alg == EZ_LZMA)
		cfg->dict_size =
			(uint32_t)(dict < Z_EROFS_LZMA_MAX_DICT_SIZE
					   ? dict
					   : Z_EROFS_LZMA_MAX_DICT_SIZE);
	else if (a->alg == EZ_ZSTD)
		cfg->dict_size = (uint32_t)(dict < EZ_ZSTD_MAX_WINDOW
						    ? dict
						    : EZ_ZSTD_MAX_WINDOW);
	return SD_OK;
}

struct ez_comp *ez_comp_new(const struct ez_config *cfg)
{
	const struct alg_info *a = find_alg(cfg->alg);
	struct ez_comp *c;

	if (!a)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->be = a->be;
	c->cfg = *cfg;
	c->state = c->be->create(cfg);
	if (!c->state) {
		free(c);
		return NULL;
	}
	return c;
}

long ez_comp_destsize(struct ez_comp *c, const uint8_t *src, size_t *srclen,
		      uint8_t *dst, size_t dstcap)
{
	return c->be->destsize(c->state, &c->cfg, src, srclen, dst, dstcap);
}

void ez_comp_free(struct ez_comp *c)
{
	if (!c)
		return;
	c->be->destroy(c->state);
	free(c);
}

const char *ez_name(const struct ez_config *cfg)
{
	const struct alg_info *a = find_alg(cfg->alg);

	return a ? a->name : "none";
}

const char *ez_library(const struct ez_config *cfg, char *buf, size_t size)
{
	const struct alg_info *a = find_alg(cfg->alg);

	if (!a || !size)
		return "";
	snprintf(buf, size, "%s %s", a->be->library, a->be->version());
	return buf;
}
