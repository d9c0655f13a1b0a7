/* SPDX-License-Identifier: MIT */
/*
 * walk.h — the directory walk both image readers share.
 *
 * A reader turns an image's directories into a tree (core/tree.h).  How
 * a directory is listed and how an inode becomes a node differ between
 * formats; the rest is the same and lives here:
 *
 *   - pending directories: a directory is queued (sd_walk_push) when its
 *     node is made and listed when sd_walk_run pops it.  The queue is an
 *     explicit stack on the heap, so no nesting, however deep or hostile,
 *     can overflow the C stack; listing order does not matter (finalising
 *     sorts every directory);
 *   - the loop check: a directory's identity (EROFS nid, squashfs inode
 *     number) may be queued once; a second time is a loop (or a hard link
 *     to a directory, which neither format allows);
 *   - the limits of core/sdlimits.h: a directory deeper than
 *     SD_LIMIT_DEPTH, more than SD_LIMIT_DIR_ENTRIES entries in one
 *     directory or SD_LIMIT_NODES in the image are corruption (storedisk's
 *     writers refuse trees beyond them);
 *   - the finish (sd_walk_finish): the tree is finalised, a duplicate
 *     name becomes SD_ERR_CORRUPT naming the image, and on any failure the
 *     tree (and the image it owns) is freed.
 *
 * Errors: the walk says what is wrong ("directory loop (directory reached
 * twice)") and passes it to the reader's corrupt() callback, which
 * returns SD_ERR_CORRUPT with the reader's own context (image, inode,
 * path).  Memory failures are SD_ERR_NOMEM.
 *
 * Use:
 *   struct sd_walk w;
 *   sd_walk_init(&w, &my_ops, ctx);
 *   ret = <make the root node>, sd_walk_push(&w, &root_dir, err);
 *   if (!ret) ret = sd_walk_run(&w, err);   // calls ops->list per dir,
 *                                           // which pushes subdirectories
 *   ret = sd_walk_finish(&w, tree, image_path, ret, out, err);
 */
#ifndef SD_FORMATS_WALK_H
#define SD_FORMATS_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"
#include "core/u64set.h"

/* A directory to list. */
struct sd_walk_dir {
	struct sd_node *node; /* its node in the tree */
	uint64_t id;          /* identity for the loop check */
	uint64_t parent_id;   /* the id of the directory that lists it
				 (the root: its own) */
	void *inode;          /* the reader's own data (a decoded inode),
				 owned by the walk once pushed; may be
				 NULL */
	unsigned depth;       /* 0 for the root */
};

struct sd_walk_ops {
	/* List @dir: add a node per entry, sd_walk_entry() for each and
	 * sd_walk_push() for each subdirectory. */
	int (*list)(void *ctx, const struct sd_walk_dir *dir,
		    struct sd_error *err);
	/* SD_ERR_CORRUPT "...: @what" with the reader's context for @dir. */
	int (*corrupt)(void *ctx, const struct sd_walk_dir *dir,
		       const char *what, struct sd_error *err);
	/* Free a directory's inode (NULL: the reader owns none). */
	void (*drop)(void *inode);
};

struct sd_walk {
	const struct sd_walk_ops *ops;
	void *ctx;
	/* private */
	struct sd_walk_dir *stack;
	size_t sp, cap;
	struct sd_u64set seen; /* ids of the directories queued so far */
	size_t nodes;          /* entries counted so far */
};

/* An empty walk calling @ops with @ctx. */
void sd_walk_init(struct sd_walk *w, const struct sd_walk_ops *ops, void *ctx);

/* Drop every pending directory and free the walk's memory (it is empty
 * and usable again). */
void sd_walk_release(struct sd_walk *w);

/*
 * Queue directory @dir for listing; the walk owns dir->inode from here,
 * whatever the outcome.  SD_ERR_CORRUPT if it is deeper than
 * SD_LIMIT_DEPTH or its id was queued before (a loop), SD_ERR_NOMEM.
 */
int sd_walk_push(struct sd_walk *w, const struct sd_walk_dir *dir,
		 struct sd_error *err);

/*
 * Count one entry of @dir, whose listing has counted *@entries so far
 * (the caller's counter, 0 at the start of the listing).  SD_ERR_CORRUPT
 * "too many entries" past SD_LIMIT_DIR_ENTRIES in @dir or SD_LIMIT_NODES
 * in the image.
 */
int sd_walk_entry(struct sd_walk *w, const struct sd_walk_dir *dir,
		  size_t *entries, struct sd_error *err);

/* List pending directories until none is left or a listing fails. */
int sd_walk_run(struct sd_walk *w, struct sd_error *err);

/*
 * End the walk of the image at @path that built @tree, with @ret the
 * walk's status so far: release @w, finalise @tree if @ret is 0 (a
 * failure other than SD_ERR_NOMEM becomes SD_ERR_CORRUPT prefixed with
 * "@path: "), then either store @tree in *@out (SD_OK) or free it and
 * return the error.
 */
int sd_walk_finish(struct sd_walk *w, struct sd_tree *tree, const char *path,
		   int ret, struct sd_tree **out, struct sd_error *err);

#endif
