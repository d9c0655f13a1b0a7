/* SPDX-License-Identifier: MIT */
#include "app/verify_findings.h"

#include <stdlib.h>
#include <string.h>

/* The array's capacity is implied by its length: 16, then doubled each
 * time the length reaches a power of two. */
static size_t capacity_needed(size_t n)
{
	if (n == 0)
		return 16;
	if (n >= 16 && (n & (n - 1)) == 0)
		return n * 2;
	return 0;
}

int sd_verify_add_finding(struct sd_verify_result *res,
			  enum sd_finding_kind kind, char *file,
			  const char *where, uint64_t offset, char *path,
			  char *reason, struct sd_error *err)
{
	size_t cap = capacity_needed(res->nfindings);
	if (cap) {
		struct sd_finding *nf =
			realloc(res->findings, cap * sizeof(*nf));
		if (!nf) {
			free(file);
			free(path);
			free(reason);
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		}
		res->findings = nf;
	}
	struct sd_finding *f = &res->findings[res->nfindings++];
	f->kind = kind;
	f->file = file;
	f->where = where;
	f->offset = offset;
	f->count = 1;
	f->path = path;
	f->reason = reason;
	f->category = !strcmp(where, "registration") ? "registration"
		      : !strcmp(where, "entry")      ? "invalid-entry"
						     : "missing";
	if (kind == SD_FINDING_VIOLATION)
		res->nviolations++;
	else
		res->nwarnings++;
	return 0;
}
