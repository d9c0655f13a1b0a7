/* SPDX-License-Identifier: MIT */
/* Tests of the normalised tree and the host-tree builder. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hosttree.h"
#include "core/tree.h"
#include "tests/common/tmpdir.h"

static void setup(void)
{
	tt_setup("sdtree");
}

Test(tree, sorts_bytewise_and_numbers_preorder)
{
	struct sd_tree *t = sd_tree_new(5);
	const char *names[] = {"b", "a", "B", "a-b", "ab", "\xc3\xa9"};
	for (size_t i = 0; i < 6; i++)
		cr_assert_not_null(sd_tree_add(t, t->root, names[i],
					       strlen(names[i]), SD_NODE_FILE,
					       NULL));
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	const char *want[] = {"B", "a", "a-b", "ab", "b", "\xc3\xa9"};
	for (size_t i = 0; i < 6; i++) {
		cr_assert_str_eq(t->root->children[i]->name, want[i]);
		cr_assert_eq(t->root->children[i]->index, i + 1);
	}
	cr_assert_eq(t->count, 7);
	cr_assert_eq(t->nfiles, 6);
	sd_tree_free(t);
}

Test(tree, rejects_duplicates_and_bad_names)
{
	struct sd_tree *t = sd_tree_new(0);
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_null(sd_tree_add(t, t->root, "..", 2, SD_NODE_DIR, &err));
	cr_assert_eq(err.code, SD_ERR_INVALID);
	cr_assert_null(sd_tree_add(t, t->root, "a/b", 3, SD_NODE_DIR, &err));
	cr_assert_null(sd_tree_add(t, t->root, "", 0, SD_NODE_DIR, &err));
	struct sd_node *d = sd_tree_add(t, t->root, "d", 1, SD_NODE_DIR, &err);
	cr_assert_not_null(sd_tree_add(t, d, "x", 1, SD_NODE_FILE, &err));
	cr_assert_not_null(sd_tree_add(t, d, "x", 1, SD_NODE_FILE, &err));
	cr_assert_eq(sd_tree_finalize(t, &err), SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "d/x"), "message names the path: %s",
		  err.msg);
	sd_tree_free(t);
}

Test(tree, lookup_and_path)
{
	struct sd_tree *t = sd_tree_new(0);
	struct sd_node *a = sd_tree_add(t, t->root, "a", 1, SD_NODE_DIR, NULL);
	struct sd_node *b = sd_tree_add(t, a, "bb", 2, SD_NODE_DIR, NULL);
	struct sd_node *c = sd_tree_add(t, b, "c", 1, SD_NODE_FILE, NULL);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	cr_assert_eq(sd_tree_lookup(t, "a/bb/c"), c);
	cr_assert_eq(sd_tree_lookup(t, "/a//bb/"), b);
	cr_assert_eq(sd_tree_lookup(t, ""), t->root);
	cr_assert_null(sd_tree_lookup(t, "a/b"));
	char buf[16];
	cr_assert_eq(sd_node_path(c, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "a/bb/c");
	cr_assert_eq(sd_node_path(c, buf, 4), 6);
	cr_assert_str_eq(buf, "a/b");
	char *s = sd_node_path_dup(t->root);
	cr_assert_str_eq(s, "");
	free(s);
	sd_tree_free(t);
}

Test(tree, deep_tree_walk_and_free)
{
	struct sd_tree *t = sd_tree_new(0);
	struct sd_node *n = t->root;
	for (int i = 0; i < 100000; i++)
		n = sd_tree_add(t, n, "d", 1, SD_NODE_DIR, NULL);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	cr_assert_eq(t->ndirs, 100001);
	sd_tree_free(t);
}

Test(hosttree, normalises_metadata, .init = setup, .fini = tt_teardown)
{
	tt_mkdir("p");
	tt_write("p/exe", "#!/bin/sh\n", (size_t)-1, 0700);
	tt_write("p/data", "hello\n", (size_t)-1, 0600);
	char p[512], q[512];
	snprintf(p, sizeof(p), "%s/p/link", tt_tmp);
	cr_assert_eq(symlink("/nix/store/x", p), 0);
	snprintf(p, sizeof(p), "%s/p/data", tt_tmp);
	snprintf(q, sizeof(q), "%s/p/hard", tt_tmp);
	cr_assert_eq(link(p, q), 0);

	struct sd_tree *t = sd_tree_new(42);
	snprintf(p, sizeof(p), "%s/p", tt_tmp);
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", p, NULL, NULL), 0);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	struct sd_node *dir = sd_tree_lookup(t, "p");
	cr_assert_eq(dir->mode, 0555);
	struct sd_node *exe = sd_tree_lookup(t, "p/exe");
	cr_assert_eq(exe->mode, 0555);
	cr_assert_eq(exe->size, 10);
	struct sd_node *data = sd_tree_lookup(t, "p/data");
	struct sd_node *hard = sd_tree_lookup(t, "p/hard");
	cr_assert_eq(data->mode, 0444);
	cr_assert_eq(hard->type, SD_NODE_FILE);
	cr_assert_eq(hard->size, 6);
	struct sd_node *link = sd_tree_lookup(t, "p/link");
	cr_assert_eq(link->type, SD_NODE_SYMLINK);
	cr_assert_eq(link->mode, 0777);
	cr_assert_str_eq(link->target, "/nix/store/x");
	cr_assert_eq(link->mtime, 42);
	cr_assert_eq(link->uid, 0);

	struct sd_stream *s;
	cr_assert_eq(sd_tree_open(t, hard, &s, NULL), 0);
	char buf[16];
	size_t got;
	cr_assert_eq(sd_stream_read_full(s, buf, sizeof(buf), &got, NULL), 0);
	cr_assert_eq(got, 6);
	cr_assert_eq(memcmp(buf, "hello\n", 6), 0);
	sd_stream_close(s);
	sd_tree_free(t);
}

Test(hosttree, files_keep_their_identity, .init = setup, .fini = tt_teardown)
{
	tt_mkdir("p");
	tt_write("p/f", "abc", (size_t)-1, 0644);
	tt_write("p/g", "defg", (size_t)-1, 0644);
	char p[512];
	snprintf(p, sizeof(p), "%s/p", tt_tmp);
	struct sd_tree *t = sd_tree_new(0);
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", p, NULL, NULL), 0);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	const char *names[] = {"f", "g"};
	for (int i = 0; i < 2; i++) {
		char q[600];
		struct stat st;
		snprintf(q, sizeof(q), "%s/%s", p, names[i]);
		cr_assert_eq(lstat(q, &st), 0);
		char rel[8];
		snprintf(rel, sizeof(rel), "p/%s", names[i]);
		const struct sd_file_ident *id =
			&sd_tree_lookup(t, rel)->src_ident;
		cr_assert_eq(id->dev, (uint64_t)st.st_dev);
		cr_assert_eq(id->ino, (uint64_t)st.st_ino);
		cr_assert_eq(id->size, (uint64_t)st.st_size);
		cr_assert_eq(id->mtime_ns, st.st_mtim.tv_sec * 1000000000ll +
						   st.st_mtim.tv_nsec);
		cr_assert_eq(id->ctime_ns, st.st_ctim.tv_sec * 1000000000ll +
						   st.st_ctim.tv_nsec);
	}
	/* directories carry none */
	cr_assert_eq(sd_tree_lookup(t, "p")->src_ident.ino, 0);
	sd_tree_free(t);
}

Test(hosttree, host_paths_derive_from_the_top_node, .init = setup,
     .fini = tt_teardown)
{
	tt_mkdir("p");
	tt_mkdir("p/d");
	tt_write("p/d/f", "x", (size_t)-1, 0644);
	char p[512], want[512], buf[8];
	snprintf(p, sizeof(p), "%s/p", tt_tmp);
	snprintf(want, sizeof(want), "%s/p/d/f", tt_tmp);
	struct sd_tree *t = sd_tree_new(0);
	struct sd_node *top;
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", p, &top, NULL), 0);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	struct sd_node *f = sd_tree_lookup(t, "p/d/f");

	/* Only the top node stores a path; the file's follows from it. */
	cr_assert_str_eq(top->src_path, p);
	cr_assert_null(f->src_path);
	cr_assert_null(sd_tree_lookup(t, "p/d")->src_path);
	char *got = sd_node_src_path_dup(f);
	cr_assert_str_eq(got, want);
	free(got);
	cr_assert_eq(sd_node_src_path(f, NULL, 0), strlen(want));
	/* Truncated like snprintf. */
	cr_assert_eq(sd_node_src_path(f, buf, sizeof(buf)), strlen(want));
	cr_assert_eq(memcmp(buf, want, sizeof(buf) - 1), 0);
	cr_assert_eq(buf[sizeof(buf) - 1], '\0');
	/* The root has no host path; a node's own path wins. */
	cr_assert_eq(sd_node_src_path(t->root, NULL, 0), 0);
	cr_assert_null(sd_node_src_path_dup(t->root));
	cr_assert_eq(sd_node_set_src_path(f, "/elsewhere", NULL), 0);
	got = sd_node_src_path_dup(f);
	cr_assert_str_eq(got, "/elsewhere");
	free(got);
	sd_tree_free(t);
}

Test(hosttree, refuses_fifo_naming_it, .init = setup, .fini = tt_teardown)
{
	tt_mkdir("p");
	char p[512];
	snprintf(p, sizeof(p), "%s/p/pipe", tt_tmp);
	cr_assert_eq(mkfifo(p, 0644), 0);
	struct sd_tree *t = sd_tree_new(0);
	struct sd_error err;
	sd_error_init(&err);
	snprintf(p, sizeof(p), "%s/p", tt_tmp);
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", p, NULL, &err),
		     SD_ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "p/pipe") && strstr(err.msg, "FIFO"), "%s",
		  err.msg);
	sd_tree_free(t);
}

Test(hosttree, file_changing_size_is_an_error, .init = setup,
     .fini = tt_teardown)
{
	tt_write("f", "abc", (size_t)-1, 0644);
	char p[512];
	snprintf(p, sizeof(p), "%s/f", tt_tmp);
	struct sd_tree *t = sd_tree_new(0);
	struct sd_node *n;
	cr_assert_eq(sd_hosttree_add(t, t->root, "f", p, &n, NULL), 0);
	tt_write("f", "abcdef", (size_t)-1, 0644);
	struct sd_stream *s;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_tree_open(t, n, &s, &err), 0);
	char buf[16];
	size_t got;
	cr_assert_eq(sd_stream_read_full(s, buf, sizeof(buf), &got, &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "grew"), "%s", err.msg);
	sd_stream_close(s);
	sd_tree_free(t);
}

Test(error, messages_stay_on_one_line)
{
	struct sd_error err;
	sd_error_init(&err);
	sd_error_set(&err, SD_ERR_CORRUPT, "bad name \"%s\"", "a\nb\x7f");
	cr_assert_str_eq(err.msg, "bad name \"a\\x0ab\\x7f\"");
	sd_error_prefix(&err, SD_ERR_CORRUPT, "in\t%s", "img");
	cr_assert_str_eq(err.msg, "in\\x09img: bad name \"a\\x0ab\\x7f\"");
}

Test(tree, in_memory_content)
{
	struct sd_tree *t = sd_tree_new(0);
	struct sd_node *n = sd_tree_add(t, t->root, "m", 1, SD_NODE_FILE, NULL);
	cr_assert_eq(sd_node_set_content(n, "abc", 3, NULL), 0);
	cr_assert_eq(n->size, 3);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	struct sd_stream *s;
	char buf[8];
	size_t got;
	cr_assert_eq(sd_tree_open(t, n, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, sizeof(buf), &got, NULL), 0);
	cr_assert_eq(got, 3);
	cr_assert_eq(memcmp(buf, "abc", 3), 0);
	sd_stream_close(s);
	sd_tree_free(t);
}

/* Read @node of @t through sd_tree_open_near with @dc into @buf. */
static size_t read_near(struct sd_tree *t, const char *path,
			struct sd_dircache *dc, char *buf, size_t len)
{
	struct sd_stream *s = NULL;
	size_t got = 0;
	cr_assert_eq(
		sd_tree_open_near(t, sd_tree_lookup(t, path), dc, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, len, &got, NULL), 0);
	sd_stream_close(s);
	return got;
}

Test(hosttree, open_near_reuses_the_directory_and_reads_the_same, .init = setup,
     .fini = tt_teardown)
{
	tt_mkdir("p");
	tt_mkdir("p/a");
	tt_mkdir("p/a/deep");
	tt_write("p/a/one", "one\n", (size_t)-1, 0644);
	tt_write("p/a/two", "second\n", (size_t)-1, 0644);
	tt_write("p/a/deep/three", "3", (size_t)-1, 0644);
	tt_write("p/top", "top file\n", (size_t)-1, 0644);
	char p[512];
	snprintf(p, sizeof(p), "%s/p", tt_tmp);
	struct sd_tree *t = sd_tree_new(1);
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", p, NULL, NULL), 0);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);

	struct sd_dircache dc = SD_DIRCACHE_INIT;
	char buf[32];
	cr_assert_eq(read_near(t, "p/a/one", &dc, buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "one\n", 4), 0);
	cr_assert_eq(dc.dir, sd_tree_lookup(t, "p/a"));
	int fd = dc.fd;
	cr_assert_geq(fd, 0);
	cr_assert_eq(read_near(t, "p/a/two", &dc, buf, sizeof(buf)), 7);
	cr_assert_eq(memcmp(buf, "second\n", 7), 0);
	cr_assert_eq(dc.fd, fd, "same directory: the fd is kept");
	cr_assert_eq(read_near(t, "p/a/deep/three", &dc, buf, sizeof(buf)), 1);
	cr_assert_eq(dc.dir, sd_tree_lookup(t, "p/a/deep"));
	cr_assert_eq(read_near(t, "p/top", &dc, buf, sizeof(buf)), 9);
	cr_assert_eq(memcmp(buf, "top file\n", 9), 0);
	sd_dircache_release(&dc);
	cr_assert_eq(dc.fd, -1);
	cr_assert_null(dc.dir);

	/* a file gone since the walk: the same message as sd_tree_open's */
	struct sd_error e1, e2;
	struct sd_stream *s = NULL;
	snprintf(p, sizeof(p), "%s/p/a/two", tt_tmp);
	cr_assert_eq(unlink(p), 0);
	struct sd_node *two = sd_tree_lookup(t, "p/a/two");
	cr_assert_eq(sd_tree_open(t, two, &s, &e1), SD_ERR_IO);
	cr_assert_eq(sd_tree_open_near(t, two, &dc, &s, &e2), SD_ERR_IO);
	cr_assert_str_eq(e1.msg, e2.msg);
	cr_assert(strstr(e2.msg, "p/a/two: open"), "%s", e2.msg);
	/* its directory gone too: the fallback reports the file the same way */
	sd_dircache_release(&dc);
	snprintf(p, sizeof(p), "%s/p/a/one", tt_tmp);
	cr_assert_eq(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/p/a/deep/three", tt_tmp);
	cr_assert_eq(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/p/a/deep", tt_tmp);
	cr_assert_eq(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/p/a", tt_tmp);
	cr_assert_eq(rmdir(p), 0);
	struct sd_node *one = sd_tree_lookup(t, "p/a/one");
	cr_assert_eq(sd_tree_open(t, one, &s, &e1), SD_ERR_IO);
	cr_assert_eq(sd_tree_open_near(t, one, &dc, &s, &e2), SD_ERR_IO);
	cr_assert_str_eq(e1.msg, e2.msg);
	cr_assert_eq(dc.fd, -1);
	sd_tree_free(t);
}

Test(hosttree, walk_builds_nested_dirs_and_long_targets, .init = setup,
     .fini = tt_teardown)
{
	/* directories several levels down, and a symlink target longer than
	 * a typical name (the walk reads targets with readlinkat) */
	char rel[256] = "p";
	tt_mkdir("p");
	for (int i = 0; i < 6; i++) {
		strcat(rel, "/d");
		tt_mkdir(rel);
	}
	char target[1500];
	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	char p[512];
	snprintf(p, sizeof(p), "%s/%s/link", tt_tmp, rel);
	cr_assert_eq(symlink(target, p), 0);
	snprintf(p, sizeof(p), "%s/p", tt_tmp);
	struct sd_tree *t = sd_tree_new(1);
	cr_assert_eq(sd_hosttree_add(t, t->root, "p", p, NULL, NULL), 0);
	cr_assert_eq(sd_tree_finalize(t, NULL), 0);
	cr_assert_eq(t->ndirs, 8);
	struct sd_node *l = sd_tree_lookup(t, "p/d/d/d/d/d/d/link");
	cr_assert_not_null(l);
	cr_assert_eq(l->size, sizeof(target) - 1);
	cr_assert_str_eq(l->target, target);
	sd_tree_free(t);
}

/* Reads of exactly the expected size (the squashfs reader's way: the
 * bytes, then a read to see the end) still see a file that changed. */
Test(hosttree, exact_size_reads_see_the_end_and_changes, .init = setup,
     .fini = tt_teardown)
{
	char p[512], buf[16];
	size_t got = 0;
	struct sd_stream *s;
	struct sd_error err;
	snprintf(p, sizeof(p), "%s/f", tt_tmp);

	tt_write("f", "abcd", (size_t)-1, 0644);
	cr_assert_eq(sd_stream_open_host(p, 4, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, 4, &got, NULL), 0);
	cr_assert_eq(got, 4);
	cr_assert_eq(memcmp(buf, "abcd", 4), 0);
	cr_assert_eq(sd_stream_read(s, buf, 1, &got, NULL), 0);
	cr_assert_eq(got, 0, "the end");
	sd_stream_close(s);

	/* one byte more than expected, read as exactly the expected size */
	tt_write("f", "abcde", (size_t)-1, 0644);
	sd_error_init(&err);
	cr_assert_eq(sd_stream_open_host(p, 4, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, 4, &got, &err), SD_ERR_IO);
	cr_assert(strstr(err.msg, "f: file grew while being read"), "%s",
		  err.msg);
	sd_stream_close(s);

	/* one byte less */
	tt_write("f", "abc", (size_t)-1, 0644);
	sd_error_init(&err);
	cr_assert_eq(sd_stream_open_host(p, 4, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, 4, &got, &err), SD_ERR_IO);
	cr_assert(strstr(err.msg, "shrank while being read (3 of 4 bytes)"),
		  "%s", err.msg);
	sd_stream_close(s);

	/* in pieces: the last one reaches the end */
	tt_write("f", "abcdef", (size_t)-1, 0644);
	cr_assert_eq(sd_stream_open_host(p, 6, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, 2, &got, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf + 2, 4, &got, NULL), 0);
	cr_assert_eq(got, 4);
	cr_assert_eq(memcmp(buf, "abcdef", 6), 0);
	cr_assert_eq(sd_stream_read(s, buf, sizeof(buf), &got, NULL), 0);
	cr_assert_eq(got, 0);
	sd_stream_close(s);
}

/* A sparse file reads as its bytes, holes as zeros (found with SEEK_DATA,
 * not read); growth and shrinking are still seen when it ends in a hole;
 * a same-size write between reads is "changed". */
Test(hosttree, sparse_and_changing_files, .init = setup, .fini = tt_teardown)
{
	char p[512];
	static unsigned char buf[8u << 20];
	size_t got = 0;
	struct sd_stream *s;
	struct sd_error err;
	uint64_t size = 8u << 20;
	snprintf(p, sizeof(p), "%s/sparse", tt_tmp);

	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	cr_assert_eq(pwrite(fd, "data", 4, 3u << 20), 4);
	cr_assert_eq(pwrite(fd, "end", 3, (off_t)size - 3), 3);
	close(fd);
	cr_assert_eq(sd_stream_open_host(p, size, &s, NULL), 0);
	size_t total = 0;
	for (;;) {
		cr_assert_eq(sd_stream_read(s, buf + total, 100000, &got, NULL),
			     0);
		if (!got)
			break;
		total += got;
	}
	sd_stream_close(s);
	cr_assert_eq(total, size);
	for (size_t i = 0; i < size; i++) {
		unsigned char want = 0;
		if (i >= (3u << 20) && i < (3u << 20) + 4)
			want = (unsigned char)"data"[i - (3u << 20)];
		if (i >= size - 3)
			want = (unsigned char)"end"[i - (size - 3)];
		if (buf[i] != want)
			cr_assert_fail("byte %zu is %u, wanted %u", i, buf[i],
				       want);
	}

	/* holes to the end; the file grows before the last read */
	fd = open(p, O_WRONLY | O_TRUNC);
	cr_assert_eq(pwrite(fd, "x", 1, 0), 1);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	sd_error_init(&err);
	cr_assert_eq(sd_stream_open_host(p, size, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, 1u << 20, &got, NULL), 0);
	cr_assert_eq(ftruncate(fd, (off_t)size + 1), 0);
	cr_assert_neq(sd_stream_read_full(s, buf, size, &got, &err), 0);
	cr_assert(strstr(err.msg, "sparse: file grew while being read") ||
			  strstr(err.msg,
				 "sparse: file changed while being read"),
		  "%s", err.msg);
	sd_stream_close(s);

	/* the same size, written between reads */
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	sd_error_init(&err);
	cr_assert_eq(sd_stream_open_host(p, size, &s, NULL), 0);
	cr_assert_eq(sd_stream_read_full(s, buf, 1u << 20, &got, NULL), 0);
	struct timespec nap = {0, 20 * 1000 * 1000};
	nanosleep(&nap, NULL);
	cr_assert_eq(pwrite(fd, "y", 1, 5u << 20), 1);
	cr_assert_eq(sd_stream_read_full(s, buf, size, &got, &err), SD_ERR_IO);
	cr_assert(strstr(err.msg, "sparse: file changed while being read"),
		  "%s", err.msg);
	sd_stream_close(s);
	close(fd);
}
