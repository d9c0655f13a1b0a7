/* SPDX-License-Identifier: MIT */
/*
 * writer.c — the SquashFS writer's entry point (see writer.h).
 */
#include "formats/squashfs/writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/error.h>

#include "formats/squashfs/fdfile.h"
#include "formats/squashfs/sqfserr.h"

int sd_sqfs_write_status(int sqfs_code)
{
	switch (sqfs_code) {
	case SQFS_ERROR_ALLOC: return SD_ERR_NOMEM;
	case SQFS_ERROR_OVERFLOW: return SD_ERR_LIMIT;
	case SQFS_ERROR_UNSUPPORTED: return SD_ERR_UNSUPPORTED;
	default: return SD_ERR_IO;
	}
}

static int node_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what)
{
	char path[512];

	sd_node_path(node, path, sizeof(path));
	return sd_error_set(err, code, "%s%s: %s", path[0] ? "" : "/", path,
			    what);
}

static int check_node(const struct sd_node *node, struct sd_error *err)
{
	switch (node->type) {
	case SD_NODE_DIR:
	case SD_NODE_FILE: break;
	case SD_NODE_SYMLINK:
		if (!node->target)
			return node_error(err, SD_ERR_INVALID, node,
					  "symlink without target");
		if (strlen(node->target) > UINT32_MAX)
			return node_error(err, SD_ERR_LIMIT, node,
					  "symlink target too long");
		break;
	default:
		return node_error(err, SD_ERR_UNSUPPORTED, node,
				  "device, FIFO or socket cannot be stored "
				  "in the image");
	}
	if (node->mtime < 0 || node->mtime > (int64_t)UINT32_MAX)
		return node_error(err, SD_ERR_LIMIT, node,
				  "mtime outside squashfs's range "
				  "(0 to 4294967295)");
	return SD_OK;
}

/*
 * Index every node by node->index (an explicit stack: no recursion on deep
 * trees) and refuse what squashfs cannot hold before writing anything.
 */
static int collect_nodes(struct sd_sqfs_wstate *w, struct sd_error *err)
{
	const struct sd_tree *tree = w->tree;
	struct sd_node **stack;
	size_t sp = 0, seen = 0;
	int ret = SD_OK;

	w->nodes = calloc(w->count, sizeof(*w->nodes));
	stack = malloc(w->count * sizeof(*stack));
	if (!w->nodes || !stack) {
		free(stack);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	stack[sp++] = tree->root;
	while (sp > 0 && !ret) {
		struct sd_node *node = stack[--sp];

		if (node->index >= w->count || w->nodes[node->index] ||
		    seen == w->count) {
			ret = sd_error_set(err, SD_ERR_INVALID,
					   "tree is not finalised");
			break;
		}
		w->nodes[node->index] = node;
		seen++;
		ret = check_node(node, err);
		for (size_t i = node->nchildren; !ret && i-- > 0;) {
			if (sp == w->count) {
				ret = sd_error_set(err, SD_ERR_INVALID,
						   "tree is not finalised");
				break;
			}
			stack[sp++] = node->children[i];
		}
	}
	free(stack);
	if (!ret && seen != w->count)
		ret = sd_error_set(err, SD_ERR_INVALID,
				   "tree is not finalised");
	return ret;
}

/* Pad the image with zeros to a multiple of the 4 KiB device block. */
static int pad_image(sqfs_file_t *f, struct sd_error *err)
{
	static const unsigned char zeros[SQFS_DEVBLK_SIZE];
	sqfs_u64 size = f->get_size(f);
	size_t pad = (size_t)((SQFS_DEVBLK_SIZE - size % SQFS_DEVBLK_SIZE) %
			      SQFS_DEVBLK_SIZE);

	if (pad == 0)
		return SD_OK;
	int ret = f->write_at(f, size, zeros, pad);
	if (ret)
		return sd_error_set(err, sd_sqfs_write_status(ret),
				    "cannot pad squashfs image: %s",
				    sd_sqfs_strerror(ret));
	return SD_OK;
}

static int finish_super(struct sd_sqfs_wstate *w, struct sd_error *err)
{
	sqfs_super_t *s = &w->super;
	int ret;

	s->bytes_used = w->file->get_size(w->file);
	s->flags |= SQFS_FLAG_NO_XATTRS;
	s->xattr_id_table_start = 0xFFFFFFFFFFFFFFFFULL;
	if (w->comp.raw)
		s->flags |= SQFS_FLAG_UNCOMPRESSED_INODES |
			    SQFS_FLAG_UNCOMPRESSED_DATA |
			    SQFS_FLAG_UNCOMPRESSED_FRAGMENTS |
			    SQFS_FLAG_UNCOMPRESSED_IDS |
			    SQFS_FLAG_UNCOMPRESSED_XATTRS;
	ret = sqfs_super_write(s, w->file);
	if (ret)
		return sd_error_set(err, sd_sqfs_write_status(ret),
				    "cannot write squashfs superblock: %s",
				    sd_sqfs_strerror(ret));
	return pad_image(w->file, err);
}

static int write_image(struct sd_sqfs_wstate *w,
		       const struct sd_write_options *opts,
		       struct sd_error *err)
{
	int ret = sqfs_super_init(&w->super, w->comp.block_size,
				  (sqfs_u32)w->tree->mtime, w->comp.id);
	if (ret)
		return sd_error_set(err, SD_ERR_USAGE,
				    "cannot set up squashfs superblock: %s",
				    sd_sqfs_strerror(ret));
	/* placeholder superblock; rewritten once the tables are known */
	ret = sqfs_super_write(&w->super, w->file);
	if (ret)
		return sd_error_set(err, sd_sqfs_write_status(ret),
				    "cannot write squashfs superblock: %s",
				    sd_sqfs_strerror(ret));
	ret = w->comp.cmp->write_options(w->comp.cmp, w->file);
	if (ret < 0)
		return sd_error_set(err, sd_sqfs_write_status(ret),
				    "cannot write compressor options: %s",
				    sd_sqfs_strerror(ret));
	if (ret > 0)
		w->super.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;

	ret = sd_sqfs_write_data(w, opts->jobs, err);
	if (!ret)
		ret = sd_sqfs_write_tables(w, err);
	if (!ret)
		ret = finish_super(w, err);
	return ret;
}

int sd_sqfs_write(const struct sd_tree *tree,
		  const struct sd_write_options *opts, int fd,
		  volatile const int *interrupted, struct sd_write_stats *stats,
		  struct sd_error *err)
{
	int ret = sd_tree_check_limits(tree, err);

	if (ret)
		return ret;
	return sd_sqfs_write_unchecked(tree, opts, fd, interrupted, stats, err);
}

int sd_sqfs_write_unchecked(const struct sd_tree *tree,
			    const struct sd_write_options *opts, int fd,
			    volatile const int *interrupted,
			    struct sd_write_stats *stats, struct sd_error *err)
{
	struct sd_write_stats dummy;
	struct sd_sqfs_wstate w;
	int ret;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	memset(&w, 0, sizeof(w));
	w.tree = tree;
	w.count = tree->count;
	w.interrupted = interrupted;
	w.stats = stats;
	w.progress = opts->progress;
	w.progress_ctx = opts->progress_ctx;

	if (!tree->root || tree->count == 0)
		return sd_error_set(err, SD_ERR_INVALID,
				    "tree is not finalised");
	if (tree->mtime < 0 || tree->mtime > (int64_t)UINT32_MAX)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "image time %lld outside squashfs's range "
				    "(0 to 4294967295)",
				    (long long)tree->mtime);
	if (tree->count >= UINT32_MAX)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "%zu nodes: more than squashfs can hold",
				    tree->count);
	ret = collect_nodes(&w, err);
	if (ret)
		goto out;
	ret = sd_sqfs_comp_setup(opts, &w.comp, err);
	if (ret)
		goto out;
	sd_sqfs_cache_init(&w.cache, opts->cache, &w.comp);
	if (w.cache.cc) {
		w.file_digest = opts->file_digest;
		w.file_content = opts->file_content;
		w.file_digest_ctx = opts->file_digest_ctx;
	}
	w.inodes = calloc(w.count, sizeof(*w.inodes));
	w.file = sd_sqfs_fdfile_create(fd, true, false);
	if (!w.inodes) {
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!w.file) {
		ret = sd_error_errno(err, SD_ERR_IO, errno,
				     "cannot use image file descriptor");
		goto out;
	}
	ret = write_image(&w, opts, err);
	if (ret && sd_sqfs_fdfile_write_errno(w.file))
		/* whatever step met it: the image could not be written */
		ret = sd_error_errno(err, SD_ERR_OUTPUT,
				     sd_sqfs_fdfile_write_errno(w.file),
				     "cannot write the squashfs image");
	if (!ret)
		stats->image_bytes = w.file->get_size(w.file);
out:
	if (w.inodes) {
		for (size_t i = 0; i < w.count; i++)
			sqfs_free(w.inodes[i]);
	}
	free(w.inodes);
	sqfs_destroy(w.frag);
	sqfs_destroy(w.file);
	sd_sqfs_comp_cleanup(&w.comp);
	free(w.nodes);
	return ret;
}
