/* SPDX-License-Identifier: MIT */
#include "app/rawrefs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "closure/scanner.h"

struct hits {
	uint8_t *hit;
	size_t nids;
};

static int on_hit(const struct sd_scan_hit *h, void *ctx, struct sd_error *err)
{
	(void)err;
	struct hits *hs = ctx;
	if (h->kind == SD_SCAN_HASH && h->id >= 0 && (size_t)h->id < hs->nids)
		hs->hit[h->id] = 1;
	return 0;
}

int sd_raw_refs_scan(const char *path, const struct sd_hashmap *candidates,
		     size_t nids, uint8_t *hit, struct sd_error *err)
{
	struct hits hs = {.hit = hit, .nids = nids};
	struct sd_scanner *sc = NULL;
	int rc = sd_scanner_new(candidates, NULL, on_hit, &hs, &sc, err);
	if (rc)
		return rc;
	char *buf = malloc(SD_RAWREFS_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	} else if (fd < 0) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", path);
	} else {
		for (;;) {
			ssize_t n = read(fd, buf, SD_RAWREFS_CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = sd_error_errno(err, SD_ERR_IO, errno, "%s",
						    path);
				break;
			}
			if (n == 0)
				break;
			rc = sd_scanner_feed(sc, buf, (size_t)n, err);
			if (rc)
				break;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	sd_scanner_free(sc);
	return rc;
}
