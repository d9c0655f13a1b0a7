/* SPDX-License-Identifier: MIT */
/*
 * writer_cache.c — units, keys and values of the SquashFS writer's
 * compression cache (see writer_cache.h).
 */
#include "formats/squashfs/writer_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lz4hc.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "core/le.h"

#ifndef SD_LIBSQUASHFS_VERSION
#error "SD_LIBSQUASHFS_VERSION must be defined (formats/meson.build)"
#endif

#define TAG_BLOCK "block"
#define TAG_FRAGMENT "fragment"

/* Value header fields (writer_cache.h). */
#define V_UNIT 0
#define V_FLAGS 1
#define V_ZERO 2
#define V_CONTENT 4
#define V_STORED 8
#define V_COMPRESSED 0x01u

_Static_assert(SD_SQFS_CACHE_VHDR == V_STORED + 4,
	       "a value's header ends after its stored length");
_Static_assert(sizeof(TAG_BLOCK) - 1 + 4 + SD_SHA256_LEN == 41,
	       "a block's description is 41 bytes");
_Static_assert(SQFS_MAX_BLOCK_SIZE + SD_SQFS_CACHE_VHDR <=
		       SD_COMPCACHE_MAX_VALUE,
	       "the largest value fits the store");

static const char *const unit_names[] = {"block", "fragment"};

/* "zstd 1.5.5; libsquashfs 1.2.0": the library doing the work, as run. */
static void library_of(const struct sd_sqfs_comp *comp, char *buf, size_t size)
{
	const char *lib = "none", *ver = "";

	switch (comp->id) {
	case SQFS_COMP_GZIP:
		lib = "zlib";
		ver = zlibVersion();
		break;
	case SQFS_COMP_XZ:
		lib = "liblzma";
		ver = lzma_version_string();
		break;
	case SQFS_COMP_LZ4:
		lib = "lz4";
		ver = LZ4_versionString();
		break;
	case SQFS_COMP_ZSTD:
		lib = "zstd";
		ver = ZSTD_versionString();
		break;
	default: break;
	}
	snprintf(buf, size, "%s %s; libsquashfs %s", lib, ver,
		 SD_LIBSQUASHFS_VERSION);
}

/* Compressor flags and backend options, in a fixed order. */
static void layout_of(const struct sd_sqfs_comp *comp, char *buf, size_t size)
{
	const sqfs_compressor_config_t *cfg = &comp->cfg;
	char opt[96] = "";

	if (comp->id == SQFS_COMP_GZIP)
		snprintf(opt, sizeof(opt), ",window=%u",
			 (unsigned)cfg->opt.gzip.window_size);
	else if (comp->id == SQFS_COMP_XZ)
		snprintf(opt, sizeof(opt), ",dict=%u,lc=%u,lp=%u,pb=%u",
			 (unsigned)cfg->opt.xz.dict_size,
			 (unsigned)cfg->opt.xz.lc, (unsigned)cfg->opt.xz.lp,
			 (unsigned)cfg->opt.xz.pb);
	snprintf(buf, size, "flags=0x%04x%s,raw-unless-smaller",
		 (unsigned)cfg->flags, opt);
}

int sd_sqfs_cache_params(const struct sd_sqfs_comp *comp,
			 enum sd_sqfs_unit unit, char *buf, size_t size,
			 struct sd_error *err)
{
	char library[160], layout[160];
	int64_t level = comp->cfg.level;

	library_of(comp, library, sizeof(library));
	layout_of(comp, layout, sizeof(layout));
	if (comp->id == SQFS_COMP_LZ4)
		level = (comp->cfg.flags & SQFS_COMP_FLAG_LZ4_HC)
				? LZ4HC_CLEVEL_MAX
				: 0;
	struct sd_compcache_params p = {
		.format = "squashfs",
		.kind = unit_names[unit == SD_SQFS_UNIT_FRAGMENT],
		.compressor = comp->name,
		.library = library,
		.level = level,
		.block_size = comp->block_size,
		.layout = layout,
	};
	return sd_compcache_params(&p, buf, size, err);
}

void sd_sqfs_cache_init(struct sd_sqfs_cache *c, struct sd_compcache *cc,
			const struct sd_sqfs_comp *comp)
{
	memset(c, 0, sizeof(*c));
	if (!cc || !sd_compcache_enabled(cc) || comp->raw)
		return;
	for (int u = SD_SQFS_UNIT_BLOCK; u <= SD_SQFS_UNIT_FRAGMENT; u++) {
		if (sd_sqfs_cache_params(comp, (enum sd_sqfs_unit)u,
					 c->params[u - 1],
					 sizeof(c->params[u - 1]), NULL))
			return;
	}
	c->bs = comp->block_size;
	c->cc = cc;
}

bool sd_sqfs_cache_block_desc(uint32_t len, const uint8_t sha[SD_SHA256_LEN],
			      uint8_t out[SD_SHA256_LEN])
{
	uint8_t d[sizeof(TAG_BLOCK) - 1 + 4 + SD_SHA256_LEN];
	struct sd_sha256 *h;

	memcpy(d, TAG_BLOCK, sizeof(TAG_BLOCK) - 1);
	put_le32(d + sizeof(TAG_BLOCK) - 1, len);
	memcpy(d + sizeof(TAG_BLOCK) - 1 + 4, sha, SD_SHA256_LEN);
	h = sd_sha256_new();
	if (!h)
		return false;
	sd_sha256_update(h, d, sizeof(d));
	sd_sha256_final(h, out);
	return true;
}

struct sd_sha256 *sd_sqfs_cache_frag_begin(void)
{
	struct sd_sha256 *h = sd_sha256_new();

	if (h)
		sd_sha256_update(h, TAG_FRAGMENT, sizeof(TAG_FRAGMENT) - 1);
	return h;
}

void sd_sqfs_cache_frag_add(struct sd_sha256 *h, uint32_t len,
			    const uint8_t sha[SD_SHA256_LEN])
{
	uint8_t d[4 + SD_SHA256_LEN];

	put_le32(d, len);
	memcpy(d + 4, sha, SD_SHA256_LEN);
	sd_sha256_update(h, d, sizeof(d));
}

/*
 * Is @v (@len bytes) a value compressing @unit (@in, @size bytes) could
 * have given?  Sets *@stored and *@compressed when it is.
 */
static bool valid_value(const struct sd_sqfs_cache *c, enum sd_sqfs_unit unit,
			const uint8_t *v, size_t len, const unsigned char *in,
			uint32_t size, uint32_t *stored, bool *compressed)
{
	uint32_t n;

	if (len < SD_SQFS_CACHE_VHDR || v[V_UNIT] != unit ||
	    (v[V_FLAGS] & ~V_COMPRESSED) != 0 || get_le16(v + V_ZERO) != 0 ||
	    get_le32(v + V_CONTENT) != size)
		return false;
	n = get_le32(v + V_STORED);
	if (n > c->bs || len - SD_SQFS_CACHE_VHDR != n)
		return false;
	*stored = n;
	*compressed = v[V_FLAGS] & V_COMPRESSED;
	if (*compressed)
		return n > 0 && n < size;
	return n == size && memcmp(v + SD_SQFS_CACHE_VHDR, in, n) == 0;
}

sqfs_s32 sd_sqfs_cache_do_block(const struct sd_sqfs_cache *c,
				enum sd_sqfs_unit unit,
				const uint8_t desc[SD_SHA256_LEN],
				sqfs_compressor_t *cmp, const unsigned char *in,
				uint32_t size, unsigned char *out,
				unsigned char *vbuf)
{
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	void *v = NULL;
	size_t len = 0;
	uint32_t n = 0;
	bool compressed = false, found;
	sqfs_s32 ret;

	if (sd_compcache_key(c->params[unit - 1], desc, key, NULL))
		return cmp->do_block(cmp, in, size, out, c->bs);
	found = sd_compcache_get(c->cc, key, &v, &len);
	if (found && valid_value(c, unit, v, len, in, size, &n, &compressed)) {
		if (compressed)
			memcpy(out, (uint8_t *)v + SD_SQFS_CACHE_VHDR, n);
		free(v);
		return compressed ? (sqfs_s32)n : 0;
	}
	free(v);
	ret = cmp->do_block(cmp, in, size, out, c->bs);
	if (ret < 0)
		return ret;
	n = ret > 0 ? (uint32_t)ret : size;
	vbuf[V_UNIT] = (uint8_t)unit;
	vbuf[V_FLAGS] = ret > 0 ? V_COMPRESSED : 0;
	put_le16(vbuf + V_ZERO, 0);
	put_le32(vbuf + V_CONTENT, size);
	put_le32(vbuf + V_STORED, n);
	memcpy(vbuf + SD_SQFS_CACHE_VHDR, ret > 0 ? out : in, n);
	/* a value found but refused is replaced (a put keeps what is there) */
	if (found)
		sd_compcache_replace(c->cc, key, vbuf,
				     SD_SQFS_CACHE_VHDR + (size_t)n);
	else
		sd_compcache_put(c->cc, key, vbuf,
				 SD_SQFS_CACHE_VHDR + (size_t)n);
	return ret;
}
