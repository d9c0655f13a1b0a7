/* SPDX-License-Identifier: MIT */
/* Tests of the NAR serialiser and narHash (closure/nar.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure/nar.h"
#include "core/hosttree.h"
#include "core/sha256.h"
#include "helpers.h"
#include "tests/common/tools.h"

/* `printf 'hello\n' | nix-store --dump` (plain and executable). */
#define HELLO_HEX \
	"1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13"
#define HELLO_N32 "sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"
#define HELLO_X_HEX \
	"65436039d3f93ca19a8dbf1c60b15739ed58f53f14b8d372acc1b351533010fa"
/* nix-store --dump of the directory make_dir() builds, and of parts. */
#define DIR_HEX \
	"47e299fff05d5baa75989e2c16eb369f93541c980aa8618637aeac3a1d7df899"
#define DIR_SIZE 2208
#define BIN_HEX \
	"b8f3b75ea2e2857c8f9feeec264273982e49524f4dce1c741c9c0caf83f67f4d"
#define LINK_HEX \
	"b2d471a08d30662f14c0ae1e718b16f9fc1f38de425f47cca0437e9e93bc1f24"
#define EMPTY_HEX \
	"77ac62e2629d8e45f624589c0c8bf99e24b3a722349bf1e79bc186008534e246"

TestSuite(nar, .init = ct_setup, .fini = tt_teardown);

/* A host tree holding tt_path(@rel) as the root's child "x". */
static struct sd_tree *host_tree(const char *rel, struct sd_node **node)
{
	struct sd_error err;
	sd_error_init(&err);
	struct sd_tree *t = sd_tree_new(1);
	cr_assert_not_null(t);
	cr_assert_eq(sd_hosttree_add(t, t->root, "x", tt_path(rel), node, &err),
		     0, "%s", err.msg);
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "%s", err.msg);
	return t;
}

static void hash_hex(const struct sd_tree *t, const struct sd_node *n,
		     char hex[65], uint64_t *size)
{
	struct sd_nar_hash h;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nar_hash(t, n, &h, &err), 0, "%s", err.msg);
	sd_nar_hash_base16(h.sha256, hex);
	if (size)
		*size = h.size;
}

/* Growable buffer sink. */
struct buf {
	uint8_t *data;
	size_t len, cap;
	size_t max_piece;
};

static int buf_sink(void *ctx, const void *data, size_t len,
		    struct sd_error *err)
{
	(void)err;
	struct buf *b = ctx;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
		cr_assert_not_null(b->data);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	if (len > b->max_piece)
		b->max_piece = len;
	return 0;
}

static void make_dir(void)
{
	tt_mkdir("nd/bin");
	tt_mkdir("nd/emptydir");
	tt_write("nd/a", "alpha\n", (size_t)-1, 0644);
	tt_write("nd/B", "upper", (size_t)-1, 0644);
	tt_write("nd/empty", "", 0, 0644);
	tt_write("nd/bin/tool", "#!/bin/sh\n", (size_t)-1, 0755);
	tt_symlink("a", "nd/link");
	tt_symlink("/nonexistent/target", "nd/dangling");
	tt_write("nd/a.b", "x", (size_t)-1, 0644);
	tt_write("nd/exactly8", "12345678", (size_t)-1, 0644);
	tt_write("nd/aa", "aa", (size_t)-1, 0644);
}

Test(nar, hello_bytes)
{
	tt_write("f", "hello\n", (size_t)-1, 0644);
	struct sd_node *n;
	struct sd_tree *t = host_tree("f", &n);
	struct buf b = {0};
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nar_write(t, n, buf_sink, &b, &err), 0, "%s", err.msg);
	static const char expect[] = "\x0d\0\0\0\0\0\0\0nix-archive-1\0\0\0"
				     "\x01\0\0\0\0\0\0\0(\0\0\0\0\0\0\0"
				     "\x04\0\0\0\0\0\0\0type\0\0\0\0"
				     "\x07\0\0\0\0\0\0\0regular\0"
				     "\x08\0\0\0\0\0\0\0contents"
				     "\x06\0\0\0\0\0\0\0hello\n\0\0"
				     "\x01\0\0\0\0\0\0\0)\0\0\0\0\0\0\0";
	cr_assert_eq(b.len, 120);
	cr_assert_eq(sizeof expect - 1, 120);
	cr_assert_eq(memcmp(b.data, expect, 120), 0);
	free(b.data);

	char hex[65];
	uint64_t size;
	hash_hex(t, n, hex, &size);
	cr_assert_str_eq(hex, HELLO_HEX);
	cr_assert_eq(size, 120);
	sd_tree_free(t);
}

Test(nar, hello_executable)
{
	tt_write("f", "hello\n", (size_t)-1, 0755);
	struct sd_node *n;
	struct sd_tree *t = host_tree("f", &n);
	char hex[65];
	uint64_t size;
	hash_hex(t, n, hex, &size);
	cr_assert_str_eq(hex, HELLO_X_HEX);
	cr_assert_eq(size, 120 + 24 + 8); /* "executable", "" */
	sd_tree_free(t);
}

Test(nar, nix32_and_base16_text)
{
	uint8_t d[32];
	cr_assert_eq(sd_hex_decode(HELLO_HEX, d, 32, NULL), 0);
	char n32[SD_NAR_NIX32_LEN + 1], hex[65];
	memset(n32, 'Z', sizeof n32);
	sd_nar_hash_nix32(d, n32);
	cr_assert_str_eq(n32, HELLO_N32);
	cr_assert_eq(strlen(n32), SD_NAR_NIX32_LEN);
	sd_nar_hash_base16(d, hex);
	cr_assert_str_eq(hex, HELLO_HEX);
}

Test(nar, directory_fixed)
{
	make_dir();
	struct sd_node *n;
	struct sd_tree *t = host_tree("nd", &n);
	char hex[65];
	uint64_t size;
	hash_hex(t, n, hex, &size);
	cr_assert_str_eq(hex, DIR_HEX);
	cr_assert_eq(size, DIR_SIZE);
	hash_hex(t, sd_node_child(n, "bin", 3), hex, NULL);
	cr_assert_str_eq(hex, BIN_HEX);
	hash_hex(t, sd_node_child(n, "link", 4), hex, NULL);
	cr_assert_str_eq(hex, LINK_HEX);
	hash_hex(t, sd_node_child(n, "empty", 5), hex, NULL);
	cr_assert_str_eq(hex, EMPTY_HEX);
	sd_tree_free(t);
}

/* "<sha256> <size>" of `nix-store --dump @rel`, or NULL if it failed. */
static char *nix_dump(const char *rel)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "nix-store --dump '%s' 2>/dev/null > '%s' && "
		 "printf '%%s %%s' \"$(sha256sum < '%s' | cut -c1-64)\" "
		 "\"$(wc -c < '%s')\"",
		 tt_path(rel), tt_path("dump.nar"), tt_path("dump.nar"),
		 tt_path("dump.nar"));
	char *out = tt_run(cmd);
	if (!out[0]) {
		free(out);
		return NULL;
	}
	return out;
}

static void compare_with_nix(const char *rel, const struct sd_tree *t,
			     const struct sd_node *n)
{
	char *nix = nix_dump(rel);
	if (!nix)
		cr_skip_test("nix-store --dump %s failed", rel);
	char hex[65], ours[128];
	uint64_t size;
	hash_hex(t, n, hex, &size);
	snprintf(ours, sizeof ours, "%s %llu", hex, (unsigned long long)size);
	cr_assert_str_eq(ours, nix, "%s", rel);
	free(nix);
}

Test(nar, directory_against_nix_store)
{
	if (!tt_have_tool("nix-store"))
		cr_skip_test("nix-store is not installed (apt-get install "
			     "nix-bin)");
	make_dir();
	struct sd_node *n;
	struct sd_tree *t = host_tree("nd", &n);
	compare_with_nix("nd", t, n);
	compare_with_nix("nd/bin", t, sd_node_child(n, "bin", 3));
	compare_with_nix("nd/dangling", t, sd_node_child(n, "dangling", 8));
	compare_with_nix("nd/emptydir", t, sd_node_child(n, "emptydir", 8));
	sd_tree_free(t);
}

/* A content source generating node->size bytes of a pattern. */
struct pat_stream {
	struct sd_stream s;
	uint64_t left, pos;
};

static int pat_read(struct sd_stream *s, void *buf, size_t len, size_t *got,
		    struct sd_error *err)
{
	(void)err;
	struct pat_stream *p = (struct pat_stream *)s;
	if (len > p->left)
		len = (size_t)p->left;
	if (len > 10000)
		len = 10000; /* short reads on purpose */
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)((p->pos + i) * 7 + 3);
	p->pos += len;
	p->left -= len;
	*got = len;
	return 0;
}

static void pat_close(struct sd_stream *s)
{
	free(s);
}

static int pat_open(void *ctx, const struct sd_node *node,
		    struct sd_stream **out, struct sd_error *err)
{
	(void)ctx;
	(void)err;
	struct pat_stream *p = calloc(1, sizeof *p);
	cr_assert_not_null(p);
	p->s.read = pat_read;
	p->s.close = pat_close;
	p->left = node->size + node->src_id; /* src_id: surplus bytes */
	*out = &p->s;
	return 0;
}

static const struct sd_content_source pat_source = {.open = pat_open};

static struct sd_tree *pattern_tree(uint64_t size, uint64_t surplus,
				    struct sd_node **n)
{
	struct sd_error err;
	sd_error_init(&err);
	struct sd_tree *t = sd_tree_new(1);
	t->source = &pat_source;
	*n = sd_tree_add(t, t->root, "big", 3, SD_NODE_FILE, &err);
	cr_assert_not_null(*n, "%s", err.msg);
	(*n)->mode = 0444;
	(*n)->size = size;
	(*n)->src_id = surplus;
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "%s", err.msg);
	return t;
}

Test(nar, streams_large_file)
{
	const uint64_t size = 3 * 1024 * 1024 + 5;
	struct sd_node *n;
	struct sd_tree *t = pattern_tree(size, 0, &n);

	struct buf b = {0};
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nar_write(t, n, buf_sink, &b, &err), 0, "%s", err.msg);
	/* header 13+3 pad, "(", "type", "regular", "contents" strings,
	 * the length, content + 3 pad, ")". */
	uint64_t head = 8 + 16 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8;
	cr_assert_eq(b.len, head + 8 + size + 3 + 16);
	cr_assert_leq(b.max_piece, 65536, "content not streamed");
	for (uint64_t i = 0; i < size; i += 4099)
		cr_assert_eq(b.data[head + 8 + i], (uint8_t)(i * 7 + 3));
	cr_assert_eq(b.data[head + 8 + size], 0);

	uint8_t want[32];
	struct sd_sha256 *h = sd_sha256_new();
	sd_sha256_update(h, b.data, b.len);
	sd_sha256_final(h, want);
	struct sd_nar_hash got;
	cr_assert_eq(sd_nar_hash(t, n, &got, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(got.sha256, want, 32), 0);
	cr_assert_eq(got.size, b.len);
	free(b.data);
	sd_tree_free(t);
}

Test(nar, large_host_file_against_nix_store)
{
	if (!tt_have_tool("nix-store"))
		cr_skip_test("nix-store is not installed (apt-get install "
			     "nix-bin)");
	size_t len = 1000 * 1000 + 1;
	char *data = malloc(len);
	cr_assert_not_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 31 + 1);
	tt_write("big", data, len, 0755);
	free(data);
	struct sd_node *n;
	struct sd_tree *t = host_tree("big", &n);
	compare_with_nix("big", t, n);
	sd_tree_free(t);
}

Test(nar, content_longer_or_shorter_than_size)
{
	struct sd_node *n;
	struct sd_tree *t = pattern_tree(100, 1, &n);
	struct sd_nar_hash h;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_nar_hash(t, n, &h, &err), SD_ERR_IO);
	cr_assert(strstr(err.msg, "big: file is longer"), "%s", err.msg);
	n->src_id = (uint64_t)-1; /* yields 99 bytes */
	cr_assert_eq(sd_nar_hash(t, n, &h, &err), SD_ERR_IO);
	cr_assert(strstr(err.msg, "big: file is shorter"), "%s", err.msg);
	sd_tree_free(t);
}

Test(nar, other_node_unsupported)
{
	struct sd_error err;
	sd_error_init(&err);
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = sd_tree_add(t, t->root, "p", 1, SD_NODE_DIR, &err);
	cr_assert_not_null(d);
	cr_assert_not_null(sd_tree_add(t, d, "fifo", 4, SD_NODE_OTHER, &err));
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "%s", err.msg);
	struct sd_nar_hash h;
	cr_assert_eq(sd_nar_hash(t, d, &h, &err), SD_ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "p/fifo"), "%s", err.msg);
	sd_tree_free(t);
}

static int failing_sink(void *ctx, const void *data, size_t len,
			struct sd_error *err)
{
	(void)data;
	size_t *left = ctx;
	if (len > *left)
		return sd_error_set(err, SD_ERR_IO, "disk full");
	*left -= len;
	return 0;
}

Test(nar, sink_error_stops)
{
	make_dir();
	struct sd_node *n;
	struct sd_tree *t = host_tree("nd", &n);
	struct sd_error err;
	sd_error_init(&err);
	size_t left = 500;
	cr_assert_eq(sd_nar_write(t, n, failing_sink, &left, &err), SD_ERR_IO);
	cr_assert_str_eq(err.msg, "disk full");
	sd_tree_free(t);
}

Test(nar, deep_directory)
{
	struct sd_error err;
	sd_error_init(&err);
	struct sd_tree *t = sd_tree_new(1);
	struct sd_node *d = t->root;
	for (int i = 0; i < 4096; i++) {
		d = sd_tree_add(t, d, "d", 1, SD_NODE_DIR, &err);
		cr_assert_not_null(d, "%s", err.msg);
	}
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "%s", err.msg);
	struct sd_nar_hash h;
	cr_assert_eq(sd_nar_hash(t, t->root, &h, &err), 0, "%s", err.msg);
	/* header 24, root "(" "type" "directory" ")" 72; per level
	 * "entry" "(" "name" "d" "node" "(" "type" "directory" ")" ")" 168. */
	cr_assert_eq(h.size, 24 + 72 + 4096ULL * 168);
	sd_tree_free(t);
}
