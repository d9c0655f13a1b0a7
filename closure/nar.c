/* SPDX-License-Identifier: MIT */
/*
 * nar.c — NAR serialisation of a tree node and its narHash (see nar.h).
 */
#include "closure/nar.h"

#include <stdlib.h>
#include <string.h>

#include "closure/nix32.h"
#include "core/hex.h"
#include "core/sha256.h"

/* Content is copied through a buffer of this size. */
#define NAR_BUF 65536

struct nar_writer {
	const struct sd_tree *tree;
	sd_nar_sink sink;
	void *ctx;
	uint8_t *buf; /* NAR_BUF bytes for file contents */
};

static int put(struct nar_writer *w, const void *data, size_t len,
	       struct sd_error *err)
{
	if (len == 0)
		return 0;
	return w->sink(w->ctx, data, len, err);
}

static int put_u64(struct nar_writer *w, uint64_t v, struct sd_error *err)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return put(w, b, sizeof b, err);
}

/* Zero bytes after @len bytes of string data, up to a multiple of 8. */
static int put_pad(struct nar_writer *w, uint64_t len, struct sd_error *err)
{
	static const uint8_t zero[8];
	size_t n = (size_t)((8 - (len % 8)) % 8);
	return put(w, zero, n, err);
}

static int put_bytes(struct nar_writer *w, const void *s, size_t len,
		     struct sd_error *err)
{
	int rc = put_u64(w, len, err);
	if (rc == 0)
		rc = put(w, s, len, err);
	if (rc == 0)
		rc = put_pad(w, len, err);
	return rc;
}

static int put_str(struct nar_writer *w, const char *s, struct sd_error *err)
{
	return put_bytes(w, s, strlen(s), err);
}

/* Several constant strings in a row (NULL-terminated list). */
static int put_strs(struct nar_writer *w, struct sd_error *err,
		    const char *const *list)
{
	for (; *list; list++) {
		int rc = put_str(w, *list, err);
		if (rc)
			return rc;
	}
	return 0;
}

#define PUT_STRS(w, err, ...) \
	put_strs((w), (err), (const char *const[]){__VA_ARGS__, NULL})

static int node_error(struct sd_error *err, int code,
		      const struct sd_node *node, const char *what)
{
	char *path = sd_node_path_dup(node);
	if (!path)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	sd_error_set(err, code, "%s: %s", path[0] ? path : "/", what);
	free(path);
	return code;
}

/* "contents" <length> <bytes streamed> <padding> */
static int write_contents(struct nar_writer *w, const struct sd_node *node,
			  struct sd_error *err)
{
	struct sd_stream *s = NULL;
	int rc = sd_tree_open(w->tree, node, &s, err);
	if (rc)
		return rc;
	rc = put_str(w, "contents", err);
	if (rc == 0)
		rc = put_u64(w, node->size, err);
	uint64_t done = 0;
	while (rc == 0) {
		size_t got = 0;
		rc = sd_stream_read(s, w->buf, NAR_BUF, &got, err);
		if (rc || got == 0)
			break;
		if (got > node->size - done) {
			rc = node_error(
				err, SD_ERR_IO, node,
				"file is longer than its recorded size");
			break;
		}
		done += got;
		rc = put(w, w->buf, got, err);
	}
	sd_stream_close(s);
	if (rc == 0 && done != node->size)
		rc = node_error(err, SD_ERR_IO, node,
				"file is shorter than its recorded size");
	if (rc == 0)
		rc = put_pad(w, node->size, err);
	return rc;
}

static int write_node(struct nar_writer *w, const struct sd_node *node,
		      struct sd_error *err)
{
	int rc = PUT_STRS(w, err, "(", "type");
	if (rc)
		return rc;
	switch (node->type) {
	case SD_NODE_FILE:
		rc = put_str(w, "regular", err);
		if (rc == 0 && (node->mode & 0100))
			rc = PUT_STRS(w, err, "executable", "");
		if (rc == 0)
			rc = write_contents(w, node, err);
		break;
	case SD_NODE_SYMLINK:
		rc = PUT_STRS(w, err, "symlink", "target");
		if (rc == 0)
			rc = put_bytes(w, node->target ? node->target : "",
				       node->target ? strlen(node->target) : 0,
				       err);
		break;
	case SD_NODE_DIR:
		rc = put_str(w, "directory", err);
		for (size_t i = 0; rc == 0 && i < node->nchildren; i++) {
			const struct sd_node *c = node->children[i];
			rc = PUT_STRS(w, err, "entry", "(", "name");
			if (rc == 0)
				rc = put_bytes(w, c->name, c->name_len, err);
			if (rc == 0)
				rc = put_str(w, "node", err);
			if (rc == 0)
				rc = write_node(w, c, err);
			if (rc == 0)
				rc = put_str(w, ")", err);
		}
		break;
	default:
		return node_error(err, SD_ERR_UNSUPPORTED, node,
				  "device, FIFO or socket cannot be put in a "
				  "NAR");
	}
	if (rc == 0)
		rc = put_str(w, ")", err);
	return rc;
}

int sd_nar_write(const struct sd_tree *tree, const struct sd_node *node,
		 sd_nar_sink sink, void *ctx, struct sd_error *err)
{
	struct nar_writer w = {
		.tree = tree,
		.sink = sink,
		.ctx = ctx,
		.buf = malloc(NAR_BUF),
	};
	if (!w.buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = put_str(&w, "nix-archive-1", err);
	if (rc == 0)
		rc = write_node(&w, node, err);
	free(w.buf);
	return rc;
}

struct hash_sink {
	struct sd_sha256 *h;
	uint64_t size;
};

static int hash_sink(void *ctx, const void *data, size_t len,
		     struct sd_error *err)
{
	(void)err;
	struct hash_sink *hs = ctx;
	sd_sha256_update(hs->h, data, len);
	hs->size += len;
	return 0;
}

int sd_nar_hash(const struct sd_tree *tree, const struct sd_node *node,
		struct sd_nar_hash *out, struct sd_error *err)
{
	struct hash_sink hs = {.h = sd_sha256_new()};
	if (!hs.h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	int rc = sd_nar_write(tree, node, hash_sink, &hs, err);
	if (rc) {
		sd_sha256_free(hs.h);
		return rc;
	}
	sd_sha256_final(hs.h, out->sha256);
	out->size = hs.size;
	return 0;
}

void sd_nar_hash_nix32(const uint8_t sha256[32], char out[SD_NAR_NIX32_LEN + 1])
{
	memcpy(out, "sha256:", 7);
	sd_nix32_encode(sha256, 32, out + 7);
}

void sd_nar_hash_base16(const uint8_t sha256[32], char out[65])
{
	sd_hex_encode(sha256, 32, out);
}
