/* SPDX-License-Identifier: MIT */
/*
 * compcache.c — the compression cache's handle, keys, get and put (the
 * directory walks of stats and prune are in compcache_walk.c).
 */
#include "core/compcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/compcache_int.h"
#include "core/hex.h"
#include "core/le.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define KEY_DOMAIN "storedisk compcache key v" STR(SD_COMPCACHE_VERSION)
#define VDIR "v" STR(SD_COMPCACHE_VERSION)

#define MAGIC "sdzcache"
#define MARKER_NAME "storedisk-cache"
#define MARKER_TEXT "storedisk compression cache\n"
#define TAG_NAME "CACHEDIR.TAG"
#define TAG_TEXT                                                       \
	"Signature: 8a477f597d28d172789f06886806bc55\n"                \
	"# This file is a cache directory tag created by storedisk.\n" \
	"# For information about cache directory tags, see:\n"         \
	"#\thttps://bford.info/cachedir/\n"
/* Net change of usage after which a handle records it (bytes). */
#define FLUSH_BYTES (16 << 20)

/* Header offsets (compcache.h). */
enum {
	H_MAGIC = 0,
	H_VERSION = 8,
	H_HLEN = 12,
	H_KEY = 16,
	H_LEN = 48,
	H_SUM = 56,
};
_Static_assert(H_SUM + 8 == SD_COMPCACHE_HEADER_LEN, "header layout");
_Static_assert(CC_REL_MAX == 68, "entry name");

int sd_compcache_params(const struct sd_compcache_params *p, char *buf,
			size_t size, struct sd_error *err)
{
	const char *f = p->format ? p->format : "";
	const char *k = p->kind ? p->kind : "";
	const char *co = p->compressor ? p->compressor : "";
	const char *li = p->library ? p->library : "";
	const char *la = p->layout ? p->layout : "";
	const char *all[] = {f, k, co, li, la};

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strchr(all[i], '\n'))
			return sd_error_set(err, SD_ERR_INVALID,
					    "cache parameter \"%s\" holds a "
					    "newline",
					    all[i]);
	int n = snprintf(buf, size,
			 "format=%s\nkind=%s\ncompressor=%s\nlibrary=%s\n"
			 "level=%" PRId64 "\nblock-size=%" PRIu32
			 "\nlayout=%s\n",
			 f, k, co, li, p->level, p->block_size, la);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return sd_error_set(err, SD_ERR_LIMIT,
				    "cache parameters: %d bytes do not fit "
				    "in %zu",
				    n, size);
	}
	return SD_OK;
}

int sd_compcache_key(const char *params,
		     const uint8_t content_sha[SD_SHA256_LEN],
		     uint8_t key[SD_COMPCACHE_KEY_LEN], struct sd_error *err)
{
	uint8_t len[8];
	size_t n = strlen(params);
	struct sd_sha256 *h = sd_sha256_new();

	memset(key, 0, SD_COMPCACHE_KEY_LEN);
	if (!h)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	put_le64(len, n);
	sd_sha256_update(h, KEY_DOMAIN, sizeof(KEY_DOMAIN)); /* with NUL */
	sd_sha256_update(h, len, sizeof(len));
	sd_sha256_update(h, params, n);
	sd_sha256_update(h, content_sha, SD_SHA256_LEN);
	sd_sha256_final(h, key);
	return SD_OK;
}

void cc_entry_name(const uint8_t key[SD_COMPCACHE_KEY_LEN],
		   char rel[CC_REL_MAX])
{
	char hex[2 * SD_COMPCACHE_KEY_LEN + 1];

	sd_hex_encode(key, SD_COMPCACHE_KEY_LEN, hex);
	memcpy(rel, hex, 2);
	rel[2] = '/';
	memcpy(rel + 3, hex, sizeof(hex));
}

/* Turn @c off with the warning "cache DIR not used: <reason>" (only the
 * first reason is kept). */
static void turn_off(struct sd_compcache *c, const char *reason)
{
	pthread_mutex_lock(&c->lock);
	if (!atomic_load(&c->off)) {
		sd_error_set(&c->warning, SD_ERR_IO, "cache %s not used: %s",
			     c->dir, reason);
		atomic_store(&c->off, true);
	}
	pthread_mutex_unlock(&c->lock);
}

/* mkdir -p @path (mode 0755 & ~umask); 0 or an errno value. */
static int mkdir_p(const char *path)
{
	size_t n = strlen(path);
	char *p = malloc(n + 1);

	if (!p)
		return ENOMEM;
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i - 1] == '/')
			continue;
		char was = p[i];
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return e;
		}
		p[i] = was;
	}
	free(p);
	return 0;
}

/* Write @text to @name in @dfd through a temporary file and a rename;
 * 0 or an errno value. */
static int write_small(int dfd, const char *name, const char *text)
{
	static atomic_uint seq;
	char tmp[64];
	size_t n = strlen(text);

	snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld.%u", name, (long)getpid(),
		 atomic_fetch_add(&seq, 1));
	int fd = openat(dfd, tmp,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0644);
	if (fd < 0)
		return errno;
	ssize_t w = write(fd, text, n);
	int e = w < 0 ? errno : (size_t)w != n ? ENOSPC : 0;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && renameat(dfd, tmp, dfd, name) != 0)
		e = errno;
	if (e)
		unlinkat(dfd, tmp, 0);
	return e;
}

/* Is DIR a cache?  1: its marker is there, 0: no marker, -1: a marker
 * with other contents; -errno when it cannot be read. */
static int read_marker(int dfd)
{
	char buf[64];
	int fd = openat(dfd, MARKER_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ssize_t n = read(fd, buf, sizeof(buf));
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == strlen(MARKER_TEXT) &&
			       !memcmp(buf, MARKER_TEXT, (size_t)n)
		       ? 1
		       : -1;
}

/* Has @dfd no entries but those a concurrent set-up may be writing?
 * 1 empty, 0 not, -errno. */
static int is_empty(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	int empty = 1;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		if (!strcmp(s, ".") || !strcmp(s, "..") ||
		    !strncmp(s, "." MARKER_NAME ".tmp.",
			     strlen("." MARKER_NAME ".tmp.")) ||
		    !strcmp(s, MARKER_NAME))
			continue;
		empty = 0;
		break;
	}
	closedir(d);
	return empty;
}

/*
 * Open (and unless @strict create) DIR and DIR/v1 into @c.  SD_ERR_USAGE
 * for a directory that is not a cache (or missing, with @strict),
 * SD_ERR_IO for one that cannot be used; the reason in @e.
 */
static int setup(struct sd_compcache *c, bool strict, struct sd_error *e)
{
	const char *dir = c->dir;
	int r;

	if (!strict && (r = mkdir_p(dir)) != 0)
		return sd_error_errno(e, SD_ERR_IO, r, "cannot create %s", dir);
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		r = errno;
		if (r == ENOENT)
			return sd_error_set(e, SD_ERR_USAGE,
					    "%s: no such directory", dir);
		if (r == ENOTDIR)
			return sd_error_set(e, SD_ERR_USAGE,
					    "%s: not a directory", dir);
		return sd_error_errno(e, SD_ERR_IO, r, "%s", dir);
	}
	r = read_marker(c->dirfd);
	if (r < -1)
		return sd_error_errno(e, SD_ERR_IO, -r, "%s/%s", dir,
				      MARKER_NAME);
	if (r == -1)
		return sd_error_set(e, SD_ERR_USAGE,
				    "%s is not a storedisk cache (%s has "
				    "other contents)",
				    dir, MARKER_NAME);
	if (r == 0 && strict)
		return sd_error_set(e, SD_ERR_USAGE,
				    "%s is not a storedisk cache (no %s file)",
				    dir, MARKER_NAME);
	if (r == 0) {
		r = is_empty(c->dirfd);
		if (r < 0)
			return sd_error_errno(e, SD_ERR_IO, -r, "%s", dir);
		/* a concurrent set-up writes its marker before anything
		 * else: look again */
		if (r == 0 && read_marker(c->dirfd) == 1)
			r = 2;
		if (r == 0)
			return sd_error_set(e, SD_ERR_USAGE,
					    "%s is not empty and holds no %s "
					    "file: not a storedisk cache",
					    dir, MARKER_NAME);
		/* the marker first: a concurrent set-up then sees either
		 * an empty directory or a cache */
		if (r == 1 &&
		    ((r = write_small(c->dirfd, MARKER_NAME, MARKER_TEXT)) ||
		     (r = write_small(c->dirfd, TAG_NAME, TAG_TEXT))))
			return sd_error_errno(e, SD_ERR_IO, r,
					      "cannot set up %s", dir);
	}
	bool made = false;
	if (!strict) {
		if (mkdirat(c->dirfd, VDIR, 0755) == 0)
			made = true;
		else if (errno != EEXIST)
			return sd_error_errno(e, SD_ERR_IO, errno,
					      "cannot create %s/" VDIR, dir);
	}
	c->vfd = openat(c->dirfd, VDIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->vfd < 0) {
		if (strict && errno == ENOENT)
			return SD_OK; /* a cache that never stored anything */
		return sd_error_errno(e, SD_ERR_IO, errno, "%s/" VDIR, dir);
	}
	if (strict)
		return SD_OK;
	if (faccessat(c->vfd, ".", R_OK | W_OK | X_OK, AT_EACCESS) != 0)
		return sd_error_errno(e, SD_ERR_IO, errno,
				      "%s/" VDIR " is not writable", dir);
	uint64_t u;
	if (made)
		cc_record_usage(c, 0, true, NULL);
	else if (!cc_read_usage(c, &u))
		atomic_store(&c->usage_unknown, true);
	return SD_OK;
}

int sd_compcache_open(struct sd_compcache **out, const char *dir,
		      const struct sd_compcache_options *opt,
		      struct sd_error *err)
{
	struct sd_compcache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c || !(c->dir = strdup(dir))) {
		free(c);
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	}
	c->dirfd = -1;
	c->vfd = -1;
	pthread_mutex_init(&c->lock, NULL);
	sd_error_init(&c->warning);
	bool strict = opt && opt->must_exist;
	c->max_bytes = opt ? opt->max_bytes : 0;

	struct sd_error e;
	sd_error_init(&e);
	int rc = setup(c, strict, &e);
	if (rc && strict) {
		if (err)
			*err = e;
		c->max_bytes = 0;
		sd_compcache_close(c);
		return rc;
	}
	if (rc) {
		turn_off(c, e.msg);
		if (c->vfd >= 0)
			close(c->vfd);
		c->vfd = -1;
	}
	*out = c;
	return SD_OK;
}

bool cc_read_usage(struct sd_compcache *c, uint64_t *v)
{
	char buf[32];

	if (c->vfd < 0)
		return false;
	int fd = openat(c->vfd, CC_USAGE_NAME,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 1 || buf[n - 1] != '\n')
		return false;
	buf[n - 1] = '\0';
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || *end || buf[0] < '0' || buf[0] > '9')
		return false;
	*v = x;
	return true;
}

bool cc_record_usage(struct sd_compcache *c, int64_t delta, bool absolute,
		     uint64_t *total)
{
	char buf[32];

	if (c->vfd < 0)
		return false;
	int fd = openat(c->vfd, CC_USAGE_NAME,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX) != 0) {
		close(fd);
		return false;
	}
	uint64_t v = 0;
	bool known = true;
	if (!absolute) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		char *end;
		known = n > 1 && buf[n - 1] == '\n' && buf[0] >= '0' &&
			buf[0] <= '9';
		if (known) {
			buf[n - 1] = '\0';
			errno = 0;
			v = strtoull(buf, &end, 10);
			known = !errno && !*end;
		}
		if (!known) {
			/* leave it for a prune to count */
			close(fd);
			atomic_store(&c->usage_unknown, true);
			return false;
		}
	}
	if (delta < 0)
		v = (uint64_t)-delta > v ? 0 : v - (uint64_t)-delta;
	else
		v += (uint64_t)delta;
	int n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	bool ok = pwrite(fd, buf, (size_t)n, 0) == n && ftruncate(fd, n) == 0;
	close(fd); /* drops the lock */
	if (total)
		*total = v;
	if (!ok || !known)
		atomic_store(&c->usage_unknown, true);
	else if (absolute)
		atomic_store(&c->usage_unknown, false);
	return ok && known;
}

/* Count @delta bytes of disk usage; record them when enough gathered. */
static void add_pending(struct sd_compcache *c, int64_t delta)
{
	int64_t now = atomic_fetch_add(&c->pending, delta) + delta;
	if (now >= FLUSH_BYTES || now <= -FLUSH_BYTES) {
		int64_t take = atomic_exchange(&c->pending, 0);
		if (take)
			cc_record_usage(c, take, false, NULL);
	}
}

void sd_compcache_close(struct sd_compcache *c)
{
	if (!c)
		return;
	if (c->vfd >= 0) {
		int64_t take = atomic_exchange(&c->pending, 0);
		uint64_t total = 0;
		bool known = !atomic_load(&c->usage_unknown);
		if (take)
			known = cc_record_usage(c, take, false, &total) &&
				known;
		else if (known)
			known = cc_read_usage(c, &total);
		if (c->max_bytes && (!known || total > c->max_bytes) &&
		    faccessat(c->vfd, ".", W_OK, AT_EACCESS) == 0) {
			/* down to 90% of the limit, so that the next packs
			 * do not each walk the cache again */
			cc_prune(c, c->max_bytes - c->max_bytes / 10, NULL,
				 false, NULL);
		}
		close(c->vfd);
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	free(c);
}

bool sd_compcache_enabled(const struct sd_compcache *c)
{
	return !atomic_load(&((struct sd_compcache *)c)->off);
}

const char *sd_compcache_warning(const struct sd_compcache *c)
{
	return sd_compcache_enabled(c) ? NULL : c->warning.msg;
}

void sd_compcache_counters(const struct sd_compcache *cc,
			   struct sd_compcache_counters *out)
{
	struct sd_compcache *c = (struct sd_compcache *)cc;

	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
	out->hit_bytes = atomic_load(&c->hit_bytes);
	out->puts = atomic_load(&c->puts);
	out->put_bytes = atomic_load(&c->put_bytes);
	out->present = atomic_load(&c->present);
	out->corrupt = atomic_load(&c->corrupt);
	out->skipped = atomic_load(&c->skipped);
}

/* The checksum of an entry: XXH3-64 of the value, seeded with the XXH3-64
 * of header bytes 0..55 (so that it covers both without a state). */
static uint64_t checksum(const uint8_t *h, const void *data, size_t len)
{
	return XXH3_64bits_withSeed(data, len, XXH3_64bits(h, H_SUM));
}

static void make_header(uint8_t h[SD_COMPCACHE_HEADER_LEN],
			const uint8_t key[SD_COMPCACHE_KEY_LEN],
			const void *data, size_t len)
{
	memcpy(h + H_MAGIC, MAGIC, 8);
	put_le32(h + H_VERSION, SD_COMPCACHE_VERSION);
	put_le32(h + H_HLEN, SD_COMPCACHE_HEADER_LEN);
	memcpy(h + H_KEY, key, SD_COMPCACHE_KEY_LEN);
	put_le64(h + H_LEN, len);
	put_le64(h + H_SUM, checksum(h, data, len));
}

/* Does the header @h with value @data (@len bytes) make a valid entry of
 * @key? */
static bool entry_ok(const uint8_t h[SD_COMPCACHE_HEADER_LEN],
		     const uint8_t key[SD_COMPCACHE_KEY_LEN], const void *data,
		     size_t len)
{
	return !memcmp(h + H_MAGIC, MAGIC, 8) &&
	       get_le32(h + H_VERSION) == SD_COMPCACHE_VERSION &&
	       get_le32(h + H_HLEN) == SD_COMPCACHE_HEADER_LEN &&
	       !memcmp(h + H_KEY, key, SD_COMPCACHE_KEY_LEN) &&
	       get_le64(h + H_LEN) == len &&
	       get_le64(h + H_SUM) == checksum(h, data, len);
}

/* Step the @n iovecs at *@iov past @done bytes just transferred. */
static void iov_advance(struct iovec **iov, int *n, size_t done)
{
	while (*n > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

/* Read exactly the iovecs' bytes from @fd at offset 0: 0, 1 when the file
 * ends early, -errno. */
static int read_full(int fd, struct iovec *iov, int n)
{
	off_t off = 0;

	while (n > 0) {
		ssize_t r = preadv(fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 1;
		off += r;
		iov_advance(&iov, &n, (size_t)r);
	}
	return 0;
}

/* Write every iovec's bytes to @fd: 0 or an errno value. */
static int write_full(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t r = writev(fd, iov, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			return ENOSPC;
		iov_advance(&iov, &n, (size_t)r);
	}
	return 0;
}

/* Remove the damaged entry @rel, open as @fd with status @st, unless the
 * name now leads to another file (a put replaced it meanwhile). */
static void remove_damaged(struct sd_compcache *c, const char *rel,
			   const struct stat *st)
{
	struct stat now;

	atomic_fetch_add(&c->corrupt, 1);
	if (fstatat(c->vfd, rel, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
	    now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return;
	if (unlinkat(c->vfd, rel, 0) == 0)
		add_pending(c, -(int64_t)st->st_blocks * 512);
}

bool sd_compcache_get(struct sd_compcache *c,
		      const uint8_t key[SD_COMPCACHE_KEY_LEN], void **data,
		      size_t *len)
{
	char rel[CC_REL_MAX];
	uint8_t h[SD_COMPCACHE_HEADER_LEN];
	struct stat st;

	*data = NULL;
	*len = 0;
	if (atomic_load_explicit(&c->off, memory_order_acquire)) {
		atomic_fetch_add(&c->skipped, 1);
		return false;
	}
	cc_entry_name(key, rel);
	/* O_NONBLOCK: a FIFO under an entry's name must not stop us */
	int fd = openat(c->vfd, rel,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		/* ENOENT; a symlink (ELOOP) is no entry of ours: gone */
		if (errno == ELOOP && unlinkat(c->vfd, rel, 0) == 0)
			atomic_fetch_add(&c->corrupt, 1);
		atomic_fetch_add(&c->misses, 1);
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (!S_ISDIR(st.st_mode))
			remove_damaged(c, rel, &st);
		close(fd);
		atomic_fetch_add(&c->misses, 1);
		return false;
	}
	if (st.st_size < SD_COMPCACHE_HEADER_LEN ||
	    (uint64_t)st.st_size - SD_COMPCACHE_HEADER_LEN >
		    SD_COMPCACHE_MAX_VALUE) {
		remove_damaged(c, rel, &st);
		close(fd);
		atomic_fetch_add(&c->misses, 1);
		return false;
	}
	size_t n = (size_t)st.st_size - SD_COMPCACHE_HEADER_LEN;
	void *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		atomic_fetch_add(&c->misses, 1);
		return false;
	}
	struct iovec iov[2] = {{h, sizeof(h)}, {buf, n}};
	int r = read_full(fd, iov, 2);
	if (r != 0 || !entry_ok(h, key, buf, n)) {
		/* an error reading (EIO) is no proof of damage: kept */
		if (r >= 0)
			remove_damaged(c, rel, &st);
		free(buf);
		close(fd);
		atomic_fetch_add(&c->misses, 1);
		return false;
	}
	/* the last use, for prune: mtime only, unless it is recent enough
	 * already (SD_COMPCACHE_TOUCH_SECONDS) */
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    st.st_mtim.tv_sec > now.tv_sec ||
	    now.tv_sec - st.st_mtim.tv_sec >= SD_COMPCACHE_TOUCH_SECONDS) {
		const struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
		futimens(fd, ts);
	}
	close(fd);
	atomic_fetch_add(&c->hits, 1);
	atomic_fetch_add(&c->hit_bytes, n);
	*data = buf;
	*len = n;
	return true;
}

/* Is a failed write with @e a reason to turn the cache off, or only this
 * put's bad luck (out of descriptors or memory in a busy pack)? */
static bool transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN ||
	       e == EINTR;
}

/* A put failed with @e doing @what in fan-out directory @fan: turn off
 * unless transient. */
static void put_failed(struct sd_compcache *c, int e, const char *what,
		       const char *fan)
{
	struct sd_error tmp;

	if (transient(e))
		return;
	sd_error_init(&tmp);
	sd_error_errno(&tmp, SD_ERR_IO, e, "%s %s/" VDIR "/%.2s", what, c->dir,
		       fan);
	turn_off(c, tmp.msg);
}

/* sd_compcache_put, or with @replace sd_compcache_replace. */
static bool put_entry(struct sd_compcache *c,
		      const uint8_t key[SD_COMPCACHE_KEY_LEN], const void *data,
		      size_t len, bool replace)
{
	char rel[CC_REL_MAX], tmp[64];
	uint8_t h[SD_COMPCACHE_HEADER_LEN];
	struct stat st;
	int fd = -1, e;
	int64_t old_blocks = 0;

	if (atomic_load_explicit(&c->off, memory_order_acquire)) {
		atomic_fetch_add(&c->skipped, 1);
		return false;
	}
	if (len > SD_COMPCACHE_MAX_VALUE)
		return false;
	cc_entry_name(key, rel);
	if (fstatat(c->vfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(st.st_mode) && !replace) {
			atomic_fetch_add(&c->present, 1);
			return true;
		}
		if (S_ISREG(st.st_mode)) {
			/* replaced by the rename below */
			old_blocks = (int64_t)st.st_blocks;
		} else if (S_ISDIR(st.st_mode) ||
			   unlinkat(c->vfd, rel, 0) != 0) {
			/* a symlink, FIFO, ... is no entry: replaced */
			return false;
		}
	}
	for (int attempt = 0; attempt < 8 && fd < 0; attempt++) {
		snprintf(tmp, sizeof(tmp), "%.2s/" CC_TMP_PREFIX "%ld.%" PRIu64,
			 rel, (long)getpid(), atomic_fetch_add(&c->seq, 1));
		fd = openat(c->vfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0644);
		if (fd >= 0)
			break;
		e = errno;
		if (e == ENOENT) {
			char fan[3] = {rel[0], rel[1], '\0'};
			if (mkdirat(c->vfd, fan, 0755) != 0 &&
			    errno != EEXIST) {
				put_failed(c, errno, "cannot create", rel);
				return false;
			}
		} else if (e != EEXIST) {
			put_failed(c, e, "cannot write an entry in", rel);
			return false;
		}
	}
	if (fd < 0) {
		put_failed(c, EEXIST, "cannot write an entry in", rel);
		return false;
	}
	make_header(h, key, data, len);
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)data, len}};
	e = write_full(fd, iov, 2);
	if (!e && fstat(fd, &st) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && renameat(c->vfd, tmp, c->vfd, rel) != 0)
		e = errno;
	if (e) {
		unlinkat(c->vfd, tmp, 0);
		put_failed(c, e, "cannot write an entry in", rel);
		return false;
	}
	atomic_fetch_add(&c->puts, 1);
	atomic_fetch_add(&c->put_bytes, len);
	add_pending(c, ((int64_t)st.st_blocks - old_blocks) * 512);
	return true;
}

bool sd_compcache_put(struct sd_compcache *c,
		      const uint8_t key[SD_COMPCACHE_KEY_LEN], const void *data,
		      size_t len)
{
	return put_entry(c, key, data, len, false);
}

bool sd_compcache_replace(struct sd_compcache *c,
			  const uint8_t key[SD_COMPCACHE_KEY_LEN],
			  const void *data, size_t len)
{
	return put_entry(c, key, data, len, true);
}
