#include "app/pack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/closure_tree.h"
#include "app/registration.h"
#include "app/rootlinks.h"
#include "core/atomicfile.h"

/* Write @len bytes of @data to @path so that it appears whole or not at
 * all. */
static int write_atomic(const char *path, const char *data, size_t len,
			struct sd_error *err)
{
	struct sd_atomic_file f;
	int rc = sd_atomic_open(&f, path, err);
	if (rc)
		return rc;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(f.fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			sd_atomic_abort(&f);
			return sd_error_errno(err, SD_ERR_IO, e, "%s: write",
					      path);
		}
		off += (size_t)n;
	}
	return sd_atomic_commit(&f, false, err);
}

/* The registration of the closure in @tree; embedded into @tree if asked. */
static int make_registration(struct sd_tree *tree,
			     const struct sd_pack_options *opts, char **text,
			     size_t *len, struct sd_error *err)
{
	struct sd_app_reg_options ro = {.scan_refs = opts->scan_refs,
					.keep_derivers = opts->keep_derivers};
	int rc = sd_app_registration(tree, opts->closure, &ro, text, len, err);
	if (rc || !opts->embed_registration)
		return rc;
	struct sd_node *n = sd_tree_add(tree, tree->root,
					SD_EMBEDDED_REGISTRATION,
					strlen(SD_EMBEDDED_REGISTRATION),
					SD_NODE_FILE, err);
	if (!n)
		return err ? err->code : SD_ERR_INVALID;
	n->mode = SD_MODE_FILE;
	n->mtime = tree->mtime;
	rc = sd_node_set_content(n, *text, *len, err);
	return rc ? rc : sd_tree_finalize(tree, err);
}

int sd_pack(const char *const *bases, size_t n,
	    const struct sd_pack_options *opts, struct sd_pack_result *res,
	    struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	struct sd_tree *tree = NULL;
	int rc = sd_app_closure_tree(bases, n, opts->store_phys, opts->mtime,
				     opts->interrupted, &tree, err);
	if (rc)
		return rc;
	return sd_pack_tree(tree, n, opts, res, err);
}

int sd_pack_tree(struct sd_tree *tree, size_t n,
		 const struct sd_pack_options *opts,
		 struct sd_pack_result *res, struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	char *reg = NULL;
	size_t reg_len = 0;
	int rc;
	if ((opts->embed_registration || opts->registration_out) &&
	    !opts->closure) {
		sd_tree_free(tree);
		return sd_error_set(err, SD_ERR_USAGE,
				    "a registration needs a closure from a "
				    "store");
	}
	rc = sd_root_links_add(tree, opts->root_links, err);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	if (opts->embed_registration || opts->registration_out) {
		rc = make_registration(tree, opts, &reg, &reg_len, err);
		if (rc) {
			sd_tree_free(tree);
			free(reg);
			return rc;
		}
	}
	res->npaths = n;
	res->nfiles = tree->nfiles;
	res->ndirs = tree->ndirs;
	res->nsymlinks = tree->nsymlinks;
	res->bytes_in = tree->file_bytes;

	struct sd_atomic_file out;
	rc = sd_atomic_open(&out, opts->output, err);
	if (rc) {
		sd_tree_free(tree);
		free(reg);
		return rc;
	}
	if (opts->on_tmp)
		opts->on_tmp(out.tmp_path);
	if (opts->on_totals)
		opts->on_totals(opts->write.progress_ctx, tree->file_bytes,
				tree->nfiles);
	rc = opts->format->write(tree, &opts->write, out.fd,
				 opts->interrupted, &res->write, err);
	sd_tree_free(tree);
	if (!rc && opts->interrupted && *opts->interrupted)
		rc = sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
	if (!rc && opts->digest)
		rc = sd_sha256_file(out.tmp_path, res->digest, err);
	if (rc) {
		sd_atomic_abort(&out);
		free(reg);
		return rc;
	}
	rc = sd_atomic_commit(&out, opts->fsync, err);
	if (!rc && opts->registration_out)
		rc = write_atomic(opts->registration_out, reg, reg_len, err);
	free(reg);
	return rc;
}
