/* SPDX-License-Identifier: MIT */
/*
 * nar_read.h — a NAR (format: closure/nar.h) read into the normalised tree.
 *
 * The reader is strict: the "nix-archive-1" magic, the exact token
 * sequence, zero padding, directory entries in strictly increasing
 * bytewise order (so no duplicates), entry names that are non-empty, not
 * "." or "..", without '/' or NUL and at most 255 bytes, at most 4096
 * directory levels.  Anything else is SD_ERR_INVALID naming the offset.
 *
 * Nodes get the normalised metadata of the directory input: owner 0:0,
 * directories 0555, files 0555 when "executable" else 0444, symlinks 0777,
 * time tree->mtime.  File contents go to @spool (node->src_id = their
 * offset there, see core/spool.h); symlink targets are kept verbatim.
 */
#ifndef SD_CLOSURE_NAR_READ_H
#define SD_CLOSURE_NAR_READ_H

#include "closure/wire.h"
#include "core/error.h"
#include "core/spool.h"
#include "core/tree.h"

/*
 * Read one NAR from @w and add its root as a child of @parent named @name
 * (@len bytes; the export stream names it only after the NAR, so callers
 * may pass a placeholder and rename).  The new node in *@out.
 */
int sd_nar_read(struct sd_wire *w, struct sd_tree *tree, struct sd_node *parent,
		const char *name, size_t len, struct sd_spool *spool,
		struct sd_node **out, struct sd_error *err);

#endif
