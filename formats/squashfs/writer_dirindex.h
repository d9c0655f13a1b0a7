/* SPDX-License-Identifier: MIT */
/*
 * writer_dirindex.h — which directory headers a SquashFS directory's
 * lookup index names.
 *
 * The kernel (fs/squashfs/namei.c, squashfs_lookup) finds a name by
 * reading the directory inode's index entries in order until one names a
 * later entry, then reading headers and entries from the last index entry
 * passed until the name; every index entry and every directory entry costs
 * two metadata reads, every header one.  libsquashfs 1.2 indexes every
 * header, but only in directories that need an extended inode (listing over
 * 64 KiB), so a lookup in a 20,000-entry directory reads ~270 index entries
 * and one in a 700-entry directory scans half its listing.  A walk's cost is
 * dominated by those reads (`perf`: squashfs_read_metadata under
 * squashfs_lookup).  These functions keep the headers that minimise the
 * reads of looking up every entry once, in every directory with more than
 * one header.
 */
#ifndef SD_FORMATS_SQUASHFS_WRITER_DIRINDEX_H
#define SD_FORMATS_SQUASHFS_WRITER_DIRINDEX_H

#include <stddef.h>
#include <stdint.h>

#include <sqfs/inode.h>

#include "core/tree.h"

/*
 * Metadata reads of looking up each of @n entries once when the index
 * names the headers that start at the entry positions @sel[0..nsel)
 * (ascending, > 0) and the listing's headers start at @hdr[0..nhdr)
 * (ascending, hdr[0] == 0).  Exact for the model above; fits uint64_t for
 * every listing squashfs can hold (n < 2^29: an entry takes >= 9 of at
 * most 2^32 bytes).
 */
uint64_t sd_sqfs_dirindex_cost(size_t n, const size_t *hdr, size_t nhdr,
			       const size_t *sel, size_t nsel);

/*
 * Choose the headers to index: for a range of index sizes k (0, then
 * about 1.25^i up to nhdr - 1), the first header at or after each of the k
 * evenly spaced entry positions i * n / (k + 1); the cheapest (by
 * sd_sqfs_dirindex_cost, the smaller k on a tie) wins.  Writes the chosen
 * entry positions to @sel (room for nhdr) and returns how many; 0 means
 * no index.  Deterministic: integers only.
 */
size_t sd_sqfs_dirindex_choose(size_t n, const size_t *hdr, size_t nhdr,
			       size_t *sel);

/*
 * Thin the index of @dir — an extended directory inode made by
 * sqfs_dir_writer_create_inode(), whose index names every header of the
 * listing of @node's children — to the chosen headers; clear its xattr
 * index, and make it a basic directory inode where no index is left and
 * its fields fit.  SD_ERR_INVALID if the index does not match the
 * children (then @dir is unchanged), SD_ERR_NOMEM.
 */
int sd_sqfs_dirindex_apply(sqfs_inode_generic_t *dir,
			   const struct sd_node *node);

#endif
