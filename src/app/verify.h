/* SPDX-License-Identifier: MIT */
/*
 * verify.h — prove that an image is self-contained.
 *
 * The image is read through its format reader (no mount, no root) into the
 * normalised tree, and every top-level entry is scanned with the reference
 * scanner (closure/refscan.h):
 *   - full-path references "<store-dir>/<32 nix32 chars>-" of any hash,
 *   - bare hash parts of the image's own paths and of the candidates.
 * A reference is resolved when its hash is a top-level entry of the image
 * or is allowed (--allow).  Otherwise (Nix's rule: a reference is the hash
 * of a store path that exists) it is
 *   - a violation when its hash is a store path known to exist: a
 *     candidate, a registered path or reference, or a path the manifest
 *     says was accepted as missing at pack time ("missing",
 *     "accepted-missing");
 *   - for a full path "<store-dir>/<hash>-" whose hash nobody knows: a
 *     warning when the image's manifest (app/manifest.h) says the path did
 *     not exist when the image was packed ("absent-when-packed"), or when
 *     an explicit candidate set (--candidates) is given and does not hold
 *     it ("not-a-candidate"); else a violation ("unknown-path").  With
 *     opts->strict every such full path is a violation.
 * A registration never turns a violation into a warning: its paths only
 * add to what is known to exist.
 * Top-level entries that are not valid store path names are violations,
 * except the regular files SD_EMBEDDED_REGISTRATION (the embedded
 * registration) and SD_EMBEDDED_MANIFEST (the manifest), which are not
 * scanned (they name store paths), and root symlinks
 * (app/verify_rootlinks.h), which are not scanned either: their targets
 * must resolve inside the image.  A manifest that cannot be parsed makes
 * the image unreadable (SD_ERR_INVALID).
 * Each finding is reported once per (file, what, path) with the offset of
 * its first occurrence (the offset of the hash part within the item) and
 * the number of occurrences.
 *
 * Registration (opts->registration, else the embedded one if the image has
 * one; app/verify_reg.h):
 *   - every registered path is a top-level entry, every reference of a
 *     registered path is in the image, and every top-level store path is
 *     registered (violations otherwise);
 *   - narHash and narSize recomputed from the image (closure/nar.h) equal
 *     the registered ones when the registration has them (a mismatch is a
 *     violation, also listed in res->reg.mismatches);
 *   - the references found by the scan and the registered ones are
 *     compared path by path: differences are information
 *     (res->reg.diffs), since a scan finds a superset of what Nix records;
 *   - the registered paths join the candidates (has_candidates is implied).
 *
 * Raw references (opts->raw_refs, app/rawrefs.h): the candidates' hash
 * parts that occur verbatim in the image FILE's bytes — what Nix's scanner
 * would register as references of a derivation output that is this image.
 */
#ifndef SD_APP_VERIFY_H
#define SD_APP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/manifest.h"     /* SD_EMBEDDED_MANIFEST */
#include "app/registration.h" /* SD_EMBEDDED_REGISTRATION */
#include "core/error.h"

struct sd_base_image;

struct sd_allowlist;
struct sd_registration;

enum sd_finding_kind {
	SD_FINDING_VIOLATION = 1,
	SD_FINDING_WARNING = 2,
};

struct sd_finding {
	enum sd_finding_kind kind;
	char *file;        /* logical path of the entry, "<store-dir>/..." */
	const char *where; /* "content", "symlink target", "name", "entry" */
	uint64_t offset;   /* offset of the first occurrence's hash part */
	uint64_t count;    /* occurrences in this item */
	char *path;        /* the referenced store path ("<store-dir>/<hash>-
			      <name>" when the name is known, else hash) */
	char *reason;      /* short explanation */
	/* Which rule made it a finding (static string):
	 *   violations: "missing" (a store path known to exist: in the
	 *   registration, the candidates or the manifest), "accepted-missing"
	 *   (the same, accepted with --allow-missing/--allow when packed),
	 *   "unknown-path" (a full path nothing says did not exist),
	 *   "invalid-entry", "registration";
	 *   warnings: "absent-when-packed" (the manifest says the path did
	 *   not exist), "not-a-candidate" (the --candidates listing does not
	 *   hold it). */
	const char *category;
};
/* Findings about the registration itself have where "registration", file
 * the registration's name and offset its LINE number (not a byte offset). */

/*
 * Another image of a layered union (verify --base): a reference to one of
 * its store paths resolves (Nix's rule: those paths exist, and their bare
 * hashes are looked for too).  The image's own paths come first; among
 * the others, the first one that holds a path resolves it.
 */
struct sd_verify_other {
	const char *image;        /* its name in the report */
	const char *const *bases; /* its store paths, "<hash>-<name>" */
	size_t nbases;
	/* The image read (app/baseimage.h), or NULL.  A registered path of
	 * the image that it holds (a layer's registration covers the
	 * union) is checked against it: against its embedded
	 * registration's record (narHash, narSize, references), or, when
	 * it has none for that path, against the narHash computed from
	 * it. */
	const struct sd_base_image *img;
	/* The image is above the one verified in the union's overlay order
	 * (the layer, or a base given before it): the verified image should
	 * not need it.  A reference that only images above resolve is an
	 * order warning (sd_verify_result.order_paths). */
	bool above;
};

/* What the references into one other image came to. */
struct sd_verify_resolved {
	const char *image;   /* sd_verify_other.image (borrowed) */
	uint64_t references; /* references it resolved */
	size_t paths;        /* distinct store paths of it referenced */
};

struct sd_verify_options {
	const char *store_dir; /* logical store dir, no trailing slash */
	/* Candidate store paths: each a 32-char hash or "<hash>-<name>".
	 * has_candidates false: no candidate set (NULL/0 also allowed). */
	bool has_candidates;
	const char *const *candidates;
	size_t ncandidates;
	/* Allowed exceptions (--allow), or NULL. */
	const struct sd_allowlist *allowed;
	/* The registration to check against (--registration), or NULL: the
	 * embedded one if the image has one.  registration_name names it in
	 * the report (the file name). */
	const struct sd_registration *registration;
	const char *registration_name;
	/* Also report the raw references of the image file (--raw-refs). */
	bool raw_refs;
	/* Every full-path mention of a path not in the image is a violation,
	 * whatever the manifest or the candidates say (--strict). */
	bool strict;
	/* The other images of a union, or none (see above). */
	const struct sd_verify_other *others;
	size_t nothers;
};

/* The image's embedded manifest, as read (app/manifest.h). */
struct sd_verify_manifest {
	bool present;
	struct sd_manifest *m; /* parsed, or NULL */
};

/* A store path whose narHash or narSize differs from the registration. */
struct sd_nar_mismatch {
	char *path;             /* logical store path */
	uint8_t expected[32];   /* registered narHash (SHA-256) */
	uint64_t expected_size; /* registered narSize */
	uint8_t actual[32];     /* recomputed from the image */
	uint64_t actual_size;
};

/* References of one store path: scanned but not registered, and
 * registered but not found by the scan (logical paths, sorted). */
struct sd_ref_difference {
	char *path;
	char **scanned_only;
	size_t nscanned_only;
	char **registered_only;
	size_t nregistered_only;
};

/* A symlink at the image root that is not a store path (pack
 * --root-symlink): its target must resolve inside the image. */
struct sd_root_symlink {
	char *name;    /* entry name, e.g. "system" */
	char *target;  /* its text, e.g. "<hash>-<name>" */
	bool resolves; /* false: also a violation */
};

/* What was checked against the registration. */
struct sd_verify_registration {
	/* NULL: no registration; "embedded"; or opts->registration_name
	 * (borrowed). */
	const char *source;
	size_t npaths;      /* registered paths */
	size_t nar_checked; /* paths whose narHash was compared */
	struct sd_nar_mismatch *mismatches;
	size_t nmismatches;
	struct sd_ref_difference *diffs; /* in image order */
	size_t ndiffs;
};

struct sd_verify_result {
	const char *format; /* "squashfs" */
	size_t npaths;      /* top-level entries (not the embedded
			       registration) */
	size_t nfiles, ndirs, nsymlinks;
	uint64_t bytes_scanned;
	uint64_t references; /* resolved references seen */
	struct sd_finding *findings;
	size_t nfindings;
	size_t nviolations, nwarnings;
	struct sd_verify_registration reg;
	struct sd_verify_manifest manifest;
	/* opts->raw_refs: logical paths whose hash occurs in the image file's
	 * bytes, sorted bytewise. */
	bool has_raw_refs;
	char **raw_refs;
	size_t nraw_refs;
	/* opts->others, in order: the references each one resolved (not
	 * counted in references above). */
	struct sd_verify_resolved *others;
	size_t nothers;
	/* Store paths the image refers to that only images above it hold
	 * (sd_verify_other.above): a base that is not self-contained over
	 * the bases after it, as when a layer and its base are given
	 * swapped.  How many distinct paths, the first one found (logical
	 * path) and the image holding it (borrowed). */
	size_t order_paths;
	char *order_path;
	const char *order_image;
	/* Root symlinks (app/verify_rootlinks.h), in entry order. */
	struct sd_root_symlink *root_symlinks;
	size_t nroot_symlinks;
};

/*
 * Verify the image at @path.  Returns 0 when the image could be read and
 * scanned (findings, if any, are in @res), SD_ERR_CORRUPT/SD_ERR_IO when it
 * cannot, SD_ERR_INVALID when its embedded registration cannot be parsed
 * (exit 2 in the CLI); on failure @res holds nothing to release.
 */
int sd_verify_image(const char *path, const struct sd_verify_options *opts,
		    struct sd_verify_result *res, struct sd_error *err);

void sd_verify_result_release(struct sd_verify_result *res);

#endif
