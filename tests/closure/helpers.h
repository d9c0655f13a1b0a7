/*
 * helpers.h — temp directories and fake stores for the closure tests.
 */
#ifndef SD_TESTS_CLOSURE_HELPERS_H
#define SD_TESTS_CLOSURE_HELPERS_H

#include <stddef.h>

/* Create a fresh mkdtemp directory (ct_tmp) / remove it recursively. */
void ct_setup(void);
void ct_teardown(void);
extern char ct_tmp[256];

/* "<ct_tmp>/<rel>" in a rotating static buffer. */
const char *ct_path(const char *rel);

/* mkdir -p "<ct_tmp>/<rel>". */
void ct_mkdir(const char *rel);
/* Write @len bytes (or strlen(data) if @len == (size_t)-1) to a file. */
void ct_write(const char *rel, const void *data, size_t len);
/* Create a symlink "<ct_tmp>/<rel>" -> @target (target taken as is). */
void ct_symlink(const char *target, const char *rel);

/* A deterministic 32-char store hash from @seed, NUL-terminated in @out. */
void ct_hash(const char *seed, char out[33]);

#endif
