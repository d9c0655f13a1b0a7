/* SPDX-License-Identifier: MIT */
#include "closure/store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "closure/storepath.h"

static char *strip_slashes(const char *s)
{
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		n--;
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int cmp_path(const void *a, const void *b)
{
	const struct sd_store_path *x = a, *y = b;
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c = memcmp(x->base, y->base, n);
	if (c)
		return c;
	return (x->base_len > y->base_len) - (x->base_len < y->base_len);
}

static int cmp_warning(const void *a, const void *b)
{
	const struct sd_store_warning *x = a, *y = b;
	return strcmp(x->entry, y->entry);
}

static int add_warning(struct sd_store *st, size_t *cap, const char *entry,
		       const char *reason)
{
	if (st->nwarnings == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct sd_store_warning *nw =
			realloc(st->warnings, ncap * sizeof(*nw));
		if (!nw)
			return SD_ERR_NOMEM;
		st->warnings = nw;
		*cap = ncap;
	}
	char *e = strdup(entry);
	if (!e)
		return SD_ERR_NOMEM;
	st->warnings[st->nwarnings].entry = e;
	st->warnings[st->nwarnings].reason = reason;
	st->nwarnings++;
	return 0;
}

static int read_dir(struct sd_store *st, struct sd_error *err)
{
	DIR *d = opendir(st->phys_dir);
	if (!d)
		return sd_error_errno(err, SD_ERR_IO, errno,
				      "cannot read store directory %s",
				      st->phys_dir);
	size_t pcap = 0, wcap = 0;
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = sd_error_errno(err, SD_ERR_IO, errno,
						    "reading %s", st->phys_dir);
			break;
		}
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		size_t len = strlen(n);
		const char *why = sd_storepath_base_problem(n, len);
		if (why) {
			if (add_warning(st, &wcap, n, why))
				goto nomem;
			continue;
		}
		if (st->npaths == pcap) {
			size_t ncap = pcap ? pcap * 2 : 256;
			struct sd_store_path *np =
				realloc(st->paths, ncap * sizeof(*np));
			if (!np)
				goto nomem;
			st->paths = np;
			pcap = ncap;
		}
		struct sd_store_path *p = &st->paths[st->npaths];
		p->base = strdup(n);
		if (!p->base)
			goto nomem;
		p->base_len = len;
		memcpy(p->hash, n, SD_HASH_CHARS);
		p->hash[SD_HASH_CHARS] = '\0';
		p->name = p->base + SD_HASH_CHARS + 1;
		st->npaths++;
	}
	closedir(d);
	return rc;
nomem:
	closedir(d);
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory reading %s",
			    st->phys_dir);
}

/*
 * Whether @p is "<base of @path>.lock": the lock file Nix's PathLocks
 * keeps beside a store path while it builds, substitutes or deletes it
 * (lockPath = path + ".lock"; pathlocks.cc), left behind when a Nix
 * process dies.  Such a lock is never a store path of its own when its
 * path exists (both would share one hash part).
 */
static bool is_lock_of(const struct sd_store_path *p,
		       const struct sd_store_path *path)
{
	return p->base_len == path->base_len + 5 &&
	       !memcmp(p->base, path->base, path->base_len) &&
	       !memcmp(p->base + path->base_len, ".lock", 5);
}

/* Sort, drop second entries of a hash (as warnings, except Nix's lock
 * files beside their paths) and index by hash. */
static int index_paths(struct sd_store *st, struct sd_error *err)
{
	size_t wcap = st->nwarnings;
	if (st->npaths)
		qsort(st->paths, st->npaths, sizeof(*st->paths), cmp_path);
	size_t kept = 0;
	for (size_t i = 0; i < st->npaths; i++) {
		struct sd_store_path *p = &st->paths[i];
		int64_t prev;
		if (sd_hashmap_put(st->by_hash, p->hash, (int64_t)kept, &prev,
				   err))
			return SD_ERR_NOMEM;
		if (prev != SD_HASHMAP_NONE &&
		    is_lock_of(p, &st->paths[prev])) {
			free(p->base); /* Nix's lock of that path: not ours */
			continue;
		}
		if (prev != SD_HASHMAP_NONE) {
			int rc = add_warning(st, &wcap, p->base,
					     "another entry has the same hash "
					     "part");
			free(p->base);
			if (rc)
				return sd_error_set(err, SD_ERR_NOMEM,
						    "out of memory");
			continue;
		}
		st->paths[kept] = *p;
		st->paths[kept].index = kept;
		st->paths[kept].name = st->paths[kept].base + SD_HASH_CHARS + 1;
		kept++;
	}
	st->npaths = kept;
	if (st->nwarnings)
		qsort(st->warnings, st->nwarnings, sizeof(*st->warnings),
		      cmp_warning);
	return 0;
}

int sd_store_new(const char *store_dir, const char *phys_dir,
		 struct sd_store **out, struct sd_error *err)
{
	if (!store_dir)
		store_dir = SD_DEFAULT_STORE_DIR;
	if (!phys_dir)
		phys_dir = store_dir;
	if (store_dir[0] != '/')
		return sd_error_set(err, SD_ERR_USAGE,
				    "store directory '%s' is not absolute",
				    store_dir);
	struct sd_store *st = calloc(1, sizeof(*st));
	int rc;
	if (!st)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	st->store_dir = strip_slashes(store_dir);
	st->phys_dir = strip_slashes(phys_dir);
	st->by_hash = sd_hashmap_new();
	if (!st->store_dir || !st->phys_dir || !st->by_hash) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (!strcmp(st->store_dir, "/")) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "the store directory cannot be /");
		goto fail;
	}
	st->phys_real = realpath(st->phys_dir, NULL);
	if (!st->phys_real) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "store directory %s",
				    st->phys_dir);
		goto fail;
	}
	rc = read_dir(st, err);
	if (rc)
		goto fail;
	rc = index_paths(st, err);
	if (rc)
		goto fail;
	*out = st;
	return 0;
fail:
	sd_store_free(st);
	return rc;
}

void sd_store_free(struct sd_store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->npaths; i++)
		free(st->paths[i].base);
	for (size_t i = 0; i < st->nwarnings; i++)
		free(st->warnings[i].entry);
	free(st->paths);
	free(st->warnings);
	sd_hashmap_free(st->by_hash);
	free(st->store_dir);
	free(st->phys_dir);
	free(st->phys_real);
	free(st);
}

const struct sd_store_path *sd_store_find_hash(const struct sd_store *st,
					       const char *hash)
{
	int64_t i = sd_hashmap_get(st->by_hash, hash);
	return i == SD_HASHMAP_NONE ? NULL : &st->paths[i];
}

const struct sd_store_path *sd_store_find_base(const struct sd_store *st,
					       const char *base, size_t len)
{
	if (len < SD_HASH_CHARS)
		return NULL;
	const struct sd_store_path *p = sd_store_find_hash(st, base);
	if (!p || p->base_len != len || memcmp(p->base, base, len) != 0)
		return NULL;
	return p;
}

static char *join(const char *dir, const char *base)
{
	size_t dl = strlen(dir), bl = strlen(base);
	char *s = malloc(dl + 1 + bl + 1);
	if (s) {
		memcpy(s, dir, dl);
		s[dl] = '/';
		memcpy(s + dl + 1, base, bl + 1);
	}
	return s;
}

char *sd_store_physical_path(const struct sd_store *st,
			     const struct sd_store_path *sp)
{
	return join(st->phys_dir, sp->base);
}

char *sd_store_logical_path(const struct sd_store *st,
			    const struct sd_store_path *sp)
{
	return join(st->store_dir, sp->base);
}
