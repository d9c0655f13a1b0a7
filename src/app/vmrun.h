/* SPDX-License-Identifier: MIT */
/*
 * vmrun.h — run one QEMU process to its end and never leave it behind.
 *
 * The child gets PR_SET_PDEATHSIG(SIGKILL) (prctl(2)) before it execs, so
 * that even a SIGKILL of this process takes QEMU with it; stdin is
 * /dev/null, stdout (the guest's serial console, `-serial stdio`) and
 * stderr (QEMU's own messages) are read line by line and handed to the
 * caller, who says when the guest's result is known.  The end is
 * escalated, never hoped for, and every step is reported:
 *   1. the guest powers off by itself (QEMU exits);
 *   2. after @grace seconds without that, QEMU is told to quit through
 *      QMP on a private socket (qmp_path, `-qmp unix:PATH,server=on,
 *      wait=off` in argv), when there is one;
 *   3. then SIGTERM, then SIGKILL, each after a further 2 s (@escalate).
 * A timeout or an interrupt starts at step 2 at once.  Without qmp_path,
 * or when the socket cannot be connected to, SIGTERM follows at once; the
 * QMP exchange (greeting, qmp_capabilities, quit) is bounded by the same
 * interval, so nothing here waits forever.  sd_vmrun() returns only after
 * QEMU has been waited for; the pipes are drained first, so the last
 * console lines are delivered.
 *
 * Lines are delivered whole up to SD_VMRUN_LINE_MAX bytes; a longer line
 * is split deterministically into pieces of exactly SD_VMRUN_LINE_MAX
 * bytes and a last, shorter one, each a call of on_line.
 */
#ifndef SD_APP_VMRUN_H
#define SD_APP_VMRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* The longest line on_line is given whole (1 MiB). */
#define SD_VMRUN_LINE_MAX ((size_t)1 << 20)

enum sd_vmrun_stream {
	SD_VMRUN_CONSOLE = 1, /* QEMU's stdout: the guest's console */
	SD_VMRUN_QEMU = 2,    /* QEMU's stderr */
};

/* How QEMU ended. */
enum sd_vmrun_end {
	SD_VMRUN_EXITED,     /* by itself (the guest powered off, or QEMU
			      * failed: see the wait status) */
	SD_VMRUN_QMP_QUIT,   /* it quit when told through QMP */
	SD_VMRUN_TERMINATED, /* it ended after SIGTERM */
	SD_VMRUN_KILLED,     /* it ended after SIGKILL */
};

struct sd_vmrun_options {
	const char *const *argv; /* QEMU's command line, NULL-terminated;
				  * argv[0] is looked up in PATH */
	const char *qmp_path;    /* its QMP socket (in argv), or NULL */
	double timeout;          /* seconds from the start until the result
				  * must be known; 0: none */
	double grace;            /* seconds the guest has to power off by
				  * itself once the result is known */
	double escalate;         /* seconds between QMP quit, SIGTERM and
				  * SIGKILL; 0: 2 s */
	/*
	 * Called with each line of @stream (without its "\n" or "\r\n"; a
	 * last line without one too) in the order read; @line is also
	 * NUL-terminated (it may contain NULs of its own).  Returns true
	 * once the guest's result is known (the grace period starts then;
	 * later returns are ignored).
	 */
	bool (*on_line)(void *ctx, enum sd_vmrun_stream stream,
			const char *line, size_t len);
	/*
	 * Called with each step of the end (e.g. "grace period of 10 s
	 * passed: quitting through QMP"), for the log, and last with how
	 * QEMU ended ("QEMU ended by itself after 3.1 s: exit status 0"),
	 * always, even when there was no step before; one line each, no
	 * "\n".  May be NULL.
	 */
	void (*on_step)(void *ctx, const char *text);
	void *ctx;
	volatile const int *interrupted; /* polled; may be NULL */
};

struct sd_vmrun_result {
	bool result_known; /* on_line returned true */
	bool timed_out;    /* the timeout passed first */
	bool interrupted;  /* *interrupted was set first */
	enum sd_vmrun_end end;
	int wait_status;  /* QEMU's, from waitpid(2) */
	double seconds;   /* from the start until QEMU was waited for */
	double result_at; /* seconds from the start when on_line returned
			   * true; < 0 if never */
};

/*
 * Run QEMU as @o says.  Returns 0 once QEMU has ended, however it ended
 * (@res says how); an error only when it could not be started
 * (SD_ERR_IO naming argv[0] and the reason, e.g. not found) — then no
 * process is left either.
 */
int sd_vmrun(const struct sd_vmrun_options *o, struct sd_vmrun_result *res,
	     struct sd_error *err);

#endif
