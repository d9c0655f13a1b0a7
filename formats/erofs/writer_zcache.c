/* SPDX-License-Identifier: MIT */
/*
 * writer_zcache.c — the compression cache of the compressed EROFS writer
 * (units, keys and the value format are described in writer_z.h).
 *
 * Everything here runs on the thread that read and compresses the
 * segment (writer_zpipe.c), outside the pipeline's lock; the cache handle
 * is thread-safe and the parameter string is built once per write.
 */
#include "formats/erofs/writer_z.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "formats/erofs/erofs_disk.h"

/* Bump when ewz_compress_segment's rules, a backend's output (zcomp_*.c:
 * its settings, its prefix search) or the value format change: it is part
 * of the parameters, so old entries are never found. */
#define EWZ_CACHE_RULES 1

/* The content description's tag and size (writer_z.h). */
#define SEG_TAG "segment"
#define SEG_TAG_LEN (sizeof(SEG_TAG) - 1)
#define SEG_DESC_LEN (SEG_TAG_LEN + 8 + 4 + SD_SHA256_LEN)
_Static_assert(SEG_DESC_LEN == 51, "segment description is 51 bytes");

/* The value's trailer magic. */
static const uint8_t trailer_magic[4] = {'e', 'w', 'z', '1'};

/* A file entry's description and trailer magic (writer_z.h). */
#define FILE_TAG "file"
#define FILE_TAG_LEN (sizeof(FILE_TAG) - 1)
#define FILE_DESC_LEN (FILE_TAG_LEN + 8 + SD_SHA256_LEN)
_Static_assert(FILE_DESC_LEN == 44, "file description is 44 bytes");
static const uint8_t file_magic[4] = {'e', 'w', 'f', '1'};
_Static_assert(EWZ_FREC_LEN == 32 + 4 + 4, "file entry record");

_Static_assert(EWZ_REC_LEN == 4 + 4 + 4 + 2 + 2, "pcluster record");
_Static_assert(EWZ_TRAILER_LEN == 4 + 4 + 4, "value trailer");
_Static_assert(Z_EROFS_PCLUSTER_MAX_SIZE / EW_BLKSIZE <= UINT16_MAX,
	       "blocks of a pcluster fit a le16");

int ewz_cache_params(const struct ez_config *cfg, const char *kind, bool ztail,
		     char *buf, size_t size, struct sd_error *err)
{
	char lib[128], layout[64];
	struct sd_compcache_params p = {
		.format = "erofs",
		.kind = kind,
		.compressor = ez_name(cfg),
		.library = ez_library(cfg, lib, sizeof(lib)),
		/* lz4 has no levels (cfg->level -1): 0 */
		.level = cfg->level < 0 ? 0 : cfg->level,
		.block_size = cfg->pcluster,
		.layout = layout,
	};

	if (!strcmp(kind, "file")) /* the cut depends on ztailpacking */
		snprintf(layout, sizeof(layout),
			 "rules=%d,blksize=%u,dict=%u,ztail=%d",
			 EWZ_CACHE_RULES, EW_BLKSIZE, cfg->dict_size,
			 ztail ? 1 : 0);
	else
		snprintf(layout, sizeof(layout), "rules=%d,blksize=%u,dict=%u",
			 EWZ_CACHE_RULES, EW_BLKSIZE, cfg->dict_size);
	return sd_compcache_params(&p, buf, size, err);
}

void ewz_cache_init(struct ewz_cache *zc, struct sd_compcache *cc,
		    const struct ez_config *cfg, bool ztail)
{
	memset(zc, 0, sizeof(*zc));
	if (!cc || cfg->alg == EZ_NONE || !sd_compcache_enabled(cc))
		return;
	if (ewz_cache_params(cfg, "segment", ztail, zc->params,
			     sizeof(zc->params), NULL) ||
	    ewz_cache_params(cfg, "file", ztail, zc->fparams,
			     sizeof(zc->fparams), NULL))
		return; /* cannot happen with our strings; no cache then */
	zc->cc = cc;
}

int ewz_file_key(const char *fparams, uint64_t size,
		 const uint8_t digest[SD_SHA256_LEN],
		 uint8_t key[SD_COMPCACHE_KEY_LEN], struct sd_error *err)
{
	uint8_t desc[FILE_DESC_LEN], sha[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();

	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	memcpy(desc, FILE_TAG, FILE_TAG_LEN);
	put_le64(desc + FILE_TAG_LEN, size);
	memcpy(desc + FILE_TAG_LEN + 8, digest, SD_SHA256_LEN);
	sd_sha256_update(h, desc, sizeof(desc));
	sd_sha256_final(h, sha);
	return sd_compcache_key(fparams, sha, key, err);
}

size_t ewz_file_encode(const struct ewz_fseg *s, size_t n, uint8_t *out)
{
	uint8_t *r = out;

	for (size_t i = 0; i < n; i++, r += EWZ_FREC_LEN) {
		memcpy(r, s[i].digest, SD_SHA256_LEN);
		put_le32(r + 32, s[i].len);
		put_le32(r + 36, s[i].tail_room);
	}
	put_le32(r, (uint32_t)n);
	memcpy(r + 4, file_magic, sizeof(file_magic));
	return n * EWZ_FREC_LEN + EWZ_FTRAILER_LEN;
}

bool ewz_file_decode(const uint8_t *val, size_t vlen, uint64_t size,
		     const uint8_t digest[SD_SHA256_LEN], uint32_t pcluster,
		     uint32_t tail_room, struct ewz_fseg *out, size_t n)
{
	size_t seg = ewz_segment_size(pcluster);
	const uint8_t *tr;
	uint64_t off = 0;

	if (!size || n != (size + seg - 1) / seg ||
	    vlen != n * EWZ_FREC_LEN + EWZ_FTRAILER_LEN)
		return false;
	tr = val + vlen - EWZ_FTRAILER_LEN;
	if (get_le32(tr) != n || memcmp(tr + 4, file_magic, sizeof(file_magic)))
		return false;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = val + i * EWZ_FREC_LEN;
		bool last = i + 1 == n;
		uint64_t want = last ? size - off : seg;

		memcpy(out[i].digest, r, SD_SHA256_LEN);
		out[i].len = get_le32(r + 32);
		out[i].tail_room = get_le32(r + 36);
		/* the pipeline's cut: full segments, the rest last; tail
		 * room only at the end, as the file size gives it */
		if (out[i].len != want ||
		    out[i].tail_room != (last ? tail_room : 0))
			return false;
		off += out[i].len;
	}
	/* a file of one segment: that segment's digest is the file's */
	return n > 1 || !memcmp(out[0].digest, digest, SD_SHA256_LEN);
}

int ewz_cache_key(const char *params, size_t len, uint32_t tail_room,
		  const uint8_t digest[SD_SHA256_LEN],
		  uint8_t key[SD_COMPCACHE_KEY_LEN], struct sd_error *err)
{
	uint8_t desc[SEG_DESC_LEN], sha[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();

	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	memcpy(desc, SEG_TAG, SEG_TAG_LEN);
	put_le64(desc + SEG_TAG_LEN, (uint64_t)len);
	put_le32(desc + SEG_TAG_LEN + 8, tail_room);
	memcpy(desc + SEG_TAG_LEN + 12, digest, SD_SHA256_LEN);
	sd_sha256_update(h, desc, sizeof(desc));
	sd_sha256_final(h, sha);
	return sd_compcache_key(params, sha, key, err);
}

size_t ewz_seg_encode(struct ewz_seg *s, uint64_t la0)
{
	uint8_t *r = s->data + (size_t)s->nblocks * EW_BLKSIZE;

	for (size_t i = 0; i < s->npcl; i++, r += EWZ_REC_LEN) {
		const struct ewz_pcl *p = &s->pcl[i];

		put_le32(r, (uint32_t)(p->la - la0));
		put_le32(r + 4, p->llen);
		put_le32(r + 8, p->clen);
		put_le16(r + 12, (uint16_t)p->blocks);
		put_le16(r + 14, p->plain ? 1 : 0);
	}
	put_le32(r, (uint32_t)s->npcl);
	put_le32(r + 4, s->nblocks);
	memcpy(r + 8, trailer_magic, sizeof(trailer_magic));
	return (size_t)s->nblocks * EW_BLKSIZE + s->npcl * EWZ_REC_LEN +
	       EWZ_TRAILER_LEN;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

bool ewz_seg_decode(uint8_t *val, size_t vlen, size_t len, uint32_t tail_room,
		    uint64_t la0, uint32_t pcluster, struct ewz_seg *out)
{
	size_t maxblocks = (len + EW_BLKSIZE - 1) / EW_BLKSIZE + 1;
	uint32_t per = pcluster / EW_BLKSIZE; /* blocks of a full pcluster */
	const uint8_t *tr, *recs;
	uint32_t npcl, nblocks, bsum = 0, rawrun = 0;
	struct ewz_pcl *pcl;
	size_t pos = 0;

	if (!len || !per || vlen < EWZ_TRAILER_LEN)
		return false;
	tr = val + vlen - EWZ_TRAILER_LEN;
	if (memcmp(tr + 8, trailer_magic, sizeof(trailer_magic)))
		return false;
	npcl = get_le32(tr);
	nblocks = get_le32(tr + 4);
	/* every pcluster has a block, and a segment has at most as many
	 * blocks as ewz_compress_segment allocates */
	if (!npcl || npcl > nblocks || nblocks > maxblocks)
		return false;
	if ((uint64_t)vlen != (uint64_t)nblocks * EW_BLKSIZE +
				      (uint64_t)npcl * EWZ_REC_LEN +
				      EWZ_TRAILER_LEN)
		return false;
	recs = val + (size_t)nblocks * EW_BLKSIZE;
	pcl = malloc(npcl * sizeof(*pcl));
	if (!pcl)
		return false;
	for (uint32_t i = 0; i < npcl; i++) {
		const uint8_t *r = recs + (size_t)i * EWZ_REC_LEN;
		uint32_t off = get_le32(r), llen = get_le32(r + 4);
		uint32_t clen = get_le32(r + 8), blocks = get_le16(r + 12);
		uint16_t flags = get_le16(r + 14);
		const uint8_t *blk = val + (size_t)bsum * EW_BLKSIZE;
		size_t room = (size_t)blocks * EW_BLKSIZE;
		bool end;

		/* contiguous from 0, within the segment and its blocks */
		if (off != pos || !llen || llen > len - pos || !blocks ||
		    blocks > per || blocks > nblocks - bsum || flags > 1)
			goto bad;
		end = pos + llen == len;
		if (flags) {
			/* raw: 4 KiB in one block (less only at the end),
			 * zero-filled behind its bytes */
			if (blocks != 1 || clen != llen || llen > EW_BLKSIZE ||
			    (llen != EW_BLKSIZE && !end) ||
			    !all_zero(blk + llen, EW_BLKSIZE - llen))
				goto bad;
			rawrun++;
		} else {
			/* a raw run stores a whole pcluster's input unless
			 * it reaches the segment end */
			if (rawrun % per)
				goto bad;
			rawrun = 0;
			/* right-aligned behind zeros, in as few blocks as
			 * hold it, saving a block (or the inline tail) */
			if (!clen || clen > room ||
			    (clen + EW_BLKSIZE - 1) / EW_BLKSIZE != blocks ||
			    !(llen > room || (end && clen <= tail_room)) ||
			    !all_zero(blk, room - clen))
				goto bad;
		}
		pcl[i].la = la0 + pos;
		pcl[i].llen = llen;
		pcl[i].blocks = blocks;
		pcl[i].blkaddr = 0;
		pcl[i].clen = clen;
		pcl[i].plain = flags ? 1 : 0;
		pos += llen;
		bsum += blocks;
	}
	if (pos != len || bsum != nblocks)
		goto bad;
	out->pcl = pcl;
	out->npcl = npcl;
	out->data = val;
	out->nblocks = nblocks;
	return true;
bad:
	free(pcl);
	return false;
}

int ewz_compress_cached(const struct ewz_cache *zc, struct ez_comp *c,
			const struct ez_config *cfg, uint8_t *scratch,
			const uint8_t *in, size_t len, uint64_t la0,
			uint32_t tail_room, const uint8_t *digest,
			struct ewz_seg *out)
{
	uint8_t key[SD_COMPCACHE_KEY_LEN], own[SD_SHA256_LEN];
	void *val;
	size_t vlen;
	bool bad = false;
	int ret;

	/* no cache, or one turned off: nothing but the compression */
	if (!zc || !zc->cc || !sd_compcache_enabled(zc->cc) || !len)
		return ewz_compress_segment(c, cfg, scratch, in, len, la0,
					    tail_room, out);
	if (!digest) {
		struct sd_sha256 *h = sd_sha256_new();

		if (!h)
			return SD_ERR_NOMEM;
		sd_sha256_update(h, in, len);
		sd_sha256_final(h, own);
		digest = own;
	}
	if (ewz_cache_key(zc->params, len, tail_room, digest, key, NULL))
		return ewz_compress_segment(c, cfg, scratch, in, len, la0,
					    tail_room, out);
	if (sd_compcache_get(zc->cc, key, &val, &vlen)) {
		memset(out, 0, sizeof(*out));
		if (ewz_seg_decode(val, vlen, len, tail_room, la0,
				   cfg->pcluster, out))
			return SD_OK;
		free(val); /* not what the compressor makes: a miss */
		bad = true;
	}
	ret = ewz_compress_segment(c, cfg, scratch, in, len, la0, tail_room,
				   out);
	if (!ret) {
		vlen = ewz_seg_encode(out, la0);
		/* a put keeps an existing entry: a bad one is replaced */
		if (bad)
			sd_compcache_replace(zc->cc, key, out->data, vlen);
		else
			sd_compcache_put(zc->cc, key, out->data, vlen);
	}
	return ret;
}
