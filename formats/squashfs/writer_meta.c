/* SPDX-License-Identifier: MIT */
/*
 * writer_meta.c — stage 2 of the SquashFS writer: inode, directory,
 * fragment, export and ID tables (see writer.h).
 */
#include "formats/squashfs/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>
#include <sqfs/table.h>

#include "core/le.h"
#include "formats/squashfs/sqfserr.h"
#include "formats/squashfs/writer_dirindex.h"

struct meta_ctx {
	struct sd_sqfs_wstate *w;
	sqfs_meta_writer_t *im; /* inode table, straight to the file */
	sqfs_meta_writer_t *dm; /* directory table, kept in memory */
	sqfs_dir_writer_t *dw;
	sqfs_id_table_t *ids;
	struct sd_node **post; /* nodes in post-order */
	uint32_t *ino;         /* inode numbers, by node->index */
	sqfs_u64 *ref;         /* inode references, by node->index */
};

static int node_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what, int sq)
{
	char path[512];

	sd_node_path(node, path, sizeof(path));
	return sd_error_set(err, code, "%s%s: %s: %s", path[0] ? "" : "/", path,
			    what, sd_sqfs_strerror(sq));
}

/*
 * Children before parents, siblings in sorted order; inode numbers are
 * the 1-based post-order positions (the root gets the largest).
 */
static int post_order(struct meta_ctx *c, struct sd_error *err)
{
	struct frame {
		struct sd_node *node;
		size_t next;
	} *stack = NULL;
	size_t sp = 0, cap = 0, n = 0;

	c->post = malloc(c->w->count * sizeof(*c->post));
	if (!c->post)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	stack = malloc(64 * sizeof(*stack));
	if (!stack)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	cap = 64;
	stack[sp++] = (struct frame){c->w->tree->root, 0};
	while (sp > 0) {
		struct frame *top = &stack[sp - 1];

		if (top->next < top->node->nchildren) {
			struct sd_node *child =
				top->node->children[top->next++];
			if (sp == cap) {
				struct frame *ns = realloc(
					stack, 2 * cap * sizeof(*stack));
				if (!ns) {
					free(stack);
					return sd_error_set(err, SD_ERR_NOMEM,
							    "out of memory");
				}
				stack = ns;
				cap *= 2;
			}
			stack[sp++] = (struct frame){child, 0};
			continue;
		}
		if (n >= c->w->count)
			break;
		c->ino[top->node->index] = (uint32_t)(n + 1);
		c->post[n++] = top->node;
		sp--;
	}
	free(stack);
	if (n != c->w->count)
		return sd_error_set(err, SD_ERR_INVALID,
				    "tree node count mismatch (%zu vs %zu)", n,
				    c->w->count);
	return SD_OK;
}

static sqfs_u16 type_bits(enum sd_node_type type)
{
	switch (type) {
	case SD_NODE_DIR: return SQFS_INODE_MODE_DIR;
	case SD_NODE_SYMLINK: return SQFS_INODE_MODE_LNK;
	default: return SQFS_INODE_MODE_REG;
	}
}

static sqfs_inode_generic_t *symlink_inode(const struct sd_node *node)
{
	size_t len = node->target ? strlen(node->target) : 0;
	sqfs_inode_generic_t *ino = calloc(1, sizeof(*ino) + len + 1);

	if (!ino)
		return NULL;
	ino->base.type = SQFS_INODE_SLINK;
	ino->payload_bytes_available = (sqfs_u32)len;
	ino->payload_bytes_used = (sqfs_u32)len;
	ino->data.slink.nlink = 1;
	ino->data.slink.target_size = (sqfs_u32)len;
	if (len)
		memcpy(ino->extra, node->target, len);
	return ino;
}

/* Write a directory's listing and return its (not yet written) inode. */
static int dir_inode(struct meta_ctx *c, const struct sd_node *node,
		     sqfs_inode_generic_t **out, struct sd_error *err)
{
	size_t nlink = 2;
	int ret = sqfs_dir_writer_begin(c->dw, 0);

	for (size_t i = 0; !ret && i < node->nchildren; i++) {
		const struct sd_node *ch = node->children[i];

		if (ch->type == SD_NODE_DIR)
			nlink++;
		ret = sqfs_dir_writer_add_entry(c->dw, ch->name,
						c->ino[ch->index],
						c->ref[ch->index],
						type_bits(ch->type) | ch->mode);
	}
	if (!ret)
		ret = sqfs_dir_writer_end(c->dw);
	if (ret)
		return node_error(err, sd_sqfs_write_status(ret), node,
				  "cannot write directory listing", ret);
	sqfs_u32 parent = node->parent ? c->ino[node->parent->index]
				       : (sqfs_u32)c->w->count + 1;
	/* an xattr index makes libsquashfs give the extended inode with an
	 * index entry per header; sd_sqfs_dirindex_apply keeps the ones a
	 * lookup gains from and clears the xattr index */
	*out = sqfs_dir_writer_create_inode(c->dw, 0, 0, parent);
	if (!*out)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	ret = sd_sqfs_dirindex_apply(*out, node);
	if (ret) {
		sqfs_free(*out);
		*out = NULL;
		return ret == SD_ERR_NOMEM
			       ? sd_error_set(err, ret, "out of memory")
			       : node_error(err, ret, node,
					    "internal: directory index does "
					    "not match the listing",
					    SQFS_ERROR_INTERNAL);
	}
	/* libsquashfs 1.2 sets nlink to entries + hlinks + 2; a directory's
	 * link count is 2 + its subdirectories (as mksquashfs and the
	 * kernel's own file systems have it) */
	if ((*out)->base.type == SQFS_INODE_EXT_DIR)
		(*out)->data.dir_ext.nlink = (sqfs_u32)nlink;
	else
		(*out)->data.dir.nlink = (sqfs_u32)nlink;
	return SD_OK;
}

/* Free an inode write_inode() made (directory inodes come from
 * libsquashfs, symlink inodes from us). */
static void release(const struct sd_node *node, sqfs_inode_generic_t *own)
{
	if (node->type == SD_NODE_DIR)
		sqfs_free(own);
	else
		free(own);
}

static int write_inode(struct meta_ctx *c, struct sd_node *node,
		       struct sd_error *err)
{
	sqfs_inode_generic_t *ino = NULL, *own = NULL;
	sqfs_u64 block;
	sqfs_u32 offset;
	int ret;

	switch (node->type) {
	case SD_NODE_FILE: ino = c->w->inodes[node->index]; break;
	case SD_NODE_SYMLINK:
		ino = own = symlink_inode(node);
		if (!ino)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		break;
	case SD_NODE_DIR:
		ret = dir_inode(c, node, &own, err);
		if (ret)
			return ret;
		ino = own;
		break;
	default:
		return node_error(err, SD_ERR_UNSUPPORTED, node, "cannot store",
				  SQFS_ERROR_UNSUPPORTED);
	}
	if (!ino)
		return sd_error_set(err, SD_ERR_INVALID,
				    "internal: file without inode");

	ino->base.mode = type_bits(node->type) | (node->mode & 07777);
	ino->base.mod_time = (sqfs_u32)node->mtime;
	ino->base.inode_number = c->ino[node->index];
	ret = sqfs_id_table_id_to_index(c->ids, node->uid, &ino->base.uid_idx);
	if (!ret)
		ret = sqfs_id_table_id_to_index(c->ids, node->gid,
						&ino->base.gid_idx);
	if (ret) {
		release(node, own);
		return node_error(err,
				  ret == SQFS_ERROR_OVERFLOW
					  ? SD_ERR_LIMIT
					  : sd_sqfs_write_status(ret),
				  node,
				  "owner ids (squashfs holds at most "
				  "65536 distinct uids/gids)",
				  ret);
	}

	sqfs_meta_writer_get_position(c->im, &block, &offset);
	c->ref[node->index] = (block << 16) | offset;
	ret = sqfs_meta_writer_write_inode(c->im, ino);
	release(node, own);
	if (ret)
		return node_error(err, sd_sqfs_write_status(ret), node,
				  "cannot write inode", ret);
	return SD_OK;
}

static int table_error(struct sd_error *err, int sq, const char *what)
{
	return sd_error_set(err, sd_sqfs_write_status(sq),
			    "cannot write squashfs %s: %s", what,
			    sd_sqfs_strerror(sq));
}

/*
 * The export (NFS) table: entry k (u64 little-endian) is the inode
 * reference of inode number k + 1, i.e. of the node at post-order position
 * k; written as libsquashfs writes tables (sqfs_write_table: metadata
 * blocks, then their u64 LE locations) and flagged in the superblock.
 * Ours, not libsquashfs's (sqfs_dir_writer_write_export_table): its
 * dir_writer.c stores each entry in host byte order (`ptr[inum - 1] =
 * iref`, 1.2.0 and its master), so a big-endian host wrote the table
 * byte-swapped and its images differed from every other host's.
 */
static int write_export_table(struct meta_ctx *c)
{
	struct sd_sqfs_wstate *w = c->w;
	size_t size = w->count * 8;
	uint8_t *tab = malloc(size ? size : 1);
	sqfs_u64 start;
	int ret;

	if (!tab)
		return SQFS_ERROR_ALLOC;
	for (size_t k = 0; k < w->count; k++)
		put_le64(tab + 8 * k, c->ref[c->post[k]->index]);
	ret = sqfs_write_table(w->file, w->comp.cmp, tab, size, &start);
	free(tab);
	if (ret)
		return ret;
	w->super.export_table_start = start;
	w->super.flags |= SQFS_FLAG_EXPORTABLE;
	return 0;
}

static int write_all(struct meta_ctx *c, struct sd_error *err)
{
	struct sd_sqfs_wstate *w = c->w;
	sqfs_file_t *f = w->file;
	int ret = post_order(c, err);

	if (ret)
		return ret;
	w->super.inode_table_start = f->get_size(f);
	for (size_t i = 0; i < w->count; i++) {
		if (w->interrupted && *w->interrupted)
			return sd_error_set(err, SD_ERR_INTERRUPTED,
					    "interrupted while writing "
					    "squashfs image");
		ret = write_inode(c, c->post[i], err);
		if (ret)
			return ret;
	}
	ret = sqfs_meta_writer_flush(c->im);
	if (ret)
		return table_error(err, ret, "inode table");

	w->super.directory_table_start = f->get_size(f);
	ret = sqfs_meta_writer_flush(c->dm);
	if (!ret)
		ret = sqfs_meta_write_write_to_file(c->dm);
	if (ret)
		return table_error(err, ret, "directory table");

	ret = sqfs_frag_table_write(w->frag, f, &w->super, w->comp.cmp);
	if (ret)
		return table_error(err, ret, "fragment table");

	w->super.root_inode_ref = c->ref[w->tree->root->index];
	ret = write_export_table(c);
	if (ret)
		return table_error(err, ret, "export table");

	ret = sqfs_id_table_write(c->ids, f, &w->super, w->comp.cmp);
	if (ret)
		return table_error(err, ret, "ID table");
	w->super.inode_count = (sqfs_u32)w->count;
	return SD_OK;
}

int sd_sqfs_write_tables(struct sd_sqfs_wstate *w, struct sd_error *err)
{
	struct meta_ctx c = {.w = w};
	int ret;

	c.im = sqfs_meta_writer_create(w->file, w->comp.cmp, 0);
	c.dm = sqfs_meta_writer_create(w->file, w->comp.cmp,
				       SQFS_META_WRITER_KEEP_IN_MEMORY);
	c.dw = c.dm ? sqfs_dir_writer_create(c.dm, 0) : NULL;
	c.ids = sqfs_id_table_create(0);
	c.ino = calloc(w->count, sizeof(*c.ino));
	c.ref = calloc(w->count, sizeof(*c.ref));
	if (!c.im || !c.dm || !c.dw || !c.ids || !c.ino || !c.ref)
		ret = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	else
		ret = write_all(&c, err);

	sqfs_destroy(c.dw);
	sqfs_destroy(c.dm);
	sqfs_destroy(c.im);
	sqfs_destroy(c.ids);
	free(c.post);
	free(c.ino);
	free(c.ref);
	return ret;
}
