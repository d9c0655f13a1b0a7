/* SPDX-License-Identifier: MIT */
/*
 * mentions.h — print what a closure or pack found besides references:
 * full-path mentions of store paths that do not exist (warnings: not
 * references) and references to store paths outside a given closure
 * (accepted ones as warnings, the others as errors).  At most
 * SD_CLI_MENTIONS_SHOWN lines of each kind, then a count.
 */
#ifndef SD_CLI_MENTIONS_H
#define SD_CLI_MENTIONS_H

#include "app/packscan.h"
#include "closure/closure.h"

#define SD_CLI_MENTIONS_SHOWN 10

/* closure->absent (a scan of the store) on stderr. */
void sd_cli_report_absent(const struct sd_closure *cl, const char *store_dir);

/* The findings of pack's reference check on stderr (NULL ok). */
void sd_cli_report_packscan(const struct sd_packscan *ps,
			    const char *store_dir);

/* "content", "entry name", "symlink target". */
const char *sd_cli_what_str(enum sd_refscan_what w);

#endif
