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

/* Blocks of the metadata area with room left (see pack_area). */
#define OPEN_MAX 64
struct open_blk {
	uint64_t blk;            /* block within the area */
	uint32_t used;           /* bytes used from its start */
};

static void add_open(struct open_blk *open, size_t *nopen, uint64_t blk,
		     uint32_t used)
{
	size_t at = *nopen;

	if (EW_BLKSIZE - used < 2 * EROFS_ISLOT_SIZE)
		return;                          /* as good as full */
	if (*nopen == OPEN_MAX) {
		/* forget the fullest (the first of them) */
		at = 0;
		for (size_t k = 1; k < *nopen; k++)
			if (open[k].used > open[at].used)
				at = k;
		for (size_t k = at; k + 1 < *nopen; k++)
			open[k] = open[k + 1];
		at = --*nopen;
	}
	open[at].blk = blk;
	open[at].used = used;
	++*nopen;
}

/*
 * Give every node its nid, in tree order, the root first (nid 1): a
 * record (inode and what follows it) of at most a block goes into the
 * first of the last OPEN_MAX blocks with room for all of it (32-byte
 * aligned), else into a new block; a longer one (indexes of a large
 * file, never with an inline pcluster) starts a new block and runs on.
 * An inode and its inline data therefore never cross a block boundary,
 * and the gaps a strictly sequential layout leaves before such records
 * are filled by later small ones.  Returns the area's size in blocks.
 */
static uint64_t pack_area(struct ew_state *w)
{
	struct open_blk open[OPEN_MAX];
	size_t nopen = 0;
	uint64_t next = 1;       /* the next new block */

	open[nopen].blk = 0;
	open[nopen++].used = EROFS_ISLOT_SIZE;   /* nid 0 stays unused */
	for (size_t i = 0; i < w->count; i++) {
		struct ew_inode *in = &w->ino[i];
		uint32_t len = in->meta_len;
		uint64_t at;
		size_t k;

		for (k = 0; len <= EW_BLKSIZE && k < nopen; k++)
			if (open[k].used + len <= EW_BLKSIZE)
				break;
		if (len <= EW_BLKSIZE && k < nopen) {
			at = open[k].blk * EW_BLKSIZE + open[k].used;
			open[k].used = (open[k].used + len + EROFS_ISLOT_SIZE -
					1) & ~(uint32_t)(EROFS_ISLOT_SIZE - 1);
			if (EW_BLKSIZE - open[k].used < 2 * EROFS_ISLOT_SIZE) {
				for (; k + 1 < nopen; k++)
					open[k] = open[k + 1];
				nopen--;
			}
		} else {
			uint32_t rest = len % EW_BLKSIZE;

			at = next * EW_BLKSIZE;
			next += len / EW_BLKSIZE;
			if (rest) {
				rest = (rest + EROFS_ISLOT_SIZE - 1) &
				       ~(uint32_t)(EROFS_ISLOT_SIZE - 1);
				add_open(open, &nopen, next, rest);
				next++;
			}
		}
		in->nid = at >> EROFS_ISLOT_BITS;
	}
	return next;
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
		return sd_error_set(err, SD_ERR_LIMIT, "EROFS image exceeds "
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
			      ? in->meta_len - (in->extended
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
