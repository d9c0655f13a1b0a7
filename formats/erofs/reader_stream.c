/* SPDX-License-Identifier: MIT */
/*
 * reader_stream.c — streaming an inode's data out of an EROFS image, and
 * the tree content source built on it (see reader_int.h).
 *
 * Uncompressed layouts are read straight from the image, block run by
 * block run; compressed layouts are decoded one extent at a time into a
 * buffer (at most SD_EROFS_MAX_EXTENT bytes) and served from there; a
 * fragment extent is read through from the packed inode.  The stream
 * ends at the inode's size; data that ends early is corrupt.
 */
#include "formats/erofs/reader_int.h"

#include <stdlib.h>
#include <string.h>

#include "formats/erofs/erofs_disk.h"

struct erofs_stream {
	struct sd_stream base;
	const struct sd_erofs_image *img;
	struct sd_erofs_inode ino;
	uint64_t off; /* next logical byte to hand out */
	bool compressed;
	/* compressed: the current extent [ext_la, ext_la + ext_len), decoded
	 * in zb or, for a fragment, at byte frag_off of the packed inode */
	uint64_t next_lcn;
	uint64_t ext_la, ext_len;
	bool fragment;
	uint64_t frag_off;
	struct sd_erofs_zbuf zb;
};

static int next_extent(struct erofs_stream *s, struct sd_error *err)
{
	const struct sd_erofs_image *img = s->img;
	struct sd_erofs_zext x;
	int ret;

	if (s->next_lcn >= s->ino.z_totalidx)
		return sd_erofs_corrupt(img, s->ino.nid, err,
					"compressed "
					"data ends at %llu, before the file "
					"size %llu",
					(unsigned long long)s->off,
					(unsigned long long)s->ino.size);
	ret = sd_erofs_z_extent(img, &s->ino, &s->next_lcn, &x, err);
	if (ret)
		return ret;
	if (x.llen == 0 || x.la != s->off)
		return sd_erofs_corrupt(img, s->ino.nid, err,
					"extent at %llu "
					"does not continue the data at %llu",
					(unsigned long long)x.la,
					(unsigned long long)s->off);
	s->fragment = x.fragment;
	if (x.fragment) {
		s->frag_off = x.pa;
	} else {
		ret = sd_erofs_zbuf_fill(img, &s->ino, &x, &s->zb, err);
		if (ret)
			return ret;
	}
	s->ext_la = x.la;
	s->ext_len = x.llen;
	return SD_OK;
}

static int read_compressed(struct erofs_stream *s, uint8_t *buf, size_t len,
			   size_t *got, struct sd_error *err)
{
	if (s->off < s->ext_la || s->off - s->ext_la >= s->ext_len) {
		int ret = next_extent(s, err);
		if (ret)
			return ret;
	}
	uint64_t skip = s->off - s->ext_la;
	uint64_t avail = s->ext_len - skip;
	size_t n = len < avail ? len : (size_t)avail;
	if (s->fragment)
		return sd_erofs_packed_read(s->img, s->ino.nid,
					    s->frag_off + skip, buf, n, got,
					    err);
	memcpy(buf, s->zb.out + skip, n);
	*got = n;
	return SD_OK;
}

static int read_flat(struct erofs_stream *s, uint8_t *buf, size_t len,
		     size_t *got, struct sd_error *err)
{
	uint64_t pa, run;
	bool hole;
	int ret = sd_erofs_map_flat(s->img, &s->ino, s->off, &pa, &run, &hole,
				    err);

	if (ret)
		return ret;
	size_t n = len < run ? len : (size_t)run;
	if (hole)
		memset(buf, 0, n);
	else if ((ret = sd_erofs_pread(s->img, s->ino.nid, "file data", buf, n,
				       pa, err)))
		return ret;
	*got = n;
	return SD_OK;
}

static int stream_read(struct sd_stream *base, void *buf, size_t len,
		       size_t *got, struct sd_error *err)
{
	struct erofs_stream *s = (struct erofs_stream *)base;
	uint64_t left = s->ino.size - s->off;
	int ret;

	*got = 0;
	if (left == 0 || len == 0)
		return SD_OK;
	if (len > left)
		len = (size_t)left;
	if (len > (1u << 30))
		len = 1u << 30;
	if (s->compressed)
		ret = read_compressed(s, buf, len, got, err);
	else
		ret = read_flat(s, buf, len, got, err);
	if (ret)
		return ret;
	s->off += *got;
	return SD_OK;
}

static void stream_close(struct sd_stream *base)
{
	struct erofs_stream *s = (struct erofs_stream *)base;

	if (!s)
		return;
	sd_erofs_zbuf_free(&s->zb);
	free(s);
}

int sd_erofs_data_open(const struct sd_erofs_image *img,
		       const struct sd_erofs_inode *ino, struct sd_stream **out,
		       struct sd_error *err)
{
	struct erofs_stream *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	s->base.read = stream_read;
	s->base.close = stream_close;
	s->img = img;
	s->ino = *ino;
	s->compressed = ino->layout == EROFS_INODE_COMPRESSED_FULL ||
			ino->layout == EROFS_INODE_COMPRESSED_COMPACT;
	*out = &s->base;
	return SD_OK;
}

static int content_open(void *ctx, const struct sd_node *node,
			struct sd_stream **out, struct sd_error *err)
{
	const struct sd_erofs_image *img = ctx;
	struct sd_erofs_inode ino;
	int ret;

	*out = NULL;
	if (node->type != SD_NODE_FILE)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: node is not a "
				    "file of this image",
				    img->path);
	ret = sd_erofs_inode_load(img, node->src_id, &ino, err);
	if (ret)
		return ret;
	if ((ino.mode & EROFS_S_IFMT) != EROFS_S_IFREG ||
	    ino.size != node->size)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: node is not a "
				    "file of this image",
				    img->path);
	return sd_erofs_data_open(img, &ino, out, err);
}

static void content_release(void *ctx)
{
	sd_erofs_image_close(ctx);
}

const struct sd_content_source sd_erofs_content_source = {
	.open = content_open,
	.release = content_release,
};
