/* SPDX-License-Identifier: MIT */
/*
 * comp.c — compressor selection and the "raw unless smaller" wrapper
 * (see comp.h for why the wrapper exists).
 */
#include "formats/squashfs/comp.h"

#include <stdlib.h>
#include <string.h>

#include <sqfs/block.h>
#include <sqfs/error.h>
#include <sqfs/super.h>

#include "formats/codec/lz4fast.h"
#include "formats/squashfs/sqfserr.h"

struct wrapped {
	sqfs_compressor_t base;
	sqfs_compressor_t *inner;
	bool raw;
	/* lz4 (not HC) on a host where liblz4 is not the reference
	   (sd_lz4fast_needed): blocks go through sd_lz4fast instead */
	bool lz4fast;
};

static void wrap_destroy(sqfs_object_t *obj)
{
	struct wrapped *w = (struct wrapped *)obj;

	sqfs_destroy(w->inner);
	free(w);
}

static sqfs_object_t *wrap_copy(const sqfs_object_t *obj)
{
	const struct wrapped *w = (const struct wrapped *)obj;
	sqfs_compressor_t *inner = sqfs_copy(w->inner);

	if (!inner)
		return NULL;
	return (sqfs_object_t *)sd_sqfs_comp_wrap(inner, w->raw);
}

static void wrap_get_configuration(const sqfs_compressor_t *cmp,
				   sqfs_compressor_config_t *cfg)
{
	const struct wrapped *w = (const struct wrapped *)cmp;

	w->inner->get_configuration(w->inner, cfg);
}

static int wrap_write_options(sqfs_compressor_t *cmp, sqfs_file_t *file)
{
	struct wrapped *w = (struct wrapped *)cmp;

	return w->inner->write_options(w->inner, file);
}

static int wrap_read_options(sqfs_compressor_t *cmp, sqfs_file_t *file)
{
	struct wrapped *w = (struct wrapped *)cmp;

	return w->inner->read_options(w->inner, file);
}

static sqfs_s32 wrap_do_block(sqfs_compressor_t *cmp, const sqfs_u8 *in,
			      sqfs_u32 size, sqfs_u8 *out, sqfs_u32 outsize)
{
	struct wrapped *w = (struct wrapped *)cmp;

	if (w->raw)
		return 0;
	sqfs_s32 ret;
	if (w->lz4fast) {
		/* libsquashfs 1.2 lib/sqfs/comp/lz4.c, lz4_comp_block:
		 * LZ4_compress_default with the output size as capacity,
		 * its result (0: does not fit) returned as is */
		if (size >= 0x7FFFFFFF)
			return SQFS_ERROR_ARG_INVALID;
		ret = sd_lz4fast_compress_default(in, out, (int)size,
						  (int)outsize);
	} else {
		ret = w->inner->do_block(w->inner, in, size, out, outsize);
	}
	if (ret > 0 && (sqfs_u32)ret >= size)
		return 0; /* not smaller: let libsquashfs store it raw */
	return ret;
}

sqfs_compressor_t *sd_sqfs_comp_wrap(sqfs_compressor_t *inner, bool raw)
{
	struct wrapped *w = calloc(1, sizeof(*w));

	if (!w) {
		sqfs_destroy(inner);
		return NULL;
	}
	w->base.base.destroy = wrap_destroy;
	w->base.base.copy = wrap_copy;
	w->base.get_configuration = wrap_get_configuration;
	w->base.write_options = wrap_write_options;
	w->base.read_options = wrap_read_options;
	w->base.do_block = wrap_do_block;
	w->inner = inner;
	w->raw = raw;
	if (sd_lz4fast_needed()) {
		sqfs_compressor_config_t cfg;

		inner->get_configuration(inner, &cfg);
		w->lz4fast = cfg.id == SQFS_COMP_LZ4 &&
			     !(cfg.flags & (SQFS_COMP_FLAG_LZ4_HC |
					    SQFS_COMP_FLAG_UNCOMPRESS));
	}
	return &w->base;
}

struct comp_desc {
	const char *name;
	SQFS_COMPRESSOR id;
	int min_level, max_level; /* min > max: only -1 accepted */
};

static const struct comp_desc comps[] = {
	{"gzip", SQFS_COMP_GZIP, SQFS_GZIP_MIN_LEVEL, SQFS_GZIP_MAX_LEVEL},
	{"xz", SQFS_COMP_XZ, SQFS_XZ_MIN_LEVEL, SQFS_XZ_MAX_LEVEL},
	{"lz4", SQFS_COMP_LZ4, 1, 12},
	{"zstd", SQFS_COMP_ZSTD, SQFS_ZSTD_MIN_LEVEL, SQFS_ZSTD_MAX_LEVEL},
	/* "none" keeps a gzip id: the kernel and unsquashfs know it, and
	 * with default settings no compressor-options block is written */
	{"none", SQFS_COMP_GZIP, 1, 0},
};

static int check_block_size(uint32_t bs, struct sd_error *err)
{
	if (bs < SQFS_MIN_BLOCK_SIZE || bs > SQFS_MAX_BLOCK_SIZE ||
	    (bs & (bs - 1)) != 0)
		return sd_error_set(err, SD_ERR_USAGE,
				    "squashfs block size %u: must be a power "
				    "of two from 4096 to 1048576",
				    bs);
	return SD_OK;
}

static int make_config(const struct comp_desc *d, int level, uint32_t bs,
		       bool uncompress, sqfs_compressor_config_t *cfg,
		       struct sd_error *err)
{
	sqfs_u16 flags = uncompress ? SQFS_COMP_FLAG_UNCOMPRESS : 0;
	if (d->id == SQFS_COMP_LZ4 && level != -1)
		flags |= SQFS_COMP_FLAG_LZ4_HC;

	int ret = sqfs_compressor_config_init(cfg, d->id, bs, flags);
	if (ret != 0)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "squashfs compressor %s: %s", d->name,
				    sd_sqfs_strerror(ret));
	if (level != -1 && d->id != SQFS_COMP_LZ4)
		cfg->level = (sqfs_u32)level;
	/* libsquashfs defaults the xz dictionary to the block size, but
	 * refuses dictionaries below one metadata block (8 KiB) */
	if (d->id == SQFS_COMP_XZ &&
	    cfg->opt.xz.dict_size < SQFS_XZ_MIN_DICT_SIZE)
		cfg->opt.xz.dict_size = SQFS_XZ_MIN_DICT_SIZE;
	return SD_OK;
}

int sd_sqfs_comp_setup(const struct sd_write_options *opts,
		       struct sd_sqfs_comp *out, struct sd_error *err)
{
	const char *name = opts->compressor ? opts->compressor
					    : SD_SQFS_DEFAULT_COMPRESSOR;
	const struct comp_desc *d = NULL;
	uint32_t bs = opts->block_size ? opts->block_size
				       : SQFS_DEFAULT_BLOCK_SIZE;
	int ret;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
		if (strcmp(comps[i].name, name) == 0)
			d = &comps[i];
	}
	if (!d)
		return sd_error_set(err, SD_ERR_USAGE,
				    "unknown squashfs compressor '%s' (use "
				    "gzip, xz, lz4, zstd or none)",
				    name);
	if (opts->level != -1 &&
	    (opts->level < d->min_level || opts->level > d->max_level)) {
		if (d->min_level > d->max_level)
			return sd_error_set(err, SD_ERR_USAGE,
					    "compressor %s takes no level",
					    name);
		return sd_error_set(err, SD_ERR_USAGE,
				    "compression level %d for %s: must be "
				    "%d to %d",
				    opts->level, name, d->min_level,
				    d->max_level);
	}
	ret = check_block_size(bs, err);
	if (ret)
		return ret;

	sqfs_compressor_config_t cfg, ucfg;
	ret = make_config(d, opts->level, bs, false, &cfg, err);
	if (!ret)
		ret = make_config(d, opts->level, bs, true, &ucfg, err);
	if (ret)
		return ret;

	sqfs_compressor_t *inner = NULL;
	ret = sqfs_compressor_create(&cfg, &inner);
	if (ret == 0)
		ret = sqfs_compressor_create(&ucfg, &out->uncmp);
	if (ret != 0) {
		sqfs_destroy(inner);
		out->uncmp = NULL;
		return sd_error_set(err,
				    ret == SQFS_ERROR_ALLOC
					    ? SD_ERR_NOMEM
					    : SD_ERR_UNSUPPORTED,
				    "cannot create %s compressor: %s", name,
				    sd_sqfs_strerror(ret));
	}
	out->cmp = sd_sqfs_comp_wrap(inner, strcmp(name, "none") == 0);
	if (!out->cmp) {
		sd_sqfs_comp_cleanup(out);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	out->id = d->id;
	out->block_size = bs;
	out->name = d->name;
	out->cfg = cfg;
	out->raw = strcmp(name, "none") == 0;
	return SD_OK;
}

void sd_sqfs_comp_cleanup(struct sd_sqfs_comp *c)
{
	sqfs_destroy(c->cmp);
	sqfs_destroy(c->uncmp);
	c->cmp = NULL;
	c->uncmp = NULL;
}
