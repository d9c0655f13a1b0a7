#include "app/pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomicfile.h"
#include "core/hosttree.h"

static int build_tree(const char *const *bases, size_t n,
		      const struct sd_pack_options *opts,
		      struct sd_tree **out, struct sd_error *err)
{
	struct sd_tree *tree = sd_tree_new(opts->mtime);
	if (!tree)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = SD_OK;
	size_t cap = strlen(opts->store_phys) + 2;
	for (size_t i = 0; i < n && !rc; i++) {
		size_t len = cap + strlen(bases[i]);
		char *src = malloc(len);
		if (!src) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(src, len, "%s/%s", opts->store_phys, bases[i]);
		rc = sd_hosttree_add(tree, tree->root, bases[i], src, NULL,
				     err);
		free(src);
		if (!rc && opts->interrupted && *opts->interrupted)
			rc = sd_error_set(err, SD_ERR_INTERRUPTED,
					  "interrupted");
	}
	if (!rc)
		rc = sd_tree_finalize(tree, err);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	*out = tree;
	return SD_OK;
}

int sd_pack(const char *const *bases, size_t n,
	    const struct sd_pack_options *opts, struct sd_pack_result *res,
	    struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	struct sd_tree *tree = NULL;
	int rc = build_tree(bases, n, opts, &tree, err);
	if (rc)
		return rc;
	res->npaths = tree->root->nchildren;
	res->nfiles = tree->nfiles;
	res->ndirs = tree->ndirs;
	res->nsymlinks = tree->nsymlinks;
	res->bytes_in = tree->file_bytes;

	struct sd_atomic_file out;
	rc = sd_atomic_open(&out, opts->output, err);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	if (opts->on_tmp)
		opts->on_tmp(out.tmp_path);
	rc = opts->format->write(tree, &opts->write, out.fd,
				 opts->interrupted, &res->write, err);
	sd_tree_free(tree);
	if (!rc && opts->interrupted && *opts->interrupted)
		rc = sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
	if (!rc && opts->digest)
		rc = sd_sha256_file(out.tmp_path, res->digest, err);
	if (rc) {
		sd_atomic_abort(&out);
		return rc;
	}
	return sd_atomic_commit(&out, opts->fsync, err);
}
