/*
 * writer_zindex.c — the map header and full (8-byte) logical cluster
 * indexes of a compressed file (see erofs_disk.h and writer_z.h).
 *
 * For each pcluster with head lcluster h = la / 4 KiB (cluster offset
 * la % 4 KiB) and the next pcluster's head lcluster hn (the lcluster count
 * after the last one):
 *   - lcluster h is HEAD1 (compressed, algorithm 1 of the map header) or
 *     PLAIN (raw) with the pcluster's first block;
 *   - lclusters h+1 .. hn-1 are NONHEAD with delta[0] = distance back to h
 *     (capped at 2047 so it never sets the CBLKCNT bit: the kernel looks
 *     back step by step) and delta[1] = distance forward to hn;
 *   - with big pclusters, lcluster h+1 carries CBLKCNT | block count in
 *     delta[0] instead (the kernel reads it as delta[0] = 1).  A pcluster
 *     without a NONHEAD lcluster is one block, which ours always are then.
 */
#include "formats/erofs/writer_z.h"

#include <string.h>

#include "formats/erofs/erofs_disk.h"

#define FULL_RESERVED 8   /* after the map header, before the indexes */
#define DELTA0_MAX 0x07FF

static uint64_t lclusters(uint64_t size)
{
	return (size + EW_BLKSIZE - 1) / EW_BLKSIZE;
}

uint64_t ewz_index_bytes(uint64_t size)
{
	return Z_EROFS_MAP_HEADER_SIZE + FULL_RESERVED +
	       lclusters(size) * Z_EROFS_LCLUSTER_INDEX_SIZE;
}

void ewz_index_encode(const struct ewz_pcl *p, size_t n, uint64_t size,
		      bool big, unsigned disk_alg, uint8_t *out)
{
	uint64_t total = lclusters(size);
	uint8_t *idx = out + Z_EROFS_MAP_HEADER_SIZE + FULL_RESERVED;

	memset(out, 0, (size_t)ewz_index_bytes(size));
	put_le16(out + Z_EROFS_MAP_HEADER_OFF_ADVISE,
		 big ? Z_EROFS_ADVISE_BIG_PCLUSTER_1 : 0);
	out[Z_EROFS_MAP_HEADER_OFF_ALGORITHMTYPE] = (uint8_t)(disk_alg & 15);
	out[Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS] = 0;   /* lcluster = block */

	for (size_t k = 0; k < n; k++) {
		uint64_t h = p[k].la / EW_BLKSIZE;
		uint64_t hn = k + 1 < n ? p[k + 1].la / EW_BLKSIZE : total;
		uint8_t *e = idx + h * Z_EROFS_LCLUSTER_INDEX_SIZE;

		put_le16(e + Z_EROFS_LI_OFF_ADVISE,
			 p[k].plain ? Z_EROFS_LCLUSTER_TYPE_PLAIN
				    : Z_EROFS_LCLUSTER_TYPE_HEAD1);
		put_le16(e + Z_EROFS_LI_OFF_CLUSTEROFS,
			 (uint16_t)(p[k].la % EW_BLKSIZE));
		put_le32(e + Z_EROFS_LI_OFF_BLKADDR, p[k].blkaddr);
		for (uint64_t j = h + 1; j < hn; j++) {
			uint64_t d0 = j - h, d1 = hn - j;
			uint16_t v0;

			e = idx + j * Z_EROFS_LCLUSTER_INDEX_SIZE;
			if (d0 == 1 && big)
				v0 = (uint16_t)(Z_EROFS_LI_D0_CBLKCNT |
						p[k].blocks);
			else
				v0 = (uint16_t)(d0 > DELTA0_MAX ? DELTA0_MAX
								: d0);
			put_le16(e + Z_EROFS_LI_OFF_ADVISE,
				 Z_EROFS_LCLUSTER_TYPE_NONHEAD);
			put_le16(e + Z_EROFS_LI_OFF_DELTA0, v0);
			put_le16(e + Z_EROFS_LI_OFF_DELTA1,
				 (uint16_t)(d1 > UINT16_MAX ? UINT16_MAX : d1));
		}
	}
}
