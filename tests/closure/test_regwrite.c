/* SPDX-License-Identifier: MIT */
/* The registration writer's output parses back to the same records. */
#include <criterion/criterion.h>
#include <string.h>

#include "closure/regwrite.h"
#include "closure/registration.h"

#define A "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a"
#define B "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b"
#define D "/nix/store/dddddddddddddddddddddddddddddddd-a.drv"

Test(regwrite, sorted_and_parses_back)
{
	const char *refs_b[] = {B, A};
	struct sd_regwrite_path p[2] = {
		{.path = B, .nar_size = 120, .refs = refs_b, .nrefs = 2},
		{.path = A, .nar_size = 8, .deriver = D},
	};
	for (int i = 0; i < 32; i++) {
		p[0].nar_sha256[i] = (uint8_t)i;
		p[1].nar_sha256[i] = (uint8_t)(255 - i);
	}
	char *text;
	size_t len;
	cr_assert_eq(sd_regwrite(p, 2, false, &text, &len, NULL), 0);
	cr_assert_eq(strlen(text), len);
	/* A sorts first; B's references are sorted. */
	cr_assert(strncmp(text, A "\nsha256:", strlen(A) + 8) == 0, "%s", text);
	cr_assert_not_null(strstr(text, "\n120\n\n2\n" A "\n" B "\n"), "%s",
			   text);

	struct sd_registration *reg;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_registration_parse("w", text, len, "/nix/store", &reg,
					   &err),
		     0, "%s", err.msg);
	cr_assert_eq(reg->nrecs, 2);
	cr_assert_str_eq(reg->recs[0].path, A);
	cr_assert(reg->recs[0].has_hash);
	cr_assert_eq(memcmp(reg->recs[0].nar_hash, p[1].nar_sha256, 32), 0);
	cr_assert_eq(reg->recs[0].nar_size, 8);
	cr_assert_str_eq(reg->recs[0].deriver, D);
	cr_assert_eq(reg->recs[0].nrefs, 0);
	cr_assert_str_eq(reg->recs[1].path, B);
	cr_assert_eq(memcmp(reg->recs[1].nar_hash, p[0].nar_sha256, 32), 0);
	cr_assert_str_eq(reg->recs[1].deriver, "");
	cr_assert_eq(reg->recs[1].nrefs, 2);
	cr_assert_str_eq(reg->recs[1].refs[0].path, A);
	cr_assert_str_eq(reg->recs[1].refs[1].path, B);
	sd_registration_free(reg);
	free(text);
}

Test(regwrite, base16_as_dump_db)
{
	struct sd_regwrite_path p = {.path = A, .nar_size = 1};
	char *text;
	size_t len;
	cr_assert_eq(sd_regwrite(&p, 1, true, &text, &len, NULL), 0);
	cr_assert_str_eq(text, A "\n"
				 "0000000000000000000000000000000000000000"
				 "000000000000000000000000\n1\n\n0\n");
	free(text);
}
