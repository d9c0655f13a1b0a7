/*
 * registration.h — the registration of a packed closure, for guests:
 * `nix-store --load-db` format (closure/regwrite.h) with every store
 * path's narHash and narSize, deriver and references.
 *
 * narHash/narSize come from the closure's source when it has them (a
 * registration or the Nix database), else they are computed from the tree
 * (closure/nar.h).  References come from the closure's edges, or — when
 * the source has none (a plain path list) — from scanning each path with
 * the closure's hash parts as candidates (Nix's rule).
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
 * instead of taking the closure's edges.  *@text (malloc'ed, *@len bytes).
 */
int sd_app_registration(const struct sd_tree *tree,
			const struct sd_closure *cl, bool scan_refs,
			char **text, size_t *len, struct sd_error *err);

#endif
