/*
 * replay.c — main() of the fuzz targets when they are not built with
 * libFuzzer: feeds every file of the directories (or files) named on the
 * command line to LLVMFuzzerTestOneInput, so `meson test --suite fuzz`
 * replays the committed corpora.  Arguments starting with '-' are
 * ignored, so one command line serves both builds.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
