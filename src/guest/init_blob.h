/* SPDX-License-Identifier: MIT */
/*
 * init_blob.h — the guest init (src/guest/init.c, a static executable)
 * embedded in storedisk, so that vmcheck writes it into the initramfs
 * without looking for a file.  The definition is generated at build time
 * (src/guest/embed.py, meson's guest_init_dep) from the executable's
 * bytes, which it holds unchanged.
 */
#ifndef SD_GUEST_INIT_BLOB_H
#define SD_GUEST_INIT_BLOB_H

#include <stddef.h>

/* The bytes of the guest's /init, and how many there are. */
extern const unsigned char sd_guest_init[];
extern const size_t sd_guest_init_len;

#endif
