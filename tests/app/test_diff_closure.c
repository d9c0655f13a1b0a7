/* SPDX-License-Identifier: MIT */
/* Tests of app/diff_closure.h: the name/version split (Nix's rule) and
 * which root entries count as store paths. */
#include <criterion/criterion.h>
#include <string.h>

#include "app/diff_closure.h"

static void split(const char *name, const char *pname, const char *version)
{
	size_t plen, vlen;
	const char *v;
	sd_drv_name_split(name, strlen(name), &plen, &v, &vlen);
	cr_assert(plen == strlen(pname) && !memcmp(name, pname, plen),
		  "%s: pname '%.*s', want '%s'", name, (int)plen, name, pname);
	cr_assert(vlen == strlen(version) && !memcmp(v, version, vlen),
		  "%s: version '%.*s', want '%s'", name, (int)vlen, v, version);
}

Test(diff_closure, versions_split_at_the_first_dash_not_before_a_letter)
{
	split("hello-2.12.1", "hello", "2.12.1");
	split("apache-httpd-2.0.48", "apache-httpd", "2.0.48");
	split("python3.11-numpy-1.26.4", "python3.11-numpy", "1.26.4");
	split("perl5.36.0-Foo-Bar-1.0", "perl5.36.0-Foo-Bar", "1.0");
	split("nixos-system-nixos-23.11pre-git", "nixos-system-nixos",
	      "23.11pre");
	split("source", "source", "");
	split("etc", "etc", "");
	/* Not only digits: any non-letter starts the version. */
	split("foo-_bar", "foo", "_bar");
	split("a-", "a-", "");
}

Test(diff_closure, output_names_are_dropped_first)
{
	split("glibc-2.37-8-bin", "glibc", "2.37-8");
	split("hello-2.12-man", "hello", "2.12");
	split("gcc-12.3.0-lib64", "gcc", "12.3.0");
	split("gcc-12.3.0-lib32", "gcc", "12.3.0");
	/* Nix's own ambiguity: a lower-case version suffix is taken for an
	 * output name. */
	split("hello-unstable", "hello", "");
	split("foo-1.0-Bin", "foo", "1.0-Bin");
	split("openssl-3.0.13-dev", "openssl", "3.0.13");
}

/* A top-level entry of @t: a directory, or a symlink to @target. */
static struct sd_node *top(struct sd_tree *t, const char *name,
			   const char *target)
{
	struct sd_error err = {0};
	struct sd_node *n = sd_tree_add(t, t->root, name, strlen(name),
					target ? SD_NODE_SYMLINK : SD_NODE_DIR,
					&err);
	cr_assert(n, "%s: %s", name, err.msg);
	if (target)
		cr_assert_eq(
			sd_node_set_target(n, target, strlen(target), &err), 0);
	return n;
}

Test(diff_closure, root_symlinks_and_image_files_are_not_store_paths)
{
	static const char *const hello_a =
		"0123456789abcdfghijklmnpqrsvwxyz-hello-2.12";
	static const char *const hello_b =
		"zyxwvsrqpnmlkjihgfdcba9876543210-hello-2.12.1";
	struct sd_error err = {0};
	struct sd_tree *a = sd_tree_new(1), *b = sd_tree_new(1);
	cr_assert(a && b);
	top(a, hello_a, NULL);
	top(b, hello_b, NULL);
	/* pack --root-symlink system=... and bin=..., and the embedded
	 * registration, in B only. */
	top(b, "system", hello_b);
	top(b, "bin", "zyxwvsrqpnmlkjihgfdcba9876543210-hello-2.12.1/bin");
	struct sd_node *reg = sd_tree_add(b, b->root, "nix-path-registration",
					  strlen("nix-path-registration"),
					  SD_NODE_FILE, &err);
	cr_assert(reg);
	cr_assert_eq(sd_node_set_content(reg, "x\n", 2, &err), 0);
	cr_assert_eq(sd_tree_finalize(a, &err), 0, "%s", err.msg);
	cr_assert_eq(sd_tree_finalize(b, &err), 0, "%s", err.msg);

	struct sd_closure_changes cc = {0};
	cr_assert_eq(sd_diff_closures(a, b, &cc, &err), 0, "%s", err.msg);
	cr_assert_eq(cc.n, 1, "%zu changes: only hello, not the links", cc.n);
	cr_assert_str_eq(cc.v[0].name, "hello");
	cr_assert_eq(cc.v[0].nversions_a, 1);
	cr_assert_str_eq(cc.v[0].versions_a[0], "2.12");
	cr_assert_eq(cc.v[0].nversions_b, 1);
	cr_assert_str_eq(cc.v[0].versions_b[0], "2.12.1");
	sd_closure_changes_release(&cc);
	sd_tree_free(a);
	sd_tree_free(b);
}
