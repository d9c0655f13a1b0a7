/* SPDX-License-Identifier: MIT */
/*
 * inspect_print.h — how ls, diff and the other inspection commands print
 * entries: names with unprintable bytes escaped, ls -l lines and the JSON
 * entry object.
 */
#ifndef SD_CLI_INSPECT_PRINT_H
#define SD_CLI_INSPECT_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/json.h"
#include "core/tree.h"

/*
 * Print @s with control bytes (< 0x20, 0x7f) and backslashes written as
 * \xNN, so every name stays on one line.
 */
void sd_print_escaped(FILE *f, const char *s);

/* The size an entry is listed with: file bytes, symlink target length,
 * 0 for directories and other nodes (whatever the format stores). */
uint64_t sd_print_size(const struct sd_node *node);

/*
 * ls -l's columns before the name: "drwxr-xr-x UID GID SIZE MTIME ".
 */
void sd_print_long_prefix(FILE *f, const struct sd_node *node);

/*
 * One JSON object describing @node:
 *   {"path": LOGICAL PATH, "type": "file|dir|symlink|other",
 *    "mode": "0444" (octal string), "uid", "gid", "size", "mtime",
 *    "target": symlinks only}
 * LOGICAL PATH is "<store_dir>/<path in the image>" (the root: store_dir).
 */
void sd_print_json_entry(struct sd_json *j, const struct sd_node *node,
			 const char *store_dir);

/*
 * Normalise the --store-dir value @store_dir into *@sd (free() it) and read
 * the image at @image into *@tree.  On failure prints the reason and
 * returns false (the command exits SD_EXIT_BAD_INPUT); nothing is left
 * allocated.
 */
bool sd_cli_open_image(const char *image, const char *store_dir, char **sd,
		       struct sd_tree **tree);

#endif
