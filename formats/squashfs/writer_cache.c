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
#define TAG_FILE "file"
#define FILE_MAGIC "sqf1"
/* A file entry's trailer: le32 block count, the magic. */
#define FILE_TRAILER 8u
#define KIND_SPARSE 0u
#define KIND_DATA 1u

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

static const char *const unit_names[] = {"block", "fragment", "file"};

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
		.kind = unit_names[unit - 1],
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
	for (int u = SD_SQFS_UNIT_BLOCK; u <= SD_SQFS_UNIT_FILE; u++) {
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

/* ---- file entries (writer_cache.h) ------------------------------------- */

static bool is_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return false;
	}
	return true;
}

void sd_sqfs_fentry_reset(struct sd_sqfs_fentry *e)
{
	e->len = 0;
	e->nblocks = 0;
	e->ok = true;
}

/* Room for @n more bytes; clears e->ok when there is no memory. */
static uint8_t *fentry_room(struct sd_sqfs_fentry *e, size_t n)
{
	if (!e->ok)
		return NULL;
	if (e->cap - e->len < n) {
		size_t cap = e->cap ? e->cap : 256;
		uint8_t *b;

		while (cap - e->len < n)
			cap *= 2;
		b = realloc(e->buf, cap);
		if (!b) {
			e->ok = false;
			return NULL;
		}
		e->buf = b;
		e->cap = cap;
	}
	e->len += n;
	return e->buf + e->len - n;
}

void sd_sqfs_fentry_block(struct sd_sqfs_fentry *e, bool sparse,
			  const uint8_t *sha)
{
	uint8_t *r;

	if (!sparse && !sha) {
		e->ok = false;
		return;
	}
	r = fentry_room(e, sparse ? 1 : 1 + SD_SHA256_LEN);
	if (!r)
		return;
	r[0] = sparse ? KIND_SPARSE : KIND_DATA;
	if (!sparse)
		memcpy(r + 1, sha, SD_SHA256_LEN);
	e->nblocks++;
}

void sd_sqfs_fentry_tail(struct sd_sqfs_fentry *e, uint32_t len,
			 const unsigned char *bytes, const uint8_t *sha)
{
	uint8_t *r;

	if (len && bytes && !sha) {
		e->ok = false;
		return;
	}
	r = fentry_room(e, 4 + (len ? SD_SHA256_LEN + (size_t)len : 0));
	if (!r)
		return;
	put_le32(r, len);
	if (!len)
		return;
	if (bytes) {
		memcpy(r + 4, sha, SD_SHA256_LEN);
		memcpy(r + 4 + SD_SHA256_LEN, bytes, len);
	} else {
		memset(r + 4, 0, SD_SHA256_LEN + (size_t)len);
	}
}

bool sd_sqfs_cache_file_key(const struct sd_sqfs_cache *c, uint64_t size,
			    const uint8_t digest[SD_SHA256_LEN],
			    uint8_t key[SD_COMPCACHE_KEY_LEN])
{
	uint8_t d[sizeof(TAG_FILE) - 1 + 8 + SD_SHA256_LEN], sha[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();

	if (!h)
		return false;
	memcpy(d, TAG_FILE, sizeof(TAG_FILE) - 1);
	put_le64(d + sizeof(TAG_FILE) - 1, size);
	memcpy(d + sizeof(TAG_FILE) - 1 + 8, digest, SD_SHA256_LEN);
	sd_sha256_update(h, d, sizeof(d));
	sd_sha256_final(h, sha);
	return sd_compcache_key(c->params[SD_SQFS_UNIT_FILE - 1], sha, key,
				NULL) == 0;
}

void sd_sqfs_fentry_put(const struct sd_sqfs_cache *c, struct sd_sqfs_fentry *e,
			uint64_t size, const uint8_t digest[SD_SHA256_LEN])
{
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	uint8_t *t;

	if (!sd_sqfs_cache_on(c) || !e->ok || e->nblocks != size / c->bs ||
	    !sd_sqfs_cache_file_key(c, size, digest, key))
		return;
	/* the trailer goes on the buffer's end, then comes off again */
	t = fentry_room(e, FILE_TRAILER);
	if (!t)
		return;
	put_le32(t, e->nblocks);
	memcpy(t + 4, FILE_MAGIC, 4);
	sd_compcache_put(c->cc, key, e->buf, e->len);
	e->len -= FILE_TRAILER;
}

void sd_sqfs_fentry_release(struct sd_sqfs_fentry *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

void sd_sqfs_fhit_release(struct sd_sqfs_fhit *h)
{
	for (uint32_t i = 0; h->blocks && i < h->nblocks; i++)
		free(h->blocks[i].val);
	free(h->blocks);
	free(h->val);
	memset(h, 0, sizeof(*h));
}

/*
 * Decode file entry @v (@len bytes) of a file of @size bytes with digest
 * @digest into @h (blocks allocated, their units not yet looked up).
 */
static bool decode_file(const struct sd_sqfs_cache *c, const uint8_t *v,
			size_t len, uint64_t size,
			const uint8_t digest[SD_SHA256_LEN],
			struct sd_sqfs_fhit *h)
{
	uint64_t nfull = size / c->bs;
	uint32_t tail = (uint32_t)(size % c->bs);
	size_t off = 0, end;

	if (len < FILE_TRAILER + 4 || nfull > UINT32_MAX)
		return false;
	end = len - FILE_TRAILER;
	if (memcmp(v + end + 4, FILE_MAGIC, 4) || get_le32(v + end) != nfull)
		return false;
	/* at least one byte a block before the tail length */
	if (nfull > end - 4)
		return false;
	h->nblocks = (uint32_t)nfull;
	h->blocks = calloc(nfull ? nfull : 1, sizeof(*h->blocks));
	if (!h->blocks)
		return false;
	for (uint32_t i = 0; i < h->nblocks; i++) {
		struct sd_sqfs_hblock *b = &h->blocks[i];

		if (off >= end)
			return false;
		if (v[off] == KIND_SPARSE) {
			b->sparse = true;
			off++;
			continue;
		}
		if (v[off] != KIND_DATA || end - off < 1 + SD_SHA256_LEN)
			return false;
		/* the digest, until the unit is looked up */
		b->data = v + off + 1;
		off += 1 + SD_SHA256_LEN;
	}
	if (end - off < 4 || get_le32(v + off) != tail)
		return false;
	off += 4;
	h->tail = tail;
	if (tail) {
		if (end - off != SD_SHA256_LEN + (size_t)tail)
			return false;
		h->tail_bytes = v + off + SD_SHA256_LEN;
		if (!is_zero(h->tail_bytes, tail)) {
			h->tail_sha = v + off;
			/* a file of one tail: the tail is the file */
			if (!nfull &&
			    memcmp(h->tail_sha, digest, SD_SHA256_LEN))
				return false;
		}
		off += SD_SHA256_LEN + (size_t)tail;
	}
	return off == end;
}

/* Look up data block @b (its digest at b->data) and validate its value. */
static bool get_block(const struct sd_sqfs_cache *c, struct sd_sqfs_hblock *b)
{
	uint8_t desc[SD_SHA256_LEN], key[SD_COMPCACHE_KEY_LEN];
	const uint8_t *v;
	size_t len = 0;
	uint32_t n;

	if (!sd_sqfs_cache_block_desc(c->bs, b->data, desc) ||
	    sd_compcache_key(c->params[SD_SQFS_UNIT_BLOCK - 1], desc, key,
			     NULL) ||
	    !sd_compcache_get(c->cc, key, &b->val, &len))
		return false;
	v = b->val;
	if (len < SD_SQFS_CACHE_VHDR || v[V_UNIT] != SD_SQFS_UNIT_BLOCK ||
	    (v[V_FLAGS] & ~V_COMPRESSED) != 0 || get_le16(v + V_ZERO) != 0 ||
	    get_le32(v + V_CONTENT) != c->bs)
		return false;
	n = get_le32(v + V_STORED);
	if (n > c->bs || len - SD_SQFS_CACHE_VHDR != n)
		return false;
	b->compressed = v[V_FLAGS] & V_COMPRESSED;
	b->stored = n;
	b->data = v + SD_SQFS_CACHE_VHDR;
	/* what comp.c would have stored: compressed only when smaller; a
	 * raw block all zero would have been sparse */
	if (b->compressed)
		return n > 0 && n < c->bs;
	return n == c->bs && !is_zero(b->data, n);
}

bool sd_sqfs_cache_file_get(const struct sd_sqfs_cache *c, uint64_t size,
			    const uint8_t digest[SD_SHA256_LEN],
			    struct sd_sqfs_fhit *out)
{
	uint8_t key[SD_COMPCACHE_KEY_LEN];
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if (!sd_sqfs_cache_on(c) ||
	    !sd_sqfs_cache_file_key(c, size, digest, key))
		return false;
	if (!sd_compcache_get(c->cc, key, &out->val, &len))
		return false;
	if (!decode_file(c, out->val, len, size, digest, out))
		goto miss;
	for (uint32_t i = 0; i < out->nblocks; i++) {
		if (!out->blocks[i].sparse && !get_block(c, &out->blocks[i]))
			goto miss;
	}
	return true;
miss:
	sd_sqfs_fhit_release(out);
	return false;
}
