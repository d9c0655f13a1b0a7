/* SPDX-License-Identifier: MIT */
/*
 * writer_par.c — run independent items on a few threads, reporting the
 * first failure in item order (see ew_parallel in writer_flat.h).
 */
#include "formats/erofs/writer_flat.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct par {
	int (*fn)(void *ctx, size_t i, unsigned worker, struct sd_error *err);
	void *ctx;
	volatile const int *interrupted;
	size_t n;
	pthread_mutex_t mu;
	size_t next; /* next item to hand out */
	bool failed; /* stop handing out items */
	size_t bad;  /* smallest failing item (valid if failed) */
	int ret;
	struct sd_error err;
};

struct par_arg {
	struct par *p;
	unsigned worker;
};

static void run(struct par *p, unsigned worker)
{
	struct sd_error err;

	for (;;) {
		size_t i;
		int ret;

		pthread_mutex_lock(&p->mu);
		if (p->failed || p->next == p->n) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);

		sd_error_init(&err);
		if (p->interrupted && *p->interrupted)
			ret = sd_error_set(&err, SD_ERR_INTERRUPTED,
					   "interrupted while writing EROFS "
					   "image");
		else
			ret = p->fn(p->ctx, i, worker, &err);
		if (!ret)
			continue;
		pthread_mutex_lock(&p->mu);
		if (!p->failed || i < p->bad) {
			p->failed = true;
			p->bad = i;
			p->ret = ret;
			p->err = err;
		}
		pthread_mutex_unlock(&p->mu);
	}
}

static void *thread_main(void *arg)
{
	struct par_arg *a = arg;

	run(a->p, a->worker);
	return NULL;
}

int ew_parallel(unsigned jobs, size_t n,
		int (*fn)(void *ctx, size_t i, unsigned worker,
			  struct sd_error *err),
		void *ctx, volatile const int *interrupted,
		struct sd_error *err)
{
	struct par p = {
		.fn = fn, .ctx = ctx, .interrupted = interrupted, .n = n};
	unsigned extra = jobs > 1 ? jobs - 1 : 0, started = 0;
	pthread_t *th = NULL;
	struct par_arg *args = NULL;

	if ((size_t)extra > n)
		extra = (unsigned)n;
	pthread_mutex_init(&p.mu, NULL);
	if (extra) {
		th = calloc(extra, sizeof(*th));
		args = calloc(extra, sizeof(*args));
	}
	/* Threads that cannot be started just leave more to the caller. */
	for (; th && args && started < extra; started++) {
		args[started].p = &p;
		args[started].worker = started + 1;
		if (pthread_create(&th[started], NULL, thread_main,
				   &args[started]))
			break;
	}
	run(&p, 0);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(th);
	free(args);
	if (!p.failed)
		return SD_OK;
	if (err)
		*err = p.err;
	return p.ret;
}
