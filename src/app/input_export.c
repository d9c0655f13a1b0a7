/* SPDX-License-Identifier: MIT */
/*
 * input_export.c — a `nix-store --export` stream -> the normalised tree
 * (app/input.h).  Per path: u64 1, a NAR (closure/nar_read.h), u64
 * 0x4558494e ("NIXE"), the store path, the references (u64 count +
 * strings), the deriver ("" if none), u64 0; the stream ends with u64 0.
 */
#include "app/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closure/nar_read.h"
#include "closure/storepath.h"
#include "closure/wire.h"
#include "core/spool.h"

#define EXPORT_MAGIC 0x4558494eULL
#define PATH_MAX_LEN 4096
#define MAX_REFS (1u << 20)
/* Placeholder name of a path's node until its name follows the NAR. */
#define PENDING "pending"

struct export_ctx {
	struct sd_wire *w;
	const struct sd_input_options *opts;
	struct sd_tree *tree;
	struct sd_spool *spool;
	/* Per path: its path, references and deriver; the references are
	 * checked once all paths are read. */
	struct sd_input_meta *meta;
	size_t nmeta, cap;
	struct sd_error *err;
};

/* A store path string at @at: its basename in *@sp. */
static int parse_path(struct export_ctx *c, const char *s, size_t len,
		      uint64_t at, struct sd_spath *sp)
{
	struct sd_error e;
	sd_error_init(&e);
	if (sd_storepath_parse(c->opts->store_dir, s, len, false, sp, &e))
		return sd_wire_fail(c->w, at, c->err, "%s", e.msg);
	return SD_OK;
}

/* A new, zeroed metadata record at the end of c->meta. */
static struct sd_input_meta *new_meta(struct export_ctx *c)
{
	if (c->nmeta == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct sd_input_meta *m = realloc(c->meta, cap * sizeof(*m));
		if (!m) {
			sd_error_set(c->err, SD_ERR_NOMEM, "out of memory");
			return NULL;
		}
		c->meta = m;
		c->cap = cap;
	}
	struct sd_input_meta *m = &c->meta[c->nmeta++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* The trailer after a path's NAR; names @node after the path. */
static int read_trailer(struct export_ctx *c, struct sd_node *node)
{
	uint64_t at = c->w->offset, v;
	int rc = sd_wire_u64(c->w, &v, c->err);
	if (rc)
		return rc;
	if (v != EXPORT_MAGIC)
		return sd_wire_fail(c->w, at, c->err,
				    "bad export magic 0x%llx (expected "
				    "0x4558494e, \"NIXE\")",
				    (unsigned long long)v);
	at = c->w->offset;
	char *path;
	size_t len;
	rc = sd_wire_string(c->w, PATH_MAX_LEN, &path, &len, c->err);
	if (rc)
		return rc;
	struct sd_input_meta *m = new_meta(c);
	if (!m) {
		free(path);
		return SD_ERR_NOMEM;
	}
	m->path = path;
	struct sd_spath sp;
	rc = parse_path(c, path, len, at, &sp);
	if (!rc) {
		rc = sd_node_set_name(c->tree, node, sp.base, sp.base_len,
				      c->err);
	}
	uint64_t n = 0;
	at = c->w->offset;
	if (!rc)
		rc = sd_wire_u64(c->w, &n, c->err);
	if (!rc && n > MAX_REFS)
		rc = sd_wire_fail(c->w, at, c->err, "%llu references",
				  (unsigned long long)n);
	if (!rc) {
		m->refs = calloc((size_t)n + 1, sizeof(*m->refs));
		if (!m->refs)
			rc = sd_error_set(c->err, SD_ERR_NOMEM,
					  "out of memory");
	}
	for (uint64_t i = 0; i < n && !rc; i++) {
		char *ref;
		size_t rl;
		struct sd_spath rp;
		at = c->w->offset;
		rc = sd_wire_string(c->w, PATH_MAX_LEN, &ref, &rl, c->err);
		if (rc)
			break;
		rc = parse_path(c, ref, rl, at, &rp);
		if (rc)
			free(ref);
		else
			m->refs[m->nrefs++] = ref;
	}
	at = c->w->offset;
	if (!rc)
		rc = sd_wire_string(c->w, PATH_MAX_LEN, &m->deriver, &len,
				    c->err);
	/* A deriver is a store path, or empty. */
	if (!rc && len > 0)
		rc = parse_path(c, m->deriver, len, at, &sp);
	at = c->w->offset;
	if (!rc)
		rc = sd_wire_u64(c->w, &v, c->err);
	if (!rc && v != 0)
		rc = sd_wire_fail(c->w, at, c->err,
				  "expected 0 after the deriver, found %llu",
				  (unsigned long long)v);
	return rc;
}

static int read_stream(struct export_ctx *c)
{
	for (;;) {
		uint64_t at = c->w->offset, v;
		int rc = sd_wire_u64(c->w, &v, c->err);
		if (rc)
			return rc;
		if (v == 0)
			break;
		if (v != 1)
			return sd_wire_fail(c->w, at, c->err,
					    "expected 1 (a path follows) or 0 "
					    "(end), found %llu",
					    (unsigned long long)v);
		struct sd_node *node;
		rc = sd_nar_read(c->w, c->tree, c->tree->root, PENDING,
				 strlen(PENDING), c->spool, &node, c->err);
		if (!rc)
			rc = read_trailer(c, node);
		if (rc)
			return rc;
		if (c->opts->interrupted && *c->opts->interrupted)
			return sd_error_set(c->err, SD_ERR_INTERRUPTED,
					    "interrupted");
	}
	bool eof;
	int rc = sd_wire_at_eof(c->w, &eof, c->err);
	if (!rc && !eof)
		rc = sd_wire_fail(c->w, c->w->offset, c->err,
				  "data after the end of the export stream");
	return rc;
}

/* Every reference must be a path of the (finalised) tree. */
static int check_refs(struct export_ctx *c, struct sd_input_info *info)
{
	char list[600];
	size_t used = 0, missing = 0;
	list[0] = '\0';
	for (size_t i = 0; i < c->nmeta; i++) {
		const struct sd_input_meta *m = &c->meta[i];
		for (size_t k = 0; k < m->nrefs; k++) {
			struct sd_spath sp;
			sd_storepath_parse(c->opts->store_dir, m->refs[k],
					   strlen(m->refs[k]), false, &sp,
					   NULL);
			if (sd_node_child(c->tree->root, sp.base, sp.base_len))
				continue;
			missing++;
			if (used >= sizeof(list) - 1)
				continue;
			int n = snprintf(list + used, sizeof(list) - used,
					 "%s%s (referenced by %s)",
					 used ? ", " : "", m->refs[k], m->path);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	info->nmissing = missing;
	if (missing && !c->opts->allow_missing)
		return sd_error_set(c->err, SD_ERR_MISSING,
				    "%s: the closure is incomplete: %zu "
				    "referenced path(s) are not in the "
				    "stream: %s%s",
				    c->w->name, missing, list,
				    used >= sizeof(list) - 1 ? "..." : "");
	return SD_OK;
}

void sd_input_info_release(struct sd_input_info *info)
{
	for (size_t i = 0; i < info->nmeta; i++) {
		struct sd_input_meta *m = &info->meta[i];
		for (size_t k = 0; k < m->nrefs; k++)
			free(m->refs[k]);
		free(m->refs);
		free(m->path);
		free(m->deriver);
	}
	free(info->meta);
	info->meta = NULL;
	info->nmeta = 0;
}

int sd_input_export(const char *file, const struct sd_input_options *opts,
		    struct sd_tree **out, struct sd_input_info *info,
		    struct sd_error *err)
{
	memset(info, 0, sizeof(*info));
	const char *shown = strcmp(file, "-") ? file : "<stdin>";
	int fd = 0;
	if (strcmp(file, "-")) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sd_error_errno(err, SD_ERR_IO, errno, "%s",
					      file);
	}
	struct sd_wire *w = malloc(sizeof(*w));
	struct export_ctx c = {.w = w, .opts = opts, .err = err};
	c.tree = sd_tree_new(opts->mtime);
	int rc = SD_OK;
	if (!w || !c.tree)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	if (!rc) {
		sd_wire_init(w, fd, shown);
		rc = sd_spool_new(&c.spool, err);
	}
	if (!rc)
		rc = read_stream(&c);
	if (!rc && c.tree->root->nchildren == 0)
		rc = sd_error_set(err, SD_ERR_INVALID,
				  "%s: no store paths in the export stream",
				  shown);
	if (!rc) {
		rc = sd_spool_attach(c.spool, c.tree, err);
		if (!rc)
			c.spool = NULL;
	}
	if (!rc)
		rc = sd_tree_finalize(c.tree, err);
	if (!rc)
		rc = check_refs(&c, info);
	info->meta = c.meta;
	info->nmeta = c.nmeta;
	sd_spool_free(c.spool);
	free(w);
	if (fd > 0)
		close(fd);
	if (rc) {
		sd_input_info_release(info);
		sd_tree_free(c.tree);
		return rc;
	}
	info->npaths = c.tree->root->nchildren;
	*out = c.tree;
	return SD_OK;
}
