/* SPDX-License-Identifier: MIT */
#include "closure/allowlist.h"

#include <stdlib.h>
#include <string.h>

#include "closure/hashmap.h"
#include "closure/lines.h"
#include "closure/storepath.h"

struct sd_allowlist {
	struct sd_hashmap *hashes; /* hash -> line (0 if added directly) */
};

struct sd_allowlist *sd_allowlist_new(void)
{
	struct sd_allowlist *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->hashes = sd_hashmap_new();
	if (!a->hashes) {
		free(a);
		return NULL;
	}
	return a;
}

void sd_allowlist_free(struct sd_allowlist *a)
{
	if (!a)
		return;
	sd_hashmap_free(a->hashes);
	free(a);
}

int sd_allowlist_add(struct sd_allowlist *a, const char *entry, size_t len,
		     const char *store_dir, struct sd_error *err)
{
	struct sd_spath sp;
	const char *hash;
	int rc;

	if (memchr(entry, '\0', len))
		return sd_error_set(err, SD_ERR_INVALID,
				    "entry contains a NUL byte");
	if (len == SD_HASH_CHARS) {
		const char *why = sd_storepath_hash_problem(entry, len);
		if (why)
			return sd_error_set(err, SD_ERR_INVALID,
					    "invalid hash '%.*s': %s", (int)len,
					    entry, why);
		hash = entry;
	} else if (len && entry[0] == '/') {
		rc = sd_storepath_parse(store_dir, entry, len, false, &sp, err);
		if (rc)
			return rc;
		hash = sp.hash;
	} else {
		rc = sd_storepath_parse_base(entry, len, &sp, err);
		if (rc)
			return rc;
		hash = sp.hash;
	}
	return sd_hashmap_put(a->hashes, hash, 0, NULL, err);
}

static int parse(struct sd_lines *l, const char *store_dir,
		 struct sd_allowlist *a, struct sd_error *err)
{
	const char *s;
	size_t len;
	while (sd_lines_next(l, &s, &len)) {
		sd_lines_trim(&s, &len);
		if (len == 0 || s[0] == '#')
			continue;
		int rc = sd_allowlist_add(a, s, len, store_dir, err);
		if (rc)
			return sd_error_prefix(err, rc, "%s:%zu", l->name,
					       l->lineno);
	}
	return 0;
}

static int run(struct sd_lines *l, const char *store_dir,
	       struct sd_allowlist **out, struct sd_error *err)
{
	struct sd_allowlist *a = sd_allowlist_new();
	int rc = a ? parse(l, store_dir, a, err)
		   : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	sd_lines_release(l);
	if (rc) {
		sd_allowlist_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

int sd_allowlist_load(const char *path, const char *store_dir,
		      struct sd_allowlist **out, struct sd_error *err)
{
	struct sd_lines l;
	int rc = sd_lines_init_file(&l, path, err);
	if (rc)
		return rc;
	return run(&l, store_dir, out, err);
}

int sd_allowlist_parse(const char *name, const char *data, size_t len,
		       const char *store_dir, struct sd_allowlist **out,
		       struct sd_error *err)
{
	struct sd_lines l;
	int rc = sd_lines_init_mem(&l, name, data, len, err);
	if (rc)
		return rc;
	return run(&l, store_dir, out, err);
}

bool sd_allowlist_has_hash(const struct sd_allowlist *a, const char *hash)
{
	if (!a)
		return false;
	return sd_hashmap_get(a->hashes, hash) != SD_HASHMAP_NONE;
}

bool sd_allowlist_has_path(const struct sd_allowlist *a, const char *path,
			   const char *store_dir)
{
	struct sd_spath sp;
	if (!a || !path)
		return false;
	size_t len = strlen(path);
	if (path[0] == '/') {
		if (sd_storepath_parse(store_dir, path, len, true, &sp, NULL))
			return false;
	} else {
		const char *slash = strchr(path, '/');
		size_t blen = slash ? (size_t)(slash - path) : len;
		if (sd_storepath_parse_base(path, blen, &sp, NULL))
			return false;
	}
	return sd_allowlist_has_hash(a, sp.hash);
}

size_t sd_allowlist_count(const struct sd_allowlist *a)
{
	return a ? sd_hashmap_count(a->hashes) : 0;
}
