/*
 * inoset.c — a set of inode numbers (see inoset.h).
 */
#include "formats/squashfs/inoset.h"

#include <stdlib.h>

static size_t slot_of(uint32_t ino, size_t cap)
{
	return (size_t)((ino * 2654435761u) & (cap - 1));
}

static void place(uint32_t *slots, size_t cap, uint32_t ino)
{
	size_t i = slot_of(ino, cap);

	while (slots[i] != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = ino;
}

static int grow(struct sd_inoset *set)
{
	size_t cap = set->cap ? 2 * set->cap : 64;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < set->cap; i++) {
		if (set->slots[i])
			place(slots, cap, set->slots[i]);
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

int sd_inoset_add(struct sd_inoset *set, uint32_t ino)
{
	if ((set->used + 1) * 2 > set->cap && grow(set) != 0)
		return -1;
	size_t i = slot_of(ino, set->cap);
	while (set->slots[i] != 0) {
		if (set->slots[i] == ino)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->slots[i] = ino;
	set->used++;
	return 1;
}

void sd_inoset_free(struct sd_inoset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = set->used = 0;
}
