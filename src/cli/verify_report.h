/* SPDX-License-Identifier: MIT */
/*
 * verify_report.h — how `storedisk verify` prints a result
 * (app/verify.h): text lines or one JSON document.
 */
#ifndef SD_CLI_VERIFY_REPORT_H
#define SD_CLI_VERIFY_REPORT_H

#include <stdio.h>

#include "app/verify.h"

/*
 * Text: one line per finding ("violation: FILE:OFFSET (WHERE): PATH:
 * REASON"; for WHERE "registration", OFFSET is a line number), the
 * registration that was checked and its reference differences
 * ("reference difference: PATH: scanned only: ...; registered only:
 * ..."), then the summary line: "IMAGE: self-contained: ...", "IMAGE:
 * NOT self-contained: ...", or, when the only violations are narHash/
 * narSize mismatches, "IMAGE: does not match its registration (SOURCE):
 * ...".
 */
void sd_verify_print_text(FILE *out, const char *image,
			  const struct sd_verify_result *r);

/* verify -q: only the violation lines and the summary line, nothing when
 * there are no violations. */
void sd_verify_print_violations(FILE *out, const char *image,
				const struct sd_verify_result *r);

/* The raw references, one logical path a line. */
void sd_verify_print_raw_refs(FILE *out, const struct sd_verify_result *r);

/*
 * The JSON document: image, format, store_dir, self_contained, counts,
 * violations, warnings, registration, raw_refs (null unless asked).  With
 * @error set (the image could not be read), only image and error.
 */
void sd_verify_print_json(FILE *out, const char *image, const char *store_dir,
			  const struct sd_verify_result *r, const char *error);

/*
 * verify --base: the layer's document (as above, each image's
 * "resolved_by" listing the references the others resolved) with
 * "references_resolved_by_bases", "union_self_contained",
 * "order_warnings" (one {"image", "path", "held_by", "paths"} per base that
 * refers to paths only images above it hold) and "bases": one such
 * document per base, in order.
 */
void sd_verify_print_json_union(FILE *out, const char *layer,
				const char *store_dir,
				const struct sd_verify_result *layer_res,
				const char *const *bases,
				const struct sd_verify_result *base_res,
				size_t nbases);

#endif
