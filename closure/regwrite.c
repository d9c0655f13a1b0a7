/* SPDX-License-Identifier: MIT */
#include "closure/regwrite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/nix32.h"
#include "core/hex.h"

struct buf {
	char *data;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int put_line(struct buf *b, const char *s)
{
	return put(b, s, strlen(s)) || put(b, "\n", 1);
}

static int cmp_path(const void *a, const void *b)
{
	const struct sd_regwrite_path *x =
		*(const struct sd_regwrite_path *const *)a;
	const struct sd_regwrite_path *y =
		*(const struct sd_regwrite_path *const *)b;
	return strcmp(x->path, y->path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int put_record(struct buf *b, const struct sd_regwrite_path *p,
		      bool base16, const char **refs)
{
	char hash[8 + 65];
	char num[32];
	if (base16) {
		sd_hex_encode(p->nar_sha256, 32, hash);
	} else {
		memcpy(hash, "sha256:", 7);
		sd_nix32_encode(p->nar_sha256, 32, hash + 7);
		hash[7 + sd_nix32_encoded_len(32)] = '\0';
	}
	if (p->nrefs) {
		memcpy(refs, p->refs, p->nrefs * sizeof(*refs));
		qsort(refs, p->nrefs, sizeof(*refs), cmp_str);
	}
	if (put_line(b, p->path) || put_line(b, hash))
		return -1;
	snprintf(num, sizeof(num), "%" PRIu64, p->nar_size);
	if (put_line(b, num) || put_line(b, p->deriver ? p->deriver : ""))
		return -1;
	snprintf(num, sizeof(num), "%zu", p->nrefs);
	if (put_line(b, num))
		return -1;
	for (size_t k = 0; k < p->nrefs; k++)
		if (put_line(b, refs[k]))
			return -1;
	return 0;
}

int sd_regwrite(const struct sd_regwrite_path *paths, size_t n, bool base16,
		char **out, size_t *len, struct sd_error *err)
{
	struct buf b = {0};
	const struct sd_regwrite_path **order = calloc(n + 1, sizeof(*order));
	size_t maxrefs = 0;
	for (size_t i = 0; i < n; i++)
		if (paths[i].nrefs > maxrefs)
			maxrefs = paths[i].nrefs;
	const char **refs = calloc(maxrefs + 1, sizeof(*refs));
	int rc = (!order || !refs || put(&b, "", 0)) ? -1 : 0;
	for (size_t i = 0; i < n && !rc; i++)
		order[i] = &paths[i];
	if (!rc)
		qsort(order, n, sizeof(*order), cmp_path);
	for (size_t i = 0; i < n && !rc; i++)
		rc = put_record(&b, order[i], base16, refs);
	free(order);
	free(refs);
	if (rc) {
		free(b.data);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	*out = b.data;
	*len = b.len;
	return SD_OK;
}
