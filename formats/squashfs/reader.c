/* SPDX-License-Identifier: MIT */
/*
 * reader.c — SquashFS image to normalised tree (see reader.h).
 *
 * Listings are read with libsquashfs' plain readdir on the image's
 * directory-table metadata reader, which gives each entry's inode
 * reference; every inode, the root's too, then goes through
 * sd_sqfs_inode_read() (inode_read.h), which checks its sizes before
 * libsquashfs allocates anything for it.
 */
#include "formats/squashfs/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/block.h>
#include <sqfs/dir.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/meta_reader.h>

#include "formats/squashfs/content.h"
#include "formats/squashfs/image.h"
#include "formats/squashfs/inode_read.h"
#include "formats/squashfs/sqfserr.h"
#include "formats/walk.h"
#include "core/sdlimits.h"

/* A directory's sd_walk_dir: id its inode number, inode its
 * sqfs_inode_generic_t. */
struct walk {
	struct sd_walk walk; /* pending directories, loop check, limits */
	struct sd_sqfs_image *img;
	struct sd_sqfs_content *content;
	struct sd_tree *tree;
};

/* SD_ERR_CORRUPT "IMAGE: DIR: what[: detail]". */
static int corrupt(struct walk *w, const struct sd_node *dir,
		   struct sd_error *err, const char *what, const char *detail)
{
	char path[512];

	sd_sqfs_msg_path(dir, NULL, 0, path, sizeof(path));
	return sd_error_set(err, SD_ERR_CORRUPT, "%s: %s: %s%s%s", w->img->path,
			    path, what, detail ? ": " : "",
			    detail ? detail : "");
}

static int sq_error(struct walk *w, const struct sd_node *dir,
		    struct sd_error *err, const char *what, int sq)
{
	if (sq == SQFS_ERROR_ALLOC)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return corrupt(w, dir, err, what, sd_sqfs_strerror(sq));
}

static int walk_corrupt(void *ctx, const struct sd_walk_dir *dir,
			const char *what, struct sd_error *err)
{
	return corrupt(ctx, dir->node, err, what, NULL);
}

static void drop_inode(void *inode)
{
	sqfs_free(inode);
}

static int base_type(int type)
{
	return type > SQFS_INODE_SOCKET ? type - SQFS_INODE_SOCKET : type;
}

static int set_meta(struct walk *w, struct sd_node *node,
		    const sqfs_inode_generic_t *ino, struct sd_error *err)
{
	sqfs_u32 uid, gid;

	if (sqfs_id_table_index_to_id(w->img->ids, ino->base.uid_idx, &uid) ||
	    sqfs_id_table_index_to_id(w->img->ids, ino->base.gid_idx, &gid))
		return corrupt(w, node, err,
			       "owner index outside the ID "
			       "table",
			       NULL);
	node->mode = ino->base.mode & 07777;
	node->uid = uid;
	node->gid = gid;
	node->mtime = ino->base.mod_time;
	return SD_OK;
}

/* A file inode's blocks and fragment must lie where data can be. */
static int check_file(struct walk *w, const struct sd_node *node,
		      const sqfs_inode_generic_t *ino, struct sd_error *err)
{
	const sqfs_super_t *s = &w->img->super;
	size_t n = sqfs_inode_get_file_block_count(ino);
	sqfs_u64 start = 0, stored = 0;
	sqfs_u32 frag, frag_off;

	sqfs_inode_get_file_block_start(ino, &start);
	for (size_t i = 0; i < n; i++) {
		sqfs_u32 sz = SQFS_ON_DISK_BLOCK_SIZE(ino->extra[i]);
		if (sz > s->block_size)
			return corrupt(w, node, err,
				       "data block larger than "
				       "the block size",
				       NULL);
		stored += sz;
	}
	if (stored > 0 &&
	    (start < sizeof(sqfs_super_t) || start > s->inode_table_start ||
	     stored > s->inode_table_start - start))
		return corrupt(w, node, err,
			       "data blocks outside the data "
			       "area",
			       NULL);
	sqfs_inode_get_frag_location(ino, &frag, &frag_off);
	if (frag != 0xFFFFFFFF &&
	    (frag >= s->fragment_entry_count || frag_off >= s->block_size))
		return corrupt(w, node, err,
			       "fragment reference out of "
			       "range",
			       NULL);
	return SD_OK;
}

/* Fill @node from @ino (ownership of @ino passes on in every case). */
static int fill_node(struct walk *w, struct sd_node *node,
		     sqfs_inode_generic_t *ino, unsigned depth,
		     struct sd_error *err)
{
	int ret = set_meta(w, node, ino, err);
	sqfs_u64 size;

	if (ret)
		goto drop;
	switch (ino->base.type) {
	case SQFS_INODE_DIR:
	case SQFS_INODE_EXT_DIR:
		if (ino->base.inode_number == 0) {
			ret = corrupt(w, node, err, "directory inode number 0",
				      NULL);
			goto drop;
		}
		struct sd_walk_dir d = {.node = node,
					.inode = ino,
					.id = ino->base.inode_number,
					.depth = depth};
		return sd_walk_push(&w->walk, &d, err);
	case SQFS_INODE_FILE:
	case SQFS_INODE_EXT_FILE:
		ret = check_file(w, node, ino, err);
		if (ret)
			goto drop;
		sqfs_inode_get_file_size(ino, &size);
		if (size > SD_LIMIT_FILE_SIZE) {
			ret = corrupt(w, node, err,
				      "file larger than "
				      "storedisk reads (1 TiB)",
				      NULL);
			goto drop;
		}
		node->size = size;
		ret = sd_sqfs_content_add(w->content, ino, &node->src_id, err);
		if (ret)
			goto drop;
		return SD_OK;
	case SQFS_INODE_SLINK:
	case SQFS_INODE_EXT_SLINK: {
		const char *t = (const char *)ino->extra;
		size_t len = ino->data.slink.target_size;
		if (len > ino->payload_bytes_used || len > SD_LIMIT_SYMLINK ||
		    memchr(t, '\0', len) != NULL) {
			ret = corrupt(w, node, err, "bad symlink target", NULL);
			goto drop;
		}
		ret = sd_node_set_target(node, t, len, err);
		break;
	}
	case SQFS_INODE_BDEV:
	case SQFS_INODE_CDEV: node->rdev = ino->data.dev.devno; break;
	case SQFS_INODE_EXT_BDEV:
	case SQFS_INODE_EXT_CDEV: node->rdev = ino->data.dev_ext.devno; break;
	default: break;
	}
drop:
	sqfs_free(ino);
	return ret;
}

static enum sd_node_type node_type(int sqfs_type)
{
	switch (base_type(sqfs_type)) {
	case SQFS_INODE_DIR: return SD_NODE_DIR;
	case SQFS_INODE_FILE: return SD_NODE_FILE;
	case SQFS_INODE_SLINK: return SD_NODE_SYMLINK;
	default: return SD_NODE_OTHER;
	}
}

/*
 * The next entry of the listing @st walks and its inode: 1 at the end
 * of the listing, else 0 with both owned by the caller, or an error.
 */
static int next_entry(struct walk *w, const struct sd_walk_dir *dir,
		      sqfs_readdir_state_t *st, sqfs_dir_entry_t **ent,
		      sqfs_inode_generic_t **ino, struct sd_error *err)
{
	char where[1024];
	sqfs_u64 ref = 0;
	int ret;

	*ent = NULL;
	*ino = NULL;
	ret = sqfs_meta_reader_readdir(w->img->dirs, st, ent, NULL, &ref);
	if (ret > 0)
		return 1;
	if (ret < 0) {
		*ent = NULL;
		return sq_error(w, dir->node, err,
				"cannot read directory table", ret);
	}
	sd_sqfs_msg_path(dir->node, (const char *)(*ent)->name,
			 (size_t)(*ent)->size + 1, where, sizeof(where));
	ret = sd_sqfs_inode_read(w->img, ref, where, ino, err);
	if (ret) {
		sqfs_free(*ent);
		*ent = NULL;
	}
	return ret;
}

/* Read one directory's entries, adding a node per entry. */
static int list_dir(void *ctx, const struct sd_walk_dir *dir,
		    struct sd_error *err)
{
	struct walk *w = ctx;
	sqfs_readdir_state_t st;
	size_t entries = 0;
	int ret = sqfs_readdir_state_init(&st, &w->img->super, dir->inode);

	if (ret)
		return sq_error(w, dir->node, err, "cannot open directory",
				ret);
	for (;;) {
		sqfs_dir_entry_t *ent;
		sqfs_inode_generic_t *ino;

		ret = next_entry(w, dir, &st, &ent, &ino, err);
		if (ret > 0)
			return SD_OK;
		if (ret < 0)
			return ret;
		ret = sd_walk_entry(&w->walk, dir, &entries, err);
		if (ret) {
			sqfs_free(ent);
			sqfs_free(ino);
			return ret;
		}
		if (base_type(ino->base.type) != ent->type) {
			sqfs_free(ent);
			sqfs_free(ino);
			return corrupt(w, dir->node, err,
				       "entry type does "
				       "not match its inode",
				       NULL);
		}
		struct sd_node *node = sd_tree_add(
			w->tree, dir->node, (const char *)ent->name,
			(size_t)ent->size + 1, node_type(ino->base.type), err);
		sqfs_free(ent);
		if (!node) {
			char why[SD_ERROR_MSG_MAX] = "";
			sqfs_free(ino);
			if (err && err->code == SD_ERR_NOMEM)
				return SD_ERR_NOMEM;
			if (err)
				memcpy(why, err->msg, sizeof(why));
			return corrupt(w, dir->node, err, "invalid entry name",
				       why);
		}
		ret = fill_node(w, node, ino, dir->depth + 1, err);
		if (ret)
			return ret;
	}
}

static int walk_all(struct walk *w, struct sd_error *err)
{
	sqfs_inode_generic_t *root = NULL;
	int ret = sd_sqfs_inode_read(w->img, w->img->super.root_inode_ref, "/",
				     &root, err);

	if (ret)
		return ret;
	if (node_type(root->base.type) != SD_NODE_DIR) {
		sqfs_free(root);
		return corrupt(w, w->tree->root, err,
			       "root inode is not a directory", NULL);
	}
	ret = fill_node(w, w->tree->root, root, 0, err);
	if (!ret)
		ret = sd_walk_run(&w->walk, err);
	return ret;
}

static const struct sd_walk_ops walk_ops = {
	.list = list_dir,
	.corrupt = walk_corrupt,
	.drop = drop_inode,
};

int sd_sqfs_read(const char *path, struct sd_tree **out, struct sd_error *err)
{
	struct sd_sqfs_image *img = NULL;
	struct walk w = {0};
	int ret;

	*out = NULL;
	ret = sd_sqfs_image_open(path, &img, err);
	if (ret)
		return ret;
	w.img = img;
	w.tree = sd_tree_new(img->super.modification_time);
	w.content = sd_sqfs_content_new(img);
	if (!w.tree || !w.content) {
		sd_tree_free(w.tree);
		free(w.content);
		sd_sqfs_image_close(img);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	/* from here the tree owns the image through its content source */
	w.tree->source = &sd_sqfs_content_source;
	w.tree->source_ctx = w.content;

	sd_walk_init(&w.walk, &walk_ops, &w);
	ret = walk_all(&w, err);
	sd_walk_release(&w.walk);
	sd_sqfs_image_done_walking(img);
	return sd_walk_finish(&w.walk, w.tree, path, ret, out, err);
}
