/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c — table-driven CRC-32C (reflected polynomial 0x82F63B78).
 */
#include "formats/erofs/crc32c.h"

#include <pthread.h>

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t r = i;

		for (int k = 0; k < 8; k++)
			r = (r & 1) ? (r >> 1) ^ 0x82F63B78u : r >> 1;
		table[i] = r;
	}
}

uint32_t sd_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&table_once, table_init);
	while (len--)
		crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc;
}
