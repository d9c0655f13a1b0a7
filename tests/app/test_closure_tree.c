/* SPDX-License-Identifier: MIT */
/* The closure tree walked on several threads: the same tree, the same
 * error, for every number of jobs (app/closure_tree.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/closure_tree.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sdctree");
}

#define NPATHS 9

static const char *bases[NPATHS];
static char names[NPATHS][64];

/* Store paths with a few files, dirs and links each. */
static void make_store(void)
{
	tt_mkdir("store");
	for (int i = 0; i < NPATHS; i++) {
		char rel[1024], link[1024];
		snprintf(names[i], sizeof(names[i]), "%032d-p%d", i * 7 + 1, i);
		bases[i] = names[i];
		snprintf(rel, sizeof(rel), "store/%s", names[i]);
		tt_mkdir(rel);
		for (int k = 0; k <= i; k++) {
			snprintf(rel, sizeof(rel), "store/%s/f%d", names[i], k);
			tt_write(rel, names[i], (size_t)k, 0644 | (k & 1) << 6);
		}
		snprintf(rel, sizeof(rel), "store/%s/sub", names[i]);
		tt_mkdir(rel);
		snprintf(link, sizeof(link), "%s/store/%s/sub/l", tt_tmp,
			 names[i]);
		cr_assert_eq(symlink("../f0", link), 0);
	}
}

/* One line per node in pre-order: path, type, mode, size, target. */
static char *describe(struct sd_tree *t)
{
	size_t cap = 1 << 16, len = 0;
	char *s = malloc(cap);

	cr_assert_not_null(s);
	struct sd_node *stack[64];
	size_t pos[64], depth = 0;
	stack[0] = t->root;
	pos[0] = 0;
	len += (size_t)snprintf(s + len, cap - len, "root %u\n",
				t->root->index);
	while (1) {
		struct sd_node *d = stack[depth];
		if (pos[depth] == d->nchildren) {
			if (depth == 0)
				break;
			depth--;
			continue;
		}
		struct sd_node *n = d->children[pos[depth]++];
		char path[512];
		sd_node_path(n, path, sizeof(path));
		len += (size_t)snprintf(s + len, cap - len,
					"%u %s %d %o %llu %s\n", n->index, path,
					n->type, n->mode,
					(unsigned long long)n->size,
					n->target ? n->target : "-");
		cr_assert_lt(len, cap);
		if (n->type == SD_NODE_DIR) {
			stack[++depth] = n;
			pos[depth] = 0;
		}
	}
	return s;
}

Test(closure_tree, same_tree_for_every_jobs, .init = setup, .fini = tt_teardown)
{
	make_store();
	char store[512];
	snprintf(store, sizeof(store), "%s/store", tt_tmp);
	char *want = NULL;
	unsigned jobs[] = {1, 2, 3, 8, 64};
	for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		struct sd_tree *t = NULL;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_app_closure_tree(bases, NPATHS, store, 7,
						 jobs[j], NULL, &t, &err),
			     0, "%s", err.msg);
		cr_assert_eq(t->nfiles, NPATHS * (NPATHS + 1) / 2);
		cr_assert_eq(t->nsymlinks, NPATHS);
		char *got = describe(t);
		if (!want)
			want = got;
		else {
			cr_assert_str_eq(got, want, "--jobs %u", jobs[j]);
			free(got);
		}
		/* content still opens from the host */
		struct sd_stream *s = NULL;
		char rel[256], buf[64];
		size_t n = 0;
		snprintf(rel, sizeof(rel), "%s/f5", names[7]);
		cr_assert_eq(sd_tree_open(t, sd_tree_lookup(t, rel), &s, NULL),
			     0);
		cr_assert_eq(sd_stream_read_full(s, buf, sizeof(buf), &n, NULL),
			     0);
		cr_assert_eq(n, 5);
		cr_assert_eq(memcmp(buf, names[7], 5), 0);
		sd_stream_close(s);
		sd_tree_free(t);
	}
	free(want);
}

Test(closure_tree, first_failing_path_in_order_is_reported, .init = setup,
     .fini = tt_teardown)
{
	make_store();
	char p[512], store[512];
	/* FIFOs in paths 3 and 6: path 3's is the error, for any jobs */
	for (int i = 3; i <= 6; i += 3) {
		snprintf(p, sizeof(p), "%s/store/%s/sub/fifo", tt_tmp,
			 names[i]);
		cr_assert_eq(mkfifo(p, 0644), 0);
	}
	snprintf(store, sizeof(store), "%s/store", tt_tmp);
	for (unsigned jobs = 1; jobs <= 9; jobs += 4) {
		struct sd_tree *t = NULL;
		struct sd_error err;
		sd_error_init(&err);
		cr_assert_eq(sd_app_closure_tree(bases, NPATHS, store, 7, jobs,
						 NULL, &t, &err),
			     SD_ERR_UNSUPPORTED);
		cr_assert_null(t);
		snprintf(p, sizeof(p), "%s/sub/fifo: is a FIFO", names[3]);
		cr_assert(strstr(err.msg, p), "jobs %u: %s", jobs, err.msg);
	}
	/* a path that is not there */
	const char *gone[] = {bases[0], "00000000000000000000000000000000-x",
			      bases[1]};
	struct sd_tree *t = NULL;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_app_closure_tree(gone, 3, store, 7, 2, NULL, &t, &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "-x: lstat: No such file"), "%s", err.msg);
}
