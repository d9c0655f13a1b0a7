/* SPDX-License-Identifier: MIT */
/*
 * erofs_disk.h — the EROFS on-disk format, as byte offsets.
 *
 * Our own description of the format the Linux kernel reads (fs/erofs/,
 * Documentation/filesystems/erofs.rst).  Every structure is given as a set
 * of field offsets (relative to the start of the structure) and field
 * sizes; code reads and writes fields with get_le16/32/64 and put_le16/32/64 from
 * src/core/le.h at those offsets.  All multi-byte integers on
 * disk are little-endian.  The _Static_asserts at the end check that the
 * fields of every structure are contiguous and add up to its size.
 *
 * Image layout in general:
 *
 *   byte 0     ... 1023   free (boot sector etc.), zero in our images
 *   byte 1024  ...        superblock (128 bytes + sb_extslots * 16),
 *                         then, with INCOMPAT_COMPR_CFGS, the compression
 *                         configuration records (see Z_EROFS_CFGS_*)
 *   block meta_blkaddr    the metadata area: inodes, each aligned to 32
 *                         bytes, each followed by its inline xattrs, its
 *                         (compressed) block map and its inline tail data
 *   block xattr_blkaddr   shared xattrs (unused when 0 and no xattrs)
 *   other blocks          file, directory and symlink data
 *
 * Addresses: a "blkaddr" is a block number (byte offset >> blkszbits).
 * A "nid" (inode number on disk) locates an inode:
 *
 *   inode byte offset = meta_blkaddr * block size + nid * 32
 *   nid = (inode byte offset - meta_blkaddr * block size) / 32
 *
 * so every inode starts on a 32-byte boundary (EROFS_ISLOT_SIZE).
 *
 * Inline data ("tail packing", datalayout FLAT_INLINE): the last partial
 * block of an inode's data follows the inode (and its xattrs) directly in
 * the metadata area.  The kernel requires that this tail does not cross a
 * block boundary: (inode offset + inode size + xattr size) % block size +
 * tail size <= block size.
 */
#ifndef SD_FORMATS_EROFS_EROFS_DISK_H
#define SD_FORMATS_EROFS_EROFS_DISK_H

/* The tables below are aligned by hand, comments continued under them. */
/* clang-format off */

#include <stdint.h>

#include "core/le.h"

/* ------------------------------------------------------------------ */
/* Geometry                                                            */

#define EROFS_SUPER_OFFSET 1024     /* byte offset of the superblock */
#define EROFS_SUPER_MAGIC_V1 0xE0F5E1E2u
#define EROFS_ISLOT_BITS 5          /* inodes are aligned to 32 bytes */
#define EROFS_ISLOT_SIZE 32
#define EROFS_NAME_LEN 255          /* longest entry name */
#define EROFS_BLKSZBITS_MIN 9       /* 512-byte blocks */
#define EROFS_BLKSZBITS_MAX 16      /* 64 KiB blocks (kernel: <= PAGE) */
#define EROFS_NULL_ADDR 0xFFFFFFFFu /* chunk blkaddr of a hole (-1) */

/* ------------------------------------------------------------------ */
/* Superblock: 128 bytes at byte 1024 (offsets relative to 1024)       */

#define EROFS_SB_OFF_MAGIC 0              /* u32 EROFS_SUPER_MAGIC_V1 */
#define EROFS_SB_OFF_CHECKSUM 4           /* u32 crc32c, see below */
#define EROFS_SB_OFF_FEATURE_COMPAT 8     /* u32 EROFS_FEATURE_COMPAT_* */
#define EROFS_SB_OFF_BLKSZBITS 12         /* u8 log2(block size) */
#define EROFS_SB_OFF_SB_EXTSLOTS 13       /* u8 sb size = 128 + n * 16 */
#define EROFS_SB_OFF_ROOT_NID 14          /* u16 nid of the root dir */
#define EROFS_SB_OFF_INOS 16              /* u64 inode count (statfs) */
#define EROFS_SB_OFF_BUILD_TIME 24        /* u64 seconds: compact inode
					     time */
#define EROFS_SB_OFF_BUILD_TIME_NSEC 32   /* u32 nanoseconds of that */
#define EROFS_SB_OFF_BLOCKS 36            /* u32 blocks in the image
					     (statfs) */
#define EROFS_SB_OFF_META_BLKADDR 40      /* u32 start of the metadata
					     area (nid 0) */
#define EROFS_SB_OFF_XATTR_BLKADDR 44     /* u32 start of shared xattrs */
#define EROFS_SB_OFF_UUID 48              /* u8[16] volume UUID */
#define EROFS_SB_OFF_VOLUME_NAME 64       /* u8[16] label, NUL-padded
					     (not NUL-terminated at 16) */
#define EROFS_SB_OFF_FEATURE_INCOMPAT 80  /* u32 EROFS_FEATURE_INCOMPAT_* */
#define EROFS_SB_OFF_U1 84                /* u16 union:
					     available_compr_algs (bitmap
					     of Z_EROFS_COMPRESSION_*) with
					     INCOMPAT_COMPR_CFGS, else
					     lz4_max_distance (0: 64 KiB) */
#define EROFS_SB_OFF_EXTRA_DEVICES 86     /* u16 devices besides primary */
#define EROFS_SB_OFF_DEVT_SLOTOFF 88      /* u16 device table at byte
					     devt_slotoff * 128 */
#define EROFS_SB_OFF_DIRBLKBITS 90        /* u8 dir block bits - blkszbits
					     (0: dir blocks = blocks) */
#define EROFS_SB_OFF_XATTR_PREFIX_COUNT 91 /* u8 long xattr prefixes */
#define EROFS_SB_OFF_XATTR_PREFIX_START 92 /* u32 where they start (in
					      the packed inode, * 4) */
#define EROFS_SB_OFF_PACKED_NID 96        /* u64 nid of the packed inode
					     (fragments), 0 if none */
#define EROFS_SB_OFF_XATTR_FILTER_RESERVED 104 /* u8 reserved, 0 */
#define EROFS_SB_OFF_RESERVED2 105        /* u8[23] reserved, 0 */
#define EROFS_SB_SIZE 128
#define EROFS_SB_EXTSLOT_SIZE 16

#define EROFS_SB_UUID_SIZE 16
#define EROFS_SB_VOLUME_NAME_SIZE 16
#define EROFS_SB_RESERVED2_SIZE 23

/*
 * Superblock checksum (EROFS_FEATURE_COMPAT_SB_CHKSUM): CRC-32C (Castagnoli,
 * reflected polynomial 0x82F63B78) over the bytes from EROFS_SUPER_OFFSET
 * to the end of the first block (block size - 1024 bytes) with the
 * checksum field taken as zero.  The register starts at 0xFFFFFFFF and is
 * NOT inverted at the end (the kernel computes crc32c(~0, ...) and compares
 * it with the field as is), i.e. the stored value is the bitwise NOT of
 * the standard CRC-32C of those bytes.
 */
#define EROFS_SB_CHKSUM_SEED 0xFFFFFFFFu

/* Compatible features: a reader may ignore unknown ones. */
#define EROFS_FEATURE_COMPAT_SB_CHKSUM 0x00000001u
#define EROFS_FEATURE_COMPAT_MTIME 0x00000002u  /* i_mtime is meaningful in
						   compact inodes (newer
						   kernels) */
#define EROFS_FEATURE_COMPAT_XATTR_FILTER 0x00000004u

/* Incompatible features: a reader must refuse unknown ones. */
#define EROFS_FEATURE_INCOMPAT_ZERO_PADDING 0x00000001u /* (LZ4_0PADDING) */
#define EROFS_FEATURE_INCOMPAT_COMPR_CFGS 0x00000002u
#define EROFS_FEATURE_INCOMPAT_BIG_PCLUSTER 0x00000002u /* same bit */
#define EROFS_FEATURE_INCOMPAT_CHUNKED_FILE 0x00000004u
#define EROFS_FEATURE_INCOMPAT_DEVICE_TABLE 0x00000008u
#define EROFS_FEATURE_INCOMPAT_COMPR_HEAD2 0x00000008u  /* same bit */
#define EROFS_FEATURE_INCOMPAT_ZTAILPACKING 0x00000010u
#define EROFS_FEATURE_INCOMPAT_FRAGMENTS 0x00000020u
#define EROFS_FEATURE_INCOMPAT_DEDUPE 0x00000020u       /* same bit */
#define EROFS_FEATURE_INCOMPAT_XATTR_PREFIXES 0x00000040u
#define EROFS_FEATURE_INCOMPAT_48BIT 0x00000080u    /* 48-bit block addresses,
						       encoded extents (Linux
						       6.15; not read here) */
#define EROFS_FEATURE_INCOMPAT_METABOX 0x00000100u  /* metadata in a
						       compressed metabox inode
						       (Linux 6.17; not read
						       here) */
#define EROFS_ALL_FEATURE_INCOMPAT 0x0000007Fu  /* what this format
						   description reads */

/* ------------------------------------------------------------------ */
/* Device slot: 128 bytes each, table at devt_slotoff * 128            */

#define EROFS_DEVT_OFF_TAG 0              /* u8[64] digest etc. */
#define EROFS_DEVT_OFF_BLOCKS 64          /* u32 blocks of the device */
#define EROFS_DEVT_OFF_MAPPED_BLKADDR 68  /* u32 first mapped blkaddr */
#define EROFS_DEVT_OFF_RESERVED 72        /* u8[56] */
#define EROFS_DEVT_SLOT_SIZE 128
#define EROFS_DEVT_TAG_SIZE 64
#define EROFS_DEVT_RESERVED_SIZE 56

/* ------------------------------------------------------------------ */
/* Inodes                                                              */

/* i_format: bit 0 version (layout), bits 1-3 data layout. */
#define EROFS_I_VERSION_BIT 0
#define EROFS_I_VERSION_MASK 0x01
#define EROFS_I_DATALAYOUT_BIT 1
#define EROFS_I_DATALAYOUT_MASK 0x07
#define EROFS_I_ALL_BIT 4
#define EROFS_I_ALL 0x000F      /* bits a reader understands */

/* Version bit values. */
#define EROFS_INODE_LAYOUT_COMPACT 0   /* 32-byte inode */
#define EROFS_INODE_LAYOUT_EXTENDED 1  /* 64-byte inode */

/* Data layouts. */
#define EROFS_INODE_FLAT_PLAIN 0          /* data in blocks raw_blkaddr..,
					     no inline tail */
#define EROFS_INODE_COMPRESSED_FULL 1     /* compressed, full (8-byte)
					     lcluster indexes */
#define EROFS_INODE_FLAT_INLINE 2         /* whole blocks from raw_blkaddr,
					     last partial block inline
					     after the inode */
#define EROFS_INODE_COMPRESSED_COMPACT 3  /* compressed, compact indexes */
#define EROFS_INODE_CHUNK_BASED 4         /* chunk map after the inode */
#define EROFS_INODE_DATALAYOUT_MAX 5

/* i_format value for @version and @datalayout. */
static inline uint16_t erofs_i_format(unsigned version, unsigned datalayout)
{
	return (uint16_t)((version & EROFS_I_VERSION_MASK) <<
			  EROFS_I_VERSION_BIT |
			  (datalayout & EROFS_I_DATALAYOUT_MASK) <<
			  EROFS_I_DATALAYOUT_BIT);
}

/* The i_u union (4 bytes at inode offset 16 in both inode forms):
 *   raw_blkaddr        u32  FLAT_PLAIN / FLAT_INLINE: first data block
 *                           (ignored when the data is all inline)
 *   rdev               u32  character/block devices: new-style dev_t
 *   compressed_blocks  u32  compressed layouts: blocks used
 *   chunk info         u16 format (below) + u16 reserved: CHUNK_BASED */
#define EROFS_CHUNK_INFO_OFF_FORMAT 0
#define EROFS_CHUNK_INFO_OFF_RESERVED 2
#define EROFS_CHUNK_INFO_SIZE 4
#define EROFS_CHUNK_FORMAT_BLKBITS_MASK 0x001F /* chunk = block << bits */
#define EROFS_CHUNK_FORMAT_INDEXES 0x0020      /* 8-byte chunk indexes,
						  else 4-byte blkaddrs */
#define EROFS_CHUNK_FORMAT_ALL 0x003F

/* Compact inode: 32 bytes.  mtime = superblock build_time (+ i_mtime on
 * kernels knowing COMPAT_MTIME; we write 0 there). */
#define EROFS_IC_OFF_FORMAT 0        /* u16 i_format */
#define EROFS_IC_OFF_XATTR_ICOUNT 2  /* u16 inline xattr count, see below */
#define EROFS_IC_OFF_MODE 4          /* u16 type and permission bits */
#define EROFS_IC_OFF_NLINK 6         /* u16 link count */
#define EROFS_IC_OFF_SIZE 8          /* u32 size in bytes */
#define EROFS_IC_OFF_RESERVED 12     /* u32 0 (i_mtime delta with
					COMPAT_MTIME) */
#define EROFS_IC_OFF_U 16            /* u32 i_u union */
#define EROFS_IC_OFF_INO 20          /* u32 ino for 32-bit stat */
#define EROFS_IC_OFF_UID 24          /* u16 */
#define EROFS_IC_OFF_GID 26          /* u16 */
#define EROFS_IC_OFF_RESERVED2 28    /* u32 0 */
#define EROFS_INODE_COMPACT_SIZE 32

/* Extended inode: 64 bytes. */
#define EROFS_IE_OFF_FORMAT 0        /* u16 i_format */
#define EROFS_IE_OFF_XATTR_ICOUNT 2  /* u16 */
#define EROFS_IE_OFF_MODE 4          /* u16 */
#define EROFS_IE_OFF_RESERVED 6      /* u16 0 */
#define EROFS_IE_OFF_SIZE 8          /* u64 size in bytes */
#define EROFS_IE_OFF_U 16            /* u32 i_u union */
#define EROFS_IE_OFF_INO 20          /* u32 ino for 32-bit stat */
#define EROFS_IE_OFF_UID 24          /* u32 */
#define EROFS_IE_OFF_GID 28          /* u32 */
#define EROFS_IE_OFF_MTIME 32        /* u64 seconds */
#define EROFS_IE_OFF_MTIME_NSEC 40   /* u32 */
#define EROFS_IE_OFF_NLINK 44        /* u32 */
#define EROFS_IE_OFF_RESERVED2 48    /* u8[16] 0 */
#define EROFS_INODE_EXTENDED_SIZE 64
#define EROFS_IE_RESERVED2_SIZE 16

/* Type bits of i_mode (as POSIX S_IF*). */
#define EROFS_S_IFMT 0170000
#define EROFS_S_IFSOCK 0140000
#define EROFS_S_IFLNK 0120000
#define EROFS_S_IFREG 0100000
#define EROFS_S_IFBLK 0060000
#define EROFS_S_IFDIR 0040000
#define EROFS_S_IFCHR 0020000
#define EROFS_S_IFIFO 0010000

/* ------------------------------------------------------------------ */
/* Chunk-based data (datalayout CHUNK_BASED), after the inode + xattrs, */
/* aligned: 4-byte block map entries, or 8-byte indexes (aligned to 8) */

#define EROFS_BLOCK_MAP_ENTRY_SIZE 4   /* u32 blkaddr or EROFS_NULL_ADDR */
#define EROFS_CHUNK_INDEX_OFF_ADVISE 0     /* u16 0 */
#define EROFS_CHUNK_INDEX_OFF_DEVICE_ID 2  /* u16 device (0: primary) */
#define EROFS_CHUNK_INDEX_OFF_BLKADDR 4    /* u32 or EROFS_NULL_ADDR */
#define EROFS_CHUNK_INDEX_SIZE 8

/* ------------------------------------------------------------------ */
/* Extended attributes                                                 */

/*
 * i_xattr_icount n: 0 means no inline xattrs; else the inline xattr area
 * after the inode is 12 + (n - 1) * 4 bytes: an ibody header then entries.
 */
#define EROFS_XATTR_IBODY_OFF_NAME_FILTER 0   /* u32 bloom filter */
#define EROFS_XATTR_IBODY_OFF_SHARED_COUNT 4  /* u8 shared xattr ids */
#define EROFS_XATTR_IBODY_OFF_RESERVED2 5     /* u8[7] */
#define EROFS_XATTR_IBODY_HEADER_SIZE 12      /* then u32 shared ids */
#define EROFS_XATTR_IBODY_RESERVED2_SIZE 7

#define EROFS_XATTR_ENTRY_OFF_NAME_LEN 0    /* u8 */
#define EROFS_XATTR_ENTRY_OFF_NAME_INDEX 1  /* u8 EROFS_XATTR_INDEX_* */
#define EROFS_XATTR_ENTRY_OFF_VALUE_SIZE 2  /* u16 */
#define EROFS_XATTR_ENTRY_SIZE 4            /* then name, value; 4-aligned */

#define EROFS_XATTR_INDEX_USER 1
#define EROFS_XATTR_INDEX_POSIX_ACL_ACCESS 2
#define EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT 3
#define EROFS_XATTR_INDEX_TRUSTED 4
#define EROFS_XATTR_INDEX_LUSTRE 5
#define EROFS_XATTR_INDEX_SECURITY 6
#define EROFS_XATTR_LONG_PREFIX 0x80

/* Size of the inline xattr area for i_xattr_icount @icount. */
static inline uint32_t erofs_xattr_ibody_size(uint16_t icount)
{
	return icount ? EROFS_XATTR_IBODY_HEADER_SIZE + 4u * (icount - 1u)
		      : 0;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

/*
 * A directory's data is a sequence of directory blocks (block size each,
 * the last one possibly short and inline).  Each block starts with an
 * array of 12-byte dirents; the first dirent's nameoff is the array size
 * (so the entry count is nameoff0 / 12).  The names follow the array,
 * back to back and not NUL-terminated: name i runs from nameoff[i] to
 * nameoff[i+1] (or, for the last one, to the first NUL or the end of the
 * block / directory data).  Within a block entries are sorted by name
 * bytewise (memcmp, shorter first on a common prefix), and blocks follow
 * each other in that same order: the kernel binary-searches both.
 * "." and ".." are ordinary entries, sorted with the rest.
 */
#define EROFS_DIRENT_OFF_NID 0        /* u64 nid of the entry's inode */
#define EROFS_DIRENT_OFF_NAMEOFF 8    /* u16 offset of the name in block */
#define EROFS_DIRENT_OFF_FILE_TYPE 10 /* u8 EROFS_FT_* */
#define EROFS_DIRENT_OFF_RESERVED 11  /* u8 0 */
#define EROFS_DIRENT_SIZE 12

#define EROFS_FT_UNKNOWN 0
#define EROFS_FT_REG_FILE 1
#define EROFS_FT_DIR 2
#define EROFS_FT_CHRDEV 3
#define EROFS_FT_BLKDEV 4
#define EROFS_FT_FIFO 5
#define EROFS_FT_SOCK 6
#define EROFS_FT_SYMLINK 7
#define EROFS_FT_MAX 8

/* ------------------------------------------------------------------ */
/* Compression (not written yet; for the later compressed writer)      */

#define Z_EROFS_COMPRESSION_LZ4 0
#define Z_EROFS_COMPRESSION_LZMA 1
#define Z_EROFS_COMPRESSION_DEFLATE 2
#define Z_EROFS_COMPRESSION_ZSTD 3
#define Z_EROFS_COMPRESSION_MAX 4
#define Z_EROFS_ALL_COMPR_ALGS 0x000F

#define Z_EROFS_PCLUSTER_MAX_SIZE (1024 * 1024)      /* encoded */
#define Z_EROFS_PCLUSTER_MAX_DSIZE (12 * 1024 * 1024) /* decoded */

/*
 * With INCOMPAT_COMPR_CFGS, right after the superblock (byte 1024 + 128 +
 * sb_extslots * 16) comes one record per bit set in available_compr_algs,
 * lowest algorithm first: a u16 payload length then the payload below.
 */
#define Z_EROFS_CFGS_LEN_SIZE 2
/* LZ4, 14 bytes */
#define Z_EROFS_LZ4_CFGS_OFF_MAX_DISTANCE 0      /* u16 */
#define Z_EROFS_LZ4_CFGS_OFF_MAX_PCLUSTERBLKS 2  /* u16 */
#define Z_EROFS_LZ4_CFGS_OFF_RESERVED 4          /* u8[10] */
#define Z_EROFS_LZ4_CFGS_SIZE 14
/* LZMA (microLZMA), 14 bytes */
#define Z_EROFS_LZMA_CFGS_OFF_DICT_SIZE 0        /* u32 */
#define Z_EROFS_LZMA_CFGS_OFF_FORMAT 4           /* u16 */
#define Z_EROFS_LZMA_CFGS_OFF_RESERVED 6         /* u8[8] */
#define Z_EROFS_LZMA_CFGS_SIZE 14
#define Z_EROFS_LZMA_MAX_DICT_SIZE (8 * Z_EROFS_PCLUSTER_MAX_SIZE)
/* DEFLATE, 6 bytes */
#define Z_EROFS_DEFLATE_CFGS_OFF_WINDOWBITS 0    /* u8 8..15 */
#define Z_EROFS_DEFLATE_CFGS_OFF_RESERVED 1      /* u8[5] */
#define Z_EROFS_DEFLATE_CFGS_SIZE 6
/* Zstandard, 6 bytes */
#define Z_EROFS_ZSTD_CFGS_OFF_FORMAT 0           /* u8 */
#define Z_EROFS_ZSTD_CFGS_OFF_WINDOWLOG 1        /* u8 windowLog - 10 */
#define Z_EROFS_ZSTD_CFGS_OFF_RESERVED 2         /* u8[4] */
#define Z_EROFS_ZSTD_CFGS_SIZE 6

/*
 * Map header: 8 bytes at ALIGN(inode offset + inode size + xattr size, 8)
 * of a compressed inode; the lcluster indexes follow it.
 */
#define Z_EROFS_MAP_HEADER_OFF_FRAGMENTOFF 0  /* u32 (FRAGMENT_INODE) */
#define Z_EROFS_MAP_HEADER_OFF_RESERVED1 0    /* u16, else ... */
#define Z_EROFS_MAP_HEADER_OFF_IDATA_SIZE 2   /* u16 tail-packed size */
#define Z_EROFS_MAP_HEADER_OFF_ADVISE 4       /* u16 Z_EROFS_ADVISE_* */
#define Z_EROFS_MAP_HEADER_OFF_ALGORITHMTYPE 6 /* u8 bits 0-3 head1 alg,
						  4-7 head2 alg */
#define Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS 7  /* u8 bits 0-2 lcluster bits
						 - 12; bit 7 fragment inode */
#define Z_EROFS_MAP_HEADER_SIZE 8
#define Z_EROFS_FRAGMENT_INODE_BIT 7
/*
 * Fragments (INCOMPAT_FRAGMENTS with a non-zero superblock packed_nid):
 * file data stored inside the data of the "packed inode", a regular file
 * that no directory names.
 *   - whole-file fragment: bit 7 of h_clusterbits set; the map header as
 *     a u64 with bit 63 cleared is the byte offset of the file's data in
 *     the packed inode; no lcluster indexes follow.
 *   - tail fragment: ADVISE_FRAGMENT_PCLUSTER in h_advise; the last extent
 *     (the one ending at the file size) is stored in the packed inode from
 *     byte offset h_fragmentoff (u32 at header offset 0, which overlaps
 *     h_idata_size: a fragment file has no inline pcluster).  With full
 *     indexes the blkaddr field of the last extent's HEAD lcluster holds
 *     bits 32..63 of that offset.
 * The packed inode itself never has fragments.
 */
#define Z_EROFS_FRAGMENT_INODE_FLAG (1u << Z_EROFS_FRAGMENT_INODE_BIT)
#define Z_EROFS_FRAGMENT_WHOLE_OFF_MASK 0x7FFFFFFFFFFFFFFFull
#define Z_EROFS_CLUSTERBITS_MASK 0x0F  /* h_clusterbits bits 0-3: lcluster
					  bits - block bits (we read 0 only);
					  bits 4-6 are reserved */

#define Z_EROFS_ADVISE_COMPACTED_2B 0x0001   /* COMPRESSED_COMPACT only */
#define Z_EROFS_ADVISE_EXTENTS 0x0001        /* COMPRESSED_FULL only: encoded
						extent records instead of
						lcluster indexes (48BIT
						images, Linux 6.15) */
#define Z_EROFS_ADVISE_BIG_PCLUSTER_1 0x0002
#define Z_EROFS_ADVISE_BIG_PCLUSTER_2 0x0004
#define Z_EROFS_ADVISE_INLINE_PCLUSTER 0x0008
#define Z_EROFS_ADVISE_INTERLACED_PCLUSTER 0x0010
#define Z_EROFS_ADVISE_FRAGMENT_PCLUSTER 0x0020

/* Logical cluster types. */
#define Z_EROFS_LCLUSTER_TYPE_PLAIN 0    /* stored raw */
#define Z_EROFS_LCLUSTER_TYPE_HEAD1 1    /* head of a pcluster, alg 1 */
#define Z_EROFS_LCLUSTER_TYPE_NONHEAD 2  /* continues a pcluster */
#define Z_EROFS_LCLUSTER_TYPE_HEAD2 3    /* head of a pcluster, alg 2 */
#define Z_EROFS_LCLUSTER_TYPE_MAX 4
#define Z_EROFS_LI_LCLUSTER_TYPE_MASK 0x0003
#define Z_EROFS_LI_PARTIAL_REF 0x8000  /* (full, HEAD) partial decompress */
#define Z_EROFS_LI_D0_CBLKCNT 0x0800   /* 1st NONHEAD: delta[0] is the
					  pcluster's block count */

/* Full lcluster index (COMPRESSED_FULL), 8 bytes per logical cluster. */
#define Z_EROFS_LI_OFF_ADVISE 0      /* u16 type | flags */
#define Z_EROFS_LI_OFF_CLUSTEROFS 2  /* u16 decompressed offset in lcluster */
#define Z_EROFS_LI_OFF_BLKADDR 4     /* u32 HEAD: pcluster blkaddr */
#define Z_EROFS_LI_OFF_DELTA0 4      /* u16 NONHEAD: lclusters to head */
#define Z_EROFS_LI_OFF_DELTA1 6      /* u16 NONHEAD: to the next head */
#define Z_EROFS_LCLUSTER_INDEX_SIZE 8

/*
 * Compact indexes (COMPRESSED_COMPACT), starting after the map header at
 * ebase = ALIGN(inode offset + inode size + xattr size, 8) + 8:
 *   - first, compacted_4b_initial = ((32 - ebase % 32) / 4) & 7 lclusters
 *     in 4-byte form (so that what follows is 32-byte aligned);
 *   - then, with ADVISE_COMPACTED_2B, rounddown(remaining, 16) lclusters
 *     in 2-byte form;
 *   - then the rest in 4-byte form.
 * A 4B pack covers 2 lclusters in 8 bytes, a 2B pack 16 lclusters in 32
 * bytes.  Each pack ends with a u32 blkaddr; the bytes before it hold one
 * bitfield per lcluster of encodebits = (pack bytes - 4) * 8 / lclusters
 * bits (16 for 4B, 14 for 2B): the low lclusterbits bits are clusterofs
 * (or delta for NONHEAD), the next 2 bits the lcluster type.
 */
#define Z_EROFS_COMPACT_4B_PACK_SIZE 8
#define Z_EROFS_COMPACT_4B_PACK_LCLUSTERS 2
#define Z_EROFS_COMPACT_2B_PACK_SIZE 32
#define Z_EROFS_COMPACT_2B_PACK_LCLUSTERS 16

/* ------------------------------------------------------------------ */
/* Layout checks: every structure's fields are contiguous and add up.  */

_Static_assert(EROFS_SB_OFF_CHECKSUM == EROFS_SB_OFF_MAGIC + 4, "sb");
_Static_assert(EROFS_SB_OFF_FEATURE_COMPAT == EROFS_SB_OFF_CHECKSUM + 4,
	       "sb");
_Static_assert(EROFS_SB_OFF_BLKSZBITS == EROFS_SB_OFF_FEATURE_COMPAT + 4,
	       "sb");
_Static_assert(EROFS_SB_OFF_SB_EXTSLOTS == EROFS_SB_OFF_BLKSZBITS + 1, "sb");
_Static_assert(EROFS_SB_OFF_ROOT_NID == EROFS_SB_OFF_SB_EXTSLOTS + 1, "sb");
_Static_assert(EROFS_SB_OFF_INOS == EROFS_SB_OFF_ROOT_NID + 2, "sb");
_Static_assert(EROFS_SB_OFF_BUILD_TIME == EROFS_SB_OFF_INOS + 8, "sb");
_Static_assert(EROFS_SB_OFF_BUILD_TIME_NSEC == EROFS_SB_OFF_BUILD_TIME + 8,
	       "sb");
_Static_assert(EROFS_SB_OFF_BLOCKS == EROFS_SB_OFF_BUILD_TIME_NSEC + 4,
	       "sb");
_Static_assert(EROFS_SB_OFF_META_BLKADDR == EROFS_SB_OFF_BLOCKS + 4, "sb");
_Static_assert(EROFS_SB_OFF_XATTR_BLKADDR == EROFS_SB_OFF_META_BLKADDR + 4,
	       "sb");
_Static_assert(EROFS_SB_OFF_UUID == EROFS_SB_OFF_XATTR_BLKADDR + 4, "sb");
_Static_assert(EROFS_SB_OFF_VOLUME_NAME ==
	       EROFS_SB_OFF_UUID + EROFS_SB_UUID_SIZE, "sb");
_Static_assert(EROFS_SB_OFF_FEATURE_INCOMPAT ==
	       EROFS_SB_OFF_VOLUME_NAME + EROFS_SB_VOLUME_NAME_SIZE, "sb");
_Static_assert(EROFS_SB_OFF_U1 == EROFS_SB_OFF_FEATURE_INCOMPAT + 4, "sb");
_Static_assert(EROFS_SB_OFF_EXTRA_DEVICES == EROFS_SB_OFF_U1 + 2, "sb");
_Static_assert(EROFS_SB_OFF_DEVT_SLOTOFF == EROFS_SB_OFF_EXTRA_DEVICES + 2,
	       "sb");
_Static_assert(EROFS_SB_OFF_DIRBLKBITS == EROFS_SB_OFF_DEVT_SLOTOFF + 2,
	       "sb");
_Static_assert(EROFS_SB_OFF_XATTR_PREFIX_COUNT ==
	       EROFS_SB_OFF_DIRBLKBITS + 1, "sb");
_Static_assert(EROFS_SB_OFF_XATTR_PREFIX_START ==
	       EROFS_SB_OFF_XATTR_PREFIX_COUNT + 1, "sb");
_Static_assert(EROFS_SB_OFF_PACKED_NID ==
	       EROFS_SB_OFF_XATTR_PREFIX_START + 4, "sb");
_Static_assert(EROFS_SB_OFF_XATTR_FILTER_RESERVED ==
	       EROFS_SB_OFF_PACKED_NID + 8, "sb");
_Static_assert(EROFS_SB_OFF_RESERVED2 ==
	       EROFS_SB_OFF_XATTR_FILTER_RESERVED + 1, "sb");
_Static_assert(EROFS_SB_OFF_RESERVED2 + EROFS_SB_RESERVED2_SIZE ==
	       EROFS_SB_SIZE, "superblock is 128 bytes");

_Static_assert(EROFS_DEVT_OFF_BLOCKS == EROFS_DEVT_TAG_SIZE, "devt");
_Static_assert(EROFS_DEVT_OFF_MAPPED_BLKADDR == EROFS_DEVT_OFF_BLOCKS + 4,
	       "devt");
_Static_assert(EROFS_DEVT_OFF_RESERVED == EROFS_DEVT_OFF_MAPPED_BLKADDR + 4,
	       "devt");
_Static_assert(EROFS_DEVT_OFF_RESERVED + EROFS_DEVT_RESERVED_SIZE ==
	       EROFS_DEVT_SLOT_SIZE, "device slot is 128 bytes");

_Static_assert(EROFS_IC_OFF_XATTR_ICOUNT == EROFS_IC_OFF_FORMAT + 2, "ic");
_Static_assert(EROFS_IC_OFF_MODE == EROFS_IC_OFF_XATTR_ICOUNT + 2, "ic");
_Static_assert(EROFS_IC_OFF_NLINK == EROFS_IC_OFF_MODE + 2, "ic");
_Static_assert(EROFS_IC_OFF_SIZE == EROFS_IC_OFF_NLINK + 2, "ic");
_Static_assert(EROFS_IC_OFF_RESERVED == EROFS_IC_OFF_SIZE + 4, "ic");
_Static_assert(EROFS_IC_OFF_U == EROFS_IC_OFF_RESERVED + 4, "ic");
_Static_assert(EROFS_IC_OFF_INO == EROFS_IC_OFF_U + 4, "ic");
_Static_assert(EROFS_IC_OFF_UID == EROFS_IC_OFF_INO + 4, "ic");
_Static_assert(EROFS_IC_OFF_GID == EROFS_IC_OFF_UID + 2, "ic");
_Static_assert(EROFS_IC_OFF_RESERVED2 == EROFS_IC_OFF_GID + 2, "ic");
_Static_assert(EROFS_IC_OFF_RESERVED2 + 4 == EROFS_INODE_COMPACT_SIZE,
	       "compact inode is 32 bytes");
_Static_assert(EROFS_INODE_COMPACT_SIZE == EROFS_ISLOT_SIZE, "islot");

_Static_assert(EROFS_IE_OFF_XATTR_ICOUNT == EROFS_IE_OFF_FORMAT + 2, "ie");
_Static_assert(EROFS_IE_OFF_MODE == EROFS_IE_OFF_XATTR_ICOUNT + 2, "ie");
_Static_assert(EROFS_IE_OFF_RESERVED == EROFS_IE_OFF_MODE + 2, "ie");
_Static_assert(EROFS_IE_OFF_SIZE == EROFS_IE_OFF_RESERVED + 2, "ie");
_Static_assert(EROFS_IE_OFF_U == EROFS_IE_OFF_SIZE + 8, "ie");
_Static_assert(EROFS_IE_OFF_INO == EROFS_IE_OFF_U + 4, "ie");
_Static_assert(EROFS_IE_OFF_UID == EROFS_IE_OFF_INO + 4, "ie");
_Static_assert(EROFS_IE_OFF_GID == EROFS_IE_OFF_UID + 4, "ie");
_Static_assert(EROFS_IE_OFF_MTIME == EROFS_IE_OFF_GID + 4, "ie");
_Static_assert(EROFS_IE_OFF_MTIME_NSEC == EROFS_IE_OFF_MTIME + 8, "ie");
_Static_assert(EROFS_IE_OFF_NLINK == EROFS_IE_OFF_MTIME_NSEC + 4, "ie");
_Static_assert(EROFS_IE_OFF_RESERVED2 == EROFS_IE_OFF_NLINK + 4, "ie");
_Static_assert(EROFS_IE_OFF_RESERVED2 + EROFS_IE_RESERVED2_SIZE ==
	       EROFS_INODE_EXTENDED_SIZE, "extended inode is 64 bytes");
_Static_assert(EROFS_IC_OFF_U == EROFS_IE_OFF_U, "i_u at the same offset");

_Static_assert(EROFS_CHUNK_INFO_OFF_RESERVED + 2 == EROFS_CHUNK_INFO_SIZE,
	       "chunk info is 4 bytes");
_Static_assert(EROFS_CHUNK_INDEX_OFF_BLKADDR + 4 == EROFS_CHUNK_INDEX_SIZE,
	       "chunk index is 8 bytes");
_Static_assert(EROFS_CHUNK_INDEX_SIZE == Z_EROFS_LCLUSTER_INDEX_SIZE,
	       "both index forms are 8 bytes");

_Static_assert(EROFS_XATTR_IBODY_OFF_RESERVED2 +
	       EROFS_XATTR_IBODY_RESERVED2_SIZE ==
	       EROFS_XATTR_IBODY_HEADER_SIZE, "xattr ibody header is 12");
_Static_assert(EROFS_XATTR_ENTRY_OFF_VALUE_SIZE + 2 == EROFS_XATTR_ENTRY_SIZE,
	       "xattr entry is 4 bytes");

_Static_assert(EROFS_DIRENT_OFF_NAMEOFF == EROFS_DIRENT_OFF_NID + 8, "de");
_Static_assert(EROFS_DIRENT_OFF_FILE_TYPE == EROFS_DIRENT_OFF_NAMEOFF + 2,
	       "de");
_Static_assert(EROFS_DIRENT_OFF_RESERVED == EROFS_DIRENT_OFF_FILE_TYPE + 1,
	       "de");
_Static_assert(EROFS_DIRENT_OFF_RESERVED + 1 == EROFS_DIRENT_SIZE,
	       "dirent is 12 bytes");

_Static_assert(Z_EROFS_LZ4_CFGS_OFF_RESERVED + 10 == Z_EROFS_LZ4_CFGS_SIZE,
	       "lz4 cfgs are 14 bytes");
_Static_assert(Z_EROFS_LZMA_CFGS_OFF_RESERVED + 8 == Z_EROFS_LZMA_CFGS_SIZE,
	       "lzma cfgs are 14 bytes");
_Static_assert(Z_EROFS_DEFLATE_CFGS_OFF_RESERVED + 5 ==
	       Z_EROFS_DEFLATE_CFGS_SIZE, "deflate cfgs are 6 bytes");
_Static_assert(Z_EROFS_ZSTD_CFGS_OFF_RESERVED + 4 == Z_EROFS_ZSTD_CFGS_SIZE,
	       "zstd cfgs are 6 bytes");
_Static_assert(Z_EROFS_MAP_HEADER_OFF_IDATA_SIZE + 2 ==
	       Z_EROFS_MAP_HEADER_OFF_ADVISE, "map header");
_Static_assert(Z_EROFS_MAP_HEADER_OFF_FRAGMENTOFF + 4 ==
	       Z_EROFS_MAP_HEADER_OFF_ADVISE, "h_fragmentoff is a u32");
_Static_assert((uint64_t)Z_EROFS_FRAGMENT_INODE_FLAG << 56 ==
	       ~Z_EROFS_FRAGMENT_WHOLE_OFF_MASK, "bit 7 of h_clusterbits is "
	       "bit 63 of the header");
_Static_assert(Z_EROFS_MAP_HEADER_OFF_ALGORITHMTYPE ==
	       Z_EROFS_MAP_HEADER_OFF_ADVISE + 2, "map header");
_Static_assert(Z_EROFS_MAP_HEADER_OFF_CLUSTERBITS + 1 ==
	       Z_EROFS_MAP_HEADER_SIZE, "map header is 8 bytes");
_Static_assert(Z_EROFS_LI_OFF_DELTA1 + 2 == Z_EROFS_LCLUSTER_INDEX_SIZE,
	       "lcluster index is 8 bytes");
_Static_assert(Z_EROFS_LI_OFF_BLKADDR + 4 == Z_EROFS_LCLUSTER_INDEX_SIZE,
	       "lcluster index is 8 bytes");

/* clang-format on */

#endif
