/* SPDX-License-Identifier: MIT */
/*
 * regions.h — which structure each byte of a (valid) image belongs to, so
 * that the corruption sweep can aim its damage at every region: the
 * superblock, the inode and directory metadata, the tables and indexes,
 * and the file data.
 *
 * The map is made from a golden image the sweep itself has just packed;
 * it trusts that image (it is not a reader for damaged input).
 */
#ifndef SD_TESTS_SWEEP_REGIONS_H
#define SD_TESTS_SWEEP_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#define SW_MAX_REGIONS 12

struct sw_region {
	const char *name; /* "superblock", "inode table", ... */
	size_t *offsets;  /* every byte offset of the image in this region */
	size_t count;     /* number of offsets (> 0) */
};

struct sw_regions {
	struct sw_region r[SW_MAX_REGIONS];
	size_t n;         /* regions with at least one byte */
	uint8_t *of_byte; /* of_byte[i]: index in r[] of byte i's region */
};

/*
 * Map squashfs image @img (@len bytes; squashfs 4.0 superblock, fields
 * after squashfs-tools' squashfs_fs.h): superblock, data and fragment
 * blocks, inode table, directory table, fragment, export and id tables
 * (each with its index), and the padding after bytes_used.
 */
void sw_regions_squashfs(const uint8_t *img, size_t len,
			 struct sw_regions *out);

/*
 * Map EROFS image @img (fields after the kernel's fs/erofs/erofs_fs.h):
 * superblock, inode cores (with their xattr area), inline tails, cluster
 * and chunk indexes, directory blocks, uncompressed file data, and
 * everything else (compressed data, padding, the boot area).  Inodes are
 * found by walking the directories from the root nid.
 */
void sw_regions_erofs(const uint8_t *img, size_t len, struct sw_regions *out);

void sw_regions_release(struct sw_regions *r);

#endif
