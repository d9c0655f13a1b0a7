/* SPDX-License-Identifier: MIT */
#include "app/bzimage.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/kver.h"
#include "core/le.h"

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int)done;
}

int sd_bzimage_version(const char *path, char *release, size_t release_len,
		       uint32_t *version, struct sd_error *err)
{
	uint8_t hdr[0x10];
	char s[256];

	if (release_len)
		release[0] = '\0';
	*version = 0;
	/* O_NONBLOCK: the open of a FIFO would wait for a writer; opened at
	 * once, it is refused as not a regular file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "kernel %s", path);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, e, "kernel %s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sd_error_set(err, SD_ERR_IO,
				    "kernel %s: not a regular file", path);
	}
	/* 0x202 "HdrS", 0x206 protocol version, 0x20E kernel_version. */
	int n = pread_full(fd, hdr, sizeof(hdr), 0x200);
	if (n < 0) {
		close(fd);
		return sd_error_errno(err, SD_ERR_IO, -n, "kernel %s", path);
	}
	if (n < (int)sizeof(hdr) || memcmp(hdr + 2, "HdrS", 4)) {
		close(fd);
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "kernel %s: not a bzImage (no \"HdrS\" "
				    "setup header at byte 0x202)",
				    path);
	}
	uint16_t proto = get_le16(hdr + 6);
	uint16_t off = get_le16(hdr + 0xE);
	if (proto < 0x200 || off == 0) {
		close(fd);
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "kernel %s: its setup header has no "
				    "version string (boot protocol %u.%02u)",
				    path, proto >> 8, proto & 0xff);
	}
	n = pread_full(fd, s, sizeof(s) - 1, (off_t)off + 0x200);
	close(fd);
	if (n < 0)
		return sd_error_errno(err, SD_ERR_IO, -n, "kernel %s", path);
	s[n] = '\0';
	size_t word = 0;
	while (s[word] > ' ' && s[word] < 0x7f)
		word++;
	uint32_t v = sd_kver_release(s);
	if (word == 0 || v == 0)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "kernel %s: no version at the setup "
				    "header's kernel_version (byte 0x%x)",
				    path, off + 0x200);
	if (release_len) {
		if (word >= release_len)
			word = release_len - 1;
		memcpy(release, s, word);
		release[word] = '\0';
	}
	*version = v;
	return SD_OK;
}
