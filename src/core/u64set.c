/* SPDX-License-Identifier: MIT */
#include "core/u64set.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t mask)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & mask;
}

static int grow(struct sd_u64set *set)
{
	size_t cap = set->cap ? 2 * set->cap : 64;
	uint64_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < set->cap; i++) {
		uint64_t key = set->slots[i];
		if (!key)
			continue;
		size_t j = slot_of(key, cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = key;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

int sd_u64set_add(struct sd_u64set *set, uint64_t v)
{
	if (v == UINT64_MAX) {
		int added = !set->has_max;
		set->has_max = 1;
		return added;
	}
	uint64_t key = v + 1;
	if (2 * (set->used + 1) > set->cap && grow(set) != 0)
		return -1;
	size_t j = slot_of(key, set->cap - 1);
	while (set->slots[j]) {
		if (set->slots[j] == key)
			return 0;
		j = (j + 1) & (set->cap - 1);
	}
	set->slots[j] = key;
	set->used++;
	return 1;
}

void sd_u64set_release(struct sd_u64set *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = set->used = 0;
	set->has_max = 0;
}
