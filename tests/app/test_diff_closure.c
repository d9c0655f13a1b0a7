/* Tests of the name/version split of app/diff_closure.h (Nix's rule). */
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
		  "%s: version '%.*s', want '%s'", name, (int)vlen, v,
		  version);
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
