/* SPDX-License-Identifier: MIT */
/*
 * sdlimits.h — the limits storedisk's writers and readers share.
 *
 * One constant per limit, used on both sides: a writer refuses a tree
 * that exceeds one (SD_ERR_LIMIT, before writing anything), a reader
 * refuses an image that does (SD_ERR_CORRUPT), so storedisk never writes
 * an image that its own verify, ls, extract or export then reject.
 *
 * Depth counts directory levels below the image root: the root is level
 * 0, a store path level 1, a directory inside it level 2.  A path's total
 * length has no limit of its own (see SD_LIMIT_DEPTH).
 *
 * sd_tree_check_limits() (core/tree.h) applies them to a tree.
 */
#ifndef SD_CORE_SDLIMITS_H
#define SD_CORE_SDLIMITS_H

/*
 * Deepest directory nesting.  The kernel has no such limit (it resolves
 * one component at a time; PATH_MAX, 4096 bytes, bounds only the path
 * one system call is given).  Every consumer of a tree works one level at
 * a time (the readers' walk and the tree walks iterate on the heap,
 * extract and the host walk use openat), so this bounds the work and the
 * open descriptors of a walk, not a path's length: a tree path may be
 * longer than PATH_MAX.
 */
#define SD_LIMIT_DEPTH 4096u

/* Longest entry name, bytes (EROFS's and the kernel's NAME_MAX; squashfs
 * would allow 256). */
#define SD_LIMIT_NAME 255u

/* Longest symlink target, bytes: PATH_MAX - 1, the longest symlink(2)
 * makes and the kernel's EROFS reads. */
#define SD_LIMIT_SYMLINK 4095u

/* Largest regular file, bytes (1 TiB; both formats and the kernel take
 * more, up to 2^64 - 1). */
#define SD_LIMIT_FILE_SIZE (1ull << 40)

/* Entries (nodes below the root) in one image. */
#define SD_LIMIT_NODES (1u << 24)

/* Entries in one directory ("." and ".." not counted). */
#define SD_LIMIT_DIR_ENTRIES (1u << 22)

#endif
