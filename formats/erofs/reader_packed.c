/*
 * reader_packed.c — decoding one extent into a buffer, and reads at any
 * offset of the packed inode, where fragments keep file data (see
 * reader_int.h and the fragment notes in erofs_disk.h).
 *
 * A fragment is a byte range of the packed inode's data; files read their
 * fragment through sd_erofs_packed_read(), which maps the offset to the
 * packed inode's extent (sd_erofs_z_find), decodes that extent once and
 * serves the following reads from it.  The packed inode itself never has
 * fragments (sd_erofs_z_init refuses it), so reads never recurse.
 */
#include "formats/erofs/reader_int.h"

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
static void copy_plain(const struct sd_erofs_img *img,
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

int sd_erofs_zbuf_fill(const struct sd_erofs_img *img,
		       const struct sd_erofs_inode *ino,
		       const struct sd_erofs_zext *x, struct sd_erofs_zbuf *zb,
		       struct sd_error *err)
{
	const char *why = NULL;
	int ret;

	zb->len = 0;
	if (x->fragment)
		return sd_erofs_corrupt(img, ino->nid, err, "extent at %llu: "
					"a fragment is not a pcluster",
					(unsigned long long)x->la);
	ret = grow(&zb->in, &zb->in_cap, x->plen, err);
	if (!ret)
		ret = grow(&zb->out, &zb->out_cap, x->llen, err);
	if (!ret)
		ret = sd_erofs_pread(img, ino->nid, "pcluster", zb->in,
				     x->plen, x->pa, err);
	if (ret)
		return ret;
	if (x->plain)
		copy_plain(img, x, zb);
	else if (sd_erofs_decompress(x->alg, zb->in, x->plen, zb->out,
				     x->llen, img->feature_incompat &
					     EROFS_FEATURE_INCOMPAT_ZERO_PADDING,
				     img->blksz, &why))
		return sd_erofs_corrupt(img, ino->nid, err, "extent at %llu "
					"(%llu bytes from block %llu): %s",
					(unsigned long long)x->la,
					(unsigned long long)x->llen,
					(unsigned long long)(x->pa >>
							     img->blkszbits),
					why);
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

static bool compressed(const struct sd_erofs_inode *ino)
{
	return ino->layout == EROFS_INODE_COMPRESSED_FULL ||
	       ino->layout == EROFS_INODE_COMPRESSED_COMPACT;
}

/* Uncompressed packed inode: straight from the image. */
static int read_flat(struct sd_erofs_packed *pk, uint64_t off, uint8_t *buf,
		     size_t len, size_t *got, struct sd_error *err)
{
	uint64_t pa, run;
	bool hole;
	int ret = sd_erofs_map_flat(pk->img, &pk->ino, off, &pa, &run, &hole,
				    err);

	if (ret)
		return ret;
	size_t n = len < run ? len : (size_t)run;
	if (n == 0)
		return sd_erofs_corrupt(pk->img, pk->ino.nid, err, "no data "
					"at byte %llu",
					(unsigned long long)off);
	if (hole)
		memset(buf, 0, n);
	else if ((ret = sd_erofs_pread(pk->img, pk->ino.nid, "packed data",
				       buf, n, pa, err)))
		return ret;
	*got = n;
	return SD_OK;
}

int sd_erofs_packed_read(struct sd_erofs_packed *pk, uint64_t nid,
			 uint64_t off, uint8_t *buf, size_t len, size_t *got,
			 struct sd_error *err)
{
	const struct sd_erofs_img *img = pk->img;
	struct sd_erofs_zbuf *zb = &pk->zb;
	int ret;

	*got = 0;
	if (!img->has_packed)
		return sd_erofs_corrupt(img, nid, err, "fragment data but the "
					"image has no packed inode");
	if (!pk->loaded) {
		ret = sd_erofs_inode_load(img, img->packed_nid, &pk->ino, err);
		if (ret)
			return ret;
		pk->loaded = true;
	}
	if (off >= pk->ino.size || len > pk->ino.size - off)
		return sd_erofs_corrupt(img, nid, err, "fragment at byte %llu "
					"(+%zu) beyond the packed inode's "
					"%llu bytes", (unsigned long long)off,
					len, (unsigned long long)pk->ino.size);
	if (!compressed(&pk->ino))
		return read_flat(pk, off, buf, len, got, err);
	if (zb->len == 0 || off < zb->la || off - zb->la >= zb->len) {
		struct sd_erofs_zext x;
		ret = sd_erofs_z_find(img, &pk->ino, off, &x, err);
		if (!ret)
			ret = sd_erofs_zbuf_fill(img, &pk->ino, &x, zb, err);
		if (ret)
			return ret;
	}
	uint64_t avail = zb->len - (off - zb->la);
	size_t n = len < avail ? len : (size_t)avail;
	memcpy(buf, zb->out + (off - zb->la), n);
	*got = n;
	return SD_OK;
}

void sd_erofs_packed_free(struct sd_erofs_packed *pk)
{
	sd_erofs_zbuf_free(&pk->zb);
	pk->loaded = false;
}
