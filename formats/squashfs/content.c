/* SPDX-License-Identifier: MIT */
/*
 * content.c — streaming file content out of a SquashFS image
 * (see content.h).
 */
#include "formats/squashfs/content.h"

#include <stdlib.h>

#include <sqfs/data_reader.h>

#include "formats/squashfs/sqfserr.h"

#define MAX_READ (1u << 30) /* sqfs_data_reader_read returns an s32 */

struct sqfs_stream {
	struct sd_stream base;
	struct sd_sqfs_content *c;
	const struct sd_node *node;
	const sqfs_inode_generic_t *inode;
	uint64_t off, size;
};

static int stream_fail(struct sqfs_stream *s, struct sd_error *err,
		       const char *why)
{
	char path[512];

	sd_sqfs_msg_path(s->node, NULL, 0, path, sizeof(path));
	return sd_error_set(err, SD_ERR_CORRUPT,
			    "%s: cannot read %s at offset %llu: %s",
			    s->c->img->path, path, (unsigned long long)s->off,
			    why);
}

static int stream_read(struct sd_stream *base, void *buf, size_t len,
		       size_t *got, struct sd_error *err)
{
	struct sqfs_stream *s = (struct sqfs_stream *)base;
	uint64_t left = s->size - s->off;

	*got = 0;
	if (left == 0 || len == 0)
		return SD_OK;
	if (len > left)
		len = (size_t)left;
	if (len > MAX_READ)
		len = MAX_READ;
	sqfs_s32 n = sqfs_data_reader_read(s->c->img->data, s->inode, s->off,
					   buf, (sqfs_u32)len);
	if (n < 0)
		return stream_fail(s, err, sd_sqfs_strerror(n));
	if (n == 0 || (size_t)n > len)
		return stream_fail(s, err, "data ends before the file size");
	s->off += (uint64_t)n;
	*got = (size_t)n;
	return SD_OK;
}

static void stream_close(struct sd_stream *base)
{
	free(base);
}

static int content_open(void *ctx, const struct sd_node *node,
			struct sd_stream **out, struct sd_error *err)
{
	struct sd_sqfs_content *c = ctx;

	*out = NULL;
	if (node->type != SD_NODE_FILE || node->src_id >= c->nfiles)
		return sd_error_set(err, SD_ERR_INVALID,
				    "%s: node is not a file of this image",
				    c->img->path);
	struct sqfs_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	s->base.read = stream_read;
	s->base.close = stream_close;
	s->c = c;
	s->node = node;
	s->inode = c->files[node->src_id];
	s->size = node->size;
	*out = &s->base;
	return SD_OK;
}

static void content_release(void *ctx)
{
	struct sd_sqfs_content *c = ctx;

	if (!c)
		return;
	for (size_t i = 0; i < c->nfiles; i++)
		sqfs_free(c->files[i]);
	free(c->files);
	sd_sqfs_image_close(c->img);
	free(c);
}

const struct sd_content_source sd_sqfs_content_source = {
	.open = content_open,
	.release = content_release,
};

struct sd_sqfs_content *sd_sqfs_content_new(struct sd_sqfs_image *img)
{
	struct sd_sqfs_content *c = calloc(1, sizeof(*c));

	if (c)
		c->img = img;
	return c;
}

int sd_sqfs_content_add(struct sd_sqfs_content *c, sqfs_inode_generic_t *ino,
			uint64_t *id, struct sd_error *err)
{
	if (c->nfiles == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		sqfs_inode_generic_t **n = realloc(c->files, cap * sizeof(*n));
		if (!n)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		c->files = n;
		c->cap = cap;
	}
	*id = c->nfiles;
	c->files[c->nfiles++] = ino;
	return SD_OK;
}
