/* SPDX-License-Identifier: MIT */
/*
 * compcache.h — the compression cache: a content-addressed store of
 * compressed data on disk, so that a re-pack after a small closure change
 * compresses only what changed (`pack --cache DIR`, issue 11).
 *
 * The store maps a 32-byte key to a value of bytes.  It knows nothing of
 * formats or compressors: the key says everything that determines the
 * value (sd_compcache_key: the parameters that shape the compressed bytes
 * and the SHA-256 of the content), the value is whatever the writer wants
 * back on a hit.  A value is never trusted to be right for the image
 * beyond what its key and checksum prove: the image bytes must never
 * depend on whether the cache held an entry.
 *
 * Layout of a cache directory DIR:
 *
 *   DIR/storedisk-cache      marker: "storedisk compression cache\n"
 *   DIR/CACHEDIR.TAG         the cache directory tag (backup tools skip DIR)
 *   DIR/v1/                  entries of format version 1
 *   DIR/v1/usage             recorded disk usage of the entries (below)
 *   DIR/v1/ab/<64 hex>       the entry of a key, fanned out by its 1st byte
 *   DIR/v1/ab/.tmp.<pid>.<n> a put in progress (or a killed one's leftover)
 *
 * An entry file is a 64-byte header and the value (little-endian):
 *
 *   0   8  magic "sdzcache"
 *   8   4  format version, SD_COMPCACHE_VERSION
 *   12  4  header length, 64
 *   16 32  the key
 *   48  8  value length in bytes (the file is exactly 64 + this long)
 *   56  8  checksum: XXH3-64 of the value, seeded with the XXH3-64 of
 *          header bytes 0..55 (so it covers all of the entry)
 *
 * Every field is checked on every read; an entry that fails any check
 * (truncated, extended, a flipped bit anywhere, another key's entry under
 * this name, another version) is a miss and is removed, so the next put
 * replaces it.  XXH3-64 rather than SHA-256: the checksum guards against
 * accidents (a torn write after a power loss, a bad disk, a stray edit),
 * not against someone who can write DIR (they could write a matching
 * SHA-256 as easily), and XXH3 costs a few percent of a read where
 * SHA-256 would cost more than the read itself.  A random change passes
 * with probability 2^-64.
 *
 * Versioning: a change of the entry format or of the key derivation bumps
 * SD_COMPCACHE_VERSION, which is both in the key derivation and in every
 * header, and names the entries' directory: old entries are never found,
 * let alone returned.
 *
 * Atomicity: a put writes a temporary file in the entry's own fan-out
 * directory and renames it into place, so a reader sees a whole entry or
 * none, whatever other threads and processes (two packs sharing DIR) do.
 * Nothing is fsynced: a crash may leave an entry truncated or zeroed,
 * which its checksum catches.  A temporary file older than an hour is a
 * killed writer's, and prune removes it.
 *
 * Never fatal: a cache directory that cannot be created, read or written
 * (read-only, no permission, not a cache) at open, or a put that fails
 * for such a reason or for a full file system (ENOSPC, EDQUOT) or an I/O
 * error later, turns the handle off: it records one warning
 * (sd_compcache_warning), and every later get is a miss and every put a
 * no-op, each a load of one atomic flag.  A pack never fails because of
 * its cache.
 *
 * Bounded: recency is the entry file's mtime, set when it is written and
 * touched on a hit (futimens; atime is not used: relatime and noatime
 * mounts make it unreliable) unless it is less than
 * SD_COMPCACHE_TOUCH_SECONDS (a day) old, or in the future: recency has
 * that resolution, as relatime's atime has.  Touching is not cheap: on
 * the bench VM (ext4) the 16,600 futimens of a warm EROFS pack cost 3 s
 * of system time (7.1 s against 4.1 s); with a day, only the first pack
 * of a day pays it.  Size is disk usage, st_blocks * 512 (what
 * du counts), of the entry files.  Opening a cache never reads its
 * directories: a handle adds what it stores and removes to DIR/v1/usage
 * (a decimal number, updated under flock(2) every 16 MiB of net change
 * and at close), and when that exceeds the handle's max_bytes at close
 * (or is unknown) the least recently used entries are removed down to
 * 90% of it: one walk of DIR/v1 (a readdir of each fan-out directory and
 * an fstatat per entry, 48 bytes of memory per entry), which the next
 * packs then need not repeat.  The recorded usage is an estimate (a
 * killed pack's last change is lost, two packs storing one key at once
 * count it twice); every prune replaces it with what it counted.  Between
 * packs the limit holds; during one, the cache may exceed it by what that
 * pack stores.
 *
 * Thread safety: every function taking a handle may be called from any
 * number of threads at once, except sd_compcache_close.
 */
#ifndef SD_CORE_COMPCACHE_H
#define SD_CORE_COMPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/sha256.h"

/* Format version of entries, key derivation and directory ("v1"). */
#define SD_COMPCACHE_VERSION 1
#define SD_COMPCACHE_KEY_LEN 32
/* Bytes of an entry's header. */
#define SD_COMPCACHE_HEADER_LEN 64
/* The largest value stored (larger puts are skipped, larger entries are
 * corrupt). */
#define SD_COMPCACHE_MAX_VALUE (1ull << 30)
/* A hit touches an entry's mtime only when it is at least this old (s):
 * a day, relatime's rule for atime. */
#define SD_COMPCACHE_TOUCH_SECONDS 86400

struct sd_compcache;

/*
 * What determines the compressed bytes, for sd_compcache_params.  Every
 * string must be free of '\n' and NUL-terminated; NULL counts as "".
 */
struct sd_compcache_params {
	const char *format;     /* "squashfs", "erofs" */
	const char *kind;       /* what the value is: "file", "block", ... */
	const char *compressor; /* "zstd", "lz4hc", "none", ... */
	const char *library;    /* the compressor library and its version
				   ("zstd 1.5.4"): another version may give
				   other bytes */
	int64_t level;          /* compression level as the writer uses it */
	uint32_t block_size;    /* squashfs block or EROFS pcluster, bytes */
	const char *layout;     /* every other option that changes the bytes
				   ("ztailpacking", "min-kernel=5.4"), in a
				   fixed order; "" for none */
};

/*
 * The parameter string of @p, one "name=value" line per field in the order
 * of the struct ("format=erofs\nkind=file\ncompressor=lz4hc\n..."), into
 * @buf of @size bytes (NUL-terminated).  Two different @p give different
 * strings.  Returns 0; SD_ERR_INVALID when a string holds '\n',
 * SD_ERR_LIMIT when @size is too small (@buf then holds "").
 */
int sd_compcache_params(const struct sd_compcache_params *p, char *buf,
			size_t size, struct sd_error *err);

/*
 * The key of the value made from content whose SHA-256 is @content_sha
 * under the parameters @params (any NUL-terminated string, usually from
 * sd_compcache_params; a value made from several contents, such as a
 * squashfs fragment block, takes the SHA-256 of a description of them):
 *
 *   key = SHA-256("storedisk compcache key v<SD_COMPCACHE_VERSION>" NUL
 *                 le64(strlen(params)) params content_sha)
 *
 * The prefix separates these keys from every other SHA-256 storedisk
 * computes and changes with the version; the length makes the split
 * between @params and @content_sha unambiguous.  Returns 0, or
 * SD_ERR_NOMEM (no digest context; @key is then all zeros and must not
 * be used).
 */
int sd_compcache_key(const char *params,
		     const uint8_t content_sha[SD_SHA256_LEN],
		     uint8_t key[SD_COMPCACHE_KEY_LEN], struct sd_error *err);

struct sd_compcache_options {
	uint64_t max_bytes; /* disk usage kept at close; 0: unbounded */
	/*
	 * Maintenance (storedisk cache): DIR must be an existing cache, and
	 * what cannot be used is an error of sd_compcache_open, never a
	 * warning; nothing is created.
	 */
	bool must_exist;
};

/*
 * Open the cache in directory @dir (created with its parents when missing,
 * mode 0755 & ~umask) into *@out.  @opt may be NULL (unbounded, create).
 * An empty directory becomes a cache; a directory with entries but no
 * "storedisk-cache" marker is not one and is never written to.  No
 * directory is read beyond DIR itself (see above: open costs a few system
 * calls however many entries the cache holds).
 *
 * Without must_exist, every problem with @dir leaves *@out a handle that is
 * off, with its warning ("cache DIR not used: ..."), and returns 0: the
 * only error is SD_ERR_NOMEM (*@out NULL).  With must_exist: SD_ERR_USAGE
 * when @dir does not exist, is not a directory or not a cache; SD_ERR_IO
 * when it cannot be opened (err names @dir).
 */
int sd_compcache_open(struct sd_compcache **out, const char *dir,
		      const struct sd_compcache_options *opt,
		      struct sd_error *err);

/*
 * Record this handle's change of disk usage, remove least recently used
 * entries when the cache exceeds max_bytes (unless another process is
 * pruning: then that one does), and free @c (NULL ok).  Never fails;
 * call it when no other thread uses @c.
 */
void sd_compcache_close(struct sd_compcache *c);

/* Is @c still in use (not turned off by a problem)? */
bool sd_compcache_enabled(const struct sd_compcache *c);

/*
 * The one warning of @c: why it is off ("cache DIR not used: ...: No
 * space left on device"), or NULL while it works.  Once set it never
 * changes, so the caller prints it once, at any time (the string lives
 * as long as @c).
 */
const char *sd_compcache_warning(const struct sd_compcache *c);

/*
 * The value stored under @key: true and *@data (malloc'ed, the caller
 * frees it; non-NULL even for an empty value), *@len its length in bytes;
 * the entry's mtime is set to now (its last use) unless it is within
 * SD_COMPCACHE_TOUCH_SECONDS of now already.  False (a miss) when
 * there is no entry, when the entry fails a check (it is then removed) or
 * cannot be read, or when @c is off; *@data is NULL and *@len 0.
 */
bool sd_compcache_get(struct sd_compcache *c,
		      const uint8_t key[SD_COMPCACHE_KEY_LEN], void **data,
		      size_t *len);

/*
 * Store @len bytes at @data under @key, atomically (see above).  When an
 * entry for @key exists already it is left as it is (same key, same
 * value; a damaged one is replaced after the get that finds it).  True
 * when the entry is there afterwards; false when @c is off, @len exceeds
 * SD_COMPCACHE_MAX_VALUE, or the write failed (which turns @c off, with
 * its warning, unless it was a race with another process that is harmless
 * to retry later).
 */
bool sd_compcache_put(struct sd_compcache *c,
		      const uint8_t key[SD_COMPCACHE_KEY_LEN], const void *data,
		      size_t len);

/*
 * Like sd_compcache_put, but an entry already stored under @key is
 * replaced (atomically: a reader sees the old value or the new one), for
 * values that change under one key (core/statcache.h's groups).
 */
bool sd_compcache_replace(struct sd_compcache *c,
			  const uint8_t key[SD_COMPCACHE_KEY_LEN],
			  const void *data, size_t len);

/* What a handle did since it was opened (for pack's summary). */
struct sd_compcache_counters {
	uint64_t hits, misses; /* gets */
	uint64_t hit_bytes;    /* value bytes returned by hits */
	uint64_t puts;         /* entries written */
	uint64_t put_bytes;    /* value bytes written */
	uint64_t present;      /* puts skipped: the entry was there */
	uint64_t corrupt;      /* entries that failed a check, removed */
	uint64_t skipped;      /* gets and puts while off */
};

void sd_compcache_counters(const struct sd_compcache *c,
			   struct sd_compcache_counters *out);

/* What a cache directory holds, counted by one walk of it. */
struct sd_compcache_stats {
	uint64_t entries;       /* entry files (not checked) */
	uint64_t bytes;         /* their length in bytes, headers included */
	uint64_t disk_bytes;    /* their disk usage, st_blocks * 512 */
	int64_t oldest, newest; /* least/most recent use, seconds since the
				    epoch (0 when there is no entry) */
	uint64_t temporary;     /* temporary files (puts in progress) */
	uint64_t stale;         /* ... of which older than an hour */
	uint64_t recorded;      /* DIR/v1/usage as read */
	bool recorded_valid;    /* false: missing or unreadable */
};

/*
 * Count what @c's directory holds into @st.  Reads every fan-out
 * directory and stats every entry; changes nothing.  A handle turned off
 * by a put still counts; one that was off from its open counts nothing.
 * SD_ERR_IO when a
 * directory cannot be read (err names it).
 */
int sd_compcache_stats(struct sd_compcache *c, struct sd_compcache_stats *st,
		       struct sd_error *err);

/* What a prune did. */
struct sd_compcache_prune_result {
	uint64_t removed, removed_bytes; /* entries removed, disk bytes */
	uint64_t kept, kept_bytes;       /* entries left, disk bytes */
	uint64_t stale_removed;          /* stale temporary files removed */
	uint64_t failed;                 /* entries that could not be removed
					    (counted in kept) */
};

/*
 * Remove least recently used entries (oldest mtime first; ties by name)
 * until the entries' disk usage is at most @max_bytes (0 empties the
 * cache), and the temporary files older than an hour; then record the
 * usage left in DIR/v1/usage.  Waits while another process prunes the
 * same cache.  An entry used after the walk saw it (its mtime changed)
 * is kept, as is one that cannot be removed because it is gone already.
 * Disk bytes (st_blocks * 512) throughout, as max_bytes.  SD_ERR_IO when
 * a directory cannot be read (nothing removed) or an entry cannot be
 * removed: prune then goes on with the next ones, and returns the first
 * such error (err names the file) with @r complete (r->failed counts
 * them).  @r may be NULL.
 */
int sd_compcache_prune(struct sd_compcache *c, uint64_t max_bytes,
		       struct sd_compcache_prune_result *r,
		       struct sd_error *err);

/*
 * Have sd_compcache_prune call @fn(@ctx) once, before it waits for the
 * prune lock another process holds (a tool says that it waits, rather
 * than seem to hang).  @fn NULL: no call.
 */
void sd_compcache_on_wait(struct sd_compcache *c, void (*fn)(void *ctx),
			  void *ctx);

#endif
