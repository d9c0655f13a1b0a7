/* SPDX-License-Identifier: MIT */
/* Tests of the NAR reader (closure/nar_read.h) and the wire reader. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closure/nar.h"
#include "closure/nar_read.h"
#include "core/spool.h"

struct buf {
	unsigned char *data;
	size_t len;
};

static int sink(void *ctx, const void *data, size_t len, struct sd_error *err)
{
	(void)err;
	struct buf *b = ctx;
	b->data = realloc(b->data, b->len + len);
	cr_assert_not_null(b->data);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static struct sd_node *add(struct sd_tree *t, struct sd_node *dir,
			   const char *name, enum sd_node_type type)
{
	struct sd_node *n = sd_tree_add(t, dir, name, strlen(name), type, NULL);
	cr_assert_not_null(n);
	n->mode = sd_normal_mode(type, 0);
	n->mtime = t->mtime;
	return n;
}

/* The NAR of a small tree: x/{a (exec), b -> /etc, c/{d (empty)}}. */
static struct buf sample_nar(void)
{
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *x = add(t, t->root, "x", SD_NODE_DIR);
	struct sd_node *a = add(t, x, "a", SD_NODE_FILE);
	a->mode = SD_MODE_EXEC;
	cr_assert_eq(sd_node_set_content(a, "hello\n", 6, NULL), 0);
	struct sd_node *b = add(t, x, "b", SD_NODE_SYMLINK);
	cr_assert_eq(sd_node_set_target(b, "/etc", 4, NULL), 0);
	struct sd_node *c = add(t, x, "c", SD_NODE_DIR);
	add(t, c, "d", SD_NODE_FILE);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	struct buf out = {0};
	struct sd_error err;
	cr_assert_eq(sd_nar_write(t, x, sink, &out, &err), 0, "%s", err.msg);
	sd_tree_free(t);
	return out;
}

/* A readable fd holding @len bytes of @data. */
static int fd_of(const void *data, size_t len)
{
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	int fd = dup(fileno(f));
	fclose(f);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Read @len bytes of @data as a NAR; the code and, on success, the tree. */
static int read_nar(const void *data, size_t len, struct sd_tree **out,
		    struct sd_error *err)
{
	static struct sd_wire w;
	int fd = fd_of(data, len);
	sd_wire_init(&w, fd, "test.nar");
	struct sd_tree *t = sd_tree_new(1);
	struct sd_spool *sp;
	cr_assert_eq(sd_spool_new(&sp, NULL), 0);
	struct sd_node *n;
	int rc = sd_nar_read(&w, t, t->root, "x", 1, sp, &n, err);
	close(fd);
	if (!rc) {
		cr_assert_eq(sd_spool_attach(sp, t, NULL), 0);
		cr_assert_eq(sd_tree_finalize(t, err), 0, "%s", err->msg);
		*out = t;
	} else {
		sd_spool_free(sp);
		sd_tree_free(t);
	}
	return rc;
}

Test(nar_read, round_trip_gives_the_same_nar)
{
	struct buf nar = sample_nar();
	struct sd_tree *t;
	struct sd_error err;
	cr_assert_eq(read_nar(nar.data, nar.len, &t, &err), 0, "%s", err.msg);
	struct sd_node *x = sd_tree_lookup(t, "x");
	cr_assert_eq(sd_tree_lookup(t, "x/a")->mode, SD_MODE_EXEC);
	cr_assert_eq(sd_tree_lookup(t, "x/c/d")->mode, SD_MODE_FILE);
	cr_assert_str_eq(sd_tree_lookup(t, "x/b")->target, "/etc");
	struct buf again = {0};
	cr_assert_eq(sd_nar_write(t, x, sink, &again, &err), 0, "%s", err.msg);
	cr_assert_eq(again.len, nar.len);
	cr_assert(!memcmp(again.data, nar.data, nar.len));
	sd_tree_free(t);
	free(again.data);
	free(nar.data);
}

Test(nar_read, every_truncation_is_an_error_with_an_offset)
{
	struct buf nar = sample_nar();
	for (size_t cut = 0; cut < nar.len; cut++) {
		struct sd_tree *t;
		struct sd_error err;
		sd_error_init(&err);
		int rc = read_nar(nar.data, cut, &t, &err);
		cr_assert_eq(rc, SD_ERR_INVALID, "cut at %zu: %d", cut, rc);
		cr_assert(strstr(err.msg, "at offset"), "%s", err.msg);
	}
	free(nar.data);
}

Test(nar_read, nonzero_padding_is_an_error)
{
	struct buf nar = sample_nar();
	/* "nix-archive-1" is 13 bytes: padding at 8 + 13 .. 8 + 15. */
	nar.data[8 + 13] = 1;
	struct sd_tree *t;
	struct sd_error err;
	cr_assert_eq(read_nar(nar.data, nar.len, &t, &err), SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "at offset 21: non-zero padding"), "%s",
		  err.msg);
	free(nar.data);
}

/* Replace the first occurrence of the 8-byte token @from by @to. */
static void patch(struct buf *b, const char *from, const char *to)
{
	for (size_t i = 0; i + 8 <= b->len; i++) {
		if (!memcmp(b->data + i, from, 8)) {
			memcpy(b->data + i, to, 8);
			return;
		}
	}
	cr_assert_fail("token not found");
}

Test(nar_read, unsorted_entries_slash_and_dotdot_are_errors)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		/* entry "b" renamed to "0": now before "a" */
		{"b\0\0\0\0\0\0\0", "0\0\0\0\0\0\0\0", "unsorted or duplicate"},
		{"b\0\0\0\0\0\0\0", "a\0\0\0\0\0\0\0", "unsorted or duplicate"},
		{"c\0\0\0\0\0\0\0", "/\0\0\0\0\0\0\0", "contains '/'"},
		{"c\0\0\0\0\0\0\0", ".\0\0\0\0\0\0\0", "'.' or '..'"},
		{"nix-arch", "nix-arcx", "expected 'nix-archive-1'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf nar = sample_nar();
		patch(&nar, cases[i].from, cases[i].to);
		struct sd_tree *t;
		struct sd_error err;
		cr_assert_eq(read_nar(nar.data, nar.len, &t, &err),
			     SD_ERR_INVALID, "case %zu", i);
		cr_assert(strstr(err.msg, cases[i].want), "case %zu: %s", i,
			  err.msg);
		free(nar.data);
	}
}
