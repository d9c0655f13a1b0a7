/* SPDX-License-Identifier: MIT */
/*
 * init_blob.h — the guest init (src/guest/init.c, a static executable)
 * embedded in storedisk, so that vmcheck writes it into the initramfs
 * without looking for a file.  The definitions are generated at build
 * time (src/guest/embed.py, meson's guest_init_dep) from the executables'
 * bytes, which they hold unchanged: the host's own init, and one for each
 * other architecture whose cross compiler the build found
 * (src/guest/meson.build).
 */
#ifndef SD_GUEST_INIT_BLOB_H
#define SD_GUEST_INIT_BLOB_H

#include <stddef.h>

/* The bytes of the host architecture's /init, and how many there are. */
extern const unsigned char sd_guest_init[];
extern const size_t sd_guest_init_len;

/* One embedded init: its architecture (uname -m: "x86_64", "aarch64")
 * and its bytes. */
struct sd_guest_init_blob {
	const char *arch;
	const unsigned char *data;
	size_t len;
};

/* Every embedded init, the host's first (the same bytes as
 * sd_guest_init); at least one. */
extern const struct sd_guest_init_blob sd_guest_inits[];
extern const size_t sd_guest_inits_n;

#endif
