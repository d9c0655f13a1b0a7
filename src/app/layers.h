/* SPDX-License-Identifier: MIT */
/*
 * layers.h — split the closures of several roots into a stack of at most
 * N layers (`storedisk layers`), so that the paths many others depend on
 * sit in the lower layers and each layer is packed on the ones below it
 * (`pack --paths LAYER --base LOWER.img ...`).
 *
 * The rule, after nixpkgs' layered container images (its "popularity
 * contest", pkgs/build-support/references-by-popularity), extended to
 * several roots:
 *   - c(q), for a store path q, is the number of roots whose closure holds
 *     it;
 *   - the popularity of p is the sum of c(q) over every path q that
 *     reaches p by references (p itself included): how many times p is
 *     depended on, counted in every root's closure;
 *   - paths are ordered by popularity, highest first (ties by basename),
 *     and the order is cut into layers only between two different
 *     popularities, into layers of about equal bytes (the sum of
 *     regular file sizes): layer k is cut where the bytes so far reach
 *     k/N of the total.
 * A path's references are at least as popular as the path (whoever
 * reaches the path reaches them, and the path reaches them too; paths on
 * a reference cycle reach each other and tie), so every layer's
 * references lie in it or below it: the layers 1..k are closed under
 * references for every k, and a root needs the layers 1..top(root), the
 * highest one holding a path of its closure.  Changing a store path
 * changes every path that reaches it, all of which are as popular or less:
 * a change rebuilds its layer and those above, never those below.
 */
#ifndef SD_APP_LAYERS_H
#define SD_APP_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "closure/closure.h"
#include "core/error.h"

struct sd_layer {
	size_t *paths; /* indices into the closure's paths, by basename */
	size_t npaths;
	uint64_t bytes;          /* sum of the paths' bytes */
	uint64_t popularity_max; /* of its most popular path */
	uint64_t popularity_min; /* of its least popular path */
};

struct sd_layers {
	struct sd_layer *layers; /* bottom (1) first */
	size_t nlayers;
	uint64_t *popularity; /* per closure path (index as the closure's) */
	size_t *layer_of;     /* per closure path: its layer, 0-based */
	size_t *root_top;     /* per closure root (c->roots order): the
				 highest layer it needs, 0-based */
};

/*
 * Plan at most @max_layers (>= 1) layers for closure @c of c->nroots
 * roots, as described above.  The closure must carry its references
 * (REGISTRATION or SCAN: a PATHS closure has none, SD_ERR_USAGE) and
 * its paths' bytes (not opts.no_bytes).  Time O(paths x references), one
 * reverse walk per path.  On success *@out is new (sd_layers_free).
 * SD_ERR_USAGE, SD_ERR_NOMEM.
 */
int sd_layers_plan(const struct sd_closure *c, enum sd_closure_source source,
		   size_t max_layers, struct sd_layers **out,
		   struct sd_error *err);

void sd_layers_free(struct sd_layers *l);

#endif
