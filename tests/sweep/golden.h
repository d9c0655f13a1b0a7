/* SPDX-License-Identifier: MIT */
/*
 * golden.h — the store the corruption sweep packs, and its golden images.
 *
 * Four store paths (a library with a 72-entry directory of symlinks with long names, a
 * program referencing it, a store path that is a single file and one that
 * is a symlink) with compressible text, incompressible noise, a hole of
 * zeros, a duplicated file, an empty file and a long symlink, so that
 * every structure of both formats occurs: data and fragment blocks,
 * multi-block directories and directory indexes, inline tails, cluster
 * and chunk indexes, deduplicated blocks.  Contents are made by a fixed
 * PRNG, so the images are the same on every run.
 */
#ifndef SD_TESTS_SWEEP_GOLDEN_H
#define SD_TESTS_SWEEP_GOLDEN_H

#include <stdint.h>

/* Image paths (relative to the image root) of every regular file. */
extern const char *const sw_golden_files[];

/* splitmix64 step: the next pseudo-random number of @state. */
uint64_t sw_rand(uint64_t *state);

/* Create the store in directory @store (made if missing). */
void sw_golden_store(const char *store);

/*
 * `storedisk pack --quiet OPTIONS --embed-registration -o IMAGE --store
 * STORE ROOTS` in this process (the registration makes verify compare
 * every store path's narHash); ends the program (sw_die) when pack fails.
 */
void sw_golden_pack(const char *store, const char *const *options,
		    const char *image);

#endif
