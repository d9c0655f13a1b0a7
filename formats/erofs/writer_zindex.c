/* SPDX-License-Identifier: MIT */
/*
 * writer_zindex.c — the map header and compact logical cluster indexes
 * (COMPRESSED_COMPACT) of a compressed file (see erofs_disk.h for the
 * pack format and writer_z.h; the kernel's fs/erofs/zmap.c,
 * unpack_compacted_index, is the decoder this encodes for).
 *
 * What each logical cluster says (as in the full 8-byte form): for each
 * pcluster with head lcluster h = la / 4 KiB and the next pcluster's head
 * lcluster hn (the lcluster count after the last one):
 *   - lcluster h is HEAD1 (compressed) or PLAIN (raw) with its cluster
 *     offset la % 4 KiB;
 *   - lclusters h+1 .. hn-1 are NONHEAD with delta[0] = distance back to h
 *     (capped at 2047 so it never sets the CBLKCNT bit: the kernel looks
 *     back step by step) and, in the last entry of a pack only, delta[1]
 *     = distance forward to hn instead (capped the same way; the kernel
 *     derives that entry's delta[0] from the entry before it);
 *   - with big pclusters, lcluster h+1 carries CBLKCNT | block count
 *     instead (the kernel reads it as delta[0] = 1).  A pcluster without
 *     a NONHEAD lcluster is one block, which ours always are then.
 *
 * Packs: the indexes start at ebase = ALIGN(inode end, 8) + 8; inodes are
 * 32-byte aligned and 32 or 64 bytes long, so ebase % 32 == 8 and the
 * kernel takes the first 6 lclusters in 4-byte packs (2 lclusters in 8
 * bytes), then rounddown(rest, 16) in 2-byte packs (16 in 32 bytes:
 * ADVISE_COMPACTED_2B), then the rest in 4-byte packs (a last odd
 * lcluster gets a whole pack, its second entry zero).  Each pack ends
 * with a u32 base block; the kernel finds a head's block by counting the
 * pclusters before it in the pack:
 *   - 4 KiB pclusters (one block each): head block = base + 1 + heads
 *     before it in the pack, so base = first head's block - 1;
 *   - big pclusters (ADVISE_BIG_PCLUSTER_1 and _2 together, which compact
 *     indexes require): head block = base + the block counts of the
 *     pclusters before it whose head or CBLKCNT entry is in the pack, so
 *     base = the block of the first such pcluster.
 * This needs a file's pclusters back to back in block order, which the
 * collector (writer_zpipe.c) guarantees.  A pack without a head gets the
 * base the next head would give (0 past the last head).
 */
#include "formats/erofs/writer_z.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"

#define DELTA_MAX 0x07FF
#define INIT4 6   /* 4-byte lclusters before the 2-byte packs */
#define LOBITS 12 /* lcluster bits: clusterofs / delta field */

static uint64_t lclusters(uint64_t size)
{
	return (size + EW_BLKSIZE - 1) / EW_BLKSIZE;
}

/* Lclusters in 4B packs at the start, in 2B packs, in 4B packs after. */
static void split(uint64_t total, uint64_t *init4, uint64_t *c2b,
		  uint64_t *end4)
{
	*init4 = total < INIT4 ? total : INIT4;
	*c2b = total > INIT4 ? (total - INIT4) / 16 * 16 : 0;
	*end4 = total - *init4 - *c2b;
}

uint64_t ewz_index_bytes(uint64_t size)
{
	uint64_t init4, c2b, end4;

	split(lclusters(size), &init4, &c2b, &end4);
	return Z_EROFS_MAP_HEADER_SIZE +
	       (init4 + 1) / 2 * Z_EROFS_COMPACT_4B_PACK_SIZE +
	       c2b / 16 * Z_EROFS_COMPACT_2B_PACK_SIZE +
	       (end4 + 1) / 2 * Z_EROFS_COMPACT_4B_PACK_SIZE;
}

/* One logical cluster as the encoder sees it. */
struct lcl {
	unsigned type;
	uint16_t lo; /* clusterofs, delta[0] or CBLKCNT | blocks */
	uint16_t d1; /* NONHEAD: delta[1] */
	size_t pcl;  /* the pcluster it belongs to */
};

struct cursor {
	const struct ewz_pcl *p;
	size_t n, k;        /* pcluster covering the last lcluster asked */
	struct ewz_pcl end; /* the end mark, pcluster n if n_all > n */
	size_t n_all;
	uint64_t total;
	bool big;
};

static const struct ewz_pcl *pcl(const struct cursor *c, size_t k)
{
	return k < c->n ? &c->p[k] : &c->end;
}

/* Lcluster @j (ascending calls, or repeats, per pack). */
static void lcl_at(struct cursor *c, uint64_t j, struct lcl *out)
{
	uint64_t h, hn;

	while (c->k + 1 < c->n_all && pcl(c, c->k + 1)->la / EW_BLKSIZE <= j)
		c->k++;
	h = pcl(c, c->k)->la / EW_BLKSIZE;
	hn = c->k + 1 < c->n_all ? pcl(c, c->k + 1)->la / EW_BLKSIZE : c->total;
	out->pcl = c->k;
	if (j == h) {
		out->type = pcl(c, c->k)->plain ? Z_EROFS_LCLUSTER_TYPE_PLAIN
						: Z_EROFS_LCLUSTER_TYPE_HEAD1;
		out->lo = (uint16_t)(pcl(c, c->k)->la % EW_BLKSIZE);
		out->d1 = 0;
		return;
	}
	out->type = Z_EROFS_LCLUSTER_TYPE_NONHEAD;
	if (j - h == 1 && c->big)
		out->lo = (uint16_t)(Z_EROFS_LI_D0_CBLKCNT |
				     pcl(c, c->k)->blocks);
	else
		out->lo = (uint16_t)(j - h > DELTA_MAX ? DELTA_MAX : j - h);
	out->d1 = (uint16_t)(hn - j > DELTA_MAX ? DELTA_MAX : hn - j);
}

/* Put @v (encodebits wide) at bit @bit of @pack. */
static void put_bits(uint8_t *pack, unsigned bit, uint32_t v)
{
	uint32_t cur = get_le32(pack + bit / 8);

	cur |= v << (bit % 8);
	put_le32(pack + bit / 8, cur);
}

/* Encode the pack of @vcnt lclusters from @first into @out. */
static void write_pack(struct cursor *c, uint64_t first, unsigned vcnt,
		       uint8_t *out)
{
	unsigned psize = vcnt == 2 ? Z_EROFS_COMPACT_4B_PACK_SIZE
				   : Z_EROFS_COMPACT_2B_PACK_SIZE;
	unsigned encodebits = (psize - 4) * 8 / vcnt;
	uint32_t base = 0;
	bool have_base = false;

	memset(out, 0, psize);
	for (unsigned i = 0; i < vcnt && first + i < c->total; i++) {
		struct lcl l;
		uint16_t lo;

		lcl_at(c, first + i, &l);
		lo = l.lo;
		if (l.type == Z_EROFS_LCLUSTER_TYPE_NONHEAD &&
		    !(l.lo & Z_EROFS_LI_D0_CBLKCNT) && i + 1 == vcnt)
			lo = l.d1;
		if (!have_base && l.type != Z_EROFS_LCLUSTER_TYPE_NONHEAD) {
			base = pcl(c, l.pcl)->blkaddr - (c->big ? 0 : 1);
			have_base = true;
		} else if (!have_base && i == 0 && c->big &&
			   (l.lo & Z_EROFS_LI_D0_CBLKCNT)) {
			base = pcl(c, l.pcl)->blkaddr;
			have_base = true;
		}
		/* bits past the pack's bitfield area stay clear: the last
		 * entry ends exactly where the base starts */
		put_bits(out, encodebits * i,
			 ((uint32_t)l.type << LOBITS) | lo);
	}
	if (!have_base && c->k + 1 < c->n_all)
		base = pcl(c, c->k + 1)->blkaddr - (c->big ? 0 : 1);
	put_le32(out + psize - 4, base);
}

void ewz_index_encode(const struct ewz_pcl *p, size_t n, uint64_t size,
		      bool big, unsigned disk_alg, uint16_t idata, uint8_t *out)
{
	struct cursor c = {.p = p,
			   .n = n,
			   .n_all = n,
			   .total = lclusters(size),
			   .big = big};
	uint64_t init4, c2b, end4, j = 0;
	uint8_t *o = out + Z_EROFS_MAP_HEADER_SIZE;
	uint16_t advise = Z_EROFS_ADVISE_COMPACTED_2B;

	if (big)
		advise |= Z_EROFS_ADVISE_BIG_PCLUSTER_1 |
			  Z_EROFS_ADVISE_BIG_PCLUSTER_2;
	if (idata)
		advise |= Z_EROFS_ADVISE_INLINE_PCLUSTER;
	memset(out, 0, Z_EROFS_MAP_HEADER_SIZE);
	put_le16(out + Z_EROFS_MAP_HEADER_OFF_IDATA_SIZE, idata);
	put_le16(out + Z_EROFS_MAP_HEADER_OFF_ADVISE, advise);
	out[Z_EROFS_MAP_HEADER_OFF_ALGORITHMTYPE] = (uint8_t)(disk_alg & 15);
	out[Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] = 0; /* lcluster = block */

	/* A raw last pcluster that runs into the file's last lcluster from
	 * an earlier one: that lcluster becomes an empty PLAIN head at the
	 * file end, so the kernel ends the raw extent there (it takes a raw
	 * extent to the end of its lcluster otherwise). */
	if (n && p[n - 1].plain && size % EW_BLKSIZE &&
	    p[n - 1].la / EW_BLKSIZE < c.total - 1) {
		c.end.la = size;
		c.end.plain = 1;
		c.end.blocks = 1;
		c.end.blkaddr = p[n - 1].blkaddr + p[n - 1].blocks;
		c.n_all = n + 1;
	}
	split(c.total, &init4, &c2b, &end4);
	for (; j < init4; j += 2, o += Z_EROFS_COMPACT_4B_PACK_SIZE)
		write_pack(&c, j, 2, o);
	for (; j < init4 + c2b; j += 16, o += Z_EROFS_COMPACT_2B_PACK_SIZE)
		write_pack(&c, j, 16, o);
	for (; j < c.total; j += 2, o += Z_EROFS_COMPACT_4B_PACK_SIZE)
		write_pack(&c, j, 2, o);
}
