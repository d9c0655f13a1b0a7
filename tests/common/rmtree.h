/* SPDX-License-Identifier: MIT */
/*
 * rmtree.h — "chmod -R u+rwx; rm -rf" without a shell or a test framework
 * (tmpdir.c's teardown and the corruption sweep share it).
 */
#ifndef SD_TESTS_COMMON_RMTREE_H
#define SD_TESTS_COMMON_RMTREE_H

/*
 * Remove @path and everything below it, first giving the owner every
 * permission on each directory; symlinks are not followed.  Returns 0
 * (also when @path does not exist), or -1 with errno set when something
 * could not be removed.
 */
int tt_rmtree(const char *path);

#endif
