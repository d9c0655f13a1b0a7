/* SPDX-License-Identifier: MIT */
#include "cli/pack_input.h"

#include "app/input.h"

int sd_pack_input_run(const char *tar, const char *nix_export,
		      const struct sd_closure_cli *cc, const char *const *roots,
		      size_t nroots, const struct sd_pack_options *po,
		      struct sd_pack_result *res, struct sd_error *err)
{
	if (tar && nix_export)
		return sd_error_set(err, SD_ERR_USAGE,
				    "--tar and --nix-export exclude each "
				    "other");
	if (cc->store || cc->registration || cc->paths || cc->db || cc->scan ||
	    cc->allow_file)
		return sd_error_set(err, SD_ERR_USAGE,
				    "--tar/--nix-export read the closure from "
				    "the stream: --store, --registration, "
				    "--paths, --db, --scan and --allow do not "
				    "apply");
	struct sd_input_options io = {
		.store_dir = cc->store_dir ? cc->store_dir
					   : SD_DEFAULT_STORE_DIR,
		.mtime = po->mtime,
		.allow_missing = cc->allow_missing,
		.interrupted = po->interrupted,
	};
	struct sd_tree *tree = NULL;
	struct sd_input_info info;
	int rc = tar ? sd_input_tar(tar, &io, &tree, &info, err)
		     : sd_input_export(nix_export, &io, &tree, &info, err);
	if (rc)
		return rc;
	/* The stream is the closure: its references (export) or a scan (tar)
	 * give the registration's. */
	struct sd_input_closure ic;
	rc = sd_input_closure(tree, &info, io.store_dir, roots, nroots, &ic,
			      err);
	size_t npaths = info.npaths;
	sd_input_info_release(&info);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	struct sd_pack_options o = *po;
	o.closure = ic.closure;
	o.scan_refs = ic.scan_refs;
	o.store_dir = io.store_dir; /* the manifest's */
	rc = sd_pack_tree(tree, npaths, &o, res, err);
	sd_input_closure_free(&ic);
	return rc;
}
