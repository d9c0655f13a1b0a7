/* SPDX-License-Identifier: MIT */
/*
 * interrupt.h — SIGINT/SIGTERM handling for commands that write files.
 *
 * The first signal sets sd_interrupted, which long operations poll so they
 * can stop, clean up and exit.  A second signal removes the registered
 * temporary file, or the registered temporary directory with the files
 * in it, at once and exits with 128+signal.
 */
#ifndef SD_CLI_INTERRUPT_H
#define SD_CLI_INTERRUPT_H

extern volatile int sd_interrupted;

/* Install the handlers; @tmp_path (copied, may be NULL) is removed on a
 * second signal. */
void sd_interrupt_install(const char *tmp_path);

/* Forget the temporary path (after commit or abort). */
void sd_interrupt_clear(void);

/* Register @dir (copied; NULL forgets it): a flat directory of ours whose
 * files and itself a second signal removes (subdirectories are left). */
void sd_interrupt_set_dir(const char *dir);

#endif
