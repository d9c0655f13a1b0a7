/* SPDX-License-Identifier: MIT */
/*
 * lz4fast.h — an LZ4 block compressor whose output equals liblz4 1.9.4's
 * fast compressor on x86_64, on every host (issue 13).
 *
 * Why it exists: liblz4's fast match finder hashes the input read as
 * host-order integers (LZ4_hash4 of LZ4_read32, LZ4_hash5 of
 * LZ4_read_ARCH), and 32-bit hosts use a pointer table with LZ4_hash4
 * instead of the 64-bit LZ4_hash5 for inputs of 64 KiB and more.  A
 * big-endian or 32-bit host therefore finds other match candidates and
 * writes other (valid) bytes, and an lz4 image would depend on the host
 * that packed it.  This compressor reads the input only through explicit
 * little-endian loads and always takes liblz4's 64-bit little-endian
 * paths, so it writes what liblz4 1.9.4 writes on x86_64, wherever it
 * runs.  tests/formats/test_lz4fast.c and tests/fuzz/fuzz_lz4fast.c
 * compare the two byte for byte.
 *
 * The source followed: liblz4 1.9.4 lib/lz4.c, LZ4_compress_generic and
 * LZ4_compress_generic_validated with a freshly initialised state, no
 * dictionary, acceleration 1, LZ4_MEMORY_USAGE 14 (the defaults), and:
 *  - inputs below LZ4_64Klimit (64 KiB + 11 bytes): the byU16 table
 *    (8192 16-bit positions, LZ4_hash4 of 4 bytes, hash log 13);
 *  - larger inputs: the byU32 table (4096 32-bit positions, LZ4_hash5 of
 *    the low 5 bytes of an 8-byte load, hash log 12) with the 65535-byte
 *    distance limit.
 * Only the output is reproduced, not liblz4's code: the data layout and
 * control flow here are our own.
 *
 * Sizes are ints as in liblz4, so that each entry point is a drop-in
 * replacement with exactly liblz4's results for every argument.
 * Neither function allocates, and both are thread-safe (the 16 KiB hash
 * table lives on the stack).
 */
#ifndef SD_FORMATS_CODEC_LZ4FAST_H
#define SD_FORMATS_CODEC_LZ4FAST_H

#include <stdbool.h>
#include <stdint.h>

/* liblz4's LZ4_MAX_INPUT_SIZE: larger (or negative) sizes give 0. */
#define SD_LZ4FAST_MAX_INPUT 0x7E000000

/*
 * True when liblz4's fast compressor cannot be trusted to write the
 * reference bytes on this host, i.e. unless the host is little-endian with
 * 64-bit pointers (x86_64, aarch64, ppc64le, riscv64: liblz4's own code
 * paths there are the ones this file follows).  The writers (squashfs
 * comp.c, EROFS zcomp_lz4.c) then call sd_lz4fast_* instead of
 * LZ4_compress_default / LZ4_compress_destSize.  A compile-time fact;
 * building with -DSD_LZ4FAST_FORCE makes it true everywhere (tests).
 */
static inline bool sd_lz4fast_needed(void)
{
#if defined(SD_LZ4FAST_FORCE)
	return true;
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
	UINTPTR_MAX > 0xffffffff
	return false;
#else
	return true;
#endif
}

/*
 * liblz4's LZ4_compressBound: the largest compressed size of @srcsize
 * bytes (srcsize + srcsize/255 + 16), 0 for sizes above
 * SD_LZ4FAST_MAX_INPUT or negative.
 */
int sd_lz4fast_bound(int srcsize);

/*
 * LZ4_compress_default(src, dst, srcsize, dstcap) of liblz4 1.9.4:
 * compress the @srcsize bytes at @src into one LZ4 block at @dst, whose
 * capacity is @dstcap bytes.  With dstcap >= sd_lz4fast_bound(srcsize)
 * this always succeeds; with less, liblz4's limitedOutput margins apply
 * and 0 is returned when the block does not fit (@dst may then hold
 * partial output).  Returns the block's size in bytes, or 0 (no fit,
 * srcsize negative or above SD_LZ4FAST_MAX_INPUT).  An empty input gives
 * the one-byte block 0x00 when dstcap >= 1.
 */
int sd_lz4fast_compress_default(const uint8_t *src, uint8_t *dst, int srcsize,
				int dstcap);

/*
 * LZ4_compress_destSize(src, dst, &srcsize, target) of liblz4 1.9.4:
 * compress as much of the *@srcsize bytes at @src as fits in one block of
 * at most @target bytes at @dst (liblz4's fillOutput mode; with target >=
 * sd_lz4fast_bound(*srcsize), plain compression of everything).  Returns
 * the block's size and sets *@srcsize to the number of input bytes it
 * holds; returns 0 and leaves *@srcsize alone when nothing can be written
 * (target < 1, bad size).
 */
int sd_lz4fast_compress_destsize(const uint8_t *src, uint8_t *dst, int *srcsize,
				 int target);

#endif
