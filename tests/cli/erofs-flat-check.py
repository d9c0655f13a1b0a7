#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""erofs-flat-check.py IMAGE [--gain]: check the layout rules of an
uncompressed storedisk EROFS image (formats/erofs/writer.h) by reading its
on-disk structures (EROFS format: superblock at byte 1024, 32/64-byte
inodes at nid * 32, 12-byte dirents; Linux fs/erofs/erofs_fs.h):

  - no inode crosses a block, an inline tail lies in its inode's block,
    no two records (inode + chunk map or tail) overlap;
  - every directory and long-symlink block lies before every file block;
  - the metadata area takes no more blocks than the old sequential layout
    (each record at the next 32-byte slot, a new block when its inode and
    inline tail do not fit) of the same records in tree pre-order; with --gain, fewer.
Prints the block counts; exit 1 with the first broken rule."""
import struct
import sys

BLK = 4096


def main():
    img = open(sys.argv[1], "rb").read()
    gain = "--gain" in sys.argv[2:]
    magic, = struct.unpack_from("<I", img, 1024)
    if magic != 0xE0F5E1E2:
        sys.exit("not EROFS")
    root, = struct.unpack_from("<H", img, 1024 + 14)
    meta_blk, = struct.unpack_from("<I", img, 1024 + 40)
    base = meta_blk * BLK
    recs = []        # (offset, length, inode + tail) in pre-order
    dirblocks, fileblocks = [], []

    def inode(nid):
        off = base + nid * 32
        fmt, = struct.unpack_from("<H", img, off)
        ext = fmt & 1
        layout = (fmt >> 1) & 7
        mode, = struct.unpack_from("<H", img, off + 4)
        if ext:
            size, = struct.unpack_from("<Q", img, off + 8)
        else:
            size, = struct.unpack_from("<I", img, off + 8)
        u, = struct.unpack_from("<I", img, off + 16)
        return off, 64 if ext else 32, layout, mode, size, u

    def visit(nid):
        off, isize, layout, mode, size, u = inode(nid)
        kind = mode & 0o170000
        tail, extra, blocks = 0, 0, []
        if layout == 2:                      # FLAT_INLINE
            tail = size % BLK
            blocks = list(range(u, u + size // BLK))
        elif layout == 0:                    # FLAT_PLAIN
            blocks = list(range(u, u + (size + BLK - 1) // BLK))
        elif layout == 4:                    # CHUNK_BASED, block map
            fmtc = u & 0xFFFF
            if fmtc & 0x20:
                sys.exit("nid %d: 8-byte chunk indexes not expected" % nid)
            csize = BLK << (fmtc & 0x1F)
            n = (size + csize - 1) // csize
            extra = 4 * n
            for c in range(n):
                a, = struct.unpack_from("<I", img, off + isize + 4 * c)
                if a != 0xFFFFFFFF:
                    clen = min(csize, size - c * csize)
                    blocks += range(a, a + (clen + BLK - 1) // BLK)
        else:
            sys.exit("nid %d: layout %d in an uncompressed image"
                     % (nid, layout))
        inblk = off % BLK
        if inblk + isize > BLK:
            sys.exit("nid %d: inode crosses a block" % nid)
        if tail and inblk + isize + tail > BLK:
            sys.exit("nid %d: inline tail leaves its inode's block" % nid)
        recs.append((off, isize + tail + extra, isize + tail))
        (fileblocks if kind == 0o100000 else dirblocks).extend(blocks)
        if kind != 0o040000:
            return
        data = b"".join(img[b * BLK:(b + 1) * BLK] for b in
                        range(u, u + size // BLK)) if layout == 2 else \
            b"".join(img[b * BLK:(b + 1) * BLK] for b in blocks)
        if tail:
            data += img[off + isize:off + isize + tail]
        data = data[:size]
        for b0 in range(0, size, BLK):
            blk = data[b0:b0 + BLK]
            n = struct.unpack_from("<H", blk, 8)[0] // 12
            ents = [struct.unpack_from("<QHB", blk, 12 * i) for i in range(n)]
            for i, (cnid, noff, _) in enumerate(ents):
                end = ents[i + 1][1] if i + 1 < n else len(blk)
                name = blk[noff:end].split(b"\0")[0]
                if name not in (b".", b".."):
                    visit(cnid)

    visit(root)
    ordered = sorted(recs)
    for (a, la, _), (b, _, _) in zip(ordered, ordered[1:]):
        if a + la > b:
            sys.exit("records at %d and %d overlap" % (a, b))
    if dirblocks and fileblocks and max(dirblocks) > min(fileblocks):
        sys.exit("a directory or symlink block (%d) lies after file data "
                 "(%d)" % (max(dirblocks), min(fileblocks)))
    packed = (max(a + la for a, la, _ in recs) - base + BLK - 1) // BLK
    pos = recs[0][0] - base
    for off, length, need in recs:
        p = (pos + 31) & ~31
        if p % BLK + need > BLK:
            p += BLK - p % BLK
        pos = p + length
    seq = (pos + BLK - 1) // BLK
    print("inodes %d, metadata blocks %d, sequential layout %d"
          % (len(recs), packed, seq))
    if packed > seq or (gain and packed >= seq):
        sys.exit("the metadata area is not smaller than the sequential one")


main()
