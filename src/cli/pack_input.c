#include "cli/pack_input.h"

#include <string.h>

#include "app/input.h"
#include "closure/storepath.h"

/* Every root must name a store path of @tree. */
static int check_roots(const struct sd_tree *tree, const char *store_dir,
		       const char *const *roots, size_t nroots,
		       struct sd_error *err)
{
	for (size_t i = 0; i < nroots; i++) {
		struct sd_spath sp;
		int rc = sd_storepath_parse(store_dir, roots[i],
					    strlen(roots[i]), true, &sp, err);
		if (rc)
			return rc;
		if (!sd_node_child(tree->root, sp.base, sp.base_len))
			return sd_error_set(err, SD_ERR_MISSING,
					    "root %s is not in the input",
					    roots[i]);
	}
	return SD_OK;
}

int sd_pack_input_run(const char *tar, const char *nix_export,
		      const struct sd_closure_cli *cc,
		      const char *const *roots, size_t nroots,
		      const struct sd_pack_options *po,
		      struct sd_pack_result *res, struct sd_error *err)
{
	if (tar && nix_export)
		return sd_error_set(err, SD_ERR_USAGE,
				    "--tar and --nix-export exclude each "
				    "other");
	if (cc->store || cc->registration || cc->paths || cc->db ||
	    cc->scan || cc->allow_file)
		return sd_error_set(err, SD_ERR_USAGE,
				    "--tar/--nix-export read the closure from "
				    "the stream: --store, --registration, "
				    "--paths, --db, --scan and --allow do not "
				    "apply");
	if (po->embed_registration || po->registration_out)
		return sd_error_set(err, SD_ERR_USAGE,
				    "--embed-registration and "
				    "--registration-out are not supported "
				    "with --tar/--nix-export yet");
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
	rc = check_roots(tree, io.store_dir, roots, nroots, err);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	return sd_pack_tree(tree, info.npaths, po, res, err);
}
