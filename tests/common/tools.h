/* SPDX-License-Identifier: MIT */
/*
 * tools.h — external programs in tests (mkfs.erofs, fsck.erofs, blkid,
 * unsquashfs, ...): are they installed, and what do they print.
 */
#ifndef SD_TESTS_COMMON_TOOLS_H
#define SD_TESTS_COMMON_TOOLS_H

#include <stdbool.h>

/* True if @tool is found on PATH. */
bool tt_have_tool(const char *tool);

/* Run @cmd with the shell and return its standard output (malloc'ed,
 * NUL-terminated; the test fails if it cannot be run). */
char *tt_run(const char *cmd);

#endif
