/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nar.c — fuzz target for the NAR reader (closure/nar_read.h) with a
 * round-trip oracle.  The reader is strict (nar_read.h), so a NAR it
 * accepts is canonical: serialising the tree it built (closure/nar.h) must
 * give back exactly the bytes it consumed.  Any other outcome is fine but
 * a crash, a sanitizer report, a hang, a mismatch, or a failure without a
 * one-line reason (all abort()).  `meson test --suite fuzz` replays
 * tests/fuzz/corpus/nar.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "closure/nar.h"
#include "closure/nar_read.h"
#include "core/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cmp {
	const uint8_t *want;
	size_t len, at;
	int mismatch;
};

/* Compare the serialised NAR piece by piece with the input. */
static int compare(void *ctx, const void *piece, size_t len,
		   struct sd_error *err)
{
	(void)err;
	struct cmp *c = ctx;
	if (c->at + len > c->len || memcmp(c->want + c->at, piece, len))
		c->mismatch = 1;
	c->at += len;
	return 0;
}

static void check_error(int rc, const struct sd_error *err)
{
	if (rc && (err->msg[0] == '\0' || strchr(err->msg, '\n')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sd_wire w; /* 64 KiB buffer: not on the stack */
	struct sd_error err;
	int fd = memfd_create("fuzz.nar", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return 0;
	}
	sd_wire_init(&w, fd, "fuzz.nar");
	struct sd_tree *t = sd_tree_new(1);
	struct sd_spool *sp = NULL;
	if (!t || sd_spool_new(&sp, NULL)) {
		sd_tree_free(t);
		close(fd);
		return 0;
	}
	struct sd_node *n = NULL;
	sd_error_init(&err);
	int rc = sd_nar_read(&w, t, t->root, "x", 1, sp, &n, &err);
	check_error(rc, &err);
	if (rc) {
		sd_spool_free(sp);
		sd_tree_free(t);
		close(fd);
		return 0;
	}
	uint64_t consumed = w.offset;
	close(fd);
	sd_error_init(&err);
	if (sd_spool_attach(sp, t, &err) || sd_tree_finalize(t, &err))
		abort(); /* an accepted NAR must make a valid tree */
	struct cmp c = {data, (size_t)consumed, 0, 0};
	sd_error_init(&err);
	if (sd_nar_write(t, n, compare, &c, &err))
		abort();
	if (c.mismatch || c.at != c.len)
		abort(); /* not canonical: the reader accepted a variant */
	sd_tree_free(t);
	return 0;
}
