/* SPDX-License-Identifier: MIT */
/* export_tar.c — sd_export_tar through libarchive. */
#include "app/export_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

struct exp {
	const struct sd_tree *tree;
	const struct sd_export_options *opts;
	struct sd_export_stats *stats;
	struct archive *a;
	struct archive_entry *e;
	char *buf;
	size_t cap;
};

#define CHUNK (1 << 16)

static int tar_fail(struct exp *x, const char *what, struct sd_error *err)
{
	const char *msg = archive_error_string(x->a);
	return sd_error_set(err, SD_ERR_IO, "writing the tar archive (%s): %s",
			    what, msg ? msg : "failed");
}

/* "<prefix>/<path>" in a new string. */
static char *entry_name(const struct exp *x, const struct sd_node *node)
{
	const char *prefix = x->opts->prefix ? x->opts->prefix : "";
	if (!*prefix)
		return sd_node_path_dup(node);
	return sd_node_path_under(node, prefix);
}

static int write_data(struct exp *x, const struct sd_node *node,
		      struct sd_error *err)
{
	struct sd_stream *s;
	int rc = sd_tree_open(x->tree, node, &s, err);
	uint64_t total = 0;
	while (!rc) {
		size_t got;
		rc = sd_stream_read(s, x->buf, x->cap, &got, err);
		if (rc || got == 0)
			break;
		if (archive_write_data(x->a, x->buf, got) != (la_ssize_t)got)
			rc = tar_fail(x, node->name, err);
		total += got;
	}
	sd_stream_close(s);
	if (!rc && total != node->size)
		rc = sd_error_set(err, SD_ERR_CORRUPT,
				  "%s: content is not the recorded size",
				  node->name);
	x->stats->bytes += total;
	return rc;
}

static int write_entry(struct exp *x, const struct sd_node *node,
		       struct sd_error *err)
{
	unsigned type = node->type == SD_NODE_DIR    ? AE_IFDIR
			: node->type == SD_NODE_FILE ? AE_IFREG
						     : AE_IFLNK;
	char *name = entry_name(x, node);
	if (!name)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	archive_entry_clear(x->e);
	archive_entry_copy_pathname(x->e, name);
	archive_entry_set_filetype(x->e, type);
	archive_entry_set_perm(x->e, node->mode & 07777);
	archive_entry_set_uid(x->e, 0);
	archive_entry_set_gid(x->e, 0);
	archive_entry_set_mtime(x->e, (time_t)node->mtime, 0);
	archive_entry_set_size(
		x->e, node->type == SD_NODE_FILE ? (la_int64_t)node->size : 0);
	if (node->type == SD_NODE_SYMLINK)
		archive_entry_copy_symlink(x->e,
					   node->target ? node->target : "");
	int rc = 0;
	if (archive_write_header(x->a, x->e) < ARCHIVE_WARN)
		rc = tar_fail(x, name, err);
	free(name);
	if (!rc && node->type == SD_NODE_FILE)
		rc = write_data(x, node, err);
	x->stats->entries++;
	return rc;
}

static int walk(struct exp *x, const struct sd_node *dir, struct sd_error *err)
{
	for (size_t i = 0; i < dir->nchildren; i++) {
		const struct sd_node *c = dir->children[i];
		if (x->opts->interrupted && *x->opts->interrupted)
			return sd_error_set(err, SD_ERR_INTERRUPTED,
					    "interrupted");
		int rc = 0;
		if (c->type == SD_NODE_OTHER) {
			x->stats->skipped++;
			char *p = sd_node_path_dup(c);
			if (x->opts->skipped)
				x->opts->skipped(x->opts->ctx, p ? p : c->name);
			free(p);
		} else {
			rc = write_entry(x, c, err);
		}
		if (!rc && c->type == SD_NODE_DIR)
			rc = walk(x, c, err);
		if (rc)
			return rc;
	}
	return 0;
}

int sd_export_tar(const struct sd_tree *tree, int fd,
		  const struct sd_export_options *opts,
		  struct sd_export_stats *stats, struct sd_error *err)
{
	static const struct sd_export_options none;
	memset(stats, 0, sizeof(*stats));
	struct exp x = {.tree = tree,
			.opts = opts ? opts : &none,
			.stats = stats,
			.cap = CHUNK};
	x.a = archive_write_new();
	x.e = archive_entry_new();
	x.buf = malloc(x.cap);
	int rc = 0;
	if (!x.a || !x.e || !x.buf)
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	else if (archive_write_set_format_pax_restricted(x.a) != ARCHIVE_OK ||
		 archive_write_add_filter_none(x.a) != ARCHIVE_OK ||
		 /* No padding to a 10 KiB block: the same bytes for a
		    file and a pipe (libarchive pads only pipes). */
		 archive_write_set_bytes_in_last_block(x.a, 1) != ARCHIVE_OK ||
		 archive_write_open_fd(x.a, fd) != ARCHIVE_OK)
		rc = tar_fail(&x, "setup", err);
	if (!rc)
		rc = walk(&x, tree->root, err);
	if (!rc && archive_write_close(x.a) != ARCHIVE_OK)
		rc = tar_fail(&x, "end", err);
	if (x.a)
		archive_write_free(x.a);
	if (x.e)
		archive_entry_free(x.e);
	free(x.buf);
	return rc;
}
