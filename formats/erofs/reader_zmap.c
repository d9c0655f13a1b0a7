/* SPDX-License-Identifier: MIT */
/*
 * reader_zmap.c — the compressed layouts' logical cluster indexes
 * (COMPRESSED_FULL and COMPRESSED_COMPACT) turned into extents
 * (see reader_int.h).
 *
 * A file of size S has ceil(S / lcluster size) logical clusters (the
 * lcluster size is the block size here).  Each is a HEAD (a pcluster of
 * compressed data starts in it, at clusterofs), PLAIN (the same, stored
 * raw) or NONHEAD (the previous head's data continues).  An extent runs
 * from a head's position to the next head's position (or the file end).
 * With big pclusters the first NONHEAD after a head may carry the
 * pcluster's block count (CBLKCNT); otherwise a pcluster is one block.
 * With ztailpacking the last extent's pcluster lies inline after the
 * indexes.  With fragments (erofs_disk.h) the last extent, or the whole
 * file, is a range of the packed inode's data instead.
 */
#include "formats/erofs/reader_int.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"

/* One decoded logical cluster. */
struct lrec {
	unsigned type;       /* Z_EROFS_LCLUSTER_TYPE_* */
	uint32_t clusterofs; /* HEAD/PLAIN */
	uint32_t delta0;     /* NONHEAD: lclusters back to the head */
	uint32_t cblks;      /* NONHEAD with CBLKCNT: pcluster blocks */
	uint64_t pblk;       /* HEAD/PLAIN: pcluster start block */
};

/* Whether a pcluster headed by @type may span several blocks: HEAD1 with
 * BIG_PCLUSTER_1, HEAD2 and PLAIN with BIG_PCLUSTER_2 (as the kernel's
 * z_erofs_get_extent_compressedlen; a raw pcluster is one block
 * otherwise, whatever the next lcluster says). */
static bool big_pcluster(const struct sd_erofs_inode *ino, unsigned type)
{
	if (type == Z_EROFS_LCLUSTER_TYPE_HEAD1)
		return ino->z_advise & Z_EROFS_ADVISE_BIG_PCLUSTER_1;
	return ino->z_advise & Z_EROFS_ADVISE_BIG_PCLUSTER_2;
}

/* Where the compact index of @lcn lies: byte *@pos, entry size
 * 1 << *@shift. */
static void compact_pos(const struct sd_erofs_inode *ino, uint64_t lcn,
			uint64_t *pos, unsigned *shift)
{
	uint64_t init4 = ((32 - ino->z_ebase % 32) / 4) & 7;
	uint64_t c2b = 0;

	if ((ino->z_advise & Z_EROFS_ADVISE_COMPACTED_2B) &&
	    init4 < ino->z_totalidx)
		c2b = (ino->z_totalidx - init4) / 16 * 16;
	*pos = ino->z_ebase;
	if (lcn < init4) {
		*shift = 2;
	} else if (lcn - init4 < c2b) {
		*pos += init4 * 4;
		lcn -= init4;
		*shift = 1;
	} else {
		*pos += init4 * 4 + c2b * 2;
		lcn -= init4 + c2b;
		*shift = 2;
	}
	*pos += lcn << *shift;
}

static unsigned pack_size(unsigned shift)
{
	return shift == 2 ? Z_EROFS_COMPACT_4B_PACK_SIZE
			  : Z_EROFS_COMPACT_2B_PACK_SIZE;
}

/* The byte after the index pack holding @lcn (kernel: nextpackoff). */
static uint64_t next_pack_off(const struct sd_erofs_inode *ino, uint64_t lcn)
{
	if (ino->layout == EROFS_INODE_COMPRESSED_FULL)
		return ino->z_full_base +
		       (lcn + 1) * Z_EROFS_LCLUSTER_INDEX_SIZE;
	uint64_t pos;
	unsigned shift;
	compact_pos(ino, lcn, &pos, &shift);
	return pos - pos % pack_size(shift) + pack_size(shift);
}

static unsigned decode_bits(unsigned lobits, const uint8_t *in, unsigned bit,
			    unsigned *type)
{
	uint32_t v = get_le32(in + bit / 8) >> (bit & 7);

	*type = (v >> lobits) & 3;
	return v & ((1u << lobits) - 1);
}

static int load_full(const struct sd_erofs_image *img,
		     const struct sd_erofs_inode *ino, uint64_t lcn,
		     struct lrec *m, struct sd_error *err)
{
	uint8_t di[Z_EROFS_LCLUSTER_INDEX_SIZE];
	int ret = sd_erofs_pread(
		img, ino->nid, "lcluster index", di, sizeof(di),
		ino->z_full_base + lcn * Z_EROFS_LCLUSTER_INDEX_SIZE, err);

	if (ret)
		return ret;
	uint16_t advise = get_le16(di + Z_EROFS_LI_OFF_ADVISE);
	m->type = advise & Z_EROFS_LI_LCLUSTER_TYPE_MASK;
	if (m->type == Z_EROFS_LCLUSTER_TYPE_NONHEAD) {
		uint16_t d0 = get_le16(di + Z_EROFS_LI_OFF_DELTA0);
		m->clusterofs = img->blksz;
		if (d0 & Z_EROFS_LI_D0_CBLKCNT) {
			if (!(ino->z_advise & (Z_EROFS_ADVISE_BIG_PCLUSTER_1 |
					       Z_EROFS_ADVISE_BIG_PCLUSTER_2)))
				return sd_erofs_corrupt(
					img, ino->nid, err,
					"lcluster %llu: block "
					"count without big "
					"pclusters",
					(unsigned long long)lcn);
			m->cblks = d0 & ~Z_EROFS_LI_D0_CBLKCNT;
			m->delta0 = 1;
		} else {
			m->delta0 = d0;
		}
		return SD_OK;
	}
	m->clusterofs = get_le16(di + Z_EROFS_LI_OFF_CLUSTEROFS);
	if (m->clusterofs >= img->blksz)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu: "
					"cluster offset %u beyond the "
					"lcluster",
					(unsigned long long)lcn, m->clusterofs);
	m->pblk = get_le32(di + Z_EROFS_LI_OFF_BLKADDR);
	return SD_OK;
}

/* HEAD/PLAIN in a compact pack: the pack's base block plus the blocks of
 * the pclusters that start before entry @i in the pack. */
static int compact_pblk(const struct sd_erofs_image *img,
			const struct sd_erofs_inode *ino, uint64_t lcn,
			const uint8_t *in, unsigned vcnt, unsigned encodebits,
			unsigned lobits, int i, struct lrec *m,
			struct sd_error *err)
{
	uint64_t nblk;
	unsigned type, lo;

	if (!(ino->z_advise & Z_EROFS_ADVISE_BIG_PCLUSTER_1)) {
		nblk = 1;
		while (i > 0) {
			--i;
			lo = decode_bits(lobits, in, encodebits * (unsigned)i,
					 &type);
			if (type == Z_EROFS_LCLUSTER_TYPE_NONHEAD)
				i -= (int)lo;
			if (i >= 0)
				++nblk;
		}
	} else {
		nblk = 0;
		while (i > 0) {
			--i;
			lo = decode_bits(lobits, in, encodebits * (unsigned)i,
					 &type);
			if (type == Z_EROFS_LCLUSTER_TYPE_NONHEAD) {
				if (lo & Z_EROFS_LI_D0_CBLKCNT) {
					--i;
					nblk += lo & ~Z_EROFS_LI_D0_CBLKCNT;
					continue;
				}
				if (lo <= 1)
					return sd_erofs_corrupt(
						img, ino->nid, err,
						"lcluster %llu: bad lookback "
						"distance %u in a compact "
						"pack",
						(unsigned long long)lcn, lo);
				i -= (int)lo - 2;
				continue;
			}
			++nblk;
		}
	}
	m->pblk = get_le32(in + (vcnt << (vcnt == 2 ? 2 : 1)) - 4) + nblk;
	return SD_OK;
}

static int load_compact(const struct sd_erofs_image *img,
			const struct sd_erofs_inode *ino, uint64_t lcn,
			struct lrec *m, struct sd_error *err)
{
	uint8_t pack[Z_EROFS_COMPACT_2B_PACK_SIZE];
	unsigned shift, vcnt, psize, encodebits, lobits, type, lo;
	unsigned lclusterbits = ino->z_lclusterbits;
	uint64_t pos;
	int ret;

	compact_pos(ino, lcn, &pos, &shift);
	if (shift == 2 && lclusterbits <= 14)
		vcnt = Z_EROFS_COMPACT_4B_PACK_LCLUSTERS;
	else if (shift == 1 && lclusterbits <= 12)
		vcnt = Z_EROFS_COMPACT_2B_PACK_LCLUSTERS;
	else
		return sd_erofs_corrupt(img, ino->nid, err,
					"compact indexes "
					"impossible with 2^%u-byte lclusters",
					lclusterbits);
	psize = pack_size(shift);
	ret = sd_erofs_pread(img, ino->nid, "compact lcluster index", pack,
			     psize, pos - pos % psize, err);
	if (ret)
		return ret;
	encodebits = (psize - 4) * 8 / vcnt;
	lobits = lclusterbits > 12 ? lclusterbits : 12;
	int i = (int)((pos % psize) >> shift);

	lo = decode_bits(lobits, pack, encodebits * (unsigned)i, &type);
	m->type = type;
	if (type == Z_EROFS_LCLUSTER_TYPE_NONHEAD) {
		m->clusterofs = img->blksz;
		if (lo & Z_EROFS_LI_D0_CBLKCNT) {
			if (!(ino->z_advise & Z_EROFS_ADVISE_BIG_PCLUSTER_1))
				return sd_erofs_corrupt(
					img, ino->nid, err,
					"lcluster %llu: block "
					"count without big "
					"pclusters",
					(unsigned long long)lcn);
			m->cblks = lo & ~Z_EROFS_LI_D0_CBLKCNT;
			m->delta0 = 1;
			return SD_OK;
		}
		if (i + 1 != (int)vcnt) {
			m->delta0 = lo;
			return SD_OK;
		}
		/* the pack's last entry holds delta[1]; derive delta[0] */
		lo = decode_bits(lobits, pack, encodebits * (unsigned)(i - 1),
				 &type);
		if (type != Z_EROFS_LCLUSTER_TYPE_NONHEAD)
			lo = 0;
		else if (lo & Z_EROFS_LI_D0_CBLKCNT)
			lo = 1;
		m->delta0 = lo + 1;
		return SD_OK;
	}
	m->clusterofs = lo;
	if (m->clusterofs >= img->blksz)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu: "
					"cluster offset %u beyond the "
					"lcluster",
					(unsigned long long)lcn, m->clusterofs);
	return compact_pblk(img, ino, lcn, pack, vcnt, encodebits, lobits, i, m,
			    err);
}

static int load_lcluster(const struct sd_erofs_image *img,
			 const struct sd_erofs_inode *ino, uint64_t lcn,
			 struct lrec *m, struct sd_error *err)
{
	memset(m, 0, sizeof(*m));
	if (lcn >= ino->z_totalidx)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu "
					"beyond the file",
					(unsigned long long)lcn);
	if (ino->layout == EROFS_INODE_COMPRESSED_FULL)
		return load_full(img, ino, lcn, m, err);
	return load_compact(img, ino, lcn, m, err);
}

/* May @ino keep data in the packed inode? */
static int fragment_ok(const struct sd_erofs_image *img,
		       const struct sd_erofs_inode *ino, struct sd_error *err)
{
	if (img->packed_nid == ino->nid &&
	    (img->feature_incompat & EROFS_FEATURE_INCOMPAT_FRAGMENTS))
		return sd_erofs_corrupt(img, ino->nid, err,
					"the packed inode "
					"is itself a fragment");
	if (!img->has_packed)
		return sd_erofs_corrupt(img, ino->nid, err,
					"fragment data "
					"but the image has no packed inode");
	return SD_OK;
}

/* Is [off, off + len) inside the packed inode's data? */
static int fragment_range(const struct sd_erofs_image *img, uint64_t nid,
			  uint64_t off, uint64_t len, struct sd_error *err)
{
	if (off > img->packed_size || len > img->packed_size - off)
		return sd_erofs_corrupt(img, nid, err,
					"fragment at byte %llu "
					"(+%llu) beyond the packed inode's "
					"%llu bytes",
					(unsigned long long)off,
					(unsigned long long)len,
					(unsigned long long)img->packed_size);
	return SD_OK;
}

/* Bit 7 of h_clusterbits: the whole file is in the packed inode, at the
 * offset the rest of the 64-bit header @hdr gives. */
static int whole_fragment(const struct sd_erofs_image *img,
			  struct sd_erofs_inode *ino, uint64_t hdr,
			  struct sd_error *err)
{
	int ret = fragment_ok(img, ino, err);

	if (ret)
		return ret;
	ino->z_frag_whole = true;
	ino->z_advise = Z_EROFS_ADVISE_FRAGMENT_PCLUSTER;
	ino->z_fragoff = hdr & Z_EROFS_FRAGMENT_WHOLE_OFF_MASK;
	ino->z_lclusterbits = img->blkszbits;
	ino->z_totalidx = ino->size != 0; /* one extent: the file */
	return fragment_range(img, ino->nid, ino->z_fragoff, ino->size, err);
}

int sd_erofs_z_init(const struct sd_erofs_image *img,
		    struct sd_erofs_inode *ino, struct sd_error *err)
{
	uint8_t h[Z_EROFS_MAP_HEADER_SIZE];
	uint64_t hpos = (ino->tail_off + 7) & ~(uint64_t)7;
	int ret;

	if ((ino->mode & EROFS_S_IFMT) == EROFS_S_IFLNK)
		return sd_erofs_corrupt(img, ino->nid, err,
					"compressed "
					"symlink");
	ret = sd_erofs_pread(img, ino->nid, "compression map header", h,
			     sizeof(h), hpos, err);
	if (ret)
		return ret;
	if (h[Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] & Z_EROFS_FRAGMENT_INODE_FLAG)
		return whole_fragment(img, ino, get_le64(h), err);
	ino->z_advise = get_le16(h + Z_EROFS_MAP_HEADER_OFF_ADVISE);
	ino->z_algs[0] = h[Z_EROFS_MAP_HEADER_OFF_ALGORITHMTYPE] & 15;
	ino->z_algs[1] = h[Z_EROFS_MAP_HEADER_OFF_ALGORITHMTYPE] >> 4;
	if (ino->z_advise & Z_EROFS_ADVISE_FRAGMENT_PCLUSTER) {
		/* the fragment offset overlaps the inline size: as the
		 * kernel (6.15+) and erofs-utils, a fragment wins */
		ret = fragment_ok(img, ino, err);
		if (ret)
			return ret;
		ino->z_frag_tail = true;
		ino->z_fragoff =
			get_le32(h + Z_EROFS_MAP_HEADER_OFF_FRAGMENTOFF);
		ino->z_advise &= (uint16_t)~Z_EROFS_ADVISE_INLINE_PCLUSTER;
	}
	if (h[Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] & Z_EROFS_CLUSTERBITS_MASK)
		return sd_erofs_fail(img, ino->nid, SD_ERR_UNSUPPORTED, err,
				     "logical clusters larger than a block "
				     "are not supported");
	if (h[Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] &
	    ~(Z_EROFS_CLUSTERBITS_MASK | Z_EROFS_FRAGMENT_INODE_FLAG))
		return sd_erofs_corrupt(img, ino->nid, err,
					"reserved bits "
					"0x%02x set in the map header",
					h[Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS]);
	ino->z_lclusterbits = img->blkszbits;
	if (ino->layout == EROFS_INODE_COMPRESSED_COMPACT &&
	    !(ino->z_advise & Z_EROFS_ADVISE_BIG_PCLUSTER_1) !=
		    !(ino->z_advise & Z_EROFS_ADVISE_BIG_PCLUSTER_2))
		return sd_erofs_corrupt(img, ino->nid, err,
					"inconsistent big "
					"pcluster flags for compact indexes");
	ino->z_totalidx =
		ino->size / img->blksz + (ino->size % img->blksz != 0);
	ino->z_ebase = hpos + Z_EROFS_MAP_HEADER_SIZE;
	ino->z_full_base = hpos + Z_EROFS_MAP_HEADER_SIZE + 8;
	if (ino->z_totalidx == 0)
		return SD_OK;
	if (ino->z_totalidx > img->size)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster indexes "
					"beyond the image end");
	uint64_t end = next_pack_off(ino, ino->z_totalidx - 1);
	if (!sd_erofs_in_image(img, ino->z_ebase, end - ino->z_ebase))
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster indexes "
					"(%llu) beyond the image end",
					(unsigned long long)ino->z_totalidx);
	if (ino->z_frag_tail && ino->layout == EROFS_INODE_COMPRESSED_COMPACT) {
		ret = fragment_range(img, ino->nid, ino->z_fragoff, 0, err);
		if (ret)
			return ret;
	}
	if (ino->z_advise & Z_EROFS_ADVISE_INLINE_PCLUSTER) {
		ino->z_idata_size =
			get_le16(h + Z_EROFS_MAP_HEADER_OFF_IDATA_SIZE);
		ino->z_idata_off = end;
		if (ino->z_idata_size == 0 ||
		    !sd_erofs_in_image(img, end, ino->z_idata_size) ||
		    (end & (img->blksz - 1)) + ino->z_idata_size > img->blksz)
			return sd_erofs_corrupt(img, ino->nid, err,
						"bad inline "
						"pcluster of %u bytes",
						ino->z_idata_size);
	}
	return SD_OK;
}

/* The pcluster of the extent headed by @h at @lcn. */
static int pcluster(const struct sd_erofs_image *img,
		    const struct sd_erofs_inode *ino, uint64_t lcn,
		    const struct lrec *h, bool tail, struct sd_erofs_zext *ext,
		    struct sd_error *err)
{
	uint64_t cblks = 1;
	struct lrec m;
	int ret;

	if (tail && (ino->z_advise & Z_EROFS_ADVISE_INLINE_PCLUSTER)) {
		ext->pa = ino->z_idata_off;
		ext->plen = ino->z_idata_size;
		return SD_OK;
	}
	if (big_pcluster(ino, h->type) && lcn + 1 < ino->z_totalidx) {
		ret = load_lcluster(img, ino, lcn + 1, &m, err);
		if (ret)
			return ret;
		if (m.type == Z_EROFS_LCLUSTER_TYPE_NONHEAD) {
			if (m.delta0 != 1 || m.cblks == 0)
				return sd_erofs_corrupt(
					img, ino->nid, err,
					"lcluster %llu: no "
					"pcluster block count",
					(unsigned long long)(lcn + 1));
			cblks = m.cblks;
		}
	}
	ext->pa = h->pblk << img->blkszbits;
	ext->plen = cblks << img->blkszbits;
	if (ext->plen > Z_EROFS_PCLUSTER_MAX_SIZE)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu: "
					"pcluster of %llu blocks too large",
					(unsigned long long)lcn,
					(unsigned long long)cblks);
	if (!sd_erofs_in_image(img, ext->pa, ext->plen))
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu: "
					"data block %llu (+%llu) beyond the "
					"image end",
					(unsigned long long)lcn,
					(unsigned long long)h->pblk,
					(unsigned long long)cblks);
	return SD_OK;
}

/* The last extent of a tail-fragment inode: bytes of the packed inode
 * (with full indexes the head's blkaddr holds offset bits 32..63). */
static int tail_fragment(const struct sd_erofs_image *img,
			 const struct sd_erofs_inode *ino, const struct lrec *h,
			 struct sd_erofs_zext *ext, struct sd_error *err)
{
	uint64_t off = ino->z_fragoff;

	if (ino->layout == EROFS_INODE_COMPRESSED_FULL)
		off |= h->pblk << 32;
	ext->fragment = true;
	ext->pa = off;
	ext->plen = 0;
	return fragment_range(img, ino->nid, off, ext->llen, err);
}

int sd_erofs_z_extent(const struct sd_erofs_image *img,
		      const struct sd_erofs_inode *ino, uint64_t *lcn,
		      struct sd_erofs_zext *ext, struct sd_error *err)
{
	const unsigned bits = ino->z_lclusterbits;
	/* a tail fragment is read through, not buffered: no length cap */
	const uint64_t max_span =
		ino->z_frag_tail ? UINT64_MAX
				 : ((uint64_t)SD_EROFS_MAX_EXTENT >> bits) + 2;
	uint64_t head = *lcn, next, end;
	struct lrec h, m;
	int ret;

	memset(ext, 0, sizeof(*ext));
	if (ino->z_frag_whole) {
		if (head != 0 || ino->size == 0)
			return sd_erofs_corrupt(img, ino->nid, err,
						"lcluster "
						"%llu beyond the file",
						(unsigned long long)head);
		ext->llen = ino->size;
		ext->fragment = true;
		ext->pa = ino->z_fragoff;
		*lcn = ino->z_totalidx;
		return SD_OK;
	}
	ret = load_lcluster(img, ino, head, &h, err);
	if (ret)
		return ret;
	if (h.type == Z_EROFS_LCLUSTER_TYPE_NONHEAD)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu: "
					"extent does not start with a head",
					(unsigned long long)head);
	if (head == 0 && h.clusterofs != 0)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster 0: "
					"data does not start at offset 0");
	ext->la = (head << bits) + h.clusterofs;
	if (ext->la >= ino->size) {
		/* an empty head after the end: nothing more to read */
		*lcn = ino->z_totalidx;
		return SD_OK;
	}
	memset(&m, 0, sizeof(m));
	for (next = head + 1; next < ino->z_totalidx; next++) {
		if (next - head > max_span)
			return sd_erofs_corrupt(img, ino->nid, err,
						"lcluster %llu: extent "
						"longer than %u bytes",
						(unsigned long long)head,
						SD_EROFS_MAX_EXTENT);
		ret = load_lcluster(img, ino, next, &m, err);
		if (ret)
			return ret;
		if (m.type != Z_EROFS_LCLUSTER_TYPE_NONHEAD)
			break;
	}
	end = next < ino->z_totalidx ? (next << bits) + m.clusterofs
				     : ino->size;
	if (end > ino->size)
		end = ino->size;
	ext->llen = end - ext->la;
	*lcn = next;
	if (ino->z_frag_tail && end == ino->size)
		return tail_fragment(img, ino, &h, ext, err);
	if (ext->llen > SD_EROFS_MAX_EXTENT)
		return sd_erofs_corrupt(img, ino->nid, err,
					"lcluster %llu: "
					"extent longer than %u bytes",
					(unsigned long long)head,
					SD_EROFS_MAX_EXTENT);
	ret = pcluster(img, ino, head, &h, end == ino->size, ext, err);
	if (ret)
		return ret;
	if (h.type == Z_EROFS_LCLUSTER_TYPE_PLAIN) {
		ext->plain = true;
		ext->interlaced = ino->z_advise &
				  Z_EROFS_ADVISE_INTERLACED_PCLUSTER;
		if (ext->llen > ext->plen)
			return sd_erofs_corrupt(img, ino->nid, err,
						"lcluster %llu: raw extent of "
						"%llu bytes in a %llu-byte "
						"pcluster",
						(unsigned long long)head,
						(unsigned long long)ext->llen,
						(unsigned long long)ext->plen);
	} else {
		ext->alg = ino->z_algs[h.type == Z_EROFS_LCLUSTER_TYPE_HEAD2];
		if (ext->alg >= Z_EROFS_COMPRESSION_MAX ||
		    !(img->compr_algs & (1u << ext->alg)))
			return sd_erofs_corrupt(img, ino->nid, err,
						"lcluster %llu: compression "
						"algorithm %u not available",
						(unsigned long long)head,
						ext->alg);
	}
	return SD_OK;
}

int sd_erofs_z_find(const struct sd_erofs_image *img,
		    const struct sd_erofs_inode *ino, uint64_t la,
		    struct sd_erofs_zext *ext, struct sd_error *err)
{
	const unsigned bits = ino->z_lclusterbits;
	uint64_t lcn = la >> bits, dist = 0;
	struct lrec m;
	int ret;

	if (la >= ino->size)
		return sd_erofs_corrupt(img, ino->nid, err,
					"read at %llu "
					"beyond the size %llu",
					(unsigned long long)la,
					(unsigned long long)ino->size);
	if (ino->z_frag_whole) {
		lcn = 0;
		return sd_erofs_z_extent(img, ino, &lcn, ext, err);
	}
	ret = load_lcluster(img, ino, lcn, &m, err);
	if (ret)
		return ret;
	if (m.type == Z_EROFS_LCLUSTER_TYPE_NONHEAD)
		dist = m.delta0;
	else if ((la & ((1ull << bits) - 1)) < m.clusterofs)
		dist = 1; /* @la belongs to the previous extent */
	/* each step goes back by at least one lcluster: it ends */
	while (m.type == Z_EROFS_LCLUSTER_TYPE_NONHEAD || dist != 0) {
		if (dist == 0 || dist > lcn)
			return sd_erofs_corrupt(img, ino->nid, err,
						"lcluster "
						"%llu: bad lookback distance "
						"%llu",
						(unsigned long long)lcn,
						(unsigned long long)dist);
		lcn -= dist;
		ret = load_lcluster(img, ino, lcn, &m, err);
		if (ret)
			return ret;
		dist = m.type == Z_EROFS_LCLUSTER_TYPE_NONHEAD ? m.delta0 : 0;
	}
	uint64_t head = lcn;
	ret = sd_erofs_z_extent(img, ino, &head, ext, err);
	if (ret)
		return ret;
	if (la < ext->la || la - ext->la >= ext->llen)
		return sd_erofs_corrupt(img, ino->nid, err,
					"byte %llu is not "
					"in the extent of lcluster %llu",
					(unsigned long long)la,
					(unsigned long long)lcn);
	return SD_OK;
}
