/* SPDX-License-Identifier: MIT */
/*
 * helpers.c — shared code of the format tests (see helpers.h).
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"
#include "formats/squashfs/squashfs.h"
#include "tests/common/tools.h"

static unsigned file_seq;

void th_setup(void)
{
	tt_setup("sdfmt");
	file_seq = 0;
}

void th_random(void *buf, size_t len, uint32_t seed)
{
	uint64_t x = 0x9E3779B97F4A7C15ull ^ seed;
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static struct sd_node *add(struct sd_tree *t, struct sd_node *parent,
			   const char *name, enum sd_node_type type)
{
	struct sd_error err;

	sd_error_init(&err);
	struct sd_node *n = sd_tree_add(t, parent ? parent : t->root, name,
					strlen(name), type, &err);
	cr_assert_not_null(n, "sd_tree_add %s: %s", name, err.msg);
	n->mode = sd_normal_mode(type, 0644);
	n->mtime = 1;
	return n;
}

struct sd_node *th_dir(struct sd_tree *t, struct sd_node *parent,
		       const char *name)
{
	return add(t, parent, name, SD_NODE_DIR);
}

void th_spit(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "create %s", path);
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		cr_assert(n > 0, "write %s", path);
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

struct sd_node *th_file(struct sd_tree *t, struct sd_node *parent,
			const char *name, const void *data, size_t len)
{
	struct sd_error err;
	char rel[32];
	struct sd_node *n = add(t, parent, name, SD_NODE_FILE);

	snprintf(rel, sizeof(rel), "f%u", file_seq++);
	th_spit(tt_path(rel), data, len);
	sd_error_init(&err);
	cr_assert_eq(sd_node_set_src_path(n, tt_path(rel), &err), 0, "%s",
		     err.msg);
	n->size = len;
	return n;
}

struct sd_node *th_random_file(struct sd_tree *t, struct sd_node *parent,
			       const char *name, size_t len, uint32_t seed)
{
	void *buf = malloc(len ? len : 1);

	cr_assert_not_null(buf);
	th_random(buf, len, seed);
	struct sd_node *n = th_file(t, parent, name, buf, len);
	free(buf);
	return n;
}

struct sd_node *th_file_take(struct sd_tree *t, struct sd_node *parent,
			     const char *name, void *data, size_t len)
{
	struct sd_node *n = th_file(t, parent, name, data, len);

	free(data);
	return n;
}

void *th_mixed(size_t len, uint32_t seed, size_t min_run, size_t spread)
{
	uint8_t *p = malloc(len ? len : 1);
	size_t off = 0;

	cr_assert_not_null(p);
	for (unsigned i = 0; off < len; i++) {
		size_t run = min_run + (i * 7919u) % spread;

		if (run > len - off)
			run = len - off;
		if (i % 2)
			th_random(p + off, run, seed + i);
		else
			memset(p + off, 'a' + (int)(i % 26), run);
		off += run;
	}
	return p;
}

struct sd_node *th_symlink(struct sd_tree *t, struct sd_node *parent,
			   const char *name, const char *target)
{
	struct sd_error err;
	struct sd_node *n = add(t, parent, name, SD_NODE_SYMLINK);

	sd_error_init(&err);
	cr_assert_eq(sd_node_set_target(n, target, strlen(target), &err), 0,
		     "%s", err.msg);
	return n;
}

void th_finalize(struct sd_tree *t)
{
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_tree_finalize(t, &err), 0, "finalize: %s", err.msg);
}

int th_write(const struct sd_tree *t, const char *compressor, int level,
	     uint32_t block_size, unsigned jobs, const char *path,
	     struct sd_write_stats *stats, struct sd_error *err)
{
	struct sd_write_options o = {
		.compressor = compressor,
		.level = level,
		.block_size = block_size,
		.jobs = jobs,
	};
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "create %s", path);
	sd_error_init(err);
	int ret = sd_format_squashfs.write(t, &o, fd, NULL, stats, err);
	close(fd);
	return ret;
}

struct sd_tree *th_read(const char *path)
{
	struct sd_error err;
	struct sd_tree *t = NULL;

	sd_error_init(&err);
	int ret = sd_format_squashfs.read(path, &t, &err);
	cr_assert_eq(ret, 0, "read %s: %s", path, err.msg);
	cr_assert_not_null(t);
	return t;
}

void *th_content(const struct sd_tree *t, const struct sd_node *n, size_t *len)
{
	struct sd_error err;
	struct sd_stream *s = NULL;
	size_t cap = n->size + 1, got = 0;
	char *buf = malloc(cap + 1);

	cr_assert_not_null(buf);
	sd_error_init(&err);
	cr_assert_eq(sd_tree_open(t, n, &s, &err), 0, "open %s: %s", n->name,
		     err.msg);
	for (;;) {
		size_t k = 0;
		cr_assert_eq(sd_stream_read(s, buf + got, cap - got, &k, &err),
			     0, "read %s: %s", n->name, err.msg);
		if (k == 0)
			break;
		got += k;
		cr_assert(got <= n->size, "%s: more bytes than its size",
			  n->name);
	}
	sd_stream_close(s);
	*len = got;
	return buf;
}

static void same_node(const struct sd_tree *ta, const struct sd_node *a,
		      const struct sd_tree *tb, const struct sd_node *b)
{
	char *path = sd_node_path_dup(a);

	cr_assert_str_eq(a->name, b->name);
	cr_assert_eq(a->type, b->type, "%s: type", path);
	cr_assert_eq(a->mode, b->mode, "%s: mode %o vs %o", path, a->mode,
		     b->mode);
	cr_assert_eq(a->uid, b->uid, "%s: uid", path);
	cr_assert_eq(a->gid, b->gid, "%s: gid", path);
	cr_assert_eq(a->mtime, b->mtime, "%s: mtime", path);
	cr_assert_eq(a->nchildren, b->nchildren, "%s: child count", path);
	if (a->type == SD_NODE_SYMLINK)
		cr_assert_str_eq(a->target, b->target, "%s: target", path);
	if (a->type == SD_NODE_FILE) {
		size_t la, lb;
		cr_assert_eq(a->size, b->size, "%s: size", path);
		void *da = th_content(ta, a, &la);
		void *db = th_content(tb, b, &lb);
		cr_assert_eq(la, lb, "%s: content length", path);
		cr_assert(memcmp(da, db, la) == 0, "%s: content", path);
		free(da);
		free(db);
	}
	free(path);
	for (size_t i = 0; i < a->nchildren; i++)
		same_node(ta, a->children[i], tb, b->children[i]);
}

void th_assert_same(const struct sd_tree *a, const struct sd_tree *b)
{
	cr_assert_eq(a->mtime, b->mtime, "tree mtime");
	cr_assert_eq(a->count, b->count, "node count %zu vs %zu", a->count,
		     b->count);
	same_node(a, a->root, b, b->root);
}

static size_t stream_node(const struct sd_tree *t, const struct sd_node *n,
			  char *buf, size_t cap)
{
	size_t failed = 0;

	if (n->type == SD_NODE_FILE) {
		struct sd_error err;
		struct sd_stream *s = NULL;
		uint64_t total = 0;

		sd_error_init(&err);
		if (sd_tree_open(t, n, &s, &err) != 0)
			return 1;
		for (;;) {
			size_t k = 0;
			if (sd_stream_read(s, buf, cap, &k, &err) != 0) {
				cr_assert_neq(err.msg[0], '\0');
				failed++;
				break;
			}
			if (k == 0)
				break;
			total += k;
			cr_assert(total <= n->size);
		}
		sd_stream_close(s);
	}
	for (size_t i = 0; i < n->nchildren; i++)
		failed += stream_node(t, n->children[i], buf, cap);
	return failed;
}

size_t th_stream_all(const struct sd_tree *t)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	size_t failed = stream_node(t, t->root, buf, cap);
	free(buf);
	return failed;
}

void *th_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");

	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Compare the tree below @n with the host directory @dir, entry by
 * entry: type, permission bits, owner, mtime, size, target, bytes. */
void th_check_host(const struct sd_tree *t, const struct sd_node *n,
		   const char *dir)
{
	char *rel = sd_node_path_dup(n);
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	cr_assert_eq(lstat(path, &st), 0, "%s missing", rel);
	cr_assert_eq((unsigned)(st.st_mode & 07777), (unsigned)n->mode,
		     "%s: mode %o", rel, st.st_mode);
	cr_assert_eq(st.st_mtime, n->mtime, "%s: mtime", rel);
	switch (n->type) {
	case SD_NODE_DIR: {
		size_t entries = 0;
		DIR *d = opendir(path);

		cr_assert(S_ISDIR(st.st_mode), "%s: not a dir", rel);
		cr_assert_not_null(d);
		for (struct dirent *e; (e = readdir(d));)
			entries++;
		closedir(d);
		cr_assert_eq(entries, n->nchildren + 2, "%s: %zu entries", rel,
			     entries);
		break;
	}
	case SD_NODE_SYMLINK: {
		char target[4097];
		ssize_t k = readlink(path, target, sizeof(target) - 1);

		cr_assert(S_ISLNK(st.st_mode) && k >= 0, "%s: not a link", rel);
		target[k] = '\0';
		cr_assert_str_eq(target, n->target, "%s: target", rel);
		break;
	}
	case SD_NODE_FILE: {
		size_t la, lb;

		cr_assert(S_ISREG(st.st_mode), "%s: not a file", rel);
		cr_assert_eq((uint64_t)st.st_size, n->size, "%s: size", rel);
		void *want = th_content(t, n, &la);
		void *got = th_slurp(path, &lb);
		cr_assert_eq(la, lb, "%s: length %zu vs %zu", rel, la, lb);
		cr_assert(memcmp(want, got, la) == 0, "%s: bytes differ", rel);
		free(want);
		free(got);
		break;
	}
	default: break;
	}
	free(rel);
	for (size_t i = 0; i < n->nchildren; i++)
		th_check_host(t, n->children[i], dir);
}

/* Mount @img read-only at a fresh directory; false if not permitted. */
bool th_mount_erofs(const char *img, char *mnt, size_t len)
{
	char cmd[PATH_MAX * 2 + 64];

	snprintf(mnt, len, "%s.mnt", img);
	mkdir(mnt, 0755);
	snprintf(cmd, sizeof(cmd),
		 "mount -t erofs -o loop,ro '%s' '%s' "
		 "2>/dev/null",
		 img, mnt);
	return system(cmd) == 0;
}

void th_unmount(const char *mnt)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "umount '%s'", mnt);
	cr_assert_eq(system(cmd), 0, "umount %s", mnt);
	rmdir(mnt);
}

/* The kernel must show exactly @t (root metadata included). */
bool th_check_kernel_erofs(const struct sd_tree *t, const char *img)
{
	char mnt[PATH_MAX];

	if (!th_mount_erofs(img, mnt, sizeof(mnt))) {
		printf("skip: mount -o loop,ro %s failed (no privilege or no "
		       "EROFS in this kernel): kernel check skipped\n",
		       img);
		return false;
	}
	th_check_host(t, t->root, mnt);
	th_unmount(mnt);
	return true;
}

/* fsck.erofs must accept @img and extract exactly @t's contents. */
void th_check_fsck_erofs(const struct sd_tree *t, const char *img)
{
	char cmd[PATH_MAX * 2 + 64], dir[PATH_MAX];

	if (!tt_have_tool("fsck.erofs")) {
		printf("skip: fsck.erofs not installed\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s.x", img);
	snprintf(cmd, sizeof(cmd),
		 "fsck.erofs --extract='%s' '%s' "
		 ">/dev/null 2>&1",
		 dir, img);
	cr_assert_eq(system(cmd), 0, "fsck.erofs rejects %s", img);
	for (size_t i = 0; i < t->root->nchildren; i++)
		th_check_host(t, t->root->children[i], dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

void th_image_sha(const char *img, char hex[65])
{
	uint8_t d[SD_SHA256_LEN];
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_sha256_file(img, d, &err), 0, "%s", err.msg);
	sd_hex_encode(d, sizeof(d), hex);
}
