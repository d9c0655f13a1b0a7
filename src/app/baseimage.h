/* SPDX-License-Identifier: MIT */
/*
 * baseimage.h — an image another image is layered on (pack --base, verify
 * --base): the store paths it holds and, when it has one, its embedded
 * registration.
 *
 * A base holds a store path when its root has a top-level entry with that
 * store path's basename ("<hash>-<name>"); root entries that are not
 * store path names (the embedded registration and manifest, root
 * symlinks) are not paths.  In a store one name is one content, so a
 * layer leaves out the paths its bases hold; where both the closure's
 * source and the base's embedded registration give a narHash for a path
 * they must agree (sd_base_image_contradiction).  Nothing else of the
 * base's contents is read.
 */
#ifndef SD_APP_BASEIMAGE_H
#define SD_APP_BASEIMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "closure/closure.h"
#include "closure/hashmap.h"
#include "closure/nar.h"
#include "closure/registration.h"
#include "core/error.h"

struct sd_base_image {
	const char *path;   /* as given (borrowed) */
	const char *format; /* "squashfs", "erofs" */
	char **bases;       /* its store paths' basenames, sorted bytewise */
	size_t nbases;
	struct sd_registration *reg;    /* embedded registration, or NULL */
	struct sd_hashmap *reg_by_hash; /* its records by hash part */
};

/*
 * Read the image at @path (either format): its top-level store paths and
 * its embedded registration (parsed in logical store directory
 * @store_dir).  Errors name @path: SD_ERR_IO (unreadable), SD_ERR_CORRUPT
 * (not an image, damaged), SD_ERR_INVALID (a registration that does not
 * parse), SD_ERR_NOMEM.  Release @b in every case.
 */
int sd_base_image_init(struct sd_base_image *b, const char *path,
		       const char *store_dir, struct sd_error *err);

void sd_base_image_release(struct sd_base_image *b);

/* True when @b holds the store path with basename @base (@len bytes). */
bool sd_base_image_has(const struct sd_base_image *b, const char *base,
		       size_t len);

/* Does @b hold a store path whose hash part is @hash (32 characters)? */
bool sd_base_image_has_hash(const struct sd_base_image *b, const char *hash);

/*
 * SD_ERR_USAGE naming the path, the base and both narHashes when closure
 * path @p declares a narHash (p->has_nar) and @b's embedded registration
 * records a different one for the same path; else 0.
 */
int sd_base_image_contradiction(const struct sd_base_image *b,
				const struct sd_closure_path *p,
				struct sd_error *err);

/*
 * The record of @b's embedded registration for the store path with
 * basename @base (@len bytes), if it has one with a narHash; else NULL
 * (no registration, or it does not list that path).
 */
const struct sd_reg_record *sd_base_image_record(const struct sd_base_image *b,
						 const char *base, size_t len);

/*
 * The narHashes and narSizes of @n top-level entries of @b (basenames
 * @names) into @out[0..n), computed from the image, read again once
 * (Nix's NAR serialisation of each entry, closure/nar.h).
 * SD_ERR_MISSING when @b has no such entry; the errors of reading the
 * image or hashing an entry, naming the image.
 */
int sd_base_image_nar_hashes(const struct sd_base_image *b,
			     const char *const *names, size_t n,
			     struct sd_nar_hash *out, struct sd_error *err);

#endif
