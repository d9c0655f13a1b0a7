/* SPDX-License-Identifier: MIT */
/*
 * compcache_int.h — what compcache.c (open, get, put) and
 * compcache_walk.c (stats, prune) share; not for other callers.
 */
#ifndef SD_CORE_COMPCACHE_INT_H
#define SD_CORE_COMPCACHE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/compcache.h"

/* A temporary file older than this (seconds) is a killed writer's. */
#define CC_STALE_SECONDS 3600
/* Prefix of temporary entry files in a fan-out directory. */
#define CC_TMP_PREFIX ".tmp."
/* The usage file and the prune lock, in DIR/v1. */
#define CC_USAGE_NAME "usage"
#define CC_LOCK_NAME "lock"
/* "ab/" + 64 hex + NUL */
#define CC_REL_MAX (3 + 2 * SD_COMPCACHE_KEY_LEN + 1)

struct sd_compcache {
	char *dir; /* as given, for messages */
	int dirfd; /* DIR, or -1 */
	int vfd;   /* DIR/v1, or -1 (off, or a must_exist cache without
			   entries yet) */
	uint64_t max_bytes;
	atomic_bool off;
	pthread_mutex_t lock; /* serialises turning off */
	struct sd_error warning;
	atomic_bool usage_unknown;    /* DIR/v1/usage missing or unreadable */
	atomic_int_least64_t pending; /* disk usage change not yet recorded */
	atomic_uint_least64_t seq;    /* temporary file names */
	atomic_uint_least64_t hits, misses, hit_bytes, puts, put_bytes, present,
		corrupt, skipped;
	void (*on_wait)(void *ctx); /* sd_compcache_on_wait */
	void *on_wait_ctx;
};

/* "ab/<64 hex>": the entry of @key relative to DIR/v1. */
void cc_entry_name(const uint8_t key[SD_COMPCACHE_KEY_LEN],
		   char rel[CC_REL_MAX]);

/*
 * Add @delta to the recorded usage DIR/v1/usage (under flock), or set it
 * to @delta when @absolute; the new value in *@total (may be NULL).
 * Returns false when the file could not be read or written (the usage
 * is then unknown).
 */
bool cc_record_usage(struct sd_compcache *c, int64_t delta, bool absolute,
		     uint64_t *total);

/* sd_compcache_prune; with !@wait it returns 0 at once when another
 * process holds the prune lock. */
int cc_prune(struct sd_compcache *c, uint64_t max_bytes,
	     struct sd_compcache_prune_result *r, bool wait,
	     struct sd_error *err);

/* Read DIR/v1/usage without a lock: true and *@v, or false. */
bool cc_read_usage(struct sd_compcache *c, uint64_t *v);

#endif
