/*
 * fuzz_erofs_reader.c — fuzz target for the EROFS reader.
 *
 * LLVMFuzzerTestOneInput writes the input to a memfd, reads it with
 * sd_erofs_read(), streams every file to its end (at most FUZZ_MAX_BYTES
 * per input, so a huge sparse file cannot stall a run) and frees the tree.
 * Any result is fine except a crash, a sanitizer report or a hang.
 *
 * Without libFuzzer (the default build) main() replays every file of the
 * directories (or files) named on the command line; `meson test --suite
 * fuzz` runs it over tests/fuzz/corpus/erofs.  Arguments starting with
 * '-' are ignored, so the same command line works for both builds.
 *
 * Fuzzing with clang (libclang-rt-14-dev for libFuzzer):
 *
 *   CC=clang meson setup /tmp/bf -Dfuzzing=true -Db_sanitize=address,undefined
 *   meson compile -C /tmp/bf tests/fuzz/fuzz-erofs-reader
 *   cp -r tests/fuzz/corpus/erofs /tmp/corpus
 *   /tmp/bf/tests/fuzz/fuzz-erofs-reader -max_len=65536 -timeout=10 \
 *       -rss_limit_mb=2048 /tmp/corpus
 *
 * and copy any crash-* file it writes into tests/fuzz/corpus/erofs/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "core/tree.h"
#include "formats/erofs/reader.h"

#define FUZZ_MAX_BYTES (256u << 20)

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
		if (sd_stream_read(s, buf, sizeof(buf), &got, &err) ||
		    got == 0)
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

/*
 * The superblock checksum covers block 0, where mkfs.erofs puts the first
 * inodes; so that mutations there get past it, inputs whose byte 0 (in
 * the unused boot area) is even get a recomputed checksum.
 */
static void fix_checksum(uint8_t *d, size_t size)
{
	if (size < 1024 + 128 || (d[0] & 1) || !(d[1024 + 8] & 1))
		return;
	unsigned bits = d[1024 + 12];
	if (bits < 9 || bits > 16 || size < (1024u + (1u << bits)))
		return;
	size_t len = (size_t)1 << bits;
	len = len > 1024 ? len - 1024 : len;
	memset(d + 1024 + 4, 0, 4);
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		crc ^= d[1024 + i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	for (int k = 0; k < 4; k++)
		d[1024 + 4 + k] = (uint8_t)(crc >> (8 * k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct sd_tree *tree = NULL;
	struct sd_error err;
	int fd = memfd_create("fuzz-erofs", MFD_CLOEXEC);

	uint8_t *copy = malloc(size ? size : 1);

	if (fd < 0 || !copy) {
		if (fd >= 0)
			close(fd);
		free(copy);
		return 0;
	}
	memcpy(copy, data, size);
	fix_checksum(copy, size);
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, copy + off, size - off);
		if (n <= 0) {
			close(fd);
			free(copy);
			return 0;
		}
		off += (size_t)n;
	}
	free(copy);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	sd_error_init(&err);
	if (sd_erofs_read(path, &tree, &err) == 0) {
		struct budget b = { tree, FUZZ_MAX_BYTES };
		sd_tree_walk(tree->root, stream_file, &b);
		sd_tree_free(tree);
	} else if (err.msg[0] == '\0' || strchr(err.msg, '\n')) {
		abort(); /* every failure carries a one-line reason */
	}
	close(fd);
	return 0;
}

#ifndef SD_LIBFUZZER
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			uint8_t *n = realloc(data, cap);
			if (!n) {
				fclose(f);
				free(data);
				return 1;
			}
			data = n;
		}
		size_t n = fread(data + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int replay(const char *path, unsigned *count)
{
	DIR *d = opendir(path);
	int bad = 0;

	if (!d) {
		++*count;
		return replay_file(path);
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		char *p = malloc(len);
		if (!p) {
			bad = 1;
			break;
		}
		snprintf(p, len, "%s/%s", path, e->d_name);
		++*count;
		bad |= replay_file(p);
		free(p);
	}
	closedir(d);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int bad = 0;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			bad |= replay(argv[i], &count);
	printf("replayed %u inputs\n", count);
	return bad || count == 0;
}
#endif
