/* SPDX-License-Identifier: MIT */
/*
 * progress.h — pack's progress line on a terminal:
 * "[ 42%] 1234/5678 files, 1.2 GiB/2.9 GiB, 310 MiB/s, ETA 0:06",
 * redrawn at most ten times a second and cleared at the end.
 */
#ifndef SD_CLI_PROGRESS_H
#define SD_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct sd_progress {
	FILE *out;
	uint64_t total_bytes, total_files;
	struct timespec start, last;
	bool drawn; /* a line is on the screen */
};

/*
 * True when a progress line belongs on @out: not quiet, @out is a terminal,
 * not inside a Nix build (NIX_LOG_FD set: Nix gives every builder a pty and
 * TERM=xterm-256color, and sets NIX_LOG_FD; nix-shell and nix develop do
 * not), and TERM is set, not empty and not "dumb" (a dumb terminal cannot
 * redraw a line).
 */
bool sd_progress_wanted(FILE *out, bool quiet);

void sd_progress_init(struct sd_progress *p, FILE *out);

/* The totals the counts go towards (ctx: a struct sd_progress). */
void sd_progress_totals(void *ctx, uint64_t total_bytes, uint64_t total_files);

/* The write's progress callback (ctx: a struct sd_progress). */
void sd_progress_update(void *ctx, uint64_t bytes_done, uint64_t files_done);

/* Clear the line, if one was drawn. */
void sd_progress_end(struct sd_progress *p);

#endif
