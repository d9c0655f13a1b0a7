/* SPDX-License-Identifier: MIT */
/*
 * hosttree.h — build the normalised tree from files on the host.
 *
 * Each host entry is lstat'ed (symlinks are never followed) and added with
 * normalised metadata: owner 0:0, mtime = tree->mtime, mode from
 * sd_normal_mode().  Regular files keep their host path as content source:
 * the top node of each added subtree records its path (src_path) and the
 * nodes below derive theirs from it (sd_node_src_path), which saves a path
 * string per file;
 * hard links become independent file nodes.  A file node keeps the
 * identity lstat gave (src_ident: device, inode, size, mtime, ctime) for
 * the stat cache (core/statcache.h).  Device nodes, FIFOs and
 * sockets are refused with SD_ERR_UNSUPPORTED naming the file.
 *
 * The walk opens each directory once and works relative to its file
 * descriptor (fstatat, readlinkat, openat: one path component per call);
 * only regular files are stat'ed, since readdir's d_type already tells a
 * directory or symlink, whose normalised modes are fixed.  Errors name the
 * full host path (lstat, readlink, opendir, readdir: strerror).
 */
#ifndef SD_CORE_HOSTTREE_H
#define SD_CORE_HOSTTREE_H

#include "core/tree.h"

/*
 * Add host path @src (file, symlink or directory, recursively) to
 * directory @parent under @name.  The tree is not finalised.  Returns the
 * new node in *@out if @out is not NULL.
 */
int sd_hosttree_add(struct sd_tree *tree, struct sd_node *parent,
		    const char *name, const char *src, struct sd_node **out,
		    struct sd_error *err);

#endif
