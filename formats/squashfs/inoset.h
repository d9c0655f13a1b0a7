/*
 * inoset.h — a set of 32-bit inode numbers (the reader's loop detector).
 */
#ifndef SD_FORMATS_SQUASHFS_INOSET_H
#define SD_FORMATS_SQUASHFS_INOSET_H

#include <stddef.h>
#include <stdint.h>

struct sd_inoset {
	uint32_t *slots; /* open addressing; 0 marks a free slot */
	size_t cap, used;
};

/*
 * Insert @ino (must be non-zero).  Returns 1 if it was added, 0 if it was
 * already present, -1 on allocation failure.
 */
int sd_inoset_add(struct sd_inoset *set, uint32_t ino);

void sd_inoset_free(struct sd_inoset *set);

#endif
