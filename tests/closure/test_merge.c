/* SPDX-License-Identifier: MIT */
/* Tests of closure/merge.h: the union of path lists and registrations. */
#include <criterion/criterion.h>
#include <string.h>

#include "closure/merge.h"

#define SD "/nix/store"
#define HA "0c6kzph7l0dcbqmbcngxsqifxnnqbgv2"
#define HB "1b8m03r63zqhnjf7l5wnldhh7c134ap5"
#define PA SD "/" HA "-a"
#define PB SD "/" HB "-b"
#define HEX1 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HEX2 "0000000000000000000000000000000000000000000000000000000000000001"

static struct sd_registration *reg(const char *name, const char *text)
{
	struct sd_registration *r = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_registration_parse(name, text, strlen(text), SD, &r,
					   &err),
		     0, "%s", err.msg);
	return r;
}

static int merge2(const char *ta, const char *tb, struct sd_registration **out,
		  struct sd_error *err)
{
	struct sd_registration *v[2] = {reg("A", ta), reg("B", tb)};
	int rc = sd_registration_merge(v, 2, out, err);
	cr_assert(!v[0] && !v[1], "the inputs are consumed");
	return rc;
}

Test(merge, pathlists_keep_every_entry_and_its_file)
{
	struct sd_pathlist *v[2] = {NULL, NULL}, *m = NULL;
	cr_assert_eq(sd_pathlist_parse("A", PA "\n", strlen(PA "\n"), SD, &v[0],
				       NULL),
		     0);
	cr_assert_eq(sd_pathlist_parse("B", "\n" PB "\n" PA "\n",
				       strlen("\n" PB "\n" PA "\n"), SD, &v[1],
				       NULL),
		     0);
	cr_assert_eq(sd_pathlist_merge(v, 2, &m, NULL), 0);
	cr_assert_eq(m->n, 3);
	cr_assert_str_eq(m->file, "A, B");
	cr_assert_str_eq(m->entries[0].file, "A");
	cr_assert_eq(m->entries[0].line, 1);
	cr_assert_str_eq(m->entries[1].path, PB);
	cr_assert_str_eq(m->entries[1].file, "B");
	cr_assert_eq(m->entries[1].line, 2);
	cr_assert_str_eq(m->entries[2].file, "B");
	sd_pathlist_free(m);
}

Test(merge, one_input_is_the_result)
{
	struct sd_registration *r = reg("A", PA "\n\n0\n"), *v[1] = {r}, *m;
	cr_assert_eq(sd_registration_merge(v, 1, &m, NULL), 0);
	cr_assert_eq(m, r);
	cr_assert_null(v[0]);
	sd_registration_free(m);
}

Test(merge, union_with_a_short_record_completed_from_a_full_one)
{
	struct sd_registration *m = NULL;
	struct sd_error err;
	sd_error_init(&err);
	/* A: a short record of PA (refs PB, PA); B: PB, and PA in full with
	 * the same references in another order and a deriver. */
	cr_assert_eq(merge2(PA "\n\n2\n" PB "\n" PA "\n",
			    PB "\n\n0\n" PA "\n" HEX1 "\n120\n" SD "/" HB
			       "-a.drv\n2\n" PA "\n" PB "\n",
			    &m, &err),
		     0, "%s", err.msg);
	cr_assert_eq(m->nrecs, 2);
	cr_assert_str_eq(m->file, "A, B");
	const struct sd_reg_record *a = &m->recs[0], *b = &m->recs[1];
	cr_assert_str_eq(a->path, PA);
	cr_assert_str_eq(a->file, "A");
	cr_assert_eq(a->line, 1);
	cr_assert(a->has_hash);
	cr_assert_eq(a->nar_hash[0], 0xba);
	cr_assert_eq(a->nar_size, 120);
	cr_assert_str_eq(a->deriver, SD "/" HB "-a.drv");
	cr_assert_eq(a->nrefs, 2);
	cr_assert_str_eq(b->path, PB);
	cr_assert_str_eq(b->file, "B");
	sd_registration_free(m);
}

static void conflict(const char *ta, const char *tb, const char *expect)
{
	struct sd_registration *m = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(merge2(ta, tb, &m, &err), SD_ERR_INVALID);
	cr_assert_null(m);
	cr_assert(strstr(err.msg, expect), "expected '%s' in '%s'", expect,
		  err.msg);
}

Test(merge, conflicting_records_name_both_places)
{
	conflict(PB "\n\n0\n" PA "\n" HEX1 "\n1\n\n0\n",
		 PA "\n" HEX2 "\n1\n\n0\n",
		 "conflicting records for " PA ": narHash differs (A:4: ");
	conflict(PA "\n" HEX1 "\n1\n\n0\n", PA "\n" HEX1 "\n2\n\n0\n",
		 "narSize differs (A:1: 1, B:1: 2)");
	conflict(PA "\n\n1\n" PB "\n" PB "\n\n0\n", PA "\n\n0\n",
		 "conflicting records for " PA ": references differ (A:1, "
		 "B:1)");
	conflict(PA "\n\n0\n", SD "/" HA "-other\n\n0\n",
		 "two store paths with one hash part: " PA " (A:1) and " SD
		 "/" HA "-other (B:1)");
}
