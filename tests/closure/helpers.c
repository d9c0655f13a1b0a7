#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure/nix32.h"
#include "core/sha256.h"

char ct_tmp[256];

void ct_setup(void)
{
	snprintf(ct_tmp, sizeof(ct_tmp), "/tmp/sdclosure.XXXXXX");
	cr_assert_not_null(mkdtemp(ct_tmp));
}

void ct_teardown(void)
{
	char cmd[600];
	if (!ct_tmp[0])
		return;
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'",
		 ct_tmp, ct_tmp);
	cr_assert_eq(system(cmd), 0);
	ct_tmp[0] = '\0';
}

const char *ct_path(const char *rel)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", ct_tmp, rel);
	return b;
}

void ct_mkdir(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", ct_tmp, rel);
	for (char *s = p + strlen(ct_tmp) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

void ct_write(const char *rel, const void *data, size_t len)
{
	if (len == (size_t)-1)
		len = strlen(data);
	const char *p = ct_path(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "create %s", p);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

void ct_symlink(const char *target, const char *rel)
{
	cr_assert_eq(symlink(target, ct_path(rel)), 0, "symlink %s",
		     ct_path(rel));
}

void ct_hash(const char *seed, char out[33])
{
	uint8_t d[SD_SHA256_LEN];
	struct sd_sha256 *h = sd_sha256_new();
	cr_assert_not_null(h);
	sd_sha256_update(h, seed, strlen(seed));
	sd_sha256_final(h, d);
	sd_nix32_encode(d, 20, out);
}
