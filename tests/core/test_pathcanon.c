/* SPDX-License-Identifier: MIT */
/* Tests of lexical path canonicalisation (core/pathcanon.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pathcanon.h"
#include "tests/common/tmpdir.h"

static void canon_is(const char *base, const char *path, const char *want)
{
	char *got = NULL;
	cr_assert_eq(sd_path_canon(base, path, strlen(path), &got, NULL), 0);
	cr_assert_str_eq(got, want, "canon(%s, %s) = %s, want %s",
			 base ? base : "(cwd)", path, got, want);
	free(got);
}

Test(pathcanon, resolves_dots_lexically_as_nix)
{
	canon_is(NULL, "/nix/store/aaa-a/../bbb-b", "/nix/store/bbb-b");
	canon_is(NULL, "/nix/store//bbb-b/", "/nix/store/bbb-b");
	canon_is(NULL, "/nix/./store/./bbb-b/./lib", "/nix/store/bbb-b/lib");
	canon_is(NULL, "/nix/store/aaa-a/bin/../../bbb-b", "/nix/store/bbb-b");
	canon_is(NULL, "/..", "/");
	canon_is(NULL, "/../../nix/store", "/nix/store");
	canon_is(NULL, "/", "/");
	canon_is(NULL, "//", "/");
	canon_is(NULL, "/a/..", "/");
	canon_is(NULL, "/a/...", "/a/...");
	canon_is(NULL, "/a/..b/.c", "/a/..b/.c");
	canon_is("/x/y", "../z", "/x/z");
	canon_is("/x/y/", "./z/", "/x/y/z");
	canon_is("/x/y", "", "/x/y");
	canon_is("/x/y", "../../..", "/");
	canon_is("/x", "/abs/../p", "/p");
}

Test(pathcanon, relative_paths_start_at_the_cwd)
{
	char *cwd = getcwd(NULL, 0);
	cr_assert_not_null(cwd);
	char *got = NULL;
	cr_assert_eq(sd_path_canon(NULL, "./q/../r", 8, &got, NULL), 0);
	char want[4096];
	snprintf(want, sizeof(want), "%s/r", strcmp(cwd, "/") ? cwd : "");
	cr_assert_str_eq(got, want);
	free(got);
	free(cwd);
}

Test(pathcanon, is_under)
{
	cr_assert(sd_path_is_under("/nix/store/x", "/nix/store"));
	cr_assert(sd_path_is_under("/nix/store", "/nix/store"));
	cr_assert(sd_path_is_under("/nix/store/x", "/nix/store/"));
	cr_assert(!sd_path_is_under("/nix/storex", "/nix/store"));
	cr_assert(!sd_path_is_under("/nix", "/nix/store"));
	cr_assert(sd_path_is_under("/anything", "/"));
}

static void setup(void)
{
	tt_setup("sdcanon");
}

Test(pathcanon, follows_links_only_outside_the_dir, .init = setup,
     .fini = tt_teardown)
{
	char link[512], link2[512], inside[512];
	snprintf(link, sizeof(link), "%s/result", tt_tmp);
	snprintf(link2, sizeof(link2), "%s/sub/result2", tt_tmp);
	snprintf(inside, sizeof(inside), "%s/sub", tt_tmp);
	cr_assert_eq(symlink("/nix/store/aaa-a/../bbb-b", link), 0);
	cr_assert_eq(mkdir(inside, 0755), 0);
	cr_assert_eq(symlink("../result", link2), 0);
	char *got = NULL;
	cr_assert_eq(sd_path_follow_to_dir(link2, "/nix/store", &got, NULL), 0);
	cr_assert_str_eq(got, "/nix/store/bbb-b");
	free(got);
	/* A link's "..": the link's directory, not its target's. */
	char arg[600];
	snprintf(arg, sizeof(arg), "%s/../x", link);
	cr_assert_eq(sd_path_follow_to_dir(arg, "/nix/store", &got, NULL), 0);
	char want[600];
	snprintf(want, sizeof(want), "%s/x", tt_tmp);
	cr_assert_str_eq(got, want);
	free(got);
	/* A loop stops with an error. */
	snprintf(arg, sizeof(arg), "%s/loop", tt_tmp);
	cr_assert_eq(symlink("loop", arg), 0);
	cr_assert_eq(sd_path_follow_to_dir(arg, "/nix/store", &got, NULL),
		     SD_ERR_INVALID);
}
