/* SPDX-License-Identifier: MIT */
/* Tests of the spool of sequential inputs (core/spool.h): holes. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/spool.h"

Test(spool, holes_read_as_zeros)
{
	struct sd_spool *sp = NULL;
	cr_assert_eq(sd_spool_new(&sp, NULL), 0);
	cr_assert_eq(sd_spool_append(sp, "ab", 2, NULL), 0);
	cr_assert_eq(sd_spool_append_zeros(sp, 5, NULL), 0); /* buffered */
	cr_assert_eq(sd_spool_append_zeros(sp, 3u << 20, NULL), 0); /* a hole */
	cr_assert_eq(sd_spool_offset(sp), 7 + (3u << 20));
	unsigned char buf[16];
	cr_assert_eq(sd_spool_read(sp, 0, buf, 7, NULL), 0);
	cr_assert_eq(memcmp(buf, "ab\0\0\0\0\0", 7), 0);
	/* The trailing hole reads too, though nothing follows it. */
	cr_assert_eq(sd_spool_read(sp, 7 + (3u << 20) - 16, buf, 16, NULL), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(buf[i], 0);
	cr_assert_eq(sd_spool_append_zeros(sp, UINT64_MAX, NULL), SD_ERR_LIMIT);
	sd_spool_free(sp);
}
