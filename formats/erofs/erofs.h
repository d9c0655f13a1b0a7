/* SPDX-License-Identifier: MIT */
/*
 * erofs.h — the EROFS module's entry in the format registry.
 *
 * EROFS is written and read natively (erofs-utils ships no library):
 * formats/erofs/erofs_disk.h describes the on-disk layout, writer.h the
 * writer, reader.h the reader.
 */
#ifndef SD_FORMATS_EROFS_EROFS_H
#define SD_FORMATS_EROFS_EROFS_H

#include "formats/format.h"

extern const struct sd_format sd_format_erofs;

#endif
