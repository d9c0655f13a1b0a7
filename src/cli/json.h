/* SPDX-License-Identifier: MIT */
/*
 * json.h — a small streaming JSON writer for the CLI's --json outputs.
 *
 * Strings are written as given when they are valid UTF-8; control
 * characters are escaped; each byte of an invalid UTF-8 sequence (file
 * names are arbitrary bytes) is written as the escape \u00XX, i.e. read as
 * Latin-1.  Output is indented with two spaces and ends with a newline
 * after the outermost value.
 */
#ifndef SD_CLI_JSON_H
#define SD_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SD_JSON_MAX_DEPTH 32

struct sd_json {
	FILE *out;
	int depth;
	bool has_items[SD_JSON_MAX_DEPTH];
	bool after_key;
};

/* True once a document was started on stdout (sd_cli_json_failure). */
extern bool sd_json_stdout_used;

void sd_json_init(struct sd_json *j, FILE *out);
void sd_json_object_begin(struct sd_json *j);
void sd_json_object_end(struct sd_json *j);
void sd_json_array_begin(struct sd_json *j);
void sd_json_array_end(struct sd_json *j);
void sd_json_key(struct sd_json *j, const char *key);
void sd_json_string(struct sd_json *j, const char *s);
void sd_json_string_n(struct sd_json *j, const char *s, size_t len);
void sd_json_u64(struct sd_json *j, uint64_t v);
void sd_json_i64(struct sd_json *j, int64_t v);
void sd_json_bool(struct sd_json *j, bool v);
/* Seconds with millisecond precision ("3.214"); null when negative (not
 * reached) or not finite. */
void sd_json_seconds(struct sd_json *j, double v);

/* Shorthands for "key": value. */
void sd_json_kv_string(struct sd_json *j, const char *key, const char *s);
void sd_json_kv_u64(struct sd_json *j, const char *key, uint64_t v);
void sd_json_kv_bool(struct sd_json *j, const char *key, bool v);

#endif
