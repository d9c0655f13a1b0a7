/* SPDX-License-Identifier: MIT */
/*
 * storedisk cache — look after a compression cache directory (front-end of
 * core/compcache.h): `cache stats DIR`, `cache prune --max SIZE DIR`.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "core/compcache.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk cache stats [--json] DIR\n"
		"       storedisk cache prune --max SIZE [--json] DIR\n"
		"Look after a compression cache directory (pack --cache DIR: "
		"a\ncontent-addressed store of compressed data that re-packs "
		"reuse).\n\n"
		"  stats              count the entries, their bytes and disk "
		"usage, the\n"
		"                     least and most recent use, and "
		"temporary files\n"
		"  prune              remove the least recently used entries "
		"until the\n"
		"                     entries' disk usage is at most SIZE, and "
		"temporary\n"
		"                     files older than an hour\n"
		"  --max SIZE         prune's limit in bytes (suffix K, M, G, T: "
		"binary; 0 empties)\n"
		"  --json             one JSON document on stdout\n"
		"  -h, --help         this help\n\n"
		"DIR must be a cache (it holds a storedisk-cache file); "
		"nothing else in it is\ntouched.  Disk usage is st_blocks "
		"as du counts it.\n"
		"Exit codes: 0 done, 1 a file could not be read or removed, "
		"2 usage error or\nDIR is not a readable cache.\n");
}

/* "2026-12-01T16:22:32Z" */
static void utc(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%" PRId64, t);
}

/* Open @dir as an existing cache; exit code on failure, else -1. */
static int open_cache(const char *dir, struct sd_compcache **c)
{
	struct sd_compcache_options opt = {.must_exist = true};
	struct sd_error err;

	sd_error_init(&err);
	if (sd_compcache_open(c, dir, &opt, &err)) {
		sd_cli_error(&err);
		return SD_EXIT_BAD_INPUT;
	}
	return -1;
}

static void print_stats(const char *dir, const struct sd_compcache_stats *s,
			bool json)
{
	char a[32], b[32];

	if (json) {
		struct sd_json j;
		sd_json_init(&j, stdout);
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "cache", dir);
		sd_json_kv_u64(&j, "entries", s->entries);
		sd_json_kv_u64(&j, "bytes", s->bytes);
		sd_json_kv_u64(&j, "disk_bytes", s->disk_bytes);
		sd_json_key(&j, "recorded_bytes");
		if (s->recorded_valid)
			sd_json_u64(&j, s->recorded);
		else
			sd_json_string(&j, NULL);
		sd_json_key(&j, "oldest");
		if (s->entries)
			sd_json_i64(&j, s->oldest);
		else
			sd_json_string(&j, NULL);
		sd_json_key(&j, "newest");
		if (s->entries)
			sd_json_i64(&j, s->newest);
		else
			sd_json_string(&j, NULL);
		sd_json_kv_u64(&j, "temporary", s->temporary);
		sd_json_kv_u64(&j, "stale", s->stale);
		sd_json_object_end(&j);
		return;
	}
	printf("%-16s%s\n", "cache:", dir);
	printf("%-16s%" PRIu64 "\n", "entries:", s->entries);
	printf("%-16s%" PRIu64 " bytes (disk usage %" PRIu64 " bytes)\n",
	       "size:", s->bytes, s->disk_bytes);
	if (s->recorded_valid)
		printf("%-16s%" PRIu64 " bytes\n",
		       "recorded usage:", s->recorded);
	else
		printf("%-16s%s\n", "recorded usage:", "unknown");
	utc(s->oldest, a);
	utc(s->newest, b);
	printf("%-16s%s\n", "least recent:", s->entries ? a : "none");
	printf("%-16s%s\n", "most recent:", s->entries ? b : "none");
	printf("%-16s%" PRIu64 " (%" PRIu64 " older than an hour)\n",
	       "temporary:", s->temporary, s->stale);
}

/* sd_compcache_on_wait: another prune of the same cache holds its lock. */
static void say_waiting(void *ctx)
{
	fprintf(stderr,
		"%s: waiting for another prune of %s to finish (its lock "
		"%s/v1/lock)\n",
		sd_progname, (const char *)ctx, (const char *)ctx);
}

static void print_prune(const char *dir, uint64_t max,
			const struct sd_compcache_prune_result *r, bool json)
{
	if (json) {
		struct sd_json j;
		sd_json_init(&j, stdout);
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "cache", dir);
		sd_json_kv_u64(&j, "max_bytes", max);
		sd_json_kv_u64(&j, "removed", r->removed);
		sd_json_kv_u64(&j, "removed_bytes", r->removed_bytes);
		sd_json_kv_u64(&j, "kept", r->kept);
		sd_json_kv_u64(&j, "kept_bytes", r->kept_bytes);
		sd_json_kv_u64(&j, "stale_removed", r->stale_removed);
		sd_json_kv_u64(&j, "failed", r->failed);
		sd_json_object_end(&j);
		return;
	}
	printf("%s: removed %" PRIu64 " entr%s (%" PRIu64
	       " bytes), kept %" PRIu64 " entr%s (%" PRIu64 " bytes)",
	       dir, r->removed, r->removed == 1 ? "y" : "ies", r->removed_bytes,
	       r->kept, r->kept == 1 ? "y" : "ies", r->kept_bytes);
	if (r->stale_removed)
		printf(", %" PRIu64 " stale temporary file%s", r->stale_removed,
		       r->stale_removed == 1 ? "" : "s");
	if (r->failed)
		printf(", %" PRIu64 " that could not be removed", r->failed);
	fputc('\n', stdout);
}

int sd_cmd_cache(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"max", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, have_max = false;
	uint64_t max = 0;
	int c;

	if (argc < 2) {
		sd_cli_errorf("cache needs an action: stats or prune");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	const char *action = argv[1];
	if (!strcmp(action, "-h") || !strcmp(action, "--help")) {
		help(stdout);
		return SD_EXIT_OK;
	}
	bool prune = !strcmp(action, "prune");
	if (!prune && strcmp(action, "stats")) {
		sd_cli_errorf("cache: unknown action '%s' (stats or prune)",
			      action);
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!prune) {
				sd_cli_errorf("--max is an option of cache "
					      "prune");
				return SD_EXIT_BAD_INPUT;
			}
			if (!sd_cli_parse_size(optarg, &max)) {
				sd_cli_errorf("--max: bad size \"%s\"", optarg);
				return SD_EXIT_BAD_INPUT;
			}
			have_max = true;
			break;
		case 'j': json = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (argc - optind != 1) {
		sd_cli_errorf("cache %s takes one DIR", action);
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	if (prune && !have_max) {
		sd_cli_errorf("cache prune needs --max SIZE");
		return SD_EXIT_BAD_INPUT;
	}
	const char *dir = argv[optind];
	struct sd_compcache *cache;
	int rc = open_cache(dir, &cache);
	if (rc >= 0)
		return rc;
	struct sd_error err;
	sd_error_init(&err);
	if (prune) {
		struct sd_compcache_prune_result r;
		sd_compcache_on_wait(cache, say_waiting, (void *)dir);
		rc = sd_compcache_prune(cache, max, &r, &err);
		/* entries that could not be removed: the summary of what
		 * was done, then the first failure */
		if (!rc || r.failed)
			print_prune(dir, max, &r, json);
		if (rc)
			sd_cli_error(&err);
	} else {
		struct sd_compcache_stats s;
		rc = sd_compcache_stats(cache, &s, &err);
		if (rc)
			sd_cli_error(&err);
		else
			print_stats(dir, &s, json);
	}
	sd_compcache_close(cache);
	return rc ? SD_EXIT_FOUND : SD_EXIT_OK;
}
