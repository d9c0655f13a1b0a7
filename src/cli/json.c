/* SPDX-License-Identifier: MIT */
#include "cli/json.h"

#include <inttypes.h>
#include <string.h>

bool sd_json_stdout_used;

void sd_json_init(struct sd_json *j, FILE *out)
{
	if (out == stdout)
		sd_json_stdout_used = true;
	j->out = out;
	j->depth = 0;
	j->has_items[0] = false;
	j->after_key = false;
}

static void indent(struct sd_json *j)
{
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Separator and indentation before a value or key. */
static void before_item(struct sd_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			fputc(',', j->out);
		j->has_items[j->depth] = true;
		indent(j);
	}
}

static void after_value(struct sd_json *j)
{
	if (j->depth == 0)
		fputc('\n', j->out);
}

static void open_container(struct sd_json *j, char c)
{
	before_item(j);
	fputc(c, j->out);
	if (j->depth < SD_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_container(struct sd_json *j, char c)
{
	bool had = j->has_items[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->out);
	after_value(j);
}

void sd_json_object_begin(struct sd_json *j)
{
	open_container(j, '{');
}
void sd_json_object_end(struct sd_json *j)
{
	close_container(j, '}');
}
void sd_json_array_begin(struct sd_json *j)
{
	open_container(j, '[');
}
void sd_json_array_end(struct sd_json *j)
{
	close_container(j, ']');
}

/* Length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static void write_string(FILE *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', out);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			i++;
		} else if (c == '\n') {
			fputs("\\n", out);
			i++;
		} else if (c == '\t') {
			fputs("\\t", out);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			i++;
		} else {
			size_t len = utf8_len(s + i, n - i);
			if (len == 0) {
				fprintf(out, "\\u%04x", c);
				i++;
			} else {
				fwrite(s + i, 1, len, out);
				i += len;
			}
		}
	}
	fputc('"', out);
}

void sd_json_key(struct sd_json *j, const char *key)
{
	before_item(j);
	write_string(j->out, key, strlen(key));
	fputs(": ", j->out);
	j->after_key = true;
}

void sd_json_string_n(struct sd_json *j, const char *s, size_t len)
{
	before_item(j);
	write_string(j->out, s, len);
	after_value(j);
}

void sd_json_string(struct sd_json *j, const char *s)
{
	if (!s) {
		before_item(j);
		fputs("null", j->out);
		after_value(j);
		return;
	}
	sd_json_string_n(j, s, strlen(s));
}

void sd_json_u64(struct sd_json *j, uint64_t v)
{
	before_item(j);
	fprintf(j->out, "%" PRIu64, v);
	after_value(j);
}

void sd_json_i64(struct sd_json *j, int64_t v)
{
	before_item(j);
	fprintf(j->out, "%" PRId64, v);
	after_value(j);
}

void sd_json_seconds(struct sd_json *j, double v)
{
	before_item(j);
	if (v >= 0 && v < 1e12)
		fprintf(j->out, "%.3f", v);
	else
		fputs("null", j->out);
	after_value(j);
}

void sd_json_bool(struct sd_json *j, bool v)
{
	before_item(j);
	fputs(v ? "true" : "false", j->out);
	after_value(j);
}

void sd_json_kv_string(struct sd_json *j, const char *key, const char *s)
{
	sd_json_key(j, key);
	sd_json_string(j, s);
}

void sd_json_kv_u64(struct sd_json *j, const char *key, uint64_t v)
{
	sd_json_key(j, key);
	sd_json_u64(j, v);
}

void sd_json_kv_bool(struct sd_json *j, const char *key, bool v)
{
	sd_json_key(j, key);
	sd_json_bool(j, v);
}
