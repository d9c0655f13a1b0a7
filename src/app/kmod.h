/* SPDX-License-Identifier: MIT */
/*
 * kmod.h — the kernel modules a guest must load, found in a modules
 * directory as Debian's kernel packages ship it (lib/modules/VERSION:
 * kernel/... .ko files, modules.builtin, but no modules.dep).
 *
 * A module's dependencies come from its own ".modinfo" ELF section
 * ("depends=a,b" among NUL-separated "key=value" strings, as modinfo(8)
 * prints them; the kernel's scripts/mod/modpost.c writes them); its name
 * from "name=" there, else its file name without ".ko".  Names compare
 * with '-' and '_' equal, as the kernel does.  A module listed in
 * modules.builtin (lines "kernel/.../NAME.ko") is built in: nothing to
 * load.  Modules are ELF64 of either byte order (s390x's are big-endian).
 * Compressed modules (.ko.xz, .ko.zst, .ko.gz) are not read: a
 * module found only compressed is SD_ERR_UNSUPPORTED, naming it.
 */
#ifndef SD_APP_KMOD_H
#define SD_APP_KMOD_H

#include <stddef.h>

#include "core/error.h"

struct sd_kmod {
	char *name; /* the module's name, e.g. "virtio_blk" */
	char *path; /* its file, absolute (under the modules directory) */
};

/* Modules in load order: every module after all of its dependencies. */
struct sd_kmod_list {
	struct sd_kmod *v;
	size_t n;
};

/*
 * Resolve @wanted (@n module names) and their dependencies, recursively,
 * in @moddir (lib/modules/VERSION).  Built-in modules are left out; the
 * order is deterministic (dependencies first, then in the order wanted,
 * each module once).  Errors: SD_ERR_MISSING naming a module that is
 * neither built in nor found (and, for a dependency, the module that
 * needs it); SD_ERR_CORRUPT naming a .ko whose ELF or .modinfo cannot be
 * read; SD_ERR_INVALID for a dependency cycle; SD_ERR_IO.  @out is
 * initialised first; release it with sd_kmod_list_release() whatever the
 * result.
 */
int sd_kmod_resolve(const char *moddir, const char *const *wanted, size_t n,
		    struct sd_kmod_list *out, struct sd_error *err);

void sd_kmod_list_release(struct sd_kmod_list *l);

#endif
