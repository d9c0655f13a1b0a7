/* SPDX-License-Identifier: MIT */
/* golden.c — the sweep's store and its golden images (see golden.h). */
#include "golden.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util.h"

#define LIB "1b8m03r63zqhnjf7l5wnldhh7c134ap5-libfoo-1.0"
#define APP "2b8m03r63zqhnjf7l5wnldhh7c134ap5-app-2.0"
#define DATA "3b8m03r63zqhnjf7l5wnldhh7c134ap5-data"
#define LINK "4b8m03r63zqhnjf7l5wnldhh7c134ap5-link"

const char *const sw_golden_files[] = {
	LIB "/lib/libfoo.so",
	LIB "/lib/libfoo.a",
	LIB "/share/empty",
	APP "/bin/app",
	APP "/etc/conf",
	APP "/data/big",
	APP "/data/dup",
	DATA,
	NULL,
};

static uint64_t golden_rng = 0x60de11ull;

/* splitmix64: deterministic bytes for the store's files. */
uint64_t sw_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* @len bytes of words from a small vocabulary (compresses well). */
static char *text(size_t len)
{
	static const char *const words[] = {
		"lorem ",    "store ", "path ", "closure ",   "pcluster ",
		"fragment ", "inode ", "\n",    "reference ", "deriver ",
	};
	char *t = malloc(len + 16);
	size_t n = 0;

	if (!t)
		sw_die("out of memory");
	while (n < len) {
		const char *w = words[sw_rand(&golden_rng) % 10];
		memcpy(t + n, w, strlen(w));
		n += strlen(w);
	}
	return t;
}

static void noise(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)sw_rand(&golden_rng);
}

/* sw_path(store, ...) for the calls below, freed on the next call. */
static const char *at(const char *store, const char *fmt, const char *a)
{
	static char *last;

	free(last);
	last = sw_path(store, fmt, a);
	return last;
}

void sw_golden_store(const char *store)
{
	char t[512];
	size_t big = 160 * 1024;

	golden_rng = 0x60de11ull;
	sw_mkdir_p(at(store, "%s/lib", LIB));
	sw_mkdir_p(at(store, "%s/share/links", LIB));
	sw_mkdir_p(at(store, "%s/bin", APP));
	sw_mkdir_p(at(store, "%s/etc", APP));
	sw_mkdir_p(at(store, "%s/data", APP));

	char *so = text(24 * 1024);
	sw_write_file(at(store, "%s/lib/libfoo.so", LIB), so, 24 * 1024, 0555);
	/* deduplicated */
	sw_write_file(at(store, "%s/data/dup", APP), so, 24 * 1024, 0444);
	free(so);
	char *a = text(200);
	sw_write_file(at(store, "%s/lib/libfoo.a", LIB), a, 200, 0444);
	free(a);
	sw_write_file(at(store, "%s/share/empty", LIB), "", 0, 0444);
	/* A directory of 72 entries with 120-byte names: more than 8 KiB of
	 * entries, so three EROFS directory blocks and a squashfs
	 * directory index. */
	memset(t, 'n', 120);
	t[120] = '\0';
	for (int i = 0; i < 72; i++) {
		char rel[256];
		memcpy(t, "entry-", 6);
		t[6] = (char)('a' + i / 26 % 26);
		t[7] = (char)('a' + i % 26);
		snprintf(rel, sizeof(rel), "%s/share/links/%s", LIB, t);
		sw_symlink("../lib/libfoo.so", at(store, "%s", rel));
	}

	/* The program: references to the library among incompressible
	 * bytes. */
	uint8_t *app = malloc(20 * 1024);
	if (!app)
		sw_die("out of memory");
	noise(app, 20 * 1024);
	for (size_t off = 100; off + 64 < 20 * 1024; off += 4000)
		memcpy(app + off, "/nix/store/" LIB "/lib/libfoo.so",
		       strlen("/nix/store/" LIB "/lib/libfoo.so"));
	sw_write_file(at(store, "%s/bin/app", APP), app, 20 * 1024, 0555);
	free(app);
	sw_symlink("app", at(store, "%s/bin/run", APP));
	const char *conf = "data=/nix/store/" DATA "\nlib=/nix/store/" LIB
			   "/lib\n";
	sw_write_file(at(store, "%s/etc/conf", APP), conf, strlen(conf), 0444);
	memset(t, 'l', 300);
	t[300] = '\0';
	sw_symlink(t, at(store, "%s/data/long-symlink", APP));

	/* 32 KiB of noise, 64 KiB of zeros (a hole), 64 KiB of text. */
	uint8_t *b = calloc(1, big);
	if (!b)
		sw_die("out of memory");
	noise(b, 32 * 1024);
	char *tx = text(big - 96 * 1024);
	memcpy(b + 96 * 1024, tx, big - 96 * 1024);
	free(tx);
	sw_write_file(at(store, "%s/data/big", APP), b, big, 0444);
	free(b);

	/* A store path that is one file, and one that is a symlink. */
	char *d = text(5000);
	sw_write_file(at(store, "%s", DATA), d, 5000, 0444);
	free(d);
	sw_symlink("/nix/store/" APP, at(store, "%s", LINK));
}

void sw_golden_pack(const char *store, const char *const *options,
		    const char *image)
{
	char *argv[40];
	char *app = sw_path(store, "%s", APP),
	     *link = sw_path(store, "%s", LINK);
	int argc = 0;

	argv[argc++] = "pack";
	argv[argc++] = "--quiet";
	for (size_t i = 0; options[i] && argc < 30; i++)
		argv[argc++] = (char *)options[i];
	argv[argc++] = "--embed-registration";
	argv[argc++] = "-o";
	argv[argc++] = (char *)image;
	argv[argc++] = "--store";
	argv[argc++] = (char *)store;
	argv[argc++] = app;
	argv[argc++] = link;
	argv[argc] = NULL;
	optind = 0;
	if (sd_cmd_pack(argc, argv) != 0)
		sw_die("pack %s failed", image);
	free(app);
	free(link);
}
