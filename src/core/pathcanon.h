/* SPDX-License-Identifier: MIT */
/*
 * pathcanon.h — paths made absolute and canonical without looking at the
 * file system, as Nix's absPath/canonPath do before a path is taken as a
 * store path: "//" and "." components vanish, ".." removes the component
 * before it ("/.." is "/"), and there is no trailing "/".  So
 * "/nix/store/<h1>-a/../<h2>-b" is "/nix/store/<h2>-b", as Nix reads it.
 */
#ifndef SD_CORE_PATHCANON_H
#define SD_CORE_PATHCANON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/*
 * The canonical form of @path (@len bytes) in *@out (malloc'd, "/" for
 * the root).  A relative @path is taken from directory @base (absolute;
 * NULL: the current directory).  SD_ERR_NOMEM, or SD_ERR_IO when the
 * current directory cannot be found.
 */
int sd_path_canon(const char *base, const char *path, size_t len, char **out,
		  struct sd_error *err);

/*
 * Nix's followLinksToStore: @path made canonical (as above); then, while
 * it is neither @dir nor below it and is a symlink, replaced by its target
 * (a relative target taken from the link's directory) made canonical, at
 * most 40 times (then SD_ERR_INVALID).  The result in *@out (malloc'd) may
 * still lie outside @dir: the caller says what that means.
 */
int sd_path_follow_to_dir(const char *path, const char *dir, char **out,
			  struct sd_error *err);

/* True if canonical @path is @dir or below it ("/a/b" and "/a"). */
bool sd_path_is_under(const char *path, const char *dir);

#endif
