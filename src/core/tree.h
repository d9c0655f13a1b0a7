/* SPDX-License-Identifier: MIT */
/*
 * tree.h — the normalised tree, storedisk's one central model.
 *
 * A tree is the in-memory picture of an image's file system: the image
 * root is the store directory, its children are store paths
 * ("<hash>-<name>"), and below them the paths' contents.
 *
 * Producers:
 *   - the host-directory builder (core/hosttree.h) fills it from a store on
 *     disk, normalising metadata as it goes;
 *   - every format reader (formats/format.h) fills it from an image,
 *     reporting metadata exactly as stored.
 * Consumers: format writers, the reference scanner, verify and the report
 * code.  Writers emit exactly what the nodes say; they never normalise.
 *
 * Invariants after sd_tree_finalize():
 *   - every directory's children are sorted bytewise (memcmp on names,
 *     shorter name first on a common prefix) and names are unique;
 *   - names are non-empty, contain neither '/' nor NUL and are not "." or
 *     "..";  the root's name is "";
 *   - node->index numbers the nodes 0..tree->count-1 in pre-order (root 0,
 *     then each child subtree in sorted order).
 *
 * Content: a FILE node's bytes are read through sd_tree_open(), which asks
 * the tree's content source (host files or an image reader).  Hard links of
 * the source are not modelled: each name is its own file node (a writer
 * may still store identical contents once).
 */
#ifndef SD_CORE_TREE_H
#define SD_CORE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/stream.h"

enum sd_node_type {
	SD_NODE_DIR = 1,
	SD_NODE_FILE = 2,
	SD_NODE_SYMLINK = 3,
	/* Device, FIFO or socket: readers may report one, writers refuse it. */
	SD_NODE_OTHER = 4,
};

/* Normalised permission bits (see sd_normal_mode). */
#define SD_MODE_DIR 0555
#define SD_MODE_FILE 0444
#define SD_MODE_EXEC 0555
#define SD_MODE_SYMLINK 0777

/* Default image time when neither --mtime nor SOURCE_DATE_EPOCH is given:
 * 1 (one second after the epoch), as Nix gives store paths. */
#define SD_DEFAULT_MTIME 1

/*
 * A host file's identity as lstat(2) reports it: the same identity means
 * an unchanged file (core/statcache.h says why).
 */
struct sd_file_ident {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns; /* seconds * 10^9 + nanoseconds */
};

struct sd_node {
	const char *name; /* entry name, NUL-terminated; "" for the root;
			     owned by the tree (sd_node_set_name) */
	size_t name_len;  /* strlen(name) */
	enum sd_node_type type;
	uint16_t mode;     /* permission bits (07777 mask), no type bits */
	uint32_t uid, gid; /* owner */
	int64_t mtime;     /* seconds since the epoch */
	uint64_t size;     /* FILE: content bytes; SYMLINK: target length */
	char *target;      /* SYMLINK: target, NUL-terminated */
	uint32_t rdev;     /* OTHER: device number if any */

	struct sd_node *parent;    /* NULL for the root */
	struct sd_node **children; /* DIR: sorted after finalize */
	size_t nchildren;
	size_t children_cap;

	/* Content source of a FILE. */
	char *src_path;  /* host path of this node, or NULL: then the
			    nearest ancestor's plus the names below
			    it (see sd_node_src_path) */
	void *src_mem;   /* content held in memory (owned), else NULL;
			    takes precedence over src_path */
	uint64_t src_id; /* opaque cookie for image readers */
	/* FILE from the host (core/hosttree.h): its identity as lstat saw
	 * it when the tree was built, for core/statcache.h; all zero when
	 * unknown (other sources). */
	struct sd_file_ident src_ident;

	uint32_t index; /* pre-order number, set by finalize */
	void *user;     /* free for the current consumer */
};

/* Where a tree's file contents come from. */
struct sd_content_source {
	/* Open @node's content.  @ctx is sd_tree.source_ctx. */
	int (*open)(void *ctx, const struct sd_node *node,
		    struct sd_stream **out, struct sd_error *err);
	/* Release @ctx when the tree is freed (may be NULL). */
	void (*release)(void *ctx);
};

/*
 * A tap on a tree's file contents: every stream sd_tree_open() returns
 * for a node passes through wrap(), which returns @inner itself or a
 * stream that reads from @inner (and owns it: closing it closes @inner).
 * Used to scan contents in the same read a writer makes.  wrap() may be
 * called from several threads at once (writers read on --jobs threads).
 * On error it sets @err and leaves @inner to the caller (which closes it).
 */
struct sd_stream_tap {
	int (*wrap)(void *ctx, const struct sd_node *node,
		    struct sd_stream *inner, struct sd_stream **out,
		    struct sd_error *err);
};

struct sd_tree {
	struct sd_node *root; /* type DIR, name "" */
	int64_t mtime;        /* the image-wide time (writers' superblock) */

	const struct sd_content_source *source; /* NULL: host files */
	void *source_ctx;

	const struct sd_stream_tap *tap; /* NULL: no tap */
	void *tap_ctx;

	/* Counts, valid after sd_tree_finalize(). */
	size_t count; /* all nodes including the root */
	size_t ndirs, nfiles, nsymlinks, nother;
	uint64_t file_bytes; /* sum of FILE sizes */

	struct sd_name_chunk *names; /* private: storage of entry names */
};

/* Create an empty tree whose root has @mtime and mode SD_MODE_DIR, 0:0. */
struct sd_tree *sd_tree_new(int64_t mtime);

/* Free the tree, all nodes and release the content source. NULL ok. */
void sd_tree_free(struct sd_tree *tree);

/*
 * Append a child of @type named @name (@len bytes) to directory @parent.
 * Metadata is zeroed: callers fill mode/uid/gid/mtime/size/target.
 * The name is validated (non-empty, no '/', no NUL, not "." or "..",
 * at most SD_LIMIT_NAME, 255, bytes: core/sdlimits.h).  Duplicates are
 * detected by sd_tree_finalize().
 * Returns the node, or NULL with @err set.
 */
struct sd_node *sd_tree_add(struct sd_tree *tree, struct sd_node *parent,
			    const char *name, size_t len,
			    enum sd_node_type type, struct sd_error *err);

/*
 * Move every child of @src's root, with its subtree and names, under
 * directory @parent of @dst (appended: sd_tree_finalize() sorts) and free
 * @src.  Lets subtrees be built apart, e.g. on several threads, and joined
 * into one tree identical to one built in place.  @src must have no
 * content source or tap of its own.  SD_ERR_NOMEM (then @src is left
 * whole, for the caller to free), SD_ERR_INVALID if @parent is no
 * directory.
 */
int sd_tree_graft(struct sd_tree *dst, struct sd_node *parent,
		  struct sd_tree *src, struct sd_error *err);

/* Rename @node to @name (@len bytes, copied into @tree, validated as in
 * sd_tree_add).  SD_ERR_INVALID for a bad name, SD_ERR_NOMEM. */
int sd_node_set_name(struct sd_tree *tree, struct sd_node *node,
		     const char *name, size_t len, struct sd_error *err);

/* Set a symlink's target (copied); also sets node->size. */
int sd_node_set_target(struct sd_node *node, const char *target, size_t len,
		       struct sd_error *err);

/* Give a FILE node in-memory content (copied; sets node->size). */
int sd_node_set_content(struct sd_node *node, const void *data, size_t len,
			struct sd_error *err);

/* Set a node's host path (copied): a file's content, or a directory's
 * place on the host, from which the host paths of the nodes below it
 * follow (sd_node_src_path). */
int sd_node_set_src_path(struct sd_node *node, const char *path,
			 struct sd_error *err);

/*
 * The host path of @node's content: its own src_path, else the nearest
 * ancestor's src_path followed by "/<name>" for each node from there down
 * to @node (host trees record a path only at the top of each added
 * subtree: core/hosttree.h).  Written NUL-terminated into @buf and
 * truncated to @len, like snprintf; returns the full length, or 0 when
 * neither the node nor any ancestor has a host path.  With @len 0, @buf
 * may be NULL.
 */
size_t sd_node_src_path(const struct sd_node *node, char *buf, size_t len);

/* Same, into a newly allocated string; NULL when there is none (or on
 * allocation failure). */
char *sd_node_src_path_dup(const struct sd_node *node);

/*
 * Sort every directory bytewise, reject duplicate names (SD_ERR_INVALID
 * naming the path), number the nodes and compute the counts.
 */
int sd_tree_finalize(struct sd_tree *tree, struct sd_error *err);

/*
 * Check finalised @tree against core/sdlimits.h (nesting depth, entries per
 * directory and per tree, symlink target and file sizes; names are checked
 * by sd_tree_add): SD_ERR_LIMIT naming the first path beyond a limit,
 * SD_ERR_NOMEM.  Writers call it first, so that no image is written that
 * storedisk's readers refuse.
 */
int sd_tree_check_limits(const struct sd_tree *tree, struct sd_error *err);

/* Find a child of @dir by exact name (binary search after finalize). */
struct sd_node *sd_node_child(const struct sd_node *dir, const char *name,
			      size_t len);

/*
 * Look up a '/'-separated path relative to the root ("", "a", "a/b/c";
 * leading and repeated slashes are ignored).  Symlinks are not followed.
 */
struct sd_node *sd_tree_lookup(const struct sd_tree *tree, const char *path);

/*
 * Write @node's path relative to the root ("<hash>-<name>/bin/x"; "" for the
 * root) into @buf as a NUL-terminated string, truncating to @len.  Returns
 * the full length (like snprintf); with @len 0, @buf may be NULL and only
 * the length is measured.
 */
size_t sd_node_path(const struct sd_node *node, char *buf, size_t len);

/* Same, into a newly allocated string (NULL on allocation failure). */
char *sd_node_path_dup(const struct sd_node *node);

/*
 * "<prefix>/<path of node>" in a newly allocated string, e.g. the logical
 * path "/nix/store/<hash>-<name>/bin/x" with prefix "/nix/store" (the
 * root gives "<prefix>/").  NULL on allocation failure.
 */
char *sd_node_path_under(const struct sd_node *node, const char *prefix);

/* Open a FILE node's content: its in-memory content if it has one, else
 * the host file or the image, per the tree's source; through the tree's
 * tap if it has one. */
int sd_tree_open(const struct sd_tree *tree, const struct sd_node *node,
		 struct sd_stream **out, struct sd_error *err);

/*
 * A host directory kept open between sd_tree_open_near() calls of one
 * thread.  Initialise with SD_DIRCACHE_INIT; sd_dircache_release() closes
 * it (the cache stays usable).
 */
struct sd_dircache {
	const struct sd_node *dir; /* the directory node open as fd */
	int fd;                    /* -1: none */
};
#define SD_DIRCACHE_INIT \
	{                \
		NULL, -1 \
	}

/*
 * sd_tree_open() for a reader that opens files in tree order: a host
 * file below an added subtree's top is opened relative to its parent
 * directory (openat), which @dc keeps open for the next file of the same
 * directory, so the kernel resolves the directory's path once, not once
 * per file.  The same stream, bytes and errors as sd_tree_open() (a
 * directory that cannot be opened falls back to the full path).
 */
int sd_tree_open_near(const struct sd_tree *tree, const struct sd_node *node,
		      struct sd_dircache *dc, struct sd_stream **out,
		      struct sd_error *err);

void sd_dircache_release(struct sd_dircache *dc);

/*
 * Visit @node and its subtree in pre-order, children in sorted order.
 * A non-zero return of @fn stops the walk and is returned.
 */
int sd_tree_walk(struct sd_node *node,
		 int (*fn)(struct sd_node *node, void *ctx), void *ctx);

/* The normalised permission bits for @type given the source's @host_mode:
 * dirs 0555, files 0555 if owner-exec else 0444, symlinks 0777. */
uint16_t sd_normal_mode(enum sd_node_type type, uint32_t host_mode);

#endif
