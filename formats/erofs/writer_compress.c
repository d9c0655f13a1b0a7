/* SPDX-License-Identifier: MIT */
/*
 * writer_compress.c — one segment of a file into a chain of fixed-output
 * physical clusters (see writer_z.h for the rules).
 */
#include "formats/erofs/writer_z.h"

#include <stdlib.h>
#include <string.h>

void ewz_seg_free(struct ewz_seg *s)
{
	free(s->pcl);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static void push(struct ewz_seg *out, uint64_t la, uint32_t llen,
		 uint32_t blocks, uint32_t clen, bool plain)
{
	struct ewz_pcl *p = &out->pcl[out->npcl++];

	p->la = la;
	p->llen = llen;
	p->clen = clen;
	p->blocks = blocks;
	p->blkaddr = 0;
	p->plain = plain;
	out->nblocks += blocks;
}

/*
 * Store @len bytes raw as one-block PLAIN pclusters of 4 KiB each (data at
 * the block start, zero-filled).  Only a file's last piece can run from
 * one lcluster into the next without ending on its boundary (segment
 * ends are lcluster-aligned); the indexes then mark the file end with an
 * empty head (writer_zindex.c).
 */
static void store_raw(struct ewz_seg *out, const uint8_t *in, size_t len,
		      uint64_t la)
{
	while (len) {
		size_t n = len < EW_BLKSIZE ? len : EW_BLKSIZE;
		uint8_t *d = out->data + (size_t)out->nblocks * EW_BLKSIZE;

		memcpy(d, in, n);
		memset(d + n, 0, EW_BLKSIZE - n);
		push(out, la, (uint32_t)n, 1, (uint32_t)n, true);
		in += n;
		la += n;
		len -= n;
	}
}

int ewz_compress_segment(struct ez_comp *c, const struct ez_config *cfg,
			 uint8_t *scratch, const uint8_t *in, size_t len,
			 uint64_t la0, uint32_t tail_room, struct ewz_seg *out)
{
	size_t maxblocks = (len + EW_BLKSIZE - 1) / EW_BLKSIZE + 1;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	out->pcl = malloc(maxblocks * sizeof(*out->pcl));
	/* with room for the records of a cache value (ewz_seg_encode) */
	out->data = malloc(maxblocks * (EW_BLKSIZE + EWZ_REC_LEN) +
			   EWZ_TRAILER_LEN);
	if (!out->pcl || !out->data) {
		ewz_seg_free(out);
		return SD_ERR_NOMEM;
	}
	while (pos < len) {
		size_t rest = len - pos, got = rest;
		long r = ez_comp_destsize(c, in + pos, &got, scratch,
					  cfg->pcluster);

		if (r < 0) {
			ewz_seg_free(out);
			return SD_ERR_NOMEM;
		}
		if (r > 0 && got <= rest) {
			uint32_t blocks =
				(uint32_t)(((size_t)r + EW_BLKSIZE - 1) /
					   EW_BLKSIZE);
			size_t room = (size_t)blocks * EW_BLKSIZE;

			if (got > room ||
			    (got == rest && (size_t)r <= tail_room)) {
				uint8_t *d = out->data +
					     (size_t)out->nblocks * EW_BLKSIZE;

				memset(d, 0, room - (size_t)r);
				memcpy(d + room - (size_t)r, scratch,
				       (size_t)r);
				push(out, la0 + pos, (uint32_t)got, blocks,
				     (uint32_t)r, false);
				pos += got;
				continue;
			}
		}
		/* compression does not pay: one pcluster's input raw */
		size_t raw = rest < cfg->pcluster ? rest : cfg->pcluster;
		store_raw(out, in + pos, raw, la0 + pos);
		pos += raw;
	}
	return SD_OK;
}
