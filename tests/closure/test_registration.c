/* SPDX-License-Identifier: MIT */
/* Tests of the registration, path list and allow list parsers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/allowlist.h"
#include "closure/pathlist.h"
#include "closure/registration.h"
#include "helpers.h"

#define SD "/nix/store"
#define HA "0c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HB "1b8m03r63zqhnjf7l5wnldhh7c134ap5"
#define HC "2a3x1yzqb4m9gd1vx0ahj8z6ipl0g9sc"
#define PA SD "/" HA "-a"
#define PB SD "/" HB "-b"
#define PC SD "/" HC "-c"
#define HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define N32 "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"
#define B64 "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="

static const uint8_t abc0 = 0xba, abc31 = 0xad;

static struct sd_registration *parse_ok(const char *text)
{
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_registration_parse("reg", text, strlen(text), SD, &reg,
					   &err),
		     0, "%s", err.msg);
	return reg;
}

static void parse_bad(const char *text, const char *expect)
{
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_registration_parse("reg", text, strlen(text), SD, &reg,
					   &err),
		     SD_ERR_INVALID, "accepted:\n%s", text);
	cr_assert_null(reg);
	cr_assert(strstr(err.msg, expect), "expected '%s' in '%s'", expect,
		  err.msg);
}

Test(registration, empty)
{
	struct sd_registration *reg = parse_ok("");
	cr_assert_eq(reg->nrecs, 0);
	sd_registration_free(reg);
}

Test(registration, full_layout_dump_db)
{
	struct sd_registration *reg =
		parse_ok(PA "\n" HEX "\n1234\n" PC "\n2\n" PA "\n" PB "\n" PB
			    "\nsha256:" N32 "\n0\n\n0\n" PC "\nsha256-" B64
			    "\n7\n\n1\n" PB "\n");
	cr_assert_eq(reg->nrecs, 3);
	struct sd_reg_record *a = &reg->recs[0];
	cr_assert_str_eq(a->path, PA);
	cr_assert_str_eq(a->base, HA "-a");
	cr_assert_eq(a->line, 1);
	cr_assert(a->has_hash);
	cr_assert_eq(a->nar_hash[0], abc0);
	cr_assert_eq(a->nar_hash[31], abc31);
	cr_assert_eq(a->nar_size, 1234);
	cr_assert_str_eq(a->deriver, PC);
	cr_assert_eq(a->nrefs, 2);
	cr_assert_str_eq(a->refs[0].path, PA);
	cr_assert_eq(a->refs[0].line, 6);
	cr_assert_str_eq(a->refs[1].path, PB);
	cr_assert_eq(a->refs[1].line, 7);
	struct sd_reg_record *b = &reg->recs[1];
	cr_assert_eq(b->line, 8);
	cr_assert(b->has_hash);
	cr_assert_eq(b->nar_hash[0], abc0);
	cr_assert_str_eq(b->deriver, "");
	cr_assert_eq(b->nrefs, 0);
	struct sd_reg_record *c = &reg->recs[2];
	cr_assert_eq(c->nar_hash[31], abc31);
	cr_assert_eq(c->nar_size, 7);
	cr_assert_eq(c->nrefs, 1);
	sd_registration_free(reg);
}

Test(registration, short_layout_and_mixed)
{
	/* closureInfo graph form, no trailing newline, CRLF in places. */
	struct sd_registration *reg = parse_ok(PA "\n\n1\n" PB "\r\n" PB
						  "\r\n" PC "\r\n0\r\n" PC
						  "\n" B64 "\n5\n\n0");
	cr_assert_eq(reg->nrecs, 3);
	cr_assert(!reg->recs[0].has_hash);
	cr_assert_str_eq(reg->recs[0].deriver, "");
	cr_assert_str_eq(reg->recs[0].refs[0].path, PB);
	cr_assert(!reg->recs[1].has_hash);
	cr_assert_str_eq(reg->recs[1].deriver, PC);
	cr_assert(reg->recs[2].has_hash);
	cr_assert_eq(reg->recs[2].nar_size, 5);
	sd_registration_free(reg);
}

Test(registration, malformed)
{
	parse_bad("/nix/store/foo\n\n0\n", "reg:1:");
	parse_bad("/gnu/store/" HA "-a\n\n0\n", "reg:1:");
	parse_bad(PA "\n\n0\n"
		     "\n",
		  "reg:4:"); /* empty path line */
	parse_bad(PA "\nnotahash\n0\n\n0\n", "reg:2:");
	parse_bad(PA "\nsha1:" HEX "\n0\n\n0\n", "reg:2:");
	parse_bad(PA "\n" HEX "\n12x\n\n0\n", "reg:3:");
	parse_bad(PA "\n" HEX "\n-1\n\n0\n", "reg:3:");
	parse_bad(PA "\n" HEX "\n99999999999999999999999\n\n0\n", "reg:3:");
	parse_bad(PA "\n" HEX "\n1\nbad deriver\n0\n", "reg:4:");
	parse_bad(PA "\n" HEX "\n1\n\nx\n", "reg:5:");
	parse_bad(PA "\n" HEX "\n1\n\n\n", "reg:5:");
	parse_bad(PA "\n\n3\n" PB "\n" PC "\n", "reg:3: reference count 3");
	parse_bad(PA "\n\n18446744073709551615\n", "reg:3:");
	parse_bad(PA "\n\n1\n" SD "/" HB "-b b\n", "reg:4:");
	parse_bad(PA "\n" HEX "\n", "truncated");
	parse_bad(PA "\n", "truncated");
	parse_bad(PA "\n\n", "truncated");
	parse_bad(PA "\n\n0\n" PA "\n\n0\n", "reg:4: second record");
	/* NUL byte inside a path */
	const char nul[] = PA "\n\n1\n" SD "/" HB "-b\0x\n";
	struct sd_registration *reg = NULL;
	struct sd_error err;
	cr_assert_eq(sd_registration_parse("reg", nul, sizeof(nul) - 1, SD,
					   &reg, &err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "reg:4:"), "%s", err.msg);
}

Test(registration, huge_line_and_file, .init = ct_setup, .fini = tt_teardown)
{
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	struct sd_registration *reg = NULL;
	struct sd_error err;
	cr_assert_eq(sd_registration_parse("reg", big, n, SD, &reg, &err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "reg:1:"), "%s", err.msg);
	free(big);

	tt_write("reg", PA "\n\n0\n", (size_t)-1, 0644);
	cr_assert_eq(sd_registration_load(tt_path("reg"), SD, &reg, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(reg->nrecs, 1);
	cr_assert(strstr(reg->file, "/reg"));
	sd_registration_free(reg);
	cr_assert_eq(sd_registration_load(tt_path("nope"), SD, &reg, &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
}

Test(pathlist, parse)
{
	struct sd_pathlist *pl = NULL;
	struct sd_error err;
	const char *t = PA "\n\n  \n" PB "\r\n" PA;
	cr_assert_eq(sd_pathlist_parse("paths", t, strlen(t), SD, &pl, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(pl->n, 3);
	cr_assert_str_eq(pl->entries[0].path, PA);
	cr_assert_eq(pl->entries[0].line, 1);
	cr_assert_str_eq(pl->entries[1].base, HB "-b");
	cr_assert_eq(pl->entries[1].line, 4);
	cr_assert_eq(pl->entries[2].line, 5);
	sd_pathlist_free(pl);

	t = PA "\n\n" PB "/bin\n";
	cr_assert_eq(sd_pathlist_parse("paths", t, strlen(t), SD, &pl, &err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "paths:3"), "%s", err.msg);
	t = "relative\n";
	cr_assert_eq(sd_pathlist_parse("paths", t, strlen(t), SD, &pl, &err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "paths:1"), "%s", err.msg);
}

Test(allowlist, parse)
{
	struct sd_allowlist *a = NULL;
	struct sd_error err;
	const char *t = "# comment\n\n  " HA "  \n" HB "-b\n" PC "\n";
	cr_assert_eq(sd_allowlist_parse("allow", t, strlen(t), SD, &a, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(sd_allowlist_count(a), 3);
	cr_assert(sd_allowlist_has_hash(a, HA));
	cr_assert(sd_allowlist_has_hash(a, HB));
	cr_assert(sd_allowlist_has_hash(a, HC));
	cr_assert(
		!sd_allowlist_has_hash(a, "00000000000000000000000000000000"));
	cr_assert(sd_allowlist_has_path(a, PA "/bin/x", SD));
	cr_assert(sd_allowlist_has_path(a, HB "-other", SD));
	cr_assert(!sd_allowlist_has_path(a, "/nix/store/zz", SD));
	cr_assert(!sd_allowlist_has_hash(NULL, HA));
	sd_allowlist_free(a);

	t = HA "\nnot a hash\n";
	cr_assert_eq(sd_allowlist_parse("allow", t, strlen(t), SD, &a, &err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "allow:2"), "%s", err.msg);
	t = "0c6kzph7l0dcbqmbcngxsqifxnnqbgve\n";
	cr_assert_eq(sd_allowlist_parse("allow", t, strlen(t), SD, &a, &err),
		     SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "allow:1"), "%s", err.msg);
}
