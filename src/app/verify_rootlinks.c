/* SPDX-License-Identifier: MIT */
#include "app/verify_rootlinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/rootlink_resolve.h"
#include "app/rootlinks.h"
#include "app/verify_findings.h"

bool sd_verify_is_root_symlink(const struct sd_node *n)
{
	return n->type == SD_NODE_SYMLINK && n->parent && !n->parent->parent &&
	       !sd_root_link_name_problem(n->name, n->name_len);
}

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

/* The violation of link @n whose target does not resolve: @why. */
static int violation(const struct sd_node *n, const char *store_dir,
		     const char *why, struct sd_verify_result *res,
		     struct sd_error *err)
{
	const char *pre = "root symlink whose target does not resolve "
			  "inside the image: ";
	size_t len = strlen(pre) + strlen(why) + 1;
	char *reason = malloc(len);
	if (reason)
		snprintf(reason, len, "%s%s", pre, why);
	char *file = sd_node_path_under(n, store_dir);
	char *path = strdup(n->target ? n->target : "");
	if (!reason || !file || !path) {
		free(reason);
		free(file);
		free(path);
		return nomem(err);
	}
	return sd_verify_add_finding(res, SD_FINDING_VIOLATION, file,
				     "symlink target", 0, path, reason, err);
}

int sd_verify_root_symlinks(const struct sd_tree *tree, const char *store_dir,
			    struct sd_verify_result *res, struct sd_error *err)
{
	const struct sd_node *root = tree->root;
	for (size_t i = 0; i < root->nchildren; i++) {
		const struct sd_node *n = root->children[i];
		if (!sd_verify_is_root_symlink(n))
			continue;
		const struct sd_node *to;
		char why[512];
		const char *target = n->target ? n->target : "";
		if (sd_rootlink_resolve(tree, store_dir, target, &to, why,
					sizeof(why)))
			return nomem(err);
		struct sd_root_symlink *l =
			realloc(res->root_symlinks,
				(res->nroot_symlinks + 1) * sizeof(*l));
		if (!l)
			return nomem(err);
		res->root_symlinks = l;
		l += res->nroot_symlinks;
		l->name = strdup(n->name);
		l->target = strdup(target);
		l->resolves = to != NULL;
		if (!l->name || !l->target) {
			free(l->name);
			free(l->target);
			return nomem(err);
		}
		res->nroot_symlinks++;
		int rc = to ? 0 : violation(n, store_dir, why, res, err);
		if (rc)
			return rc;
	}
	return 0;
}

void sd_verify_root_symlinks_release(struct sd_verify_result *res)
{
	for (size_t i = 0; i < res->nroot_symlinks; i++) {
		free(res->root_symlinks[i].name);
		free(res->root_symlinks[i].target);
	}
	free(res->root_symlinks);
	res->root_symlinks = NULL;
	res->nroot_symlinks = 0;
}
