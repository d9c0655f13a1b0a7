/* SPDX-License-Identifier: MIT */
#include "app/rootlink_resolve.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/storepath.h"

/* Does @t name the store directory or something below it?  Then *@rest
 * is what follows "<store-dir>/" ("" for the directory itself). */
static bool under_store_dir(const char *t, const char *store_dir,
			    const char **rest)
{
	size_t sdlen = strlen(store_dir);
	if (strncmp(t, store_dir, sdlen) != 0)
		return false;
	if (t[sdlen] == '\0') {
		*rest = t + sdlen;
		return true;
	}
	if (t[sdlen] != '/')
		return false;
	*rest = t + sdlen + 1;
	return true;
}

/* "<a>/<b>" in a new string (NULL on allocation failure). */
static char *join(const char *a, const char *b)
{
	size_t len = strlen(a) + 1 + strlen(b) + 1;
	char *s = malloc(len);
	if (s)
		snprintf(s, len, "%s/%s", a, b);
	return s;
}

/* The node's path for a message ("<hash>-<name>/bin"; "the image root"). */
static const char *where(const struct sd_node *n, char *buf, size_t len)
{
	if (!n->parent)
		return "the image root";
	sd_node_path(n, buf, len);
	return buf;
}

int sd_rootlink_resolve(const struct sd_tree *tree, const char *store_dir,
			const char *target, const struct sd_node **out,
			char *why, size_t whylen)
{
	*out = NULL;
	why[0] = '\0';
	const char *t = target;
	if (t[0] == '/' && !under_store_dir(t, store_dir, &t)) {
		snprintf(why, whylen, "leads out of the image: %s", target);
		return 0;
	}
	char *rest = strdup(t);
	if (!rest)
		return SD_ERR_NOMEM;
	const struct sd_node *cur = tree->root;
	size_t pos = 0;
	int hops = 0;
	char path[512];
	while (rest[pos]) {
		const char *c = rest + pos;
		size_t len = strcspn(c, "/");
		size_t next = pos + len + (c[len] == '/');
		if (len == 0 || (len == 1 && c[0] == '.')) {
			pos = next;
			continue;
		}
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (!cur->parent) {
				snprintf(why, whylen,
					 "'..' leads out of the "
					 "image");
				break;
			}
			cur = cur->parent;
			pos = next;
			continue;
		}
		if (cur->type != SD_NODE_DIR) {
			snprintf(why, whylen, "%s is not a directory",
				 where(cur, path, sizeof(path)));
			break;
		}
		if (!cur->parent && sd_storepath_base_problem(c, len)) {
			snprintf(why, whylen,
				 "'%.*s' is not a store path "
				 "name",
				 (int)len, c);
			break;
		}
		const struct sd_node *child = sd_node_child(cur, c, len);
		if (!child && !cur->parent) {
			snprintf(why, whylen,
				 "store path %.*s is not in the "
				 "image",
				 (int)len, c);
			break;
		}
		if (!child) {
			snprintf(why, whylen, "no entry '%.*s' in %s", (int)len,
				 c, where(cur, path, sizeof(path)));
			break;
		}
		if (child->type != SD_NODE_SYMLINK) {
			cur = child;
			pos = next;
			continue;
		}
		if (++hops > SD_ROOTLINK_MAX_HOPS) {
			snprintf(why, whylen, "more than %d symbolic links",
				 SD_ROOTLINK_MAX_HOPS);
			break;
		}
		const char *lt = child->target ? child->target : "";
		if (!lt[0]) {
			snprintf(why, whylen, "%s is an empty symlink",
				 where(child, path, sizeof(path)));
			break;
		}
		if (lt[0] == '/') {
			if (!under_store_dir(lt, store_dir, &lt)) {
				snprintf(why, whylen,
					 "%s leads out of the "
					 "image: %s",
					 where(child, path, sizeof(path)),
					 child->target);
				break;
			}
			cur = tree->root;
		}
		char *nrest = join(lt, rest + next);
		free(rest);
		if (!nrest)
			return SD_ERR_NOMEM;
		rest = nrest;
		pos = 0;
	}
	bool done = !rest[pos];
	free(rest);
	if (!done)
		return 0;
	if (!cur->parent) {
		snprintf(why, whylen,
			 "names the store directory itself, not "
			 "a store path");
		return 0;
	}
	*out = cur;
	return 0;
}
