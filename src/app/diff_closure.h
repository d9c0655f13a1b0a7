/* SPDX-License-Identifier: MIT */
/*
 * diff_closure.h — which packages changed between two images' store paths,
 * paired by name as `nix store diff-closures` pairs them.
 *
 * Source followed: Nix, src/nix/diff-closures.cc (getClosureInfo,
 * printClosureDiff) and src/libstore/names.cc (DrvName::DrvName).  A store
 * path's name ("<hash>-" dropped) loses a trailing output name first: the
 * part after the last '-' when it is one or more of [a-z], or "lib32" or
 * "lib64" (diff-closures' regex "(.*)-([a-z]+|lib32|lib64)"; ambiguous,
 * as Nix says: "hello-unstable" loses "unstable").  What remains splits
 * at the first '-' NOT followed by an ASCII letter: before it the name
 * (pname), after it the version ("hello-2.12.1" gives "hello", "2.12.1";
 * "apache-httpd-2.0.48" gives "apache-httpd", "2.0.48"; no such '-': the
 * whole is the name, the version is "").
 *
 * Only top-level entries that are valid store path names count (not
 * nix-path-registration, storedisk-manifest, the symlinks of pack
 * --root-symlink or other files of the image root).  A name is listed when at least one store path of that name is
 * in one image and not in the other (by "<hash>-<name>"): another version,
 * the same version with another hash, or a path added or removed.  Unlike
 * Nix, which lists a name only when its versions changed or its size moved
 * by 8 KiB or more, every such name is listed: an image is exact.
 */
#ifndef SD_APP_DIFF_CLOSURE_H
#define SD_APP_DIFF_CLOSURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tree.h"

struct sd_closure_change {
	char *name;        /* the pname */
	char **versions_a; /* versions of that name in A: sorted
			      * bytewise, unique, "" for no version */
	size_t nversions_a;
	char **versions_b; /* the same in B */
	size_t nversions_b;
	int64_t size_delta; /* bytes of regular files of all paths of that
			       * name: B minus A */
};

struct sd_closure_changes {
	struct sd_closure_change *v; /* sorted by name, bytewise */
	size_t n;
};

/*
 * Split store path name @name (@len bytes, without "<hash>-") into the
 * pname (its first *@pname_len bytes) and the version (*@version,
 * *@version_len bytes, pointing into @name), by the rule above.
 */
void sd_drv_name_split(const char *name, size_t len, size_t *pname_len,
		       const char **version, size_t *version_len);

/*
 * Compare the store paths at the roots of @a and @b.  *@out is filled
 * (release with sd_closure_changes_release, also after an error).
 * Errors: SD_ERR_NOMEM.
 */
int sd_diff_closures(const struct sd_tree *a, const struct sd_tree *b,
		     struct sd_closure_changes *out, struct sd_error *err);

void sd_closure_changes_release(struct sd_closure_changes *c);

#endif
