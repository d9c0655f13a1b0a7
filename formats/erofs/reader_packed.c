/* SPDX-License-Identifier: MIT */
/*
 * reader_packed.c — decoding one extent into a buffer, and reads at any
 * offset of the packed inode, where fragments keep file data (see
 * reader_int.h and the fragment notes in erofs_disk.h).
 *
 * A fragment is a byte range of the packed inode's data; files read their
 * fragment through sd_erofs_packed_read(), which maps the offset to the
 * packed inode's extent (sd_erofs_z_find), decodes that extent once into
 * a cache the image's streams share and serves the following reads from
 * it.  The packed inode itself never has
 * fragments (sd_erofs_z_init refuses it), so reads never recurse.
 */
#include "formats/erofs/reader_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "formats/erofs/erofs_disk.h"

static int grow(uint8_t **buf, size_t *cap, size_t need, struct sd_error *err)
{
	if (need <= *cap)
		return SD_OK;
	uint8_t *n = realloc(*buf, need);
	if (!n)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	*buf = n;
	*cap = need;
	return SD_OK;
}

/* Raw (PLAIN) pcluster: shifted (data from its start) or interlaced (the
 * first part up to a block boundary sits at the pcluster's end). */
static void copy_plain(const struct sd_erofs_image *img,
		       const struct sd_erofs_zext *x, struct sd_erofs_zbuf *zb)
{
	if (!x->interlaced) {
		memcpy(zb->out, zb->in, x->llen);
		return;
	}
	uint64_t cur = img->blksz - (x->la & (img->blksz - 1));
	if (cur > x->llen)
		cur = x->llen;
	memcpy(zb->out, zb->in + (x->plen - cur), cur);
	memcpy(zb->out + cur, zb->in, x->llen - cur);
}

int sd_erofs_zbuf_fill(const struct sd_erofs_image *img,
		       const struct sd_erofs_inode *ino,
		       const struct sd_erofs_zext *x, struct sd_erofs_zbuf *zb,
		       struct sd_error *err)
{
	const char *why = NULL;
	int ret;

	zb->len = 0;
	if (x->fragment)
		return sd_erofs_corrupt(img, ino->nid, err,
					"extent at %llu: "
					"a fragment is not a pcluster",
					(unsigned long long)x->la);
	ret = grow(&zb->in, &zb->in_cap, x->plen, err);
	if (!ret)
		ret = grow(&zb->out, &zb->out_cap, x->llen, err);
	if (!ret)
		ret = sd_erofs_pread(img, ino->nid, "pcluster", zb->in, x->plen,
				     x->pa, err);
	if (ret)
		return ret;
	if (x->plain)
		copy_plain(img, x, zb);
	else if (sd_erofs_decompress(x->alg, zb->in, x->plen, zb->out, x->llen,
				     img->feature_incompat &
					     EROFS_FEATURE_INCOMPAT_ZERO_PADDING,
				     img->blksz, &why))
		return sd_erofs_corrupt(
			img, ino->nid, err,
			"extent at %llu "
			"(%llu bytes from block %llu): %s",
			(unsigned long long)x->la, (unsigned long long)x->llen,
			(unsigned long long)(x->pa >> img->blkszbits), why);
	zb->la = x->la;
	zb->len = x->llen;
	return SD_OK;
}

void sd_erofs_zbuf_free(struct sd_erofs_zbuf *zb)
{
	free(zb->out);
	free(zb->in);
	memset(zb, 0, sizeof(*zb));
}

/* Extents kept: two, so that a fragment across an extent boundary
 * read by one stream and another stream elsewhere do not evict each
 * other at every read. */
#define PCACHE_SLOTS 2

struct sd_erofs_pcache {
	pthread_mutex_t mu;
	struct sd_erofs_inode ino; /* the packed inode */
	struct sd_erofs_zbuf slot[PCACHE_SLOTS];
	uint64_t used[PCACHE_SLOTS]; /* last use, for eviction */
	uint64_t clock;
};

int sd_erofs_pcache_new(const struct sd_erofs_inode *packed,
			struct sd_erofs_pcache **out, struct sd_error *err)
{
	struct sd_erofs_pcache *pc = calloc(1, sizeof(*pc));

	*out = NULL;
	if (!pc)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&pc->mu, NULL) != 0) {
		free(pc);
		return sd_error_set(err, SD_ERR_NOMEM, "cannot create a lock");
	}
	pc->ino = *packed;
	*out = pc;
	return SD_OK;
}

void sd_erofs_pcache_free(struct sd_erofs_pcache *pc)
{
	if (!pc)
		return;
	for (unsigned i = 0; i < PCACHE_SLOTS; i++)
		sd_erofs_zbuf_free(&pc->slot[i]);
	pthread_mutex_destroy(&pc->mu);
	free(pc);
}

static bool compressed(const struct sd_erofs_inode *ino)
{
	return ino->layout == EROFS_INODE_COMPRESSED_FULL ||
	       ino->layout == EROFS_INODE_COMPRESSED_COMPACT;
}

/* Uncompressed packed inode: straight from the image. */
static int read_flat(const struct sd_erofs_image *img,
		     const struct sd_erofs_inode *ino, uint64_t off,
		     uint8_t *buf, size_t len, size_t *got,
		     struct sd_error *err)
{
	uint64_t pa, run;
	bool hole;
	int ret = sd_erofs_map_flat(img, ino, off, &pa, &run, &hole, err);

	if (ret)
		return ret;
	size_t n = len < run ? len : (size_t)run;
	if (n == 0)
		return sd_erofs_corrupt(img, ino->nid, err,
					"no data at byte "
					"%llu",
					(unsigned long long)off);
	if (hole)
		memset(buf, 0, n);
	else if ((ret = sd_erofs_pread(img, ino->nid, "packed data", buf, n, pa,
				       err)))
		return ret;
	*got = n;
	return SD_OK;
}

/* With pc->mu held: the slot holding @off, decoded if needed. */
static int slot_for(const struct sd_erofs_image *img,
		    struct sd_erofs_pcache *pc, uint64_t off,
		    struct sd_erofs_zbuf **out, struct sd_error *err)
{
	unsigned victim = 0;
	struct sd_erofs_zext x;

	for (unsigned i = 0; i < PCACHE_SLOTS; i++) {
		struct sd_erofs_zbuf *zb = &pc->slot[i];
		if (zb->len && off >= zb->la && off - zb->la < zb->len) {
			pc->used[i] = ++pc->clock;
			*out = zb;
			return SD_OK;
		}
		if (pc->used[i] < pc->used[victim])
			victim = i;
	}
	int ret = sd_erofs_z_find(img, &pc->ino, off, &x, err);
	if (!ret)
		ret = sd_erofs_zbuf_fill(img, &pc->ino, &x, &pc->slot[victim],
					 err);
	if (ret)
		return ret;
	pc->used[victim] = ++pc->clock;
	*out = &pc->slot[victim];
	return SD_OK;
}

int sd_erofs_packed_read(const struct sd_erofs_image *img, uint64_t nid,
			 uint64_t off, uint8_t *buf, size_t len, size_t *got,
			 struct sd_error *err)
{
	struct sd_erofs_pcache *pc = img->pcache;
	struct sd_erofs_zbuf *zb;
	int ret;

	*got = 0;
	if (!img->has_packed || !pc)
		return sd_erofs_corrupt(img, nid, err,
					"fragment data but the "
					"image has no packed inode");
	if (off >= pc->ino.size || len > pc->ino.size - off)
		return sd_erofs_corrupt(img, nid, err,
					"fragment at byte %llu "
					"(+%zu) beyond the packed inode's "
					"%llu bytes",
					(unsigned long long)off, len,
					(unsigned long long)pc->ino.size);
	if (!compressed(&pc->ino))
		return read_flat(img, &pc->ino, off, buf, len, got, err);
	pthread_mutex_lock(&pc->mu);
	ret = slot_for(img, pc, off, &zb, err);
	if (!ret) {
		uint64_t avail = zb->len - (off - zb->la);
		size_t n = len < avail ? len : (size_t)avail;
		memcpy(buf, zb->out + (off - zb->la), n);
		*got = n;
	}
	pthread_mutex_unlock(&pc->mu);
	return ret;
}
