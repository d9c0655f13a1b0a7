/*
 * registration.h — the registration of a packed closure, for guests:
 * `nix-store --load-db` format (closure/regwrite.h) with every store
 * path's narHash and narSize, deriver and references.
 *
 * narHash/narSize are always computed from the tree (closure/nar.h: Nix's
 * NAR serialisation + SHA-256), so a registration states what is really
 * in the image.  References come from the closure's edges, or — when the
 * source has none (a plain path list, an image) — from scanning each path
 * with the registered paths' hash parts as candidates (Nix's rule).
 */
#ifndef SD_APP_REGISTRATION_H
#define SD_APP_REGISTRATION_H

#include <stdbool.h>
#include <stddef.h>

#include "closure/closure.h"
#include "core/tree.h"

/* The root entry name of an embedded registration, as NixOS images use
 * it (`nix-store --load-db < /nix/store/nix-path-registration`). */
#define SD_EMBEDDED_REGISTRATION "nix-path-registration"

/*
 * Build the registration of closure @cl, whose store paths are the
 * top-level entries of @tree.  @scan_refs: compute references by scanning
 * instead of taking the closure's edges.  @base16: hashes as --dump-db
 * prints them (else sha256:<nix32>).  *@text (malloc'ed, *@len bytes).
 */
int sd_app_registration(const struct sd_tree *tree,
			const struct sd_closure *cl, bool scan_refs,
			bool base16, char **text, size_t *len,
			struct sd_error *err);

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
