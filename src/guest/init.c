/* SPDX-License-Identifier: MIT */
/*
 * init.c — the guest's /init (PID 1) for `storedisk vmcheck`.
 *
 * A static executable, alone in the initramfs with the configuration file
 * and the kernel modules the host put there; it follows src/core/vmproto.h
 * (the only code it shares with the host, with the header-only le.h):
 *
 *   1. mounts devtmpfs at /dev and writes everything to /dev/console;
 *   2. reads SD_VM_CONF_PATH (before the "init" marker, which carries the
 *      configuration's nonce), then mounts /proc, /sys and /run (tmpfs);
 *   3. loads each module with finit_module(2) (one already there is fine);
 *   4. waits up to DEVICE_WAIT_MS for each disk (a device path;
 *      "LABEL=NAME": the EROFS volume name read from the superblock of each
 *      device under /sys/block, squashfs has no label; or "SERIAL=NAME":
 *      the serial number in /sys/block/DEV/serial);
 *   5. opens each disk that has a "verity" record through dm-verity: a
 *      device-mapper device made with the ioctls of <linux/dm-ioctl.h>
 *      (create, load its one "verity" target read-only, resume), which
 *      stands for the disk from then on (/dev/dm-MINOR);
 *   6. mounts the disk read-only at the store directory, or each disk under
 *      SD_VM_LOWER_DIR/N (N from 0, the image first) and a read-only
 *      overlayfs of them at the store directory;
 *   7. runs the program: stdin /dev/null, stdout and stderr the console, the
 *      environment "PATH=/usr/bin:/bin" and nothing else; "started" once
 *      execve(2) succeeded (a close-on-exec pipe tells), and before the
 *      program's first output: it runs traced (PTRACE_TRACEME), so the
 *      exec stops it with a SIGTRAP until the marker is out and init lets
 *      it go (PTRACE_DETACH); where ptrace is refused it runs at once;
 *   8. waits for it, reports its status, syncs and powers the guest off
 *      (reboot(RB_POWER_OFF), then RB_AUTOBOOT: QEMU runs with -no-reboot).
 *
 * Every failed step prints an "error" marker and powers off: PID 1 never
 * exits (that would panic the kernel).  Each marker is one write(2).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-ioctl.h>

#include "core/le.h"
#include "core/vmproto.h"

/* How long a disk may take to appear after the modules are loaded. */
#define DEVICE_WAIT_MS 10000
#define POLL_MS 20

/* The largest configuration file accepted. */
#define CONF_MAX (1u << 20)

/*
 * EROFS superblock fields, from the kernel's fs/erofs/erofs_fs.h (struct
 * erofs_super_block, at byte 1024 of the device): __le32 magic at 0, then
 * checksum, feature_compat, blkszbits, reserved, root_nid, inos,
 * build_time, build_time_nsec, blocks, meta_blkaddr, xattr_blkaddr and
 * uuid[16] (bytes 48..63), then volume_name[16] at byte 64 (0x40),
 * NUL-padded.
 */
#define EROFS_SB_OFFSET 1024
#define EROFS_MAGIC 0xE0F5E1E2u
#define EROFS_VOLUME_NAME_OFF 64
#define EROFS_VOLUME_NAME_LEN 16

/* The environment of the program: a PATH and nothing else. */
static char *const program_env[] = {"PATH=/usr/bin:/bin", NULL};

static int console = 1;
/* Until the configuration is read, a nonce no host sent. */
static char nonce[SD_VM_NONCE_LEN + 1] = "????????????????";

/* A "verity" record's values (vmproto.h). */
struct verity {
	unsigned long long data_blocks; /* 4096-byte blocks */
	unsigned long long hash_start;  /* 4096-byte block of the top hash */
	const char *root, *salt;        /* 64 lowercase hex digits each */
};

struct disk {
	const char *fstype;
	const char *spec;
	char dev[288]; /* the device found for spec, then its dm device */
	struct verity *verity; /* NULL: the disk is mounted as it is */
};

struct conf {
	char *buf;
	const char *store;
	const char **modules;
	size_t n_modules;
	struct disk *disks;
	size_t n_disks;
	struct verity *verity; /* the "verity" records, in order */
	size_t n_verity;
	char **argv; /* NULL-terminated */
	size_t n_args;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Print "[\n]@@storedisk-vmcheck NONCE EVENT[ VALUE]\n" in one write, with
 * control characters of VALUE shown as '?' so the marker stays one line.
 */
static void marker_nl(int newline_first, const char *event, const char *value)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "%s%s %s %s%s%s\n",
			 newline_first ? "\n" : "", SD_VM_MARKER, nonce, event,
			 value ? " " : "", value ? value : "");
	size_t len, start;

	if (n < 0)
		return;
	len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	line[len - 1] = '\n';
	start = newline_first ? 1 : 0;
	for (size_t i = start; i + 1 < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	write_all(console, line, len);
}

static void marker(const char *event, const char *value)
{
	marker_nl(0, event, value);
}

static _Noreturn void power_off(void)
{
	marker(SD_VM_EV_POWEROFF, NULL);
	sync();
	reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

/* An "error" marker saying what failed, then power off. */
__attribute__((format(printf, 1, 2))) static _Noreturn void
fail(const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(text, sizeof text, fmt, ap) < 0)
		text[0] = '\0';
	va_end(ap);
	marker(SD_VM_EV_ERROR, text);
	power_off();
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mkdir -p DIR (absolute); 0 or -1 with errno. */
static int mkdir_p(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		path[i] = saved;
	}
	return 0;
}

static void mount_or_fail(const char *src, const char *dir, const char *type,
			  unsigned long flags, const char *data)
{
	if (mkdir_p(dir) < 0)
		fail("mkdir %s: %s", dir, strerror(errno));
	if (mount(src, dir, type, flags, data) < 0)
		fail("mount %s (%s) at %s: %s", src, type, dir,
		     strerror(errno));
}

/* ---- configuration ---- */

static int is_nonce(const char *v)
{
	if (strlen(v) != SD_VM_NONCE_LEN)
		return 0;
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static int key_is(const char *rec, const char *key, const char **value)
{
	size_t n = strlen(key);
	if (strncmp(rec, key, n) != 0 || rec[n] != '=')
		return 0;
	*value = rec + n + 1;
	return 1;
}

/* 1 when [@s, @end) is @n lowercase hex digits. */
static int is_hex(const char *s, const char *end, size_t n)
{
	if ((size_t)(end - s) != n)
		return 0;
	for (; s < end; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* A decimal number up to ':' (@p moved past it); 0 when there is none. */
static int take_number(char **p, unsigned long long *out)
{
	char *end;
	if (**p < '0' || **p > '9')
		return 0;
	errno = 0;
	*out = strtoull(*p, &end, 10);
	if (errno || *end != ':')
		return 0;
	*p = end + 1;
	return 1;
}

/*
 * A verity record's value, DATA_BLOCKS:HASH_START:ROOT:SALT (cut at its
 * ':'s): 0 when it is not one.
 */
static int parse_verity(char *v, struct verity *out)
{
	char *p = v, *colon;
	if (!take_number(&p, &out->data_blocks) ||
	    !take_number(&p, &out->hash_start) || out->data_blocks == 0 ||
	    out->hash_start == 0)
		return 0;
	colon = strchr(p, ':');
	if (!colon || !is_hex(p, colon, 64) ||
	    !is_hex(colon + 1, colon + 1 + strlen(colon + 1), 64))
		return 0;
	*colon = '\0';
	out->root = p;
	out->salt = colon + 1;
	return 1;
}

/*
 * Read and check the configuration.  The nonce is taken first, so that
 * even an error about the rest carries it; the error text (if any) is left
 * in @err for the caller to report after the "init" marker.
 */
static void read_conf(struct conf *c, char *err, size_t errsz)
{
	struct stat st;
	size_t len = 0, n_rec = 0;
	int fd;

	err[0] = '\0';
	memset(c, 0, sizeof *c);
	fd = open(SD_VM_CONF_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errsz, "%s: %s", SD_VM_CONF_PATH,
			 strerror(errno));
		return;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > CONF_MAX) {
		snprintf(err, errsz, "%s: size %lld (1 to %u bytes)",
			 SD_VM_CONF_PATH, (long long)st.st_size, CONF_MAX);
		close(fd);
		return;
	}
	c->buf = malloc((size_t)st.st_size + 1);
	if (!c->buf) {
		snprintf(err, errsz, "%s: out of memory", SD_VM_CONF_PATH);
		close(fd);
		return;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, c->buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errsz, "%s: %s", SD_VM_CONF_PATH,
				 r < 0 ? strerror(errno) : "short read");
			close(fd);
			return;
		}
		len += (size_t)r;
	}
	close(fd);
	c->buf[len] = '\0';
	if (c->buf[len - 1] != '\0') {
		snprintf(err, errsz, "%s: the last record has no NUL",
			 SD_VM_CONF_PATH);
		return;
	}
	for (size_t i = 0; i < len; i++)
		n_rec += c->buf[i] == '\0';

	/* The nonce first. */
	for (size_t i = 0; i < len; i += strlen(c->buf + i) + 1) {
		const char *v;
		if (key_is(c->buf + i, SD_VM_KEY_NONCE, &v) && is_nonce(v)) {
			memcpy(nonce, v, SD_VM_NONCE_LEN);
			break;
		}
	}

	c->modules = calloc(n_rec, sizeof *c->modules);
	c->disks = calloc(n_rec, sizeof *c->disks);
	c->verity = calloc(n_rec, sizeof *c->verity);
	c->argv = calloc(n_rec + 1, sizeof *c->argv);
	if (!c->modules || !c->disks || !c->verity || !c->argv) {
		snprintf(err, errsz, "%s: out of memory", SD_VM_CONF_PATH);
		return;
	}
	int n_nonce = 0;
	for (size_t i = 0, next; i < len; i = next) {
		char *rec = c->buf + i;
		const char *v;
		/* Before a disk record is cut at its ':'. */
		next = i + strlen(rec) + 1;
		if (key_is(rec, SD_VM_KEY_NONCE, &v)) {
			if (!is_nonce(v) || n_nonce++ > 0) {
				snprintf(err, errsz,
					 "%s: a bad or second nonce record",
					 SD_VM_CONF_PATH);
				return;
			}
		} else if (key_is(rec, SD_VM_KEY_MODULE, &v)) {
			c->modules[c->n_modules++] = v;
		} else if (key_is(rec, SD_VM_KEY_STORE, &v)) {
			if (c->store || v[0] != '/') {
				snprintf(err, errsz,
					 "%s: store=%s: a second store or not "
					 "an absolute path",
					 SD_VM_CONF_PATH, v);
				return;
			}
			c->store = v;
		} else if (key_is(rec, SD_VM_KEY_DISK, &v)) {
			char *colon = strchr(rec, ':');
			struct disk *d = &c->disks[c->n_disks];
			if (!colon || colon[1] == '\0') {
				snprintf(err, errsz,
					 "%s: disk=%s: not FSTYPE:SPEC",
					 SD_VM_CONF_PATH, v);
				return;
			}
			*colon = '\0';
			if (strcmp(v, "squashfs") != 0 &&
			    strcmp(v, "erofs") != 0) {
				snprintf(err, errsz,
					 "%s: disk: unknown filesystem type %s",
					 SD_VM_CONF_PATH, v);
				return;
			}
			d->fstype = v;
			d->spec = colon + 1;
			c->n_disks++;
		} else if (key_is(rec, SD_VM_KEY_VERITY, &v)) {
			if (!parse_verity((char *)v, &c->verity[c->n_verity])) {
				snprintf(err, errsz,
					 "%s: verity=%.200s: not "
					 "DATA_BLOCKS:HASH_START:ROOT:SALT",
					 SD_VM_CONF_PATH, v);
				return;
			}
			c->n_verity++;
		} else if (key_is(rec, SD_VM_KEY_ARG, &v)) {
			c->argv[c->n_args++] = (char *)v;
		} else {
			snprintf(err, errsz, "%s: unknown record '%.64s'",
				 SD_VM_CONF_PATH, rec);
			return;
		}
	}
	if (n_nonce != 1 || !c->store || c->n_disks == 0 || c->n_args == 0) {
		snprintf(err, errsz,
			 "%s: a nonce, a store, a disk and an arg are "
			 "needed",
			 SD_VM_CONF_PATH);
		return;
	}
	if (c->n_verity != 0 && c->n_verity != c->n_disks) {
		snprintf(err, errsz,
			 "%s: %zu verity records for %zu disks (none, or one "
			 "per disk)",
			 SD_VM_CONF_PATH, c->n_verity, c->n_disks);
		return;
	}
	for (size_t i = 0; i < c->n_verity; i++)
		c->disks[i].verity = &c->verity[i];
	if (c->argv[0][0] != '/')
		snprintf(err, errsz,
			 "%s: the program '%s' is not an absolute path",
			 SD_VM_CONF_PATH, c->argv[0]);
}

/* ---- disks ---- */

/*
 * 1 when the device at @dev carries an EROFS superblock whose volume name
 * is @label, 0 when not (or unreadable).
 */
static int erofs_label_is(const char *dev, const char *label)
{
	uint8_t sb[EROFS_VOLUME_NAME_OFF + EROFS_VOLUME_NAME_LEN];
	size_t n = strlen(label);
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = pread(fd, sb, sizeof sb, EROFS_SB_OFFSET);
	close(fd);
	if (r != (ssize_t)sizeof sb || get_le32(sb) != EROFS_MAGIC)
		return 0;
	if (n == 0 || n > EROFS_VOLUME_NAME_LEN)
		return 0;
	if (memcmp(sb + EROFS_VOLUME_NAME_OFF, label, n) != 0)
		return 0;
	for (size_t i = n; i < EROFS_VOLUME_NAME_LEN; i++)
		if (sb[EROFS_VOLUME_NAME_OFF + i] != 0)
			return 0;
	return 1;
}

/*
 * 1 when /sys/block/@name/serial holds @serial (without its line end), 0
 * when not (or there is none: not a virtio disk).
 */
static int serial_is(const char *name, const char *serial)
{
	char path[320], buf[64];
	size_t n = strlen(serial);
	ssize_t r;
	int fd;

	snprintf(path, sizeof path, "/sys/block/%s/serial", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return 0;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\0'))
		r--;
	return (size_t)r == n && memcmp(buf, serial, n) == 0;
}

/* Whether /sys/block/@name (device @dev) is the disk asked for. */
static int label_matches(const char *name, const char *dev, const char *label)
{
	(void)name;
	return erofs_label_is(dev, label);
}

static int serial_matches(const char *name, const char *dev, const char *serial)
{
	(void)dev;
	return serial_is(name, serial);
}

/*
 * Look through /sys/block for the disk @match accepts with @value (@what,
 * "label" or "serial", names it in errors): 1 with its path in @out, 0
 * when none is (yet); two disks that match fail.
 */
static int find_block(const char *what, const char *value,
		      int (*match)(const char *name, const char *dev,
				   const char *value),
		      char *out, size_t outsz)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *e;
	int found = 0;

	if (!dir)
		fail("/sys/block: %s", strerror(errno));
	while ((e = readdir(dir)) != NULL) {
		char dev[288];
		if (e->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
		if (!match(e->d_name, dev, value))
			continue;
		if (found)
			fail("%s %s: on both %s and %s", what, value, out, dev);
		snprintf(out, outsz, "%s", dev);
		found = 1;
	}
	closedir(dir);
	return found;
}

/* Wait (until @deadline) for the disk @d, leaving its device in d->dev. */
static void find_disk(struct disk *d, long long deadline)
{
	const char *label = NULL, *serial = NULL;
	struct stat st;
	int e = 0;

	if (strncmp(d->spec, "SERIAL=", 7) == 0) {
		serial = d->spec + 7;
		if (serial[0] == '\0')
			fail("disk %s: an empty serial", d->spec);
	} else if (strncmp(d->spec, "LABEL=", 6) == 0) {
		label = d->spec + 6;
		if (strcmp(d->fstype, "erofs") != 0)
			fail("disk %s: %s has no filesystem label to find it by",
			     d->spec, d->fstype);
		if (label[0] == '\0' || strlen(label) > EROFS_VOLUME_NAME_LEN)
			fail("disk %s: an EROFS label has 1 to %d bytes",
			     d->spec, EROFS_VOLUME_NAME_LEN);
	} else {
		snprintf(d->dev, sizeof d->dev, "%s", d->spec);
	}
	for (;;) {
		if (serial) {
			/* Its node in devtmpfs too, before it is used. */
			if (find_block("serial", serial, serial_matches, d->dev,
				       sizeof d->dev) &&
			    stat(d->dev, &st) == 0)
				return;
		} else if (label) {
			if (find_block("label", label, label_matches, d->dev,
				       sizeof d->dev))
				return;
		} else if (stat(d->dev, &st) == 0) {
			if (!S_ISBLK(st.st_mode))
				fail("disk %s: not a block device", d->dev);
			return;
		} else {
			e = errno;
		}
		if (now_ms() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	if (serial)
		fail("disk %s: no disk with that serial after %d ms", d->spec,
		     DEVICE_WAIT_MS);
	if (label)
		fail("disk %s: no EROFS device with that label after %d ms",
		     d->spec, DEVICE_WAIT_MS);
	fail("disk %s: %s after %d ms", d->spec, strerror(e), DEVICE_WAIT_MS);
}

/* ---- dm-verity ---- */

/* 4096-byte blocks in 512-byte sectors. */
#define SECTORS_PER_BLOCK 8

/*
 * The buffer of one device-mapper ioctl: struct dm_ioctl, then (for
 * DM_TABLE_LOAD) one struct dm_target_spec and its parameter string, as
 * <linux/dm-ioctl.h> lays them out; 8-byte aligned.
 */
union dm_buf {
	struct dm_ioctl io;
	uint64_t align[512];
};

/* Fill the header: interface version 4.0.0, the device's name. */
static void dm_header(union dm_buf *b, const char *name, uint32_t size)
{
	memset(b, 0, sizeof *b);
	b->io.version[0] = DM_VERSION_MAJOR;
	b->io.version[1] = 0;
	b->io.version[2] = 0;
	b->io.data_size = size;
	b->io.data_start = sizeof b->io;
	b->io.flags = DM_READONLY_FLAG;
	snprintf(b->io.name, sizeof b->io.name, "%s", name);
}

static void dm_call(int ctl, unsigned long req, const char *what,
		    union dm_buf *b, const struct disk *d)
{
	if (ioctl(ctl, req, b) < 0)
		fail("verity %s: %s: %s", d->dev, what, strerror(errno));
}

/*
 * Open disk @idx (@d, found) through dm-verity: the device
 * SD_VM_VERITY_NAME<idx> with one read-only "verity" target over the
 * whole hashed area, data and tree on the disk (the table of the kernel's
 * Documentation/admin-guide/device-mapper/verity.rst: "1 DEV HASH_DEV
 * 4096 4096 DATA_BLOCKS HASH_START sha256 ROOT SALT"); d->dev becomes its
 * node, /dev/dm-MINOR, waited for until @deadline.
 */
static void open_verity(struct disk *d, size_t idx, long long deadline)
{
	const struct verity *v = d->verity;
	union dm_buf b;
	struct dm_target_spec *t;
	char name[64], *params;
	size_t room;
	unsigned mnr;
	struct stat st;
	int ctl, n;

	snprintf(name, sizeof name, "%s%zu", SD_VM_VERITY_NAME, idx);
	ctl = open("/dev/" DM_DIR "/" DM_CONTROL_NODE, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		fail("verity %s: /dev/" DM_DIR "/" DM_CONTROL_NODE
		     ": %s (is dm-mod loaded?)",
		     d->dev, strerror(errno));

	dm_header(&b, name, sizeof b.io);
	dm_call(ctl, DM_DEV_CREATE, "DM_DEV_CREATE", &b, d);
	mnr = minor((dev_t)b.io.dev);

	dm_header(&b, name, sizeof b);
	b.io.target_count = 1;
	t = (struct dm_target_spec *)((char *)&b + sizeof b.io);
	t->sector_start = 0;
	t->length = v->data_blocks * SECTORS_PER_BLOCK;
	snprintf(t->target_type, sizeof t->target_type, "verity");
	params = (char *)(t + 1);
	room = sizeof b - sizeof b.io - sizeof *t;
	n = snprintf(params, room, "1 %s %s 4096 4096 %llu %llu sha256 %s %s",
		     d->dev, d->dev, v->data_blocks, v->hash_start, v->root,
		     v->salt);
	if (n < 0 || (size_t)n >= room)
		fail("verity %s: the table does not fit", d->dev);
	/* The next spec (there is none) would start 8-byte aligned. */
	t->next = (uint32_t)((sizeof *t + (size_t)n + 1 + 7) & ~(size_t)7);
	b.io.data_size = (uint32_t)(sizeof b.io + t->next);
	dm_call(ctl, DM_TABLE_LOAD, "DM_TABLE_LOAD", &b, d);

	/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table
	 * goes live. */
	dm_header(&b, name, sizeof b.io);
	b.io.flags = 0;
	dm_call(ctl, DM_DEV_SUSPEND, "DM_DEV_SUSPEND (resume)", &b, d);
	close(ctl);

	snprintf(d->dev, sizeof d->dev, "/dev/dm-%u", mnr);
	while (stat(d->dev, &st) < 0) {
		if (now_ms() >= deadline)
			fail("verity %s (%s): %s after %d ms", name, d->dev,
			     strerror(errno), DEVICE_WAIT_MS);
		sleep_ms(POLL_MS);
	}
	if (!S_ISBLK(st.st_mode))
		fail("verity %s: %s is not a block device", name, d->dev);
}

static void mount_disks(struct conf *c)
{
	long long deadline = now_ms() + DEVICE_WAIT_MS;

	for (size_t i = 0; i < c->n_disks; i++)
		find_disk(&c->disks[i], deadline);
	for (size_t i = 0; i < c->n_disks; i++)
		if (c->disks[i].verity)
			open_verity(&c->disks[i], i, deadline);
	if (c->n_disks == 1) {
		mount_or_fail(c->disks[0].dev, c->store, c->disks[0].fstype,
			      MS_RDONLY, NULL);
		return;
	}
	char opts[4096];
	size_t used = (size_t)snprintf(opts, sizeof opts, "lowerdir=");
	for (size_t i = 0; i < c->n_disks; i++) {
		char dir[64];
		snprintf(dir, sizeof dir, "%s/%zu", SD_VM_LOWER_DIR, i);
		mount_or_fail(c->disks[i].dev, dir, c->disks[i].fstype,
			      MS_RDONLY, NULL);
		int n = snprintf(opts + used, sizeof opts - used, "%s%s",
				 i ? ":" : "", dir);
		if (n < 0 || (size_t)n >= sizeof opts - used)
			fail("overlay: too many disks (%zu)", c->n_disks);
		used += (size_t)n;
	}
	mount_or_fail("overlay", c->store, "overlay", MS_RDONLY, opts);
}

/* ---- modules and the program ---- */

static void load_modules(const struct conf *c)
{
	char n[32];

	for (size_t i = 0; i < c->n_modules; i++) {
		int fd = open(c->modules[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail("module %s: %s", c->modules[i], strerror(errno));
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			fail("module %s: %s", c->modules[i], strerror(errno));
		close(fd);
	}
	snprintf(n, sizeof n, "%zu", c->n_modules);
	marker(SD_VM_EV_MODULES, n);
}

/*
 * What the program's child writes on its close-on-exec pipe: records of
 * two ints, {REP_TRACED, 0} when ptrace took it, then, when a step fails,
 * {step, errno}.  An end of file without a failure is the exec.
 */
enum { REP_TRACED = 1, REP_PIPE, REP_CONSOLE, REP_NULL, REP_EXEC };

static _Noreturn void child(const struct conf *c, int report)
{
	int rep[2] = {REP_PIPE, 0};
	int moved, null;

	/* Above 2 first: with 0-2 closed at boot the pipe may be there, and
	 * the dup2s below would replace it. */
	moved = fcntl(report, F_DUPFD_CLOEXEC, 3);
	if (moved < 0)
		goto out;
	report = moved;
	rep[0] = REP_CONSOLE;
	if (dup2(console, 1) < 0 || dup2(console, 2) < 0)
		goto out;
	rep[0] = REP_NULL;
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0)
		goto out;
	if (null > 2)
		close(null);
	setsid();
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0) {
		int t[2] = {REP_TRACED, 0};
		write_all(report, (const char *)t, sizeof t);
	}
	rep[0] = REP_EXEC;
	execve(c->argv[0], c->argv, program_env);
out:
	rep[1] = errno;
	write_all(report, (const char *)rep, sizeof rep);
	_exit(127);
}

/* Wait for @pid alone (nothing else runs yet); its status. */
static int wait_for(const struct conf *c, pid_t pid)
{
	int status = 0;
	pid_t w;

	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w != pid)
		fail("wait %s: %s", c->argv[0], strerror(errno));
	return status;
}

static void run(const struct conf *c)
{
	int pfd[2], rep[4], status = 0;
	size_t got = 0, at;
	ssize_t r;
	pid_t pid, w;
	char n[32];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0)
		child(c, pfd[1]);
	close(pfd[1]);
	/* Until the end of file: the exec, or the child's exit. */
	while (got < sizeof rep) {
		r = read(pfd[0], (char *)rep + got, sizeof rep - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	at = got >= sizeof rep / 2 && rep[0] == REP_TRACED ? 2 : 0;
	if (got > at * sizeof(int)) {
		int step = got >= (at + 1) * sizeof(int) ? rep[at] : REP_EXEC;
		int e = got >= (at + 2) * sizeof(int) ? rep[at + 1] : 0;
		const char *what = step == REP_PIPE      ? "report pipe for"
				   : step == REP_CONSOLE ? "console output of"
				   : step == REP_NULL ? "/dev/null as stdin of"
						      : "exec";
		wait_for(c, pid);
		fail("%s %s: %s", what, c->argv[0], e ? strerror(e) : "failed");
	}
	if (at) {
		/* Traced: stopped by the exec's SIGTRAP (any other stop is
		 * passed on), or ended during the exec. */
		for (;;) {
			status = wait_for(c, pid);
			if (!WIFSTOPPED(status) || WSTOPSIG(status) == SIGTRAP)
				break;
			if (ptrace(PTRACE_CONT, pid, NULL,
				   (void *)(long)WSTOPSIG(status)) < 0)
				fail("ptrace %s: %s", c->argv[0],
				     strerror(errno));
		}
	}
	marker(SD_VM_EV_STARTED, NULL);
	if (at && WIFSTOPPED(status) &&
	    ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0)
		fail("ptrace %s: %s", c->argv[0], strerror(errno));
	if (!at || WIFSTOPPED(status)) {
		/* PID 1 reaps every orphan too, until the program itself
		 * ends. */
		do
			w = waitpid(-1, &status, 0);
		while (w != pid && (w >= 0 || errno == EINTR));
		if (w != pid)
			fail("wait %s: %s", c->argv[0], strerror(errno));
	}
	/*
	 * The result starts a line of its own even when the program's last
	 * output did not end one: one "\n" before it, in the same write.
	 */
	if (WIFSIGNALED(status)) {
		snprintf(n, sizeof n, "%d", WTERMSIG(status));
		marker_nl(1, SD_VM_EV_SIGNAL, n);
	} else {
		snprintf(n, sizeof n, "%d", WEXITSTATUS(status));
		marker_nl(1, SD_VM_EV_EXIT, n);
	}
}

int main(void)
{
	struct conf c;
	char err[768];
	int fd;

	mkdir("/dev", 0755);
	/* Already mounted (EBUSY) or not, the console is tried next. */
	(void)mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		console = fd;

	read_conf(&c, err, sizeof err);
	marker(SD_VM_EV_INIT, NULL);
	if (err[0])
		fail("%s", err);
	mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      NULL);
	mount_or_fail("sysfs", "/sys", "sysfs",
		      MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_fail("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
		      "mode=0755");
	load_modules(&c);
	mount_disks(&c);
	marker(SD_VM_EV_MOUNTED, NULL);
	run(&c);
	power_off();
}
