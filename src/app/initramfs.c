/* SPDX-License-Identifier: MIT */
/*
 * initramfs.c — sd_initramfs_write: the members checked, completed with
 * their parent directories and sorted, then written through libarchive's
 * newc writer into an atomic file, every header field set explicitly.
 */
#include "app/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomicfile.h"

#define CHUNK (1 << 16)
/* newc holds a file's size in 8 hex digits */
#define NEWC_MAX_SIZE 0xffffffffull

/* One archive member: a given one, or a parent directory we add. */
struct item {
	const char *path;
	const struct sd_initramfs_member *m; /* NULL: an added directory */
};

struct writer {
	const char *out_path;
	struct archive *a;
	struct archive_entry *e;
	char *buf;
};

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

/* Non-empty, relative, and every '/'-separated component neither empty
 * nor "." nor "..". */
static bool path_ok(const char *p)
{
	if (!*p || *p == '/')
		return false;
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return strcmp(x->path, y->path);
}

static bool is_dir(const struct item *it)
{
	return !it->m || it->m->kind == SD_INITRAMFS_DIR;
}

/* The checked, sorted members with their missing parents, in *@out
 * (*@nout of them); the added parents' paths are in *@owned. */
static int plan(const struct sd_initramfs_member *m, size_t n,
		struct item **out, size_t *nout, char ***owned, size_t *nowned,
		struct sd_error *err)
{
	*out = NULL;
	*nout = 0;
	*owned = NULL;
	*nowned = 0;
	size_t cap = n, cnt = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sd_initramfs_member *x = &m[i];
		if (!x->path || !path_ok(x->path))
			return sd_error_set(err, SD_ERR_USAGE,
					    "initramfs member \"%s\": not a "
					    "relative path of plain names "
					    "(empty, absolute, or with an "
					    "empty, \".\" or \"..\" component)",
					    x->path ? x->path : "(null)");
		if (x->kind != SD_INITRAMFS_FILE &&
		    x->kind != SD_INITRAMFS_DIR &&
		    x->kind != SD_INITRAMFS_SYMLINK)
			return sd_error_set(err, SD_ERR_USAGE,
					    "initramfs member %s: unknown kind "
					    "%d",
					    x->path, (int)x->kind);
		if (x->kind == SD_INITRAMFS_SYMLINK &&
		    (!x->data || x->len == 0 || memchr(x->data, 0, x->len)))
			return sd_error_set(err, SD_ERR_USAGE,
					    "initramfs member %s: a symbolic "
					    "link needs a target without NUL",
					    x->path);
		if (x->kind == SD_INITRAMFS_FILE && !x->data && !x->host_path &&
		    x->len)
			return sd_error_set(err, SD_ERR_USAGE,
					    "initramfs member %s: %zu bytes "
					    "but no data",
					    x->path, x->len);
		for (const char *s = x->path; (s = strchr(s, '/')); s++)
			cap++;
	}
	struct item *v = malloc((cap ? cap : 1) * sizeof(*v));
	char **own = malloc((cap - n + 1) * sizeof(*own));
	if (!v || !own) {
		free(v);
		free(own);
		return nomem(err);
	}
	for (size_t i = 0; i < n; i++)
		v[cnt++] = (struct item){.path = m[i].path, .m = &m[i]};
	qsort(v, cnt, sizeof(*v), cmp_item);
	int rc = 0;
	for (size_t i = 1; !rc && i < cnt; i++)
		if (!strcmp(v[i].path, v[i - 1].path))
			rc = sd_error_set(err, SD_ERR_USAGE,
					  "initramfs member %s given twice",
					  v[i].path);
	/* Each parent of each member: present, or added once. */
	size_t given = cnt, nown = 0;
	for (size_t i = 0; !rc && i < given; i++) {
		const char *p = v[i].path;
		for (const char *s = strchr(p, '/'); !rc && s;
		     s = strchr(s + 1, '/')) {
			char *dir = strndup(p, (size_t)(s - p));
			if (!dir) {
				rc = nomem(err);
				break;
			}
			struct item key = {.path = dir};
			struct item *hit =
				bsearch(&key, v, given, sizeof(*v), cmp_item);
			bool added = false;
			for (size_t k = 0; !hit && !added && k < nown; k++)
				added = !strcmp(own[k], dir);
			if (hit && !is_dir(hit))
				rc = sd_error_set(err, SD_ERR_USAGE,
						  "initramfs member %s is not "
						  "a directory, but %s is in "
						  "it",
						  dir, p);
			if (hit || added || rc) {
				free(dir);
				continue;
			}
			own[nown++] = dir;
			v[cnt++] = (struct item){.path = dir};
		}
	}
	if (!rc)
		qsort(v, cnt, sizeof(*v), cmp_item);
	*out = v;
	*nout = cnt;
	*owned = own;
	*nowned = nown;
	return rc;
}

static int arc_fail(struct writer *w, const char *what, struct sd_error *err)
{
	const char *msg = archive_error_string(w->a);
	return sd_error_set(err, SD_ERR_OUTPUT, "%s: writing %s: %s",
			    w->out_path, what, msg ? msg : "failed");
}

static int put_data(struct writer *w, const char *path, const void *p,
		    size_t len, struct sd_error *err)
{
	const char *b = p;
	while (len) {
		size_t n = len < CHUNK ? len : CHUNK;
		if (archive_write_data(w->a, b, n) != (la_ssize_t)n)
			return arc_fail(w, path, err);
		b += n;
		len -= n;
	}
	return 0;
}

/* Copy @size bytes of the host file open as @fd. */
static int put_host(struct writer *w, const char *path, const char *host,
		    int fd, uint64_t size, struct sd_error *err)
{
	uint64_t done = 0;
	for (;;) {
		ssize_t r = read(fd, w->buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sd_error_errno(err, SD_ERR_IO, errno, "%s",
					      host);
		if (r == 0)
			break;
		if ((uint64_t)r > size - done)
			return sd_error_set(err, SD_ERR_IO,
					    "%s: grew while being read", host);
		int rc = put_data(w, path, w->buf, (size_t)r, err);
		if (rc)
			return rc;
		done += (uint64_t)r;
	}
	if (done != size)
		return sd_error_set(err, SD_ERR_IO,
				    "%s: shrank while being read", host);
	return 0;
}

static int put_item(struct writer *w, const struct item *it, uint32_t ino,
		    struct sd_error *err)
{
	const struct sd_initramfs_member *m = it->m;
	enum sd_initramfs_kind kind = m ? m->kind : SD_INITRAMFS_DIR;
	uint32_t mode = m ? (m->mode & 07777) : 0755;
	int fd = -1;
	uint64_t size = 0;
	if (kind == SD_INITRAMFS_FILE && m->data)
		size = m->len;
	if (kind == SD_INITRAMFS_FILE && !m->data && m->host_path) {
		fd = open(m->host_path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return sd_error_errno(err, SD_ERR_IO, e, "%s",
					      m->host_path);
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			return sd_error_set(err, SD_ERR_IO,
					    "%s: not a regular file",
					    m->host_path);
		}
		size = (uint64_t)st.st_size;
	}
	int rc = 0;
	if (size > NEWC_MAX_SIZE)
		rc = sd_error_set(err, SD_ERR_LIMIT,
				  "initramfs member %s: %llu bytes, more than "
				  "a newc archive holds",
				  it->path, (unsigned long long)size);
	struct archive_entry *e = w->e;
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, it->path);
	archive_entry_set_filetype(e, kind == SD_INITRAMFS_DIR    ? AE_IFDIR
				      : kind == SD_INITRAMFS_FILE ? AE_IFREG
								  : AE_IFLNK);
	archive_entry_set_perm(e, mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_nlink(e, kind == SD_INITRAMFS_DIR ? 2 : 1);
	archive_entry_set_ino(e, ino);
	archive_entry_set_dev(e, 0);
	archive_entry_set_rdev(e, 0);
	archive_entry_set_size(e, (la_int64_t)size);
	char *target = NULL;
	if (!rc && kind == SD_INITRAMFS_SYMLINK) {
		target = strndup(m->data, m->len);
		if (!target)
			rc = nomem(err);
		else
			archive_entry_copy_symlink(e, target);
	}
	if (!rc && archive_write_header(w->a, e) != ARCHIVE_OK)
		rc = arc_fail(w, it->path, err);
	free(target);
	if (!rc && kind == SD_INITRAMFS_FILE && m->data)
		rc = put_data(w, it->path, m->data, m->len, err);
	else if (!rc && fd >= 0)
		rc = put_host(w, it->path, m->host_path, fd, size, err);
	if (fd >= 0)
		close(fd);
	return rc;
}

int sd_initramfs_write(const char *out_path,
		       const struct sd_initramfs_member *m, size_t n,
		       struct sd_error *err)
{
	struct item *items;
	size_t nitems, nowned;
	char **owned;
	int rc = plan(m, n, &items, &nitems, &owned, &nowned, err);
	struct writer w = {.out_path = out_path};
	struct sd_atomic_file f = {.fd = -1};
	bool open = false;
	if (!rc) {
		rc = sd_atomic_open(&f, out_path, err);
		open = !rc;
	}
	if (!rc) {
		w.a = archive_write_new();
		w.e = archive_entry_new();
		w.buf = malloc(CHUNK);
		if (!w.a || !w.e || !w.buf)
			rc = nomem(err);
	}
	if (!rc &&
	    (archive_write_set_format_cpio_newc(w.a) != ARCHIVE_OK ||
	     archive_write_add_filter_none(w.a) != ARCHIVE_OK ||
	     /* no padding of the last block: the archive ends with its
	      * trailer, the same bytes for a file and a pipe */
	     archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	     archive_write_open_fd(w.a, f.fd) != ARCHIVE_OK))
		rc = arc_fail(&w, "the archive", err);
	/* inode numbers in archive order, from 1 (the trailer's is 0) */
	for (size_t i = 0; !rc && i < nitems; i++)
		rc = put_item(&w, &items[i], (uint32_t)(i + 1), err);
	if (!rc && archive_write_close(w.a) != ARCHIVE_OK)
		rc = arc_fail(&w, "the archive's end", err);
	if (w.a)
		archive_write_free(w.a);
	if (w.e)
		archive_entry_free(w.e);
	free(w.buf);
	if (!rc)
		rc = sd_atomic_commit(&f, false, err);
	if (open)
		sd_atomic_abort(&f);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(items);
	return rc;
}
