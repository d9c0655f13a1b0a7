/* SPDX-License-Identifier: MIT */
/*
 * verify_findings.h — append findings to a verify result (internal to
 * src/app: verify.c and verify_reg.c report through it).
 */
#ifndef SD_APP_VERIFY_FINDINGS_H
#define SD_APP_VERIFY_FINDINGS_H

#include <stdint.h>

#include "app/verify.h"

/*
 * Append a finding of @kind to @res, taking ownership of @file, @path and
 * @reason (malloc'ed; each may be NULL, then printed as "?").  @where is a
 * static string.  Counts it as a violation or a warning.  Returns 0 or
 * SD_ERR_NOMEM (the strings are freed then).
 */
int sd_verify_add_finding(struct sd_verify_result *res,
			  enum sd_finding_kind kind, char *file,
			  const char *where, uint64_t offset, char *path,
			  char *reason, struct sd_error *err);

#endif
