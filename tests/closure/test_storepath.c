/* SPDX-License-Identifier: MIT */
/* Tests of store path syntax. */
#include <criterion/criterion.h>
#include <string.h>

#include "closure/storepath.h"

#define H "0c6kzph7l0dcbqmbcngxsqifxnnqbgv2"

static int base(const char *s)
{
	struct sd_spath sp;
	struct sd_error err;
	sd_error_init(&err);
	return sd_storepath_parse_base(s, strlen(s), &sp, &err);
}

Test(storepath, valid)
{
	struct sd_spath sp;
	const char *s = H "-hello-2.12.1";
	cr_assert_eq(sd_storepath_parse_base(s, strlen(s), &sp, NULL), 0);
	cr_assert_eq(sp.hash, s);
	cr_assert_eq(sp.name_len, strlen("hello-2.12.1"));
	cr_assert_eq(strncmp(sp.name, "hello-2.12.1", sp.name_len), 0);
	cr_assert_eq(base(H "-a"), 0);
	cr_assert_eq(base(H "-A+-._?=9z"), 0);
	cr_assert_eq(base(H "-foo.drv"), 0);
	cr_assert_eq(base(H "-foo.lock"), 0);
	cr_assert_eq(base(H "-.foo"), 0);
	cr_assert_eq(base(H "-..foo"), 0);
	cr_assert_eq(base(H "-...-x"), 0);
	cr_assert_eq(base(H "--"), 0);
}

Test(storepath, invalid_names)
{
	cr_assert_eq(base(H "-"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-."), SD_ERR_INVALID);
	cr_assert_eq(base(H "-.."), SD_ERR_INVALID);
	cr_assert_eq(base(H "-.-foo"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-..-foo"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-a b"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-a/b"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-a~"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-a:b"), SD_ERR_INVALID);
	cr_assert_eq(base(H "-\xc3\xa9"), SD_ERR_INVALID);
	cr_assert_eq(base(H "_foo"), SD_ERR_INVALID);
	cr_assert_eq(base(".links"), SD_ERR_INVALID);
	cr_assert_eq(base(""), SD_ERR_INVALID);
}

Test(storepath, name_length)
{
	char s[SD_HASH_CHARS + 1 + 213];
	memcpy(s, H "-", SD_HASH_CHARS + 1);
	memset(s + SD_HASH_CHARS + 1, 'x', 212);
	s[SD_HASH_CHARS + 1 + 211] = '\0';
	cr_assert_eq(base(s), 0);
	s[SD_HASH_CHARS + 1 + 211] = 'x';
	s[SD_HASH_CHARS + 1 + 212] = '\0';
	cr_assert_eq(base(s), SD_ERR_INVALID);
	cr_assert_not_null(
		strstr(sd_storepath_base_problem(s, strlen(s)), "211"));
}

Test(storepath, bad_hash)
{
	const char *bad[] = {
		"ec6kzph7l0dcbqmbcngxsqifxnnqbgv2-x",
		"0c6kzph7l0dcbqmbcngxsqifxnnqbgvo-x",
		"0c6kzph7l0dcbqmbcngxsqifxnuqbgv2-x",
		"0c6kzph7l0dcbqmbcngxsqtfxnnqbgv2-x",
		"0C6kzph7l0dcbqmbcngxsqifxnnqbgv2-x",
		"0c6kzph7l0dcbqmbcngxsqifxnnqbgv-x",
		"0c6kzph7l0dcbqmbcngxsqifxnnqbgv22x",
		"0c6kzph7l0dcbqmbcngxsqifxnnqbgv",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(base(bad[i]), SD_ERR_INVALID, "%s", bad[i]);
	cr_assert_str_eq(sd_storepath_base_problem(bad[0], strlen(bad[0])),
			 "hash part contains 'e'");
	cr_assert_str_eq(sd_storepath_base_problem(bad[3], strlen(bad[3])),
			 "hash part contains 't'");
	cr_assert_str_eq(sd_storepath_base_problem(bad[5], strlen(bad[5])),
			 "hash part is shorter than 32 characters");
}

Test(storepath, full_paths)
{
	struct sd_spath sp;
	struct sd_error err;
	const char *p = "/nix/store/" H "-hello/bin/hello";
	cr_assert_eq(sd_storepath_parse("/nix/store", p, strlen(p), true, &sp,
					&err),
		     0);
	cr_assert_eq(sp.base_len, SD_HASH_CHARS + 6);
	cr_assert_eq(sp.sub_len, strlen("/bin/hello"));
	cr_assert_eq(sd_storepath_parse("/nix/store", p, strlen(p), false, &sp,
					&err),
		     SD_ERR_INVALID);
	p = "/nix/store/" H "-hello";
	cr_assert_eq(sd_storepath_parse("/nix/store", p, strlen(p), false, &sp,
					&err),
		     0);
	cr_assert_eq(sp.sub_len, 0);
	p = "/gnu/store/" H "-hello";
	cr_assert_eq(sd_storepath_parse("/nix/store", p, strlen(p), false, &sp,
					&err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "not in the store directory"), "%s", err.msg);
	p = "/nix/storex/" H "-hello";
	cr_assert_eq(sd_storepath_parse("/nix/store", p, strlen(p), false, &sp,
					&err),
		     SD_ERR_INVALID);
	p = "/nix/store/";
	cr_assert_eq(sd_storepath_parse("/nix/store", p, strlen(p), false, &sp,
					&err),
		     SD_ERR_INVALID);
}
