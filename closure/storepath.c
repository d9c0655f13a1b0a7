/* SPDX-License-Identifier: MIT */
#include "closure/storepath.h"

#include <string.h>

#include "closure/nix32.h"

static bool name_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '+' || c == '-' || c == '.' ||
	       c == '_' || c == '?' || c == '=';
}

const char *sd_storepath_name_problem(const char *name, size_t len)
{
	if (len == 0)
		return "name part is empty";
	if (len > SD_NAME_MAX)
		return "name part is longer than 211 characters";
	if (name[0] == '.') {
		if (len == 1)
			return "name part is '.'";
		if (name[1] == '-')
			return "name part starts with '.-'";
		if (name[1] == '.') {
			if (len == 2)
				return "name part is '..'";
			if (name[2] == '-')
				return "name part starts with '..-'";
		}
	}
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)name[i]))
			return "name part contains a character outside "
			       "[0-9a-zA-Z+-._?=]";
	return NULL;
}

const char *sd_storepath_hash_problem(const char *s, size_t len)
{
	if (len != SD_HASH_CHARS)
		return "hash part is not 32 characters";
	for (size_t i = 0; i < len; i++) {
		if (sd_nix32_is_char((unsigned char)s[i]))
			continue;
		switch (s[i]) {
		case 'e': return "hash part contains 'e'";
		case 'o': return "hash part contains 'o'";
		case 'u': return "hash part contains 'u'";
		case 't': return "hash part contains 't'";
		default: return "hash part contains a non-nix32 character";
		}
	}
	return NULL;
}

const char *sd_storepath_base_problem(const char *s, size_t len)
{
	if (len < SD_HASH_CHARS + 2) {
		const char *dash = memchr(s, '-', len);
		if (dash && (size_t)(dash - s) < SD_HASH_CHARS)
			return "hash part is shorter than 32 characters";
		return "too short for <hash>-<name>";
	}
	const char *p = sd_storepath_hash_problem(s, SD_HASH_CHARS);
	if (p)
		return p;
	if (s[SD_HASH_CHARS] != '-')
		return "no '-' after the 32-character hash part";
	return sd_storepath_name_problem(s + SD_HASH_CHARS + 1,
					 len - SD_HASH_CHARS - 1);
}

int sd_storepath_parse_base(const char *s, size_t len, struct sd_spath *out,
			    struct sd_error *err)
{
	const char *why = sd_storepath_base_problem(s, len);
	if (why)
		return sd_error_set(err, SD_ERR_INVALID,
				    "invalid store path name '%.*s': %s",
				    (int)(len > 300 ? 300 : len), s, why);
	out->base = s;
	out->base_len = len;
	out->hash = s;
	out->name = s + SD_HASH_CHARS + 1;
	out->name_len = len - SD_HASH_CHARS - 1;
	out->sub = s + len;
	out->sub_len = 0;
	return 0;
}

int sd_storepath_parse(const char *store_dir, const char *s, size_t len,
		       bool allow_sub, struct sd_spath *out,
		       struct sd_error *err)
{
	size_t dl = strlen(store_dir);
	int shown = (int)(len > 400 ? 400 : len);
	if (len <= dl + 1 || memcmp(s, store_dir, dl) != 0 || s[dl] != '/')
		return sd_error_set(err, SD_ERR_INVALID,
				    "'%.*s' is not in the store directory %s",
				    shown, s, store_dir);
	const char *base = s + dl + 1;
	size_t rest = len - dl - 1;
	const char *slash = memchr(base, '/', rest);
	size_t blen = slash ? (size_t)(slash - base) : rest;
	int rc = sd_storepath_parse_base(base, blen, out, err);
	if (rc)
		return rc;
	out->sub = base + blen;
	out->sub_len = rest - blen;
	if (out->sub_len && !allow_sub)
		return sd_error_set(err, SD_ERR_INVALID,
				    "'%.*s' is not a store path (it has "
				    "'%.*s' after the store path name)",
				    shown, s,
				    (int)(out->sub_len > 200 ? 200
							     : out->sub_len),
				    out->sub);
	return 0;
}
