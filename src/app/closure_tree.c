/* SPDX-License-Identifier: MIT */
#include "app/closure_tree.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hosttree.h"

/* One store path walked on its own: into its own tree, grafted later. */
struct path_walk {
	struct sd_tree *sub;
	struct sd_error err;
	int rc;
};

struct walk_ctx {
	const char *const *bases;
	size_t n;
	const char *store_phys;
	int64_t mtime;
	volatile const int *interrupted;
	struct path_walk *out;
	pthread_mutex_t mu;
	size_t next; /* the next path to claim */
	bool stop;   /* a path failed or an interrupt came */
};

/* Walk store path @i into ctx->out[i]. */
static int walk_path(struct walk_ctx *c, size_t i)
{
	struct path_walk *w = &c->out[i];
	size_t len = strlen(c->store_phys) + strlen(c->bases[i]) + 2;
	char *src = malloc(len);

	sd_error_init(&w->err);
	w->sub = sd_tree_new(c->mtime);
	if (!src || !w->sub) {
		free(src);
		return sd_error_set(&w->err, SD_ERR_NOMEM, "out of memory");
	}
	snprintf(src, len, "%s/%s", c->store_phys, c->bases[i]);
	int rc = sd_hosttree_add(w->sub, w->sub->root, c->bases[i], src, NULL,
				 &w->err);
	free(src);
	if (!rc && c->interrupted && *c->interrupted)
		rc = sd_error_set(&w->err, SD_ERR_INTERRUPTED, "interrupted");
	return rc;
}

static void *walker(void *arg)
{
	struct walk_ctx *c = arg;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		size_t i = c->next;
		bool stop = c->stop || i >= c->n;
		if (!stop)
			c->next++;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			return NULL;
		int rc = walk_path(c, i);
		c->out[i].rc = rc;
		if (rc) {
			/* later paths need not be walked: the first failure
			 * in path order is the one reported */
			pthread_mutex_lock(&c->mu);
			c->stop = true;
			pthread_mutex_unlock(&c->mu);
		}
	}
}

/* Walk every path on @jobs threads (the caller is one of them). */
static void walk_all(struct walk_ctx *c, unsigned jobs)
{
	pthread_t th[64];
	unsigned started = 0;

	if (jobs > 64)
		jobs = 64;
	if ((size_t)jobs > c->n)
		jobs = (unsigned)c->n;
	for (unsigned k = 1; k < jobs; k++) {
		if (pthread_create(&th[started], NULL, walker, c) != 0)
			break; /* fewer threads walk; the result is the same */
		started++;
	}
	walker(c);
	for (unsigned k = 0; k < started; k++)
		pthread_join(th[k], NULL);
}

int sd_app_closure_tree(const char *const *bases, size_t n,
			const char *store_phys, int64_t mtime, unsigned jobs,
			volatile const int *interrupted, struct sd_tree **out,
			struct sd_error *err)
{
	struct sd_tree *tree = sd_tree_new(mtime);
	struct walk_ctx c = {
		.bases = bases,
		.n = n,
		.store_phys = store_phys,
		.mtime = mtime,
		.interrupted = interrupted,
		.out = calloc(n ? n : 1, sizeof(*c.out)),
	};
	int rc = SD_OK;

	if (!tree || !c.out) {
		sd_tree_free(tree);
		free(c.out);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&c.mu, NULL);
	walk_all(&c, jobs ? jobs : 1);
	pthread_mutex_destroy(&c.mu);
	/* join in path order; the first failure in that order is reported,
	 * as a walk of one path after the other would */
	for (size_t i = 0; i < n; i++) {
		struct path_walk *w = &c.out[i];

		if (!rc && w->rc) {
			rc = w->rc;
			if (err)
				*err = w->err;
		}
		if (!rc &&
		    !w->sub) /* not reached: walks stop after a failure */
			rc = sd_error_set(err, SD_ERR_INVALID, "%s: not walked",
					  bases[i]);
		if (!rc && sd_tree_graft(tree, tree->root, w->sub, err) == 0)
			continue;
		if (!rc)
			rc = err ? err->code : SD_ERR_NOMEM;
		sd_tree_free(w->sub);
	}
	free(c.out);
	if (!rc)
		rc = sd_tree_finalize(tree, err);
	if (rc) {
		sd_tree_free(tree);
		return rc;
	}
	*out = tree;
	return SD_OK;
}
