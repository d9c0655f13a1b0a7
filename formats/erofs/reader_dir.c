/* SPDX-License-Identifier: MIT */
/*
 * reader_dir.c — walking an EROFS image's directories into a normalised
 * tree; sd_erofs_read() (see reader.h).
 */
#include "formats/erofs/reader.h"

#include <stdlib.h>
#include <string.h>

#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/reader_int.h"
#include "formats/walk.h"

/* A directory's sd_walk_dir: id its nid, parent_id its parent's nid. */
struct walk {
	struct sd_walk walk; /* pending directories, loop check, limits */
	struct sd_erofs_image *img;
	struct sd_tree *tree;
	uint8_t *blk; /* one directory block */
	/* called for every inode reached (root included), may be NULL */
	void (*on_inode)(void *ctx, const struct sd_erofs_image *img,
			 const struct sd_erofs_inode *ino);
	void *on_inode_ctx;
};

/* SD_ERR_CORRUPT "IMAGE: inode NID: directory /PATH: what". */
static int dir_corrupt(struct walk *w, const struct sd_walk_dir *dir,
		       struct sd_error *err, const char *what,
		       const char *detail)
{
	char path[512];

	sd_node_path(dir->node, path, sizeof(path));
	return sd_erofs_corrupt(w->img, dir->id, err, "directory /%s: %s%s%s",
				path, what, detail ? ": " : "",
				detail ? detail : "");
}

static int walk_corrupt(void *ctx, const struct sd_walk_dir *dir,
			const char *what, struct sd_error *err)
{
	return dir_corrupt(ctx, dir, err, what, NULL);
}

static enum sd_node_type node_type(uint16_t mode)
{
	switch (mode & EROFS_S_IFMT) {
	case EROFS_S_IFDIR: return SD_NODE_DIR;
	case EROFS_S_IFREG: return SD_NODE_FILE;
	case EROFS_S_IFLNK: return SD_NODE_SYMLINK;
	default: return SD_NODE_OTHER;
	}
}

/* Does dirent file type @ft agree with inode mode @mode? */
static bool ft_matches(unsigned ft, uint16_t mode)
{
	static const uint16_t fmt[EROFS_FT_MAX] = {
		[EROFS_FT_REG_FILE] = EROFS_S_IFREG,
		[EROFS_FT_DIR] = EROFS_S_IFDIR,
		[EROFS_FT_CHRDEV] = EROFS_S_IFCHR,
		[EROFS_FT_BLKDEV] = EROFS_S_IFBLK,
		[EROFS_FT_FIFO] = EROFS_S_IFIFO,
		[EROFS_FT_SOCK] = EROFS_S_IFSOCK,
		[EROFS_FT_SYMLINK] = EROFS_S_IFLNK,
	};

	if (ft == EROFS_FT_UNKNOWN)
		return true;
	return ft < EROFS_FT_MAX && fmt[ft] == (mode & EROFS_S_IFMT);
}

static int read_symlink(struct walk *w, struct sd_node *node,
			const struct sd_erofs_inode *ino, struct sd_error *err)
{
	char buf[SD_EROFS_MAX_SYMLINK];
	struct sd_stream *s = NULL;
	size_t got = 0;
	int ret;

	if (ino->size == 0 || ino->size > SD_EROFS_MAX_SYMLINK)
		return sd_erofs_corrupt(w->img, ino->nid, err,
					"symlink "
					"target of %llu bytes",
					(unsigned long long)ino->size);
	ret = sd_erofs_data_open(w->img, ino, &s, err);
	if (!ret)
		ret = sd_stream_read_full(s, buf, (size_t)ino->size, &got, err);
	sd_stream_close(s);
	if (ret)
		return ret;
	if (got != ino->size || memchr(buf, '\0', got))
		return sd_erofs_corrupt(w->img, ino->nid, err,
					"bad symlink "
					"target");
	return sd_node_set_target(node, buf, got, err);
}

/* Fill @node from @ino; directories are queued for listing. */
static int fill_node(struct walk *w, struct sd_node *node,
		     const struct sd_erofs_inode *ino, uint64_t parent_nid,
		     unsigned depth, struct sd_error *err)
{
	if (w->on_inode)
		w->on_inode(w->on_inode_ctx, w->img, ino);
	node->mode = ino->mode & 07777;
	node->uid = ino->uid;
	node->gid = ino->gid;
	node->mtime = ino->mtime;
	switch (ino->mode & EROFS_S_IFMT) {
	case EROFS_S_IFDIR: {
		struct sd_walk_dir d = {.node = node,
					.id = ino->nid,
					.parent_id = parent_nid,
					.depth = depth};
		return sd_walk_push(&w->walk, &d, err);
	}
	case EROFS_S_IFREG:
		node->size = ino->size;
		node->src_id = ino->nid;
		return SD_OK;
	case EROFS_S_IFLNK: return read_symlink(w, node, ino, err);
	case EROFS_S_IFCHR:
	case EROFS_S_IFBLK: node->rdev = ino->iu; return SD_OK;
	default: return SD_OK;
	}
}

/* One entry of a directory block. */
static int add_entry(struct walk *w, const struct sd_walk_dir *dir,
		     const char *name, size_t len, uint64_t nid, unsigned ft,
		     size_t *entries, struct sd_error *err)
{
	struct sd_erofs_inode ino;
	int ret;

	if (len == 1 && name[0] == '.') {
		if (nid != dir->id)
			return dir_corrupt(w, dir, err,
					   "\".\" does not point "
					   "to the directory",
					   NULL);
		return SD_OK;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (nid != dir->parent_id)
			return dir_corrupt(w, dir, err,
					   "\"..\" does not point "
					   "to the parent",
					   NULL);
		return SD_OK;
	}
	ret = sd_walk_entry(&w->walk, dir, entries, err);
	if (ret)
		return ret;
	ret = sd_erofs_inode_load(w->img, nid, &ino, err);
	if (ret)
		return ret;
	if (!ft_matches(ft, ino.mode))
		return dir_corrupt(w, dir, err,
				   "entry type does not match "
				   "its inode",
				   NULL);
	struct sd_node *node = sd_tree_add(w->tree, dir->node, name, len,
					   node_type(ino.mode), err);
	if (!node) {
		char why[SD_ERROR_MSG_MAX] = "";
		if (err && err->code == SD_ERR_NOMEM)
			return SD_ERR_NOMEM;
		if (err)
			memcpy(why, err->msg, sizeof(why));
		return dir_corrupt(w, dir, err, "invalid entry name", why);
	}
	return fill_node(w, node, &ino, dir->id, dir->depth + 1, err);
}

/* Parse one directory block of @size bytes in w->blk. */
static int list_block(struct walk *w, const struct sd_walk_dir *dir,
		      size_t size, size_t *entries, struct sd_error *err)
{
	const uint8_t *b = w->blk;
	size_t nameoff0, n;

	if (size < EROFS_DIRENT_SIZE)
		return dir_corrupt(w, dir, err,
				   "block too short for an "
				   "entry",
				   NULL);
	nameoff0 = get_le16(b + EROFS_DIRENT_OFF_NAMEOFF);
	if (nameoff0 < EROFS_DIRENT_SIZE || nameoff0 % EROFS_DIRENT_SIZE ||
	    nameoff0 >= size)
		return dir_corrupt(w, dir, err, "bad first name offset", NULL);
	n = nameoff0 / EROFS_DIRENT_SIZE;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *de = b + i * EROFS_DIRENT_SIZE;
		size_t off = get_le16(de + EROFS_DIRENT_OFF_NAMEOFF), len;
		if (off < nameoff0 || off >= size)
			return dir_corrupt(w, dir, err,
					   "name offset out of "
					   "bounds",
					   NULL);
		if (i + 1 < n) {
			size_t next = get_le16(de + EROFS_DIRENT_SIZE +
					       EROFS_DIRENT_OFF_NAMEOFF);
			if (next < off || next > size)
				return dir_corrupt(w, dir, err,
						   "name offset "
						   "out of bounds",
						   NULL);
			len = next - off;
		} else {
			const uint8_t *z = memchr(b + off, '\0', size - off);
			len = z ? (size_t)(z - (b + off)) : size - off;
		}
		if (len == 0 || len > EROFS_NAME_LEN)
			return dir_corrupt(w, dir, err, "bad name length",
					   NULL);
		int ret = add_entry(w, dir, (const char *)b + off, len,
				    get_le64(de + EROFS_DIRENT_OFF_NID),
				    de[EROFS_DIRENT_OFF_FILE_TYPE], entries,
				    err);
		if (ret)
			return ret;
	}
	return SD_OK;
}

static int list_dir(void *ctx, const struct sd_walk_dir *dir,
		    struct sd_error *err)
{
	struct walk *w = ctx;
	struct sd_erofs_inode ino;
	struct sd_stream *s = NULL;
	size_t entries = 0;
	uint64_t pos = 0;
	int ret = sd_erofs_inode_load(w->img, dir->id, &ino, err);

	if (ret)
		return ret;
	ret = sd_erofs_data_open(w->img, &ino, &s, err);
	/* every block holds at least one entry: entries bound the loop */
	while (!ret && pos < ino.size) {
		size_t want = ino.size - pos < w->img->blksz
				      ? (size_t)(ino.size - pos)
				      : w->img->blksz;
		size_t got = 0;
		ret = sd_stream_read_full(s, w->blk, want, &got, err);
		if (!ret && got != want)
			ret = dir_corrupt(w, dir, err, "data ends early", NULL);
		if (!ret)
			ret = list_block(w, dir, want, &entries, err);
		pos += want;
	}
	sd_stream_close(s);
	return ret;
}

static int walk_all(struct walk *w, struct sd_error *err)
{
	struct sd_erofs_inode root;
	int ret = sd_erofs_inode_load(w->img, w->img->root_nid, &root, err);

	if (ret)
		return ret;
	if ((root.mode & EROFS_S_IFMT) != EROFS_S_IFDIR)
		return sd_erofs_corrupt(w->img, root.nid, err,
					"root inode is "
					"not a directory");
	if (w->on_inode && w->img->has_packed) {
		/* the packed inode: in no directory, but its data is read */
		struct sd_erofs_inode packed;
		ret = sd_erofs_inode_load(w->img, w->img->packed_nid, &packed,
					  err);
		if (ret)
			return ret;
		w->on_inode(w->on_inode_ctx, w->img, &packed);
	}
	ret = fill_node(w, w->tree->root, &root, root.nid, 0, err);
	if (!ret)
		ret = sd_walk_run(&w->walk, err);
	return ret;
}

static const struct sd_walk_ops walk_ops = {
	.list = list_dir,
	.corrupt = walk_corrupt,
};

int sd_erofs_read(const char *path, struct sd_tree **out, struct sd_error *err)
{
	return sd_erofs_read_scan(path, out, NULL, NULL, err);
}

int sd_erofs_read_scan(const char *path, struct sd_tree **out,
		       void (*on_inode)(void *ctx,
					const struct sd_erofs_image *img,
					const struct sd_erofs_inode *ino),
		       void *ctx, struct sd_error *err)
{
	struct sd_erofs_image *img = NULL;
	struct walk w = {.on_inode = on_inode, .on_inode_ctx = ctx};
	int ret;

	*out = NULL;
	ret = sd_erofs_image_open(path, &img, err);
	if (ret)
		return ret;
	w.img = img;
	w.tree = sd_tree_new(img->build_time);
	w.blk = malloc(img->blksz);
	if (!w.tree || !w.blk) {
		sd_tree_free(w.tree);
		free(w.blk);
		sd_erofs_image_close(img);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	/* from here the tree owns the image through its content source */
	w.tree->source = &sd_erofs_content_source;
	w.tree->source_ctx = img;

	sd_walk_init(&w.walk, &walk_ops, &w);
	ret = walk_all(&w, err);
	free(w.blk);
	return sd_walk_finish(&w.walk, w.tree, path, ret, out, err);
}
