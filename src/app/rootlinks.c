/* SPDX-License-Identifier: MIT */
#include "app/rootlinks.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app/manifest.h"
#include "app/registration.h"
#include "app/rootlink_resolve.h"
#include "closure/storepath.h"
#include "closure/store.h"
#include "core/sdlimits.h"

const char *sd_root_link_name_problem(const char *name, size_t len)
{
	if (len == 0)
		return "empty name";
	if (len > SD_LIMIT_NAME)
		return "longer than 255 bytes";
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return "'.' and '..' are not entry names";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch == '/')
			return "contains '/'";
		if (ch < 0x20 || ch == 0x7f)
			return "contains a control character";
	}
	if (len >= SD_HASH_CHARS &&
	    !sd_storepath_hash_problem(name, SD_HASH_CHARS) &&
	    (len == SD_HASH_CHARS || name[SD_HASH_CHARS] == '-'))
		return "looks like a store path (32 nix32 characters and "
		       "'-')";
	if ((len == strlen(SD_EMBEDDED_REGISTRATION) &&
	     !memcmp(name, SD_EMBEDDED_REGISTRATION, len)) ||
	    (len == strlen(SD_EMBEDDED_MANIFEST) &&
	     !memcmp(name, SD_EMBEDDED_MANIFEST, len)))
		return "reserved for what pack embeds at the image root";
	return NULL;
}

int sd_root_links_push(struct sd_root_links *l, const char *spec,
		       struct sd_error *err)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 4;
		struct sd_root_link *nl = realloc(l->links, ncap * sizeof(*nl));
		if (!nl)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		l->links = nl;
		l->cap = ncap;
	}
	l->links[l->n++] = (struct sd_root_link){.spec = spec};
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct sd_root_link *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* "/a/b///" -> "/a/b" in a new string. */
static char *trim_slashes(const char *dir)
{
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	return strndup(dir, len);
}

int sd_root_links_prepare(struct sd_root_links *l, const char *store_dir,
			  const char *phys_dir, struct sd_error *err)
{
	if (!l->n)
		return 0;
	l->store_dir =
		trim_slashes(store_dir ? store_dir : SD_DEFAULT_STORE_DIR);
	if (!l->store_dir)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		struct sd_root_link *k = &l->links[i];
		const char *eq = strchr(k->spec, '=');
		if (!eq)
			return sd_error_set(err, SD_ERR_USAGE,
					    "--root-symlink %s: want "
					    "NAME=TARGET",
					    k->spec);
		size_t len = (size_t)(eq - k->spec);
		const char *why = sd_root_link_name_problem(k->spec, len);
		if (why)
			return sd_error_set(err, SD_ERR_USAGE,
					    "--root-symlink %s: bad NAME "
					    "'%.*s': %s",
					    k->spec, (int)len, k->spec, why);
		k->name = strndup(k->spec, len);
		if (!k->name)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	qsort(l->links, l->n, sizeof(*l->links), cmp_name);
	for (size_t i = 1; i < l->n; i++)
		if (!strcmp(l->links[i - 1].name, l->links[i].name))
			return sd_error_set(err, SD_ERR_USAGE,
					    "--root-symlink: NAME '%s' given "
					    "twice (%s, %s)",
					    l->links[i].name,
					    l->links[i - 1].spec,
					    l->links[i].spec);
	char *phys = phys_dir ? trim_slashes(phys_dir) : NULL;
	if (phys_dir && !phys)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; !rc && i < l->n; i++) {
		struct sd_root_link *k = &l->links[i];
		const char *target = strchr(k->spec, '=') + 1;
		rc = sd_root_link_target(target, l->store_dir, phys, &k->target,
					 err);
		if (rc)
			sd_error_prefix(err, rc, "--root-symlink %s", k->spec);
	}
	free(phys);
	return rc;
}

int sd_root_links_add(struct sd_tree *tree, const struct sd_root_links *l,
		      struct sd_error *err)
{
	if (!l || !l->n)
		return 0;
	/* Resolve every target against the tree as packed, before any link
	 * is added: a target never resolves through another root link. */
	for (size_t i = 0; i < l->n; i++) {
		const struct sd_root_link *k = &l->links[i];
		const struct sd_node *to;
		char why[512];
		if (sd_rootlink_resolve(tree, l->store_dir, k->target, &to, why,
					sizeof(why)))
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		if (!to)
			return sd_error_set(err, SD_ERR_MISSING,
					    "--root-symlink %s: %s/%s does "
					    "not resolve inside the image: %s",
					    k->spec, l->store_dir, k->target,
					    why);
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct sd_root_link *k = &l->links[i];
		struct sd_node *n = sd_tree_add(tree, tree->root, k->name,
						strlen(k->name),
						SD_NODE_SYMLINK, err);
		if (!n)
			return err ? err->code : SD_ERR_INVALID;
		n->mode = SD_MODE_SYMLINK;
		n->mtime = tree->mtime;
		int rc = sd_node_set_target(n, k->target, strlen(k->target),
					    err);
		if (rc)
			return rc;
	}
	return sd_tree_finalize(tree, err);
}

void sd_root_links_release(struct sd_root_links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->links[i].name);
		free(l->links[i].target);
	}
	free(l->links);
	free(l->store_dir);
	memset(l, 0, sizeof(*l));
}
