/* SPDX-License-Identifier: MIT */
/*
 * writer_zmeta.c — the order of a compressed EROFS image: the data area
 * first, then the metadata area, then directory and symlink blocks (see
 * writer.h).
 *
 * A compressed file's metadata size (its indexes, an inline pcluster, or
 * the inline tail it gets when stored plain) is known only once it has
 * been compressed, so inodes cannot be placed before the data is written.
 * Stage 2 (writer_zpipe.c) writes every file's data blocks from block 1
 * on, in tree order, and appends the bytes that follow each file's inode
 * to a spool (core/spool.h; memory does not grow with them).  Then every
 * node is placed (pack_area) in tree order from meta_blkaddr = the first
 * block after the data, the root first (nid 1, so the superblock's
 * 16-bit root nid always holds it; not nid 0, which becomes the inode
 * number of the root's "." and "..", and a zero d_ino is an entry that
 * readdir(3) skips); directories and long symlinks get
 * their blocks after the metadata area, and every inode is written with
 * its spooled record.  Directory contents need every nid, so they are
 * encoded only here.  Inodes go where they fit best (pack_area), not
 * strictly one after the other: the nids are no longer in tree order.
 */
#include "formats/erofs/writer.h"

#include <stdlib.h>

#include "formats/erofs/erofs_disk.h"
#include "formats/erofs/writer_z.h"

/*
 * Give every node its nid, in tree order, the root first (nid 1; nid 0
 * stays unused), first fit (ew_pack_place).  Returns the area's size in
 * blocks.
 */
static uint64_t pack_area(struct ew_state *w)
{
	struct ew_pack p;

	ew_pack_init(&p, EROFS_ISLOT_SIZE);
	for (size_t i = 0; i < w->count; i++)
		w->ino[i].nid = ew_pack_place(&p, w->ino[i].meta_len) >>
				EROFS_ISLOT_BITS;
	return p.next;
}

static int write_area(struct ew_state *w, struct sd_error *err)
{
	uint64_t end;
	uint8_t *buf = malloc(EW_CHUNK_SIZE), *rec = NULL;
	size_t cap = 0;
	int ret = SD_OK;

	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	w->meta_base = (uint64_t)w->data_next * EW_BLKSIZE;
	w->meta_end = w->meta_base + pack_area(w) * EW_BLKSIZE;
	end = (w->meta_end + EW_BLKSIZE - 1) / EW_BLKSIZE;
	if (end > UINT32_MAX) {
		free(buf);
		return sd_error_set(err, SD_ERR_LIMIT,
				    "EROFS image exceeds "
				    "2^32 blocks");
	}
	w->data_next = (uint32_t)end;
	for (size_t i = 0; i < w->count && !ret; i++) {
		const struct sd_node *n = w->nodes[i];
		const struct ew_inode *in = &w->ino[i];
		size_t len;

		if (w->interrupted && *w->interrupted) {
			ret = sd_error_set(err, SD_ERR_INTERRUPTED,
					   "interrupted while writing EROFS "
					   "image");
			break;
		}
		if (n->type != SD_NODE_FILE) {
			ret = ew_write_node(w, n, buf, err);
			continue;
		}
		len = in->layout == EROFS_INODE_COMPRESSED_COMPACT
			      ? in->meta_len -
					(in->extended
						 ? EROFS_INODE_EXTENDED_SIZE
						 : EROFS_INODE_COMPACT_SIZE)
			      : in->tail;
		if (len > cap) {
			uint8_t *p = realloc(rec, len);

			if (!p) {
				ret = sd_error_set(err, SD_ERR_NOMEM,
						   "out of memory");
				break;
			}
			rec = p;
			cap = len;
		}
		if (len)
			ret = sd_spool_read(w->zspool, in->spool_off, rec, len,
					    err);
		if (!ret)
			ret = ew_write_meta(w, n, rec, err);
	}
	free(rec);
	free(buf);
	return ret;
}

int ewz_write_image(struct ew_state *w, struct sd_error *err)
{
	int ret = sd_spool_new(&w->zspool, err);

	if (ret)
		return ret;
	w->defer_meta = true;
	ret = ewz_write_nodes(w, err);
	w->defer_meta = false;
	if (!ret)
		ret = write_area(w, err);
	sd_spool_free(w->zspool);
	w->zspool = NULL;
	return ret;
}
