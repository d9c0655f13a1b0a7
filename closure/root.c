/* SPDX-License-Identifier: MIT */
/*
 * root.c — sd_store_resolve_root (declared in closure/store.h).
 *
 * The argument is resolved one component at a time, the way the kernel
 * does it, except that (1) as soon as the resolved prefix is the logical
 * store dir, the physical dir or the physical dir's realpath, the next
 * component names the store path and we stop, and (2) directories on the
 * way to the logical or physical store dir are taken as they are written
 * (they need not exist on this machine: /nix/store may be only logical).
 * "." and ".." are resolved lexically first, as Nix's canonPath does:
 * "/nix/store/<h1>-a/../<h2>-b" is b, and a symlink's target is taken
 * from the link's directory and made canonical the same way, with what
 * follows the link in the argument.
 */
#include "closure/store.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure/storepath.h"
#include "core/pathcanon.h"

#define MAX_HOPS 40

struct buf {
	char *s;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t need)
{
	if (need + 1 <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need + 1)
		ncap *= 2;
	char *ns = realloc(b->s, ncap);
	if (!ns)
		return SD_ERR_NOMEM;
	b->s = ns;
	b->cap = ncap;
	return 0;
}

static int buf_set(struct buf *b, const char *s, size_t len)
{
	if (buf_reserve(b, len))
		return SD_ERR_NOMEM;
	memmove(b->s, s, len);
	b->len = len;
	b->s[len] = '\0';
	return 0;
}

/* Prepend @s + "/" to @b. */
static int buf_prepend(struct buf *b, const char *s, size_t len)
{
	if (buf_reserve(b, b->len + len + 1))
		return SD_ERR_NOMEM;
	memmove(b->s + len + 1, b->s, b->len + 1);
	memcpy(b->s, s, len);
	b->s[len] = '/';
	b->len += len + 1;
	return 0;
}

/* True if @dir equals @p or lies above it ("/nix" for "/nix/store"). */
static bool is_ancestor_or_self(const char *dir, size_t dlen, const char *p)
{
	size_t pl = strlen(p);
	if (dlen > pl || memcmp(dir, p, dlen) != 0)
		return false;
	return dlen == pl || p[dlen] == '/';
}

static bool is_store_dir(const struct sd_store *st, const char *dir)
{
	return !strcmp(dir, st->store_dir) || !strcmp(dir, st->phys_dir) ||
	       !strcmp(dir, st->phys_real);
}

struct resolver {
	const struct sd_store *st;
	const char *arg;
	struct buf resolved; /* "" stands for "/" */
	struct buf rest;     /* components still to resolve */
	struct buf cand;
	struct sd_error *err;
};

static int found(struct resolver *r, const char *c, size_t clen,
		 const struct sd_store_path **out)
{
	const struct sd_store *st = r->st;
	const char *why = sd_storepath_base_problem(c, clen);
	if (why)
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: '%.*s' is not a valid store path "
				    "name: %s",
				    r->arg, (int)clen, c, why);
	const struct sd_store_path *sp = sd_store_find_base(st, c, clen);
	if (!sp)
		return sd_error_set(r->err, SD_ERR_MISSING,
				    "%s: store path %s/%.*s is not in the "
				    "store (%s)",
				    r->arg, st->store_dir, (int)clen, c,
				    st->phys_dir);
	*out = sp;
	return 0;
}

/*
 * The error for a root outside the store.  When a component of the
 * resolved path is a store path basename ("<hash>-<name>"), its parent
 * is probably the store the user meant: name it as a --store hint.
 */
static int not_in_store(struct resolver *r, const struct sd_store *st)
{
	const char *p = r->resolved.s;
	const char *end = p + r->resolved.len;
	const char *comp = p;

	while (comp < end) {
		while (comp < end && *comp == '/')
			comp++;
		const char *slash = memchr(comp, '/', (size_t)(end - comp));
		size_t len = slash ? (size_t)(slash - comp)
				   : (size_t)(end - comp);
		if (len && comp > p + 1 &&
		    !sd_storepath_base_problem(comp, len))
			return sd_error_set(r->err, SD_ERR_INVALID,
					    "%s: not in the store %s "
					    "(physical %s); its store seems "
					    "to be %.*s: give --store %.*s",
					    r->arg, st->store_dir, st->phys_dir,
					    (int)(comp - 1 - p), p,
					    (int)(comp - 1 - p), p);
		comp += len;
	}
	return sd_error_set(r->err, SD_ERR_INVALID,
			    "%s: not in the store %s (physical %s)", r->arg,
			    st->store_dir, st->phys_dir);
}

/* r->rest (absolute) made canonical (core/pathcanon.h); r->resolved
 * emptied: resolution starts again from the root. */
static int canon_rest(struct resolver *r)
{
	char *c;
	int rc = sd_path_canon(NULL, r->rest.s, r->rest.len, &c, r->err);
	if (rc)
		return rc;
	rc = buf_set(&r->rest, c, strlen(c));
	free(c);
	if (rc)
		return rc;
	r->resolved.len = 0;
	r->resolved.s[0] = '\0';
	return 0;
}

static int resolve(struct resolver *r, const struct sd_store_path **out)
{
	const struct sd_store *st = r->st;
	int hops = 0;

	while (r->rest.len) {
		/* Pop the first component of rest. */
		char *slash = memchr(r->rest.s, '/', r->rest.len);
		size_t clen = slash ? (size_t)(slash - r->rest.s) : r->rest.len;
		size_t skip = slash ? clen + 1 : clen;
		if (buf_set(&r->cand, r->rest.s, clen))
			return SD_ERR_NOMEM;
		if (buf_set(&r->rest, r->rest.s + skip, r->rest.len - skip))
			return SD_ERR_NOMEM;
		const char *c = r->cand.s;

		/* rest is canonical (canon_rest): no ".", "..", "//". */
		if (clen == 0)
			continue;
		if (is_store_dir(st, r->resolved.len ? r->resolved.s : "/"))
			return found(r, c, clen, out);

		/* candidate path = resolved + "/" + c */
		size_t old = r->resolved.len;
		if (buf_reserve(&r->resolved, old + 1 + clen))
			return SD_ERR_NOMEM;
		r->resolved.s[old] = '/';
		memcpy(r->resolved.s + old + 1, c, clen);
		r->resolved.len = old + 1 + clen;
		r->resolved.s[r->resolved.len] = '\0';
		const char *path = r->resolved.s;

		if (is_ancestor_or_self(path, r->resolved.len, st->store_dir) ||
		    is_ancestor_or_self(path, r->resolved.len, st->phys_dir))
			continue; /* taken as written */

		struct stat sb;
		if (lstat(path, &sb) != 0) {
			/* The argument, then the part of it that is
			 * missing when that is not the whole. */
			bool whole = !strcmp(r->arg, path);
			return sd_error_errno(
				r->err,
				errno == ENOENT ? SD_ERR_MISSING : SD_ERR_IO,
				errno, "%s%s%s", r->arg, whole ? "" : ": ",
				whole ? "" : path);
		}
		if (!S_ISLNK(sb.st_mode))
			continue;
		if (++hops > MAX_HOPS)
			return sd_error_set(r->err, SD_ERR_INVALID,
					    "%s: more than %d symbolic links",
					    r->arg, MAX_HOPS);
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target));
		if (n < 0)
			return sd_error_errno(r->err, SD_ERR_IO, errno,
					      "%s: readlink %s", r->arg, path);
		if ((size_t)n >= sizeof(target))
			return sd_error_set(r->err, SD_ERR_INVALID,
					    "%s: symlink target of %s is too "
					    "long",
					    r->arg, path);
		/* Drop the link itself; continue from its directory. */
		r->resolved.len = old;
		r->resolved.s[old] = '\0';
		if (target[0] == '/') {
			r->resolved.len = 0;
			r->resolved.s[0] = '\0';
		}
		if (buf_prepend(&r->rest, target, (size_t)n) ||
		    buf_prepend(&r->rest, r->resolved.s, r->resolved.len))
			return SD_ERR_NOMEM;
		/* Start again from "/" with the canonical whole. */
		int rc = canon_rest(r);
		if (rc)
			return rc;
	}
	if (is_store_dir(st, r->resolved.len ? r->resolved.s : "/"))
		return sd_error_set(r->err, SD_ERR_INVALID,
				    "%s: is the store directory itself, not "
				    "a store path",
				    r->arg);
	return not_in_store(r, st);
}

int sd_store_resolve_root(const struct sd_store *st, const char *arg,
			  const struct sd_store_path **out,
			  struct sd_error *err)
{
	struct resolver r = {.st = st, .arg = arg, .err = err};
	int rc;

	if (!arg[0])
		return sd_error_set(err, SD_ERR_USAGE, "empty root argument");
	if (buf_set(&r.resolved, "", 0) || buf_set(&r.rest, arg, strlen(arg)))
		goto nomem;
	if (arg[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd) {
			rc = sd_error_errno(err, SD_ERR_IO, errno, "getcwd");
			goto done;
		}
		rc = buf_prepend(&r.rest, cwd, strlen(cwd));
		free(cwd);
		if (rc)
			goto nomem;
	}
	rc = canon_rest(&r);
	if (!rc)
		rc = resolve(&r, out);
	if (rc == SD_ERR_NOMEM)
		goto nomem;
	goto done;
nomem:
	rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
done:
	free(r.resolved.s);
	free(r.rest.s);
	free(r.cand.s);
	return rc;
}
