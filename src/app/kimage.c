/* SPDX-License-Identifier: MIT */
#include "app/kimage.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "app/bzimage.h"
#include "core/kver.h"
#include "core/le.h"

/*
 * s390x's image starts with its IPL channel programme
 * (arch/s390/boot/head.S): these 16 bytes at byte 8, as file(1) knows
 * "Linux S390".
 */
static const uint8_t s390_ipl[16] = {0x02, 0x00, 0x00, 0x18, 0x60, 0x00,
				     0x00, 0x50, 0x02, 0x00, 0x00, 0x68,
				     0x60, 0x00, 0x00, 0x50};
#define S390_IPL_OFF 8

/* The arm64 Image header: "ARM\x64" (le32) at byte 0x38. */
#define ARM64_MAGIC_OFF 0x38
#define ARM64_MAGIC 0x644d5241u

static const char banner[] = "Linux version ";
#define BANNER_LEN (sizeof(banner) - 1)
#define RELEASE_MAX 127

/* The first 0x240 bytes of the file (fewer when it is shorter). */
static int read_head(const char *path, uint8_t *head, size_t len, size_t *got,
		     struct sd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "kernel %s", path);
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, head + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return sd_error_errno(err, SD_ERR_IO, e, "kernel %s",
					      path);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	*got = done;
	return SD_OK;
}

/* The @len bytes at @p as a kernel release ("6.1.0-57-cloud-amd64",
 * at most RELEASE_MAX): true with it and its version in @out when
 * sd_kver_release() reads a version from it. */
static bool take_release(const char *p, size_t len, struct sd_kimage *out)
{
	char rel[RELEASE_MAX + 1];
	memcpy(rel, p, len);
	rel[len] = '\0';
	uint32_t v = sd_kver_release(rel);
	if (v == 0)
		return false;
	snprintf(out->release, sizeof(out->release), "%s", rel);
	out->version = v;
	return true;
}

/*
 * The release after a banner at @p (@avail bytes there): true with it in
 * @out when it is a word of printable bytes starting with "X.Y" and ending
 * at a space or NUL.
 */
static bool parse_release(const char *p, size_t avail, struct sd_kimage *out)
{
	size_t w = 0;
	while (w < avail && w <= RELEASE_MAX && p[w] > ' ' && p[w] < 0x7f)
		w++;
	if (w == 0 || w > RELEASE_MAX || w >= avail ||
	    (p[w] != ' ' && p[w] != '\0'))
		return false;
	return take_release(p, w, out);
}

static bool printable(char c)
{
	return c >= ' ' && c < 0x7f;
}

/*
 * A version string "RELEASE (USER@HOST) #..." at @buf[@at] (" (" there),
 * as arch/x86/boot/version.c and arch/s390/boot/version.c build the
 * decompressor's kernel_version: a release word right after a
 * non-printable byte (or at the stream's start, @at_start), a parenthesis
 * holding an '@', then " #".  True with the release in @out.
 */
static bool version_string_at(const char *buf, size_t have, size_t at,
			      bool at_start, struct sd_kimage *out)
{
	size_t w = at;
	while (w > 0 && at - w <= RELEASE_MAX && buf[w - 1] > ' ' &&
	       buf[w - 1] < 0x7f)
		w--;
	if (w == at || at - w > RELEASE_MAX || (w == 0 && !at_start) ||
	    (w > 0 && printable(buf[w - 1])))
		return false;
	size_t i = at + 2;
	bool at_sign = false;
	while (i < have && i - at < 256 && printable(buf[i]) && buf[i] != ')')
		at_sign |= buf[i++] == '@';
	if (!at_sign || i + 2 >= have || buf[i] != ')' || buf[i + 1] != ' ' ||
	    buf[i + 2] != '#')
		return false;
	return take_release(buf + w, at - w, out);
}

/*
 * Scan the (decompressed) stream of @a for the banner; the first version
 * string (version_string_at) seen is the answer when there is no banner
 * (s390x's image, whose kernel is compressed inside it, has only the
 * version string of its decompressor).
 */
static int scan(struct archive *a, const char *path, struct sd_kimage *out,
		struct sd_error *err)
{
	/* A match is looked at once at least CARRY bytes follow it (or at
	 * the end), with BEHIND bytes before it still there. */
	enum { CHUNK = 65536, CARRY = 512, BEHIND = RELEASE_MAX + 2 };
	char *buf = malloc(BEHIND + CARRY + CHUNK);
	uint8_t head[ARM64_MAGIC_OFF + 4];
	size_t have = 0, nhead = 0, start = 0;
	uint64_t total = 0, buf_off = 0; /* the stream's offset of buf[0] */
	bool eof = false, fallback = false;
	struct sd_kimage alt = *out;
	int rc;

	if (!buf)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	while (!eof) {
		la_ssize_t n = archive_read_data(a, buf + have, CHUNK);
		if (n < 0) {
			rc = sd_error_set(err, SD_ERR_IO,
					  "kernel %s: %s (after %llu bytes)",
					  path, archive_error_string(a),
					  (unsigned long long)total);
			goto out;
		}
		if (nhead < sizeof(head)) {
			size_t k = sizeof(head) - nhead;
			if (k > (size_t)n)
				k = (size_t)n;
			memcpy(head + nhead, buf + have, k);
			nhead += k;
			if (nhead == sizeof(head) &&
			    get_le32(head + ARM64_MAGIC_OFF) == ARM64_MAGIC)
				out->arch = "aarch64";
		}
		total += (uint64_t)n;
		have += (size_t)n;
		eof = n == 0 || total >= SD_KIMAGE_SCAN_MAX;
		size_t done_to = eof ? have : have > CARRY ? have - CARRY : 0;
		if (done_to < start)
			done_to = start;
		for (size_t from = start;;) {
			const char *m = memmem(buf + from, have - from, banner,
					       BANNER_LEN);
			if (!m)
				break;
			size_t at = (size_t)(m - buf);
			if (at >= done_to)
				break;
			if (parse_release(m + BANNER_LEN,
					  have - at - BANNER_LEN, out)) {
				rc = SD_OK;
				goto out;
			}
			from = at + 1;
		}
		for (size_t from = start; !fallback;) {
			const char *m =
				memmem(buf + from, have - from, " (", 2);
			if (!m)
				break;
			size_t at = (size_t)(m - buf);
			if (at >= done_to)
				break;
			fallback = version_string_at(buf, have, at,
						     buf_off == 0, &alt);
			from = at + 1;
		}
		size_t keep_from = done_to > BEHIND ? done_to - BEHIND : 0;
		memmove(buf, buf + keep_from, have - keep_from);
		have -= keep_from;
		buf_off += keep_from;
		start = done_to - keep_from;
	}
	if (fallback) {
		snprintf(out->release, sizeof(out->release), "%s", alt.release);
		out->version = alt.version;
		rc = SD_OK;
		goto out;
	}
	rc = sd_error_set(err, SD_ERR_CORRUPT,
			  "kernel %s (%s): no \"Linux version X.Y...\" "
			  "banner nor \"X.Y... (USER@HOST) #\" version in its "
			  "first %llu bytes: not a Linux kernel, or compressed "
			  "in a way not read here",
			  path, out->kind, (unsigned long long)total);
out:
	free(buf);
	return rc;
}

/* The kind of a compressed image, by libarchive's filter code. */
static const char *filter_kind(int code)
{
	switch (code) {
	case ARCHIVE_FILTER_GZIP: return "gzip-compressed";
	case ARCHIVE_FILTER_BZIP2: return "bzip2-compressed";
	case ARCHIVE_FILTER_XZ: return "xz-compressed";
	case ARCHIVE_FILTER_LZMA: return "lzma-compressed";
	case ARCHIVE_FILTER_LZ4: return "lz4-compressed";
	case ARCHIVE_FILTER_ZSTD: return "zstd-compressed";
	}
	return "compressed";
}

int sd_kimage_read(const char *path, struct sd_kimage *out,
		   struct sd_error *err)
{
	uint8_t head[0x240];
	size_t got = 0;

	memset(out, 0, sizeof(*out));
	out->kind = "unknown";
	int rc = read_head(path, head, sizeof(head), &got, err);
	if (rc)
		return rc;
	if (got >= 0x206 && !memcmp(head + 0x202, "HdrS", 4)) {
		out->arch = "x86_64";
		out->kind = "bzImage";
		return sd_bzimage_version(path, out->release,
					  sizeof(out->release), &out->version,
					  err);
	}

	struct archive *a = archive_read_new();
	if (!a)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	archive_read_support_format_raw(a);
	/* The decompressors Debian's libarchive links (no external
	 * program is asked for these six there). */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_zstd(a);
	struct archive_entry *e;
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		rc = sd_error_set(err, SD_ERR_IO, "kernel %s: %s", path,
				  archive_error_string(a)
					  ? archive_error_string(a)
					  : "cannot be read");
		archive_read_free(a);
		return rc;
	}
	int code = archive_filter_code(a, 0);
	if (code != ARCHIVE_FILTER_NONE) {
		out->kind = filter_kind(code);
	} else if (got >= ARM64_MAGIC_OFF + 4 &&
		   get_le32(head + ARM64_MAGIC_OFF) == ARM64_MAGIC) {
		out->kind = "arm64 Image";
	} else if (got >= S390_IPL_OFF + sizeof(s390_ipl) &&
		   !memcmp(head + S390_IPL_OFF, s390_ipl, sizeof(s390_ipl))) {
		out->kind = "s390 image";
		out->arch = "s390x";
	} else {
		out->kind = "uncompressed data";
	}
	rc = scan(a, path, out, err);
	archive_read_free(a);
	return rc;
}
