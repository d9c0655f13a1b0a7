#include "app/closure_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hosttree.h"

int sd_app_closure_tree(const char *const *bases, size_t n,
			const char *store_phys, int64_t mtime,
			volatile const int *interrupted, struct sd_tree **out,
			struct sd_error *err)
{
	struct sd_tree *tree = sd_tree_new(mtime);
	if (!tree)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = SD_OK;
	size_t cap = strlen(store_phys) + 2;
	for (size_t i = 0; i < n && !rc; i++) {
		size_t len = cap + strlen(bases[i]);
		char *src = malloc(len);
		if (!src) {
			rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(src, len, "%s/%s", store_phys, bases[i]);
		rc = sd_hosttree_add(tree, tree->root, bases[i], src, NULL,
				     err);
		free(src);
		if (!rc && interrupted && *interrupted)
			rc = sd_error_set(err, SD_ERR_INTERRUPTED,
					  "interrupted");
	}
	if (!rc)
		rc = sd_tree_finalize(tree, err);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	*out = tree;
	return SD_OK;
}
