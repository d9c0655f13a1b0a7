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

/* The --base options of a command, in order (argv's strings). */
struct sd_cli_bases {
	const char **v;
	size_t n;
};

/* Append @arg; false (printed) when out of memory. */
bool sd_cli_bases_push(struct sd_cli_bases *b, const char *arg);

void sd_cli_bases_release(struct sd_cli_bases *b);

/*
 * sd_cli_open_image() of the union of layer @image and @bases
 * (app/unionimage.h); with no bases the image alone.  A base that cannot
 * be read is named in the message.
 */
bool sd_cli_open_union(const char *image, const struct sd_cli_bases *bases,
		       const char *store_dir, char **sd, struct sd_tree **tree);

/*
 * A layer and its bases for a message, written into @buf and returned:
 * "IMAGE HOW its base" or "IMAGE HOW its N bases" (@how "or": what ls
 * searched; "over": what diff compared), IMAGE alone without bases.
 */
const char *sd_cli_union_name(const char *image, size_t nbases, const char *how,
			      char *buf, size_t size);

/*
 * What ls, cat and extract searched, for their "no such entry in ..."
 * messages: "IMAGE or its base(s)" in @buf, or NULL without bases (the
 * messages then say "the image").
 */
const char *sd_cli_searched(const char *image, size_t nbases, char *buf,
			    size_t size);

#endif
