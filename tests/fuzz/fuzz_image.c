/* SPDX-License-Identifier: MIT */
/* fuzz_image.c — see fuzz_image.h. */
#include "fuzz_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "formats/format.h"

struct budget {
	const struct sd_tree *tree;
	uint64_t left;
};

static int stream_file(struct sd_node *node, void *ctx)
{
	struct budget *b = ctx;
	static uint8_t buf[65536];
	struct sd_stream *s = NULL;
	struct sd_error err;

	if (node->type != SD_NODE_FILE || b->left == 0)
		return 0;
	sd_error_init(&err);
	if (sd_tree_open(b->tree, node, &s, &err))
		return 0;
	for (;;) {
		size_t got = 0;
		if (sd_stream_read(s, buf, sizeof(buf), &got, &err) || got == 0)
			break;
		if (got > sizeof(buf))
			abort(); /* a stream must never overfill */
		if (got >= b->left) {
			b->left = 0;
			break;
		}
		b->left -= got;
	}
	sd_stream_close(s);
	return 0;
}

/* The input in a memfd (its /proc path in @path); -1 on failure. */
static int input_fd(const uint8_t *data, size_t size, char path[64])
{
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

void fuzz_info_image(const uint8_t *data, size_t size, fuzz_info_fn info)
{
	char path[64];
	struct sd_image_info out;
	struct sd_error err;
	int fd = input_fd(data, size, path);

	if (fd < 0)
		return;
	sd_error_init(&err);
	if (info(path, &out, &err) != 0 &&
	    (err.msg[0] == '\0' || strchr(err.msg, '\n')))
		abort(); /* every failure carries a one-line reason */
	close(fd);
}

void fuzz_read_image(const uint8_t *data, size_t size, fuzz_read_fn read)
{
	char path[64];
	struct sd_tree *tree = NULL;
	struct sd_error err;
	int fd = input_fd(data, size, path);

	if (fd < 0)
		return;
	sd_error_init(&err);
	if (read(path, &tree, &err) == 0) {
		struct budget b = {tree, FUZZ_MAX_BYTES};
		sd_tree_walk(tree->root, stream_file, &b);
		sd_tree_free(tree);
	} else if (err.msg[0] == '\0' || strchr(err.msg, '\n')) {
		abort(); /* every failure carries a one-line reason */
	}
	close(fd);
}
