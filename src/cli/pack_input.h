/* SPDX-License-Identifier: MIT */
/*
 * pack_input.h — `pack --tar FILE` and `pack --nix-export FILE`: the
 * closure comes from a stream (app/input.h) instead of a local store.
 */
#ifndef SD_CLI_PACK_INPUT_H
#define SD_CLI_PACK_INPUT_H

#include <stddef.h>

#include "app/pack.h"
#include "cli/closure_opts.h"

/*
 * Read the tar (@tar) or export stream (@nix_export; exactly one is
 * non-NULL) and pack it with @po.  Of the closure options only
 * --store-dir (the logical store directory, default /nix/store) and
 * --allow-missing apply; the others are SD_ERR_USAGE.  Every store path
 * in the stream is packed; @roots (logical store paths, optional) must be
 * among them (SD_ERR_MISSING).  A registration (po->embed_registration,
 * po->registration_out) takes the export stream's references, or scans a
 * tar's paths with the stream's paths as candidates (app/input.h).
 */
int sd_pack_input_run(const char *tar, const char *nix_export,
		      const struct sd_closure_cli *cc, const char *const *roots,
		      size_t nroots, const struct sd_pack_options *po,
		      struct sd_pack_result *res, struct sd_error *err);

#endif
