/* SPDX-License-Identifier: MIT */
/*
 * helpers.h — temp directories and fake stores for the closure tests.
 */
#ifndef SD_TESTS_CLOSURE_HELPERS_H
#define SD_TESTS_CLOSURE_HELPERS_H

#include <stddef.h>

#include "tests/common/tmpdir.h"

/* tt_setup("sdclosure"), for .init; use tt_teardown as .fini. */
void ct_setup(void);

/* A deterministic 32-char store hash from @seed, NUL-terminated in @out. */
void ct_hash(const char *seed, char out[33]);

/*
 * snprintf() into @buf of @size bytes that fails the test when the text
 * does not fit (rather than cutting it); returns the text's length.
 */
int ct_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
