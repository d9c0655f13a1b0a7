/* SPDX-License-Identifier: MIT */
/*
 * writer_pack.c — places records (an inode and the bytes that follow it)
 * in an EROFS metadata area, first fit over the last open blocks (see
 * ew_pack_* in writer.h).
 *
 * Rules, the kernel's since Linux 5.4: an inode never crosses a block
 * boundary, and an inline tail (or inline pcluster) lies in the block of
 * its inode's end; every inode starts on a 32-byte slot.  A record of at
 * most a block therefore goes whole into one block: the first of the
 * last EW_PACK_OPEN blocks with room for it, else a new block.  A longer
 * record (a large file's chunk map or compressed indexes, which never
 * come with inline data) starts a new block and runs on; the block where
 * it ends stays open.  The gaps a strictly sequential layout leaves
 * before records that do not fit are filled by later small ones.
 */
#include "formats/erofs/writer.h"

#include "formats/erofs/erofs_disk.h"

static uint32_t slot_up(uint32_t n)
{
	return (n + EROFS_ISLOT_SIZE - 1) & ~(uint32_t)(EROFS_ISLOT_SIZE - 1);
}

/* Forget open block @k. */
static void drop(struct ew_pack *p, size_t k)
{
	for (; k + 1 < p->nopen; k++)
		p->open[k] = p->open[k + 1];
	p->nopen--;
}

/* Open block @blk with @used bytes taken (unless as good as full); when
 * EW_PACK_OPEN are open, the fullest of them is forgotten first. */
static void add_open(struct ew_pack *p, uint64_t blk, uint32_t used)
{
	if (EW_BLKSIZE - used < 2 * EROFS_ISLOT_SIZE)
		return;
	if (p->nopen == EW_PACK_OPEN) {
		size_t at = 0;

		for (size_t k = 1; k < p->nopen; k++)
			if (p->open[k].used > p->open[at].used)
				at = k;
		drop(p, at);
	}
	p->open[p->nopen].blk = blk;
	p->open[p->nopen].used = used;
	p->nopen++;
}

void ew_pack_init(struct ew_pack *p, uint32_t used0)
{
	p->nopen = 0;
	p->next = 1;
	p->open[p->nopen].blk = 0;
	p->open[p->nopen++].used = slot_up(used0);
}

uint64_t ew_pack_place(struct ew_pack *p, uint32_t len)
{
	uint64_t at;
	uint32_t rest;
	size_t k;

	for (k = 0; len <= EW_BLKSIZE && k < p->nopen; k++)
		if (p->open[k].used + len <= EW_BLKSIZE)
			break;
	if (len <= EW_BLKSIZE && k < p->nopen) {
		at = p->open[k].blk * EW_BLKSIZE + p->open[k].used;
		p->open[k].used = slot_up(p->open[k].used + len);
		if (EW_BLKSIZE - p->open[k].used < 2 * EROFS_ISLOT_SIZE)
			drop(p, k);
		return at;
	}
	at = p->next * EW_BLKSIZE;
	p->next += len / EW_BLKSIZE;
	rest = len % EW_BLKSIZE;
	if (rest) {
		add_open(p, p->next, slot_up(rest));
		p->next++;
	}
	return at;
}
