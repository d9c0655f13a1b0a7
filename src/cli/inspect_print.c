/* SPDX-License-Identifier: MIT */
/* inspect_print.c — printing entries for ls, diff and friends. */
#include "cli/inspect_print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "app/inspect.h"
#include "app/unionimage.h"
#include "cli/cli.h"

void sd_print_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

uint64_t sd_print_size(const struct sd_node *node)
{
	if (node->type == SD_NODE_FILE || node->type == SD_NODE_SYMLINK)
		return node->size;
	return 0;
}

void sd_print_long_prefix(FILE *f, const struct sd_node *node)
{
	char mode[11];
	sd_inspect_mode_string(node, mode);
	fprintf(f, "%s %" PRIu32 " %" PRIu32 " %10" PRIu64 " %" PRId64 " ",
		mode, node->uid, node->gid, sd_print_size(node), node->mtime);
}

void sd_print_json_entry(struct sd_json *j, const struct sd_node *node,
			 const char *store_dir)
{
	char mode[8];
	char *path = node->parent ? sd_node_path_under(node, store_dir) : NULL;
	snprintf(mode, sizeof(mode), "%04o", (unsigned)node->mode);
	sd_json_object_begin(j);
	sd_json_kv_string(j, "path",
			  node->parent ? (path ? path : "?") : store_dir);
	sd_json_kv_string(j, "type", sd_inspect_type_name(node->type));
	sd_json_kv_string(j, "mode", mode);
	sd_json_kv_u64(j, "uid", node->uid);
	sd_json_kv_u64(j, "gid", node->gid);
	sd_json_kv_u64(j, "size", sd_print_size(node));
	sd_json_key(j, "mtime");
	sd_json_i64(j, node->mtime);
	if (node->type == SD_NODE_SYMLINK)
		sd_json_kv_string(j, "target",
				  node->target ? node->target : "");
	sd_json_object_end(j);
	free(path);
}

bool sd_cli_open_image(const char *image, const char *store_dir, char **sd,
		       struct sd_tree **tree)
{
	struct sd_error err;
	sd_error_init(&err);
	*tree = NULL;
	*sd = sd_cli_store_dir(store_dir, &err);
	if (*sd && sd_inspect_open(image, tree, NULL, &err) == 0)
		return true;
	sd_cli_error(&err);
	free(*sd);
	*sd = NULL;
	return false;
}

bool sd_cli_bases_push(struct sd_cli_bases *b, const char *arg)
{
	const char **v = realloc(b->v, (b->n + 1) * sizeof(*v));
	if (!v) {
		sd_cli_errorf("out of memory");
		return false;
	}
	b->v = v;
	b->v[b->n++] = arg;
	return true;
}

void sd_cli_bases_release(struct sd_cli_bases *b)
{
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

const char *sd_cli_union_name(const char *image, size_t nbases, const char *how,
			      char *buf, size_t size)
{
	if (!nbases)
		snprintf(buf, size, "%s", image);
	else if (nbases == 1)
		snprintf(buf, size, "%s %s its base", image, how);
	else
		snprintf(buf, size, "%s %s its %zu bases", image, how, nbases);
	return buf;
}

const char *sd_cli_searched(const char *image, size_t nbases, char *buf,
			    size_t size)
{
	return nbases ? sd_cli_union_name(image, nbases, "or", buf, size)
		      : NULL;
}

bool sd_cli_open_union(const char *image, const struct sd_cli_bases *bases,
		       const char *store_dir, char **sd, struct sd_tree **tree)
{
	struct sd_error err;
	sd_error_init(&err);
	*tree = NULL;
	*sd = sd_cli_store_dir(store_dir, &err);
	if (*sd && sd_union_open(image, bases->v, bases->n, tree, &err) == 0)
		return true;
	sd_cli_error(&err);
	free(*sd);
	*sd = NULL;
	return false;
}
