/* SPDX-License-Identifier: MIT */
#include "app/pack.h"

#include "app/packcache.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/closure_tree.h"
#include "app/manifest.h"
#include "app/registration.h"
#include "app/rootlinks.h"
#include "closure/storepath.h"
#include "core/atomicfile.h"

/* Seconds on the monotonic clock. */
static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Add a regular file @name with content @text at the image root. */
static int add_root_file(struct sd_tree *tree, const char *name,
			 const char *text, size_t len, struct sd_error *err)
{
	struct sd_node *n = sd_tree_add(tree, tree->root, name, strlen(name),
					SD_NODE_FILE, err);
	if (!n)
		return err ? err->code : SD_ERR_INVALID;
	n->mode = SD_MODE_FILE;
	n->mtime = tree->mtime;
	return sd_node_set_content(n, text, len, err);
}

/* Basename of a missing reference as recorded: its path's if that is a
 * store path in the store dir, else its hash. */
static const char *missing_base(const struct sd_closure_missing *m,
				const char *store_dir, size_t *len)
{
	struct sd_spath sp;
	if (m->path && !sd_storepath_parse(store_dir, m->path, strlen(m->path),
					   false, &sp, NULL)) {
		*len = sp.base_len;
		return sp.base;
	}
	*len = SD_HASH_CHARS;
	return m->hash;
}

/* The manifest of what this pack decided (app/manifest.h). */
static int fill_manifest(struct sd_manifest *m, const struct sd_closure *cl,
			 const struct sd_packscan *ps, struct sd_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < cl->nroots; i++) {
		const struct sd_store_path *sp = cl->paths[cl->roots[i]].sp;
		rc = sd_manifest_add_root(m, sp->base, sp->base_len, err);
	}
	for (size_t i = 0; !rc && i < cl->nabsent; i++)
		rc = sd_manifest_add_absent(m, cl->absent[i].hash,
					    SD_HASH_CHARS, err);
	for (size_t i = 0; !rc && i < cl->nmissing; i++) {
		size_t len;
		const char *b =
			missing_base(&cl->missing[i], m->store_dir, &len);
		rc = sd_manifest_add_accepted(m, b, len, err);
	}
	size_t n = 0;
	const struct sd_packscan_finding *f = ps ? sd_packscan_findings(ps, &n)
						 : NULL;
	for (size_t i = 0; !rc && i < n; i++) {
		if (f[i].kind == SD_PACKSCAN_ABSENT)
			rc = sd_manifest_add_absent(m, f[i].hash, SD_HASH_CHARS,
						    err);
		else if (f[i].accepted)
			rc = sd_manifest_add_accepted(m, f[i].sp->base,
						      f[i].sp->base_len, err);
	}
	return rc;
}

/* Embed the registration @reg and the manifest at the image root. */
static int embed(struct sd_tree *tree, const struct sd_pack_options *opts,
		 const struct sd_packscan *ps, const char *reg, size_t reg_len,
		 struct sd_error *err)
{
	const char *store_dir = opts->store_dir ? opts->store_dir
						: SD_DEFAULT_STORE_DIR;
	struct sd_manifest *m = sd_manifest_new(store_dir);
	char *text = NULL;
	size_t len = 0;
	int rc = m ? fill_manifest(m, opts->closure, ps, err)
		   : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = sd_manifest_text(m, &text, &len, err);
	if (!rc)
		rc = add_root_file(tree, SD_EMBEDDED_REGISTRATION, reg, reg_len,
				   err);
	if (!rc)
		rc = add_root_file(tree, SD_EMBEDDED_MANIFEST, text, len, err);
	if (!rc)
		rc = sd_tree_finalize(tree, err);
	free(text);
	sd_manifest_free(m);
	return rc;
}

/* Finish the reference check: its findings go to @res; an unaccepted
 * reference outside the closure is the error. */
static int finish_check(struct sd_packscan *ps, struct sd_pack_result *res,
			struct sd_error *err)
{
	int rc = sd_packscan_finish(ps, err);
	if (rc) {
		sd_packscan_free(ps);
		return rc;
	}
	res->scan = ps;
	return sd_packscan_refusal(ps, err);
}

int sd_pack(const char *const *bases, size_t n,
	    const struct sd_pack_options *opts, struct sd_pack_result *res,
	    struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	struct sd_tree *tree = NULL;
	double t0 = now_seconds();
	int rc = sd_app_closure_tree(bases, n, opts->store_phys, opts->mtime,
				     opts->write.jobs, opts->interrupted, &tree,
				     err);
	double tree_s = now_seconds() - t0;
	if (!rc)
		rc = sd_pack_tree(tree, n, opts, res, err);
	res->seconds.tree = tree_s;
	return rc;
}

void sd_pack_result_release(struct sd_pack_result *res)
{
	sd_packscan_free(res->scan);
	res->scan = NULL;
}

/* Everything before the image is written: the check when a registration
 * reads the files first, the registration and what is embedded. */
static int prepare(struct sd_tree *tree, const struct sd_pack_options *opts,
		   struct sd_packscan **ps, struct sd_packcache **pc,
		   struct sd_pack_result *res, char **reg, size_t *reg_len,
		   struct sd_error *err)
{
	bool want_reg = opts->embed_registration || opts->registration_out;
	if (want_reg && !opts->closure)
		return sd_error_set(err, SD_ERR_USAGE,
				    "a registration needs a closure from a "
				    "store");
	/* Root links first: a check and the registration skip them. */
	int rc = sd_root_links_add(tree, opts->root_links, err);
	if (!rc && opts->check)
		rc = sd_packscan_new(tree, opts->check, ps, err);
	/* The stat cache's tap goes over the check's (it calls it). */
	if (!rc && opts->write.cache && sd_compcache_enabled(opts->write.cache))
		rc = sd_packcache_new(tree, opts->write.cache,
				      opts->store_dir ? opts->store_dir
						      : "/nix/store",
				      pc, err);
	if (rc || !want_reg)
		return rc;
	/* The registration reads every file (narHash): the check rides it. */
	struct sd_app_reg_options ro = {.scan_refs = opts->scan_refs,
					.keep_derivers = opts->keep_derivers,
					.bases = opts->bases,
					.nbases = opts->nbases};
	rc = sd_app_registration(tree, opts->closure, &ro, reg, reg_len, err);
	if (!rc && *ps) {
		struct sd_packscan *p = *ps;
		*ps = NULL;
		rc = finish_check(p, res, err);
	}
	if (!rc && opts->embed_registration)
		rc = embed(tree, opts, res->scan, *reg, *reg_len, err);
	return rc;
}

struct skip_ctx {
	struct sd_packscan *ps;
	struct sd_packcache *pc;
};

/* A file known from the stat cache: checked by its tokens if they show
 * it holds no finding (else sd_packscan_finish reads it). */
static int skip_known(struct sd_node *node, void *ctx)
{
	struct skip_ctx *x = ctx;
	const uint8_t *tok;
	size_t len;
	if (node->type == SD_NODE_FILE &&
	    sd_packcache_tokens(x->pc, node, &tok, &len))
		sd_packscan_skip(x->ps, node, tok, len);
	return 0;
}

int sd_pack_tree(struct sd_tree *tree, size_t n,
		 const struct sd_pack_options *opts, struct sd_pack_result *res,
		 struct sd_error *err)
{
	memset(res, 0, sizeof(*res));
	char *reg = NULL;
	size_t reg_len = 0;
	struct sd_packscan *ps = NULL;
	struct sd_packcache *pc = NULL;
	double t = now_seconds();
	int rc = prepare(tree, opts, &ps, &pc, res, &reg, &reg_len, err);
	res->seconds.prepare = now_seconds() - t;
	if (rc) {
		sd_packcache_free(pc);
		sd_packscan_free(ps);
		sd_tree_free(tree);
		free(reg);
		return rc;
	}
	res->npaths = n;
	res->nfiles = tree->nfiles;
	res->ndirs = tree->ndirs;
	res->nsymlinks = tree->nsymlinks;
	res->bytes_in = tree->file_bytes;

	struct sd_atomic_file out;
	rc = sd_atomic_open(&out, opts->output, err);
	if (rc) {
		sd_packcache_free(pc);
		sd_packscan_free(ps);
		sd_tree_free(tree);
		free(reg);
		return rc;
	}
	if (opts->on_tmp)
		opts->on_tmp(out.tmp_path);
	if (opts->on_totals)
		opts->on_totals(opts->write.progress_ctx, tree->file_bytes,
				tree->nfiles);
	struct sd_write_options wo = opts->write;
	if (pc) {
		wo.file_digest = sd_packcache_digest;
		wo.file_content = sd_packcache_content;
		wo.file_digest_ctx = pc;
	}
	t = now_seconds();
	rc = opts->format->write(tree, &wo, out.fd, opts->interrupted,
				 &res->write, err);
	res->seconds.write = now_seconds() - t;
	t = now_seconds();
	if (rc == SD_ERR_OUTPUT)
		sd_error_prefix(err, rc, "%s", opts->output);
	if (!rc && opts->interrupted && *opts->interrupted)
		rc = sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
	/* The writer read the files: the check rode that read; the files
	 * it did not read are checked by their cached tokens, or read. */
	if (!rc && ps && pc)
		sd_tree_walk(tree->root, skip_known,
			     &(struct skip_ctx){ps, pc});
	if (!rc && ps)
		rc = finish_check(ps, res, err);
	else
		sd_packscan_free(ps);
	if (!rc)
		sd_packcache_store(pc);
	if (pc) {
		sd_packcache_counters(pc, &res->cache);
		sd_packcache_free(pc);
	}
	sd_tree_free(tree);
	if (!rc && opts->verity) {
		/* It reads the whole file: the digest comes with it. */
		double tv = now_seconds();
		rc = sd_verity_append(out.tmp_path, opts->write.jobs,
				      opts->interrupted, &res->verity,
				      opts->digest ? res->digest : NULL, err);
		res->seconds.verity = now_seconds() - tv;
		if (rc)
			sd_error_prefix(err, rc, "%s: --verity", opts->output);
		else
			res->write.image_bytes = res->verity.hash_offset +
						 res->verity.tree_bytes;
	}
	if (!rc && opts->digest && !opts->verity)
		rc = sd_sha256_file(out.tmp_path, res->digest, err);
	if (rc) {
		sd_atomic_abort(&out);
		free(reg);
		return rc;
	}
	rc = sd_atomic_commit(&out, opts->fsync, err);
	if (!rc && opts->registration_out)
		rc = sd_atomic_write(opts->registration_out, reg, reg_len, err);
	free(reg);
	res->seconds.finish = now_seconds() - t;
	return rc;
}
