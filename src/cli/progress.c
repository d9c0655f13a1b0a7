/* SPDX-License-Identifier: MIT */
#include "cli/progress.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDRAW_NS 100000000LL /* ten times a second */

bool sd_progress_wanted(FILE *out, bool quiet)
{
	if (quiet || !isatty(fileno(out)))
		return false;
	/* A Nix builder's stderr is a pty and Nix sets TERM=xterm-256color
	 * there, but it also sets NIX_LOG_FD, which nothing else does (nix-shell
	 * does not, nix develop drops it): the line would only litter the
	 * build log. */
	if (getenv("NIX_LOG_FD"))
		return false;
	/* No TERM, or a "dumb" one (Emacs shells, many CI runners): no line
	 * can be redrawn. */
	const char *term = getenv("TERM");
	return term && *term && strcmp(term, "dumb") != 0;
}

void sd_progress_init(struct sd_progress *p, FILE *out)
{
	*p = (struct sd_progress){.out = out};
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void sd_progress_totals(void *ctx, uint64_t total_bytes, uint64_t total_files)
{
	struct sd_progress *p = ctx;
	p->total_bytes = total_bytes;
	p->total_files = total_files;
}

static long long ns_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL +
	       (b->tv_nsec - a->tv_nsec);
}

/* "1.2 GiB", "310 MiB", "12 B" into @buf. */
static void human(double v, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u && v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void sd_progress_update(void *ctx, uint64_t bytes_done, uint64_t files_done)
{
	struct sd_progress *p = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && ns_between(&p->last, &now) < REDRAW_NS)
		return;
	p->last = now;
	double secs = (double)ns_between(&p->start, &now) / 1e9;
	double rate = secs > 0 ? (double)bytes_done / secs : 0;
	unsigned pct = 0;
	if (p->total_bytes)
		pct = (unsigned)(100.0 * (double)bytes_done /
				 (double)p->total_bytes);
	else if (p->total_files)
		pct = (unsigned)(100.0 * (double)files_done /
				 (double)p->total_files);
	if (pct > 100)
		pct = 100;
	char done[32], total[32], speed[32], eta[32] = "?";
	human((double)bytes_done, done, sizeof(done));
	human((double)p->total_bytes, total, sizeof(total));
	human(rate, speed, sizeof(speed));
	if (rate > 0 && p->total_bytes >= bytes_done) {
		unsigned long long left =
			(unsigned long long)((double)(p->total_bytes -
						      bytes_done) /
						     rate +
					     0.5);
		snprintf(eta, sizeof(eta), "%llu:%02llu", left / 60, left % 60);
	}
	fprintf(p->out, "\r[%3u%%] %llu/%llu files, %s/%s, %s/s, ETA %s\033[K",
		pct, (unsigned long long)files_done,
		(unsigned long long)p->total_files, done, total, speed, eta);
	fflush(p->out);
	p->drawn = true;
}

void sd_progress_end(struct sd_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", p->out);
	fflush(p->out);
	p->drawn = false;
}
