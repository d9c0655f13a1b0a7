/* SPDX-License-Identifier: MIT */
/*
 * nar.h — Nix archive (NAR) serialisation and the narHash of a subtree.
 *
 * The NAR of a node is what `nix-store --dump` writes for the same file
 * system object; its SHA-256 is the narHash Nix registers for a store path
 * and its length the narSize.  Format (every "string" is a 64-bit
 * little-endian length, the bytes, then zero padding to a multiple of 8):
 *
 *   "nix-archive-1" <node>
 *   node      = "(" "type" <kind> ")"
 *   regular   = "regular" ["executable" ""] "contents" <content>
 *               ("executable" when the owner-exec bit, mode & 0100, is set)
 *   symlink   = "symlink" "target" <target>
 *   directory = "directory" { "entry" "(" "name" <name> "node" <node> ")" }
 *               (entries sorted bytewise by name, as sd_tree_finalize()
 *               leaves them)
 *
 * Only the sd_tree API is used, so a tree built from the host
 * (core/hosttree.h) and one read from an image give the same NAR for the
 * same content.  File contents are streamed through sd_tree_open() and
 * never held in memory whole.  Timestamps, owners and permission bits
 * other than owner-exec do not enter a NAR.
 *
 * Errors: an SD_NODE_OTHER node (device, FIFO, socket) is
 * SD_ERR_UNSUPPORTED naming its path; a file whose stream yields more or
 * fewer bytes than node->size is SD_ERR_IO (a NAR states the length before
 * the content); read errors of the content source and errors of the sink
 * are passed through.  The walk is recursive with one frame per directory
 * level, which our trees bound (readers refuse deeper than 4096 levels).
 */
#ifndef SD_CLOSURE_NAR_H
#define SD_CLOSURE_NAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

/* Length of "sha256:" + 52 nix32 characters, without the NUL. */
#define SD_NAR_NIX32_LEN 59

struct sd_nar_hash {
	uint8_t sha256[32]; /* SHA-256 of the NAR (narHash) */
	uint64_t size;      /* its length in bytes (narSize) */
};

/*
 * Receives the NAR in order, in pieces of any size.  Return 0, or an
 * SD_ERR_* (with @err set) to stop the serialisation; that code is then
 * returned by sd_nar_write().
 */
typedef int (*sd_nar_sink)(void *ctx, const void *data, size_t len,
			   struct sd_error *err);

/* Serialise @node's subtree of @tree as a NAR into @sink. */
int sd_nar_write(const struct sd_tree *tree, const struct sd_node *node,
		 sd_nar_sink sink, void *ctx, struct sd_error *err);

/* narHash and narSize of @node's subtree. */
int sd_nar_hash(const struct sd_tree *tree, const struct sd_node *node,
		struct sd_nar_hash *out, struct sd_error *err);

/* "sha256:<nix32>" as Nix prints narHash (NUL-terminated). */
void sd_nar_hash_nix32(const uint8_t sha256[32],
		       char out[SD_NAR_NIX32_LEN + 1]);

/* 64 lower-case hex digits, NUL-terminated (what ValidPaths.hash holds
 * after "sha256:", and what --dump-db prints). */
void sd_nar_hash_base16(const uint8_t sha256[32], char out[65]);

#endif
