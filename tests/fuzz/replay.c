/* SPDX-License-Identifier: MIT */
/*
 * replay.c — main() of the fuzz targets when they are not built with
 * libFuzzer: feeds every file of the directories (or files) named on the
 * command line to LLVMFuzzerTestOneInput, so `meson test --suite fuzz`
 * replays the committed corpora.  Arguments starting with '-' are
 * ignored, so one command line serves both builds.
 *
 * The report is TAP on stdout: the plan first ("1..N", inputs in byte
 * order of their paths), then "ok N - PATH" after each input returns.  An
 * input that crashes the target (abort, sanitizer report) ends the process
 * before its line, so meson sees a non-zero exit and too few results.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct inputs {
	char **path;
	size_t n, cap;
};

static int add_input(struct inputs *in, char *path)
{
	if (in->n == in->cap) {
		size_t cap = in->cap ? 2 * in->cap : 64;
		char **p = realloc(in->path, cap * sizeof(*p));
		if (!p) {
			free(path);
			return 1;
		}
		in->path = p;
		in->cap = cap;
	}
	in->path[in->n++] = path;
	return 0;
}

/* A directory adds its files (names starting with '.' aside), anything
 * else is an input itself. */
static int collect(struct inputs *in, const char *path)
{
	DIR *d = opendir(path);
	int bad = 0;

	if (!d)
		return add_input(in, strdup(path));
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
		bad |= add_input(in, p);
	}
	closedir(d);
	return bad;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the whole of @path; 0 on success. */
static int slurp(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return 1;
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
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(data);
		return 1;
	}
	*out = data;
	*out_len = len;
	return 0;
}

int main(int argc, char **argv)
{
	struct inputs in = {0};
	int bad = 0;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			bad |= collect(&in, argv[i]);
	if (bad) {
		printf("Bail out! cannot list the inputs\n");
		return 1;
	}
	if (in.n == 0) {
		printf("Bail out! no inputs to replay\n");
		return 1;
	}
	qsort(in.path, in.n, sizeof(*in.path), by_path);
	printf("1..%zu\n", in.n);
	fflush(stdout);
	for (size_t i = 0; i < in.n; i++) {
		uint8_t *data;
		size_t len;
		if (slurp(in.path[i], &data, &len)) {
			printf("not ok %zu - %s: cannot read it\n", i + 1,
			       in.path[i]);
			bad = 1;
		} else {
			LLVMFuzzerTestOneInput(data, len);
			free(data);
			printf("ok %zu - %s\n", i + 1, in.path[i]);
		}
		fflush(stdout);
		free(in.path[i]);
	}
	free(in.path);
	return bad;
}
