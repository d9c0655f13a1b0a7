/* SPDX-License-Identifier: MIT */
/*
 * verify_reg.h — the registration checks of verify (internal to src/app;
 * the rules are described in app/verify.h).
 *
 * The registration checked is the caller's (--registration FILE) or, when
 * there is none, the image's embedded one: a regular file
 * SD_EMBEDDED_REGISTRATION at the root, parsed like any
 * registration (closure/registration.h).  Findings go to the verify result
 * through app/verify_findings.h; comparisons that are information go to
 * res->reg.
 */
#ifndef SD_APP_VERIFY_REG_H
#define SD_APP_VERIFY_REG_H

#include <stddef.h>

#include "app/verify.h"
#include "closure/hashmap.h"
#include "closure/registration.h"
#include "core/tree.h"

/* Largest embedded registration read into memory (a NixOS system's is a
 * few MiB). */
#define SD_VREG_EMBEDDED_MAX ((uint64_t)256 << 20)

struct sd_vreg {
	const struct sd_registration *reg; /* NULL: no registration */
	struct sd_registration *owned;     /* the embedded one, parsed here */
	char *name; /* file of its findings: the FILE given or
		       "<store-dir>/nix-path-registration" */
	const char *store_dir;
	size_t sdlen;
	struct sd_hashmap *by_hash; /* record's hash part -> record index */
	/* The other images of a union (opts->others): a registered path
	 * one of them holds is checked against it, not the image. */
	const struct sd_verify_other *others;
	size_t nothers;
};

/*
 * Read the regular file @n (a root entry of the image at @image, called
 * @name in messages) whole into *@buf (malloc'ed, *@len bytes).  A file
 * over @max bytes is SD_ERR_INVALID; a read error or a short file is
 * SD_ERR_CORRUPT "IMAGE: reading NAME: ...".  Shared by the embedded
 * registration and the manifest.
 */
int sd_vreg_read_root_file(const struct sd_tree *tree, const struct sd_node *n,
			   const char *image, const char *name, uint64_t max,
			   char **buf, size_t *len, struct sd_error *err);

/*
 * Choose the registration (opts->registration, else the embedded one of
 * @tree, read from image @image) and index it; set res->reg.source and
 * res->reg.npaths.  v->reg stays NULL when there is none.  Returns 0,
 * SD_ERR_INVALID when the embedded registration cannot be parsed ("IMAGE:
 * <store-dir>/nix-path-registration:LINE: reason"), SD_ERR_CORRUPT when it
 * cannot be read, or SD_ERR_NOMEM.  Release @v in every case.
 */
int sd_vreg_init(struct sd_vreg *v, const struct sd_tree *tree,
		 const char *image, const struct sd_verify_options *opts,
		 struct sd_verify_result *res, struct sd_error *err);

/* The record registered for top-level entry @node (same basename), or
 * NULL. */
const struct sd_reg_record *sd_vreg_record(const struct sd_vreg *v,
					   const struct sd_node *node);

/*
 * Violations: registered paths that are not top-level entries of @tree
 * (unless another image of the union holds them: then their record must
 * agree with that image's registration — narHash, narSize, references —
 * or, where it has no record for them, with the narHash computed from
 * that image), registered references to paths that are neither in the
 * image nor registered, top-level store paths that are not registered.
 * Read errors of another image are returned, naming it.
 */
int sd_vreg_check_presence(const struct sd_vreg *v, const struct sd_tree *tree,
			   struct sd_verify_result *res, struct sd_error *err);

/*
 * Recompute the narHash and narSize of top-level entry @top and compare
 * them with @rec's, if it has them (counted in res->reg.nar_checked).  A
 * mismatch is a violation and an entry of res->reg.mismatches; an entry
 * that cannot be serialised (a device node) is a violation.  Read errors
 * of the image are returned (SD_ERR_IO/SD_ERR_CORRUPT).
 */
int sd_vreg_check_nar(const struct sd_vreg *v, const struct sd_tree *tree,
		      const struct sd_node *top,
		      const struct sd_reg_record *rec,
		      struct sd_verify_result *res, struct sd_error *err);

/*
 * Compare the references the scan found for @top (@scanned: basenames
 * "<hash>-<name>" of top-level entries, any order) with @rec's; when they
 * differ, append an entry to res->reg.diffs.
 */
int sd_vreg_compare_refs(const struct sd_vreg *v, const struct sd_node *top,
			 const struct sd_reg_record *rec,
			 const char *const *scanned, size_t nscanned,
			 struct sd_verify_result *res, struct sd_error *err);

void sd_vreg_release(struct sd_vreg *v);

#endif
