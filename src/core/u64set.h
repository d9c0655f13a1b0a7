/* SPDX-License-Identifier: MIT */
/*
 * u64set.h — a set of 64-bit numbers (open addressing), such as the
 * directory inode numbers an image reader has visited (loop detection).
 */
#ifndef SD_CORE_U64SET_H
#define SD_CORE_U64SET_H

#include <stddef.h>
#include <stdint.h>

struct sd_u64set {
	uint64_t *slots; /* value + 1; 0 marks a free slot */
	size_t cap, used;
	int has_max; /* UINT64_MAX, which cannot be stored as value + 1 */
};

/* An empty set is all zeroes: `struct sd_u64set s = {0};`. */

/* Insert @v.  Returns 1 if it was added, 0 if it was already present, -1
 * on allocation failure. */
int sd_u64set_add(struct sd_u64set *set, uint64_t v);

/* Release the set's memory (it is empty and usable again). */
void sd_u64set_release(struct sd_u64set *set);

#endif
