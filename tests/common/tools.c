/* SPDX-License-Identifier: MIT */
#include "tests/common/tools.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

bool tt_have_tool(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

char *tt_run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);

	cr_assert(p && out, "cannot run %s", cmd);
	for (size_t n; (n = fread(out + len, 1, cap - len - 1, p)) > 0;) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			cr_assert_not_null(out);
		}
	}
	out[len] = '\0';
	pclose(p);
	return out;
}
