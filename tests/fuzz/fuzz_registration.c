/* SPDX-License-Identifier: MIT */
/*
 * fuzz_registration.c — fuzz target for the text inputs of the closure
 * module: the same bytes are parsed as a registration, a path list and an
 * allow list.  Any result is fine except a crash, a sanitizer report, a
 * hang, or a failure without a one-line reason.  `meson test --suite fuzz`
 * replays tests/fuzz/corpus/registration, which doubles as the
 * should-fail corpus of malformed registrations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "closure/allowlist.h"
#include "closure/pathlist.h"
#include "closure/registration.h"

static void check_error(int rc, const struct sd_error *err)
{
	if (rc && (err->msg[0] == '\0' || strchr(err->msg, '\n')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sd_error err;

	struct sd_registration *reg = NULL;
	sd_error_init(&err);
	check_error(sd_registration_parse("fuzz", text, size, "/nix/store",
					  &reg, &err),
		    &err);
	sd_registration_free(reg);

	struct sd_pathlist *pl = NULL;
	sd_error_init(&err);
	check_error(sd_pathlist_parse("fuzz", text, size, "/nix/store", &pl,
				      &err),
		    &err);
	sd_pathlist_free(pl);

	struct sd_allowlist *al = NULL;
	sd_error_init(&err);
	check_error(sd_allowlist_parse("fuzz", text, size, "/nix/store", &al,
				       &err),
		    &err);
	sd_allowlist_free(al);
	return 0;
}
