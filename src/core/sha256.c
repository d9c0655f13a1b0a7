/* SPDX-License-Identifier: MIT */
#include "core/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

struct sd_sha256 {
	EVP_MD_CTX *ctx;
};

struct sd_sha256 *sd_sha256_new(void)
{
	struct sd_sha256 *h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

void sd_sha256_update(struct sd_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void sd_sha256_final(struct sd_sha256 *h, uint8_t out[SD_SHA256_LEN])
{
	unsigned int n = SD_SHA256_LEN;
	EVP_DigestFinal_ex(h->ctx, out, &n);
	sd_sha256_free(h);
}

void sd_sha256_free(struct sd_sha256 *h)
{
	if (h) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
	}
}

int sd_sha256_file(const char *path, uint8_t out[SD_SHA256_LEN],
		   struct sd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s: open", path);
	struct sd_sha256 *h = sd_sha256_new();
	size_t cap = 1 << 20;
	unsigned char *buf = malloc(cap);
	if (!h || !buf) {
		sd_sha256_free(h);
		free(buf);
		close(fd);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			sd_sha256_free(h);
			free(buf);
			close(fd);
			return sd_error_errno(err, SD_ERR_IO, e, "%s: read",
					      path);
		}
		if (n == 0)
			break;
		sd_sha256_update(h, buf, (size_t)n);
	}
	sd_sha256_final(h, out);
	free(buf);
	close(fd);
	return SD_OK;
}
