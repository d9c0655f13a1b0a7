/* SPDX-License-Identifier: MIT */
/*
 * registration.h — the registration of a packed closure, for guests:
 * `nix-store --load-db` format (closure/regwrite.h) with every store
 * path's narHash and narSize, deriver and references.
 *
 * narHash/narSize are always computed from the tree (closure/nar.h: Nix's
 * NAR serialisation + SHA-256), so a registration states what is really
 * in the image.  References come from the closure's edges, or — when the
 * source has none (a plain path list, a tar, an image) — from scanning
 * each path with the registered paths' hash parts as candidates (Nix's
 * rule).  Derivers are left empty unless asked for: the same closure gives
 * the same registration from every source.
 */
#ifndef SD_APP_REGISTRATION_H
#define SD_APP_REGISTRATION_H

#include <stdbool.h>
#include <stddef.h>

#include "app/baseimage.h"
#include "closure/closure.h"
#include "core/tree.h"

/* The root entry name of an embedded registration, as NixOS images use
 * it (`nix-store --load-db < /nix/store/nix-path-registration`). */
#define SD_EMBEDDED_REGISTRATION "nix-path-registration"

/* How a closure's registration is built. */
struct sd_app_reg_options {
	bool scan_refs;     /* references by scanning the tree (the source
			       * has no edges: a path list, a tar) instead
			       * of the closure's edges */
	bool keep_derivers; /* copy the closure's derivers (--db, a dump-db
			       * registration, an export stream); else every
			       * deriver is left empty, as closureInfo does,
			       * so one closure gives one registration
			       * whatever its source */
	bool base16;        /* hashes as --dump-db prints them (else
			       * sha256:<nix32>) */
	/*
	 * A layer's bases (app/baseimage.h), in order, or none.  A closure
	 * path that is not in the tree but that a base holds is registered
	 * with the record of the first base holding it: its narHash,
	 * narSize and references from that base's embedded registration
	 * (its deriver too with keep_derivers).  A base without a record
	 * for it: the narHash/narSize the closure's source declares
	 * (has_nar) and the closure's edges; without those either, it is
	 * SD_ERR_USAGE naming the base and the path.  With scan_refs (a
	 * closure without edges, such as a layer's path list), the paths
	 * the bases hold beyond the closure are candidates too: those the
	 * closure reaches are registered from their records (none:
	 * SD_ERR_USAGE).
	 */
	const struct sd_base_image *bases;
	size_t nbases;
};

/*
 * Build the registration of closure @cl, whose store paths are the
 * top-level entries of @tree, as @o says.  *@text (malloc'ed, *@len
 * bytes).  Errors: SD_ERR_INVALID when a closure path is not in @tree or
 * its files do not give the narHash/narSize the closure's source declares
 * (cl->paths[i].has_nar; the message names the path and both values),
 * SD_ERR_USAGE when a path held by a base cannot be registered (see
 * o->bases) or its base's record references a path outside the closure,
 * the I/O errors of reading the tree's files, SD_ERR_NOMEM.
 */
int sd_app_registration(const struct sd_tree *tree, const struct sd_closure *cl,
			const struct sd_app_reg_options *o, char **text,
			size_t *len, struct sd_error *err);

/*
 * The registration of an image's contents: every top-level entry that is a
 * store path (others, such as an embedded registration, are skipped),
 * references found by scanning.  @store_dir: the logical store directory.
 */
int sd_app_registration_of_image(const struct sd_tree *tree,
				 const char *store_dir, bool base16,
				 char **text, size_t *len,
				 struct sd_error *err);

#endif
