/* SPDX-License-Identifier: MIT */
/*
 * hashmap.h — a map from 32-character store hash parts to ids.
 *
 * Used as the candidate set of the reference scanner, the store's index
 * and the allow list.  Keys are copied; values are non-negative int64
 * ids.  Open addressing, grows as needed.
 */
#ifndef SD_CLOSURE_HASHMAP_H
#define SD_CLOSURE_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SD_HASHMAP_NONE ((int64_t)-1)

struct sd_hashmap;

/* Create an empty map (NULL on allocation failure). */
struct sd_hashmap *sd_hashmap_new(void);

/* Free the map (NULL ok). */
void sd_hashmap_free(struct sd_hashmap *m);

/*
 * Insert @key (32 bytes) with @id (>= 0).  If the key is already present
 * its id is kept and *@existing (if not NULL) receives it; otherwise
 * *@existing is SD_HASHMAP_NONE.  Returns 0 or SD_ERR_NOMEM.
 */
int sd_hashmap_put(struct sd_hashmap *m, const char *key, int64_t id,
		   int64_t *existing, struct sd_error *err);

/* The id stored for the 32 bytes at @key, or SD_HASHMAP_NONE. */
int64_t sd_hashmap_get(const struct sd_hashmap *m, const char *key);

/* Number of keys. */
size_t sd_hashmap_count(const struct sd_hashmap *m);

#endif
