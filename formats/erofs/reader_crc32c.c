/*
 * reader_crc32c.c — CRC-32C (Castagnoli), table-driven, for the EROFS
 * superblock checksum (see reader_int.h).
 */
#include "formats/erofs/reader_int.h"

#include <pthread.h>

#define CRC32C_POLY 0x82F63B78u /* reflected 0x1EDC6F41 */

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[i] = c;
	}
}

uint32_t sd_erofs_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	pthread_once(&table_once, build_table);
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return crc;
}
