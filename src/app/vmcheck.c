/* SPDX-License-Identifier: MIT */
#include "app/vmcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "app/guestarch.h"
#include "app/imageinfo.h"
#include "app/initramfs.h"
#include "app/kimage.h"
#include "app/kmod.h"
#include "app/verity.h"
#include "app/vmrun.h"
#include "core/hex.h"
#include "core/kver.h"
#include "formats/format.h"
#include "core/vmproto.h"

/* ---- small helpers ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growing byte buffer (the configuration file). */
struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* One record "KEY=VALUE\0" of core/vmproto.h. */
static void conf_record(struct buf *b, const char *key, const char *v1,
			const char *v2)
{
	buf_add(b, key, strlen(key));
	buf_add(b, "=", 1);
	buf_add(b, v1, strlen(v1));
	if (v2)
		buf_add(b, v2, strlen(v2));
	buf_add(b, "", 1);
}

/* A NULL-terminated vector of strings we own. */
struct strv {
	char **v;
	size_t n, cap;
	bool failed;
};

static void strv_add(struct strv *s, const char *str)
{
	if (s->failed)
		return;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			s->failed = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strdup(str);
	if (!s->v[s->n]) {
		s->failed = true;
		return;
	}
	s->v[++s->n] = NULL;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* ---- names ---- */

static const char *const phase_names[SD_VMCHECK_NPHASES] = {
	[SD_VMCHECK_PH_INITRAMFS] = "initramfs",
	[SD_VMCHECK_PH_QEMU_START] = "qemu_start",
	[SD_VMCHECK_PH_KERNEL_UP] = "kernel_up",
	[SD_VMCHECK_PH_MODULES] = "modules_loaded",
	[SD_VMCHECK_PH_MOUNTED] = "mounted",
	[SD_VMCHECK_PH_STARTED] = "program_started",
	[SD_VMCHECK_PH_RESULT] = "program_exit",
	[SD_VMCHECK_PH_POWEROFF] = "poweroff",
	[SD_VMCHECK_PH_QEMU_EXIT] = "qemu_exit",
};

const char *sd_vmcheck_phase_name(enum sd_vmcheck_phase p)
{
	return (unsigned)p < SD_VMCHECK_NPHASES ? phase_names[p] : "?";
}

const char *sd_vmcheck_outcome_name(enum sd_vmcheck_outcome o)
{
	switch (o) {
	case SD_VMCHECK_REFUSED: return "refused";
	case SD_VMCHECK_NOT_STARTED: return "not-started";
	case SD_VMCHECK_EXITED: return "exited";
	case SD_VMCHECK_SIGNALED: return "signaled";
	case SD_VMCHECK_TIMEOUT: return "timeout";
	case SD_VMCHECK_NO_RESULT: return "no-result";
	case SD_VMCHECK_INTERRUPTED: return "interrupted";
	}
	return "?";
}

const char *sd_vmcheck_end_name(const struct sd_vmcheck_result *r)
{
	if (!r->vm_ran)
		return "none";
	switch (r->end) {
	case SD_VMRUN_EXITED: return r->powered_off ? "poweroff" : "crashed";
	case SD_VMRUN_QMP_QUIT: return "qmp-quit";
	case SD_VMRUN_TERMINATED: return "terminated";
	case SD_VMRUN_KILLED: return "killed";
	}
	return "?";
}

void sd_vmcheck_result_release(struct sd_vmcheck_result *r)
{
	free(r->error);
	r->error = NULL;
	free(r->damaged);
	r->damaged = NULL;
	strv_free(r->qemu_argv);
	r->qemu_argv = NULL;
	for (size_t i = 0; i < r->ntail; i++)
		free(r->tail[i]);
	r->ntail = 0;
}

static void result_init(struct sd_vmcheck_result *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = SD_VMCHECK_REFUSED;
	r->status = -1;
	for (int i = 0; i < SD_VMCHECK_NPHASES; i++)
		r->phase[i] = -1;
}

/* ---- the run ---- */

struct run {
	const struct sd_vmcheck_options *o;
	struct sd_vmcheck_result *res;
	double t0;
	char marker[sizeof(SD_VM_MARKER) + SD_VM_NONCE_LEN + 2];
	size_t marker_len;
	bool started;        /* "started" seen */
	bool result;         /* "exit", "signal" or "error" seen */
	bool any_console;    /* the guest wrote something */
	bool held_empty;     /* an empty output line not yet passed on */
	char last_qemu[256]; /* QEMU's last stderr line */
};

static double elapsed(const struct run *r)
{
	return now_s() - r->t0;
}

static void logf_(struct run *r, enum sd_vmcheck_log kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct run *r, enum sd_vmcheck_log kind, const char *fmt, ...)
{
	if (!r->o->on_log)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	r->o->on_log(r->o->ctx, elapsed(r), kind, line, len);
}

static void phase(struct run *r, enum sd_vmcheck_phase p)
{
	if (r->res->phase[p] >= 0)
		return;
	r->res->phase[p] = elapsed(r);
	logf_(r, SD_VMCHECK_LOG_PHASE, "%s", phase_names[p]);
}

static void tail_add(struct run *r, const char *prefix, const char *line,
		     size_t len)
{
	struct sd_vmcheck_result *res = r->res;
	size_t plen = strlen(prefix);
	char *s = malloc(plen + len + 1);
	if (!s)
		return;
	memcpy(s, prefix, plen);
	memcpy(s + plen, line, len);
	s[plen + len] = '\0';
	if (res->ntail == SD_VMCHECK_TAIL) {
		free(res->tail[0]);
		memmove(res->tail, res->tail + 1,
			(SD_VMCHECK_TAIL - 1) * sizeof(res->tail[0]));
		res->ntail--;
	}
	res->tail[res->ntail++] = s;
}

/* A decimal 0..255 (the marker's value), or -1. */
static int parse_small(const char *s, size_t len)
{
	int v = 0;
	if (len == 0 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 255 ? v : -1;
}

static bool word_is(const char *ev, size_t len, const char *name)
{
	return len == strlen(name) && !memcmp(ev, name, len);
}

/* One marker's event (after "@@storedisk-vmcheck NONCE "). */
static void on_event(struct run *r, const char *ev, size_t len)
{
	struct sd_vmcheck_result *res = r->res;
	size_t w = 0;
	while (w < len && ev[w] != ' ')
		w++;
	const char *val = w < len ? ev + w + 1 : ev + len;
	size_t vlen = w < len ? len - w - 1 : 0;

	if (word_is(ev, w, SD_VM_EV_INIT)) {
		phase(r, SD_VMCHECK_PH_KERNEL_UP);
	} else if (word_is(ev, w, SD_VM_EV_MODULES)) {
		phase(r, SD_VMCHECK_PH_MODULES);
	} else if (word_is(ev, w, SD_VM_EV_MOUNTED)) {
		phase(r, SD_VMCHECK_PH_MOUNTED);
	} else if (word_is(ev, w, SD_VM_EV_STARTED)) {
		phase(r, SD_VMCHECK_PH_STARTED);
		r->started = true;
	} else if (word_is(ev, w, SD_VM_EV_EXIT) && !r->result) {
		int v = parse_small(val, vlen);
		if (v < 0)
			return;
		res->outcome = SD_VMCHECK_EXITED;
		res->status = v;
		r->result = true;
		phase(r, SD_VMCHECK_PH_RESULT);
	} else if (word_is(ev, w, SD_VM_EV_SIGNAL) && !r->result) {
		int v = parse_small(val, vlen);
		if (v < 0 || v > 127)
			return;
		res->outcome = SD_VMCHECK_SIGNALED;
		res->status = 128 + v;
		r->result = true;
		phase(r, SD_VMCHECK_PH_RESULT);
	} else if (word_is(ev, w, SD_VM_EV_ERROR) && !r->result) {
		/* Init's last word, but no program exited: program_exit
		 * stays null (a phase not reached). */
		res->error = strndup(val, vlen);
		r->result = true;
	} else if (word_is(ev, w, SD_VM_EV_POWEROFF)) {
		res->powered_off = true;
		phase(r, SD_VMCHECK_PH_POWEROFF);
	}
}

static bool on_line(void *ctx, enum sd_vmrun_stream stream, const char *line,
		    size_t len)
{
	struct run *r = ctx;
	const struct sd_vmcheck_options *o = r->o;

	if (stream == SD_VMRUN_QEMU) {
		tail_add(r, "qemu: ", line, len);
		size_t n = len < sizeof(r->last_qemu) - 1
				   ? len
				   : sizeof(r->last_qemu) - 1;
		memcpy(r->last_qemu, line, n);
		r->last_qemu[n] = '\0';
		if (o->on_log)
			o->on_log(o->ctx, elapsed(r), SD_VMCHECK_LOG_QEMU, line,
				  len);
		return r->result;
	}
	r->any_console = true;
	tail_add(r, "", line, len);
	if (o->on_log)
		o->on_log(o->ctx, elapsed(r), SD_VMCHECK_LOG_CONSOLE, line,
			  len);
	const char *m = memmem(line, len, r->marker, r->marker_len);
	size_t before = m ? (size_t)(m - line) : len;
	/* The program's own output: after "started", before its result;
	 * what precedes a marker on its line is the program's too.  Init
	 * writes a "\n" before the result marker, so that it starts a line
	 * even after output without one: an empty line right before the
	 * marker is that, not the program's, and is held back until the
	 * next line shows which. */
	if (r->started && !r->result && o->on_output) {
		if (m && before == 0) {
			r->held_empty = false;
		} else {
			if (r->held_empty)
				o->on_output(o->ctx, "", 0);
			r->held_empty = !m && len == 0;
			if (!r->held_empty)
				o->on_output(o->ctx, line, before);
		}
	}
	if (m)
		on_event(r, m + r->marker_len, len - before - r->marker_len);
	return r->result;
}

static void on_step(void *ctx, const char *text)
{
	struct run *r = ctx;
	logf_(r, SD_VMCHECK_LOG_STEP, "%s", text);
}

/* The host's TSC frequency in kHz for tsc_early_khz= (microvm has no
 * timer to calibrate against), or 0 when unknown. */
static unsigned long host_tsc_khz(void)
{
	char line[256];
	unsigned long khz = 0;
	FILE *f = fopen("/sys/devices/system/cpu/cpu0/tsc_freq_khz", "re");
	if (f) {
		if (fgets(line, sizeof(line), f))
			khz = strtoul(line, NULL, 10);
		fclose(f);
		if (khz)
			return khz;
	}
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu MHz", 7))
			continue;
		const char *colon = strchr(line, ':');
		if (colon) {
			double mhz = strtod(colon + 1, NULL);
			if (mhz > 0 && mhz < 1e6)
				khz = (unsigned long)(mhz * 1000.0);
		}
		break;
	}
	fclose(f);
	return khz;
}

/* "file=PATH,..." of -drive: QEMU doubles a comma inside a value. */
static char *drive_spec(const char *path, unsigned idx)
{
	struct buf b = {0};
	char tail[96];
	buf_add(&b, "file=", 5);
	for (const char *p = path; *p; p++) {
		if (*p == ',')
			buf_add(&b, ",,", 2);
		else
			buf_add(&b, p, 1);
	}
	snprintf(tail, sizeof(tail),
		 ",if=none,id=disk%u,format=raw,readonly=on", idx);
	buf_add(&b, tail, strlen(tail) + 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The modules directory: given, or next to the kernel, or the host's. */
static int find_moddir(const char *kernel, const char *release, char *out,
		       size_t outlen, struct sd_error *err)
{
	char cand[2][4096];
	size_t nc = 0;
	const char *slash = strrchr(kernel, '/');
	/* K/boot/vmlinuz-R: K/lib/modules/R (a package unpacked in K). */
	if (slash) {
		size_t dlen = (size_t)(slash - kernel);
		if (dlen >= 5 && !memcmp(kernel + dlen - 5, "/boot", 5)) {
			snprintf(cand[nc++], sizeof(cand[0]),
				 "%.*s/lib/modules/%s", (int)(dlen - 5), kernel,
				 release);
		} else if (dlen == 4 && !memcmp(kernel, "boot", 4)) {
			snprintf(cand[nc++], sizeof(cand[0]), "lib/modules/%s",
				 release);
		}
	} else {
		snprintf(cand[nc++], sizeof(cand[0]), "../lib/modules/%s",
			 release);
	}
	snprintf(cand[nc++], sizeof(cand[0]), "/lib/modules/%s", release);
	for (size_t i = 0; i < nc; i++) {
		size_t len = strlen(cand[i]);
		if (len < outlen && is_dir(cand[i])) {
			memcpy(out, cand[i], len + 1);
			return SD_OK;
		}
	}
	return sd_error_set(err, SD_ERR_USAGE,
			    "no modules directory for kernel %s (looked for "
			    "%s%s%s): give --modules DIR",
			    release, cand[0], nc > 1 ? " and " : "",
			    nc > 1 ? cand[1] : "");
}

/*
 * Each disk's virtio serial number, DISK_SERIAL and its index (0: the
 * image, then its bases), by which init finds it (vmproto.h "SERIAL="):
 * the order of /dev/vdX is the order the guest probes the transports in,
 * which on aarch64's "virt" board is the reverse of the command line's.
 */
#define DISK_SERIAL "storedisk"

/* One image's description, for the disks and the minimum kernel. */
struct disk {
	const char *path;
	struct sd_info info;
	bool damaged; /* booted on its magic alone (read_disks) */
	uint8_t root[SD_SHA256_LEN]; /* verity: the root hash pinned */
};

/*
 * Read every image's description.  An image our reader finds damaged
 * (SD_ERR_CORRUPT: truncated, a bad table) but whose format its magic
 * still tells is booted anyway, with no minimum kernel and no label: the
 * guest's kernel is the reader vmcheck asks, and its answer (mounted or
 * not, the program run or not) is the result.  Our reader's diagnosis of
 * the first such image is kept in res->damaged and logged.
 */
static int read_disks(struct run *r, struct disk *d, struct sd_error *err)
{
	const struct sd_vmcheck_options *o = r->o;
	for (size_t i = 0; i <= o->nbases; i++) {
		d[i].path = i ? o->bases[i - 1] : o->image;
		int rc = sd_info_read(d[i].path, &d[i].info, err);
		if (rc != SD_ERR_CORRUPT) {
			if (rc)
				return rc;
			continue;
		}
		const struct sd_format *fmt = NULL;
		struct sd_error perr;
		sd_error_init(&perr);
		if (sd_format_detect(d[i].path, &fmt, &perr) != SD_OK)
			return rc; /* not an image at all: err says so */
		memset(&d[i].info, 0, sizeof(d[i].info));
		d[i].info.format = fmt->name;
		d[i].damaged = true;
		logf_(r, SD_VMCHECK_LOG_INFO,
		      "%s is damaged for storedisk's reader (%s): booted "
		      "anyway as %s, the guest's kernel decides",
		      d[i].path, err->msg, fmt->name);
		if (!r->res->damaged && !(r->res->damaged = strdup(err->msg)))
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		sd_error_init(err);
	}
	return SD_OK;
}

/*
 * With verity: every image's tree, as imageinfo read it (the parameters
 * `info` shows), and the root hash the host pins for it — --verity-root
 * for the image, else IMAGE.roothash as pack --verity wrote it — never
 * the root the image's own top level gives, which a changed image
 * changes with it.  The root computed from the tree is only compared,
 * for the log.
 */
static int pin_verity(struct run *r, struct disk *d, struct sd_error *err)
{
	const struct sd_vmcheck_options *o = r->o;
	char path[4200], hex[2 * SD_SHA256_LEN + 1];
	for (size_t i = 0; i <= o->nbases; i++) {
		const struct sd_info *in = &d[i].info;
		const char *from = path;
		if (d[i].damaged)
			return sd_error_set(err, SD_ERR_USAGE,
					    "--verity: %s is damaged for "
					    "storedisk's reader: its verity "
					    "tree cannot be read",
					    d[i].path);
		if (in->verity_problem[0])
			return sd_error_set(err, SD_ERR_USAGE,
					    "--verity: %s: %s", d[i].path,
					    in->verity_problem);
		if (!in->has_verity)
			return sd_error_set(err, SD_ERR_USAGE,
					    "--verity: %s has no dm-verity "
					    "tree (pack --verity makes one): "
					    "not booted",
					    d[i].path);
		if (i == 0 && o->verity_root) {
			from = "--verity-root";
			if (strlen(o->verity_root) != 2 * SD_SHA256_LEN ||
			    sd_hex_decode(o->verity_root, d[i].root,
					  SD_SHA256_LEN, NULL))
				return sd_error_set(err, SD_ERR_USAGE,
						    "--verity-root: want 64 "
						    "hex digits, got \"%s\"",
						    o->verity_root);
		} else {
			snprintf(path, sizeof(path), "%s.roothash", d[i].path);
			int rc = sd_verity_read_roothash(path, d[i].root, err);
			if (rc)
				return sd_error_prefix(
					err, rc,
					"--verity: the root hash of %s%s",
					d[i].path,
					i ? "" : " (or give --verity-root)");
		}
		sd_hex_encode(d[i].root, SD_SHA256_LEN, hex);
		snprintf(r->res->verity_root[i], sizeof(r->res->verity_root[i]),
			 "%s", hex);
		if (!r->res->verity_other &&
		    memcmp(in->verity.root, d[i].root, SD_SHA256_LEN))
			r->res->verity_other = i + 1;
		logf_(r, SD_VMCHECK_LOG_INFO,
		      "verity %s: root hash %s (from %s), %llu data blocks, "
		      "tree at %llu%s",
		      d[i].path, hex, from,
		      (unsigned long long)in->verity.data_blocks,
		      (unsigned long long)in->verity.hash_offset,
		      memcmp(in->verity.root, d[i].root, SD_SHA256_LEN)
			      ? "; the tree's top level gives another root: "
				"the guest will refuse to read it"
			      : "");
	}
	r->res->verity = true;
	return SD_OK;
}

/* Refuse a kernel older than an image needs. */
static int check_kernel(const struct sd_vmcheck_options *o,
			const struct disk *d, struct sd_vmcheck_result *res,
			struct sd_error *err)
{
	size_t worst = 0;
	for (size_t i = 0; i <= o->nbases; i++)
		if (d[i].info.min_kernel > d[worst].info.min_kernel)
			worst = i;
	const struct sd_info *in = &d[worst].info;
	res->min_kernel = in->min_kernel;
	if (res->kernel_version >= in->min_kernel)
		return SD_OK;
	char have[32], need[32];
	sd_kver_format(res->kernel_version, have, sizeof(have));
	const struct sd_kfeature *f =
		in->min_kernel_by
			? sd_kfeature_find(in->format, in->min_kernel_by)
			: NULL;
	if (in->min_kernel == SD_KVER_NEVER)
		return sd_error_set(err, SD_ERR_USAGE,
				    "%s: no mainline Linux mounts it (%s%s%s)",
				    d[worst].path,
				    in->min_kernel_by ? in->min_kernel_by : "?",
				    f && f->what ? ": " : "",
				    f && f->what ? f->what : "");
	sd_kver_format(in->min_kernel, need, sizeof(need));
	/* The feature named as pack --min-kernel names it: "zstd (EROFS
	 * Zstandard compression)". */
	const char *fs = !strcmp(in->format, "erofs") ? "EROFS" : "SquashFS";
	return sd_error_set(err, SD_ERR_USAGE,
			    "kernel %s is Linux %s (%s), but %s needs Linux "
			    "%s for %s%s%s%s%s%s: not booted",
			    o->kernel, have, res->kernel_release, d[worst].path,
			    need,
			    in->min_kernel_by ? in->min_kernel_by : in->format,
			    f && f->what ? " (" : "", f && f->what ? fs : "",
			    f && f->what ? " " : "",
			    f && f->what ? f->what : "",
			    f && f->what ? ")" : "");
}

/* Remove the private directory and what we put there. */
static void remove_tmpdir(const char *dir, const char *const *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (files[i])
			unlink(files[i]);
	rmdir(dir);
}

/* "x86_64, aarch64": the architectures known, for messages. */
static void arch_names(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sd_guest_narchs && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 sd_guest_archs[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* The guest's architecture, machine and init, from the options. */
static int pick_arch(const struct sd_vmcheck_options *o,
		     const struct sd_guest_arch **arch,
		     const struct sd_guest_machine **machine,
		     const struct sd_guest_init_blob **init,
		     struct sd_error *err)
{
	char names[128];
	arch_names(names, sizeof(names));
	if (o->arch) {
		*arch = sd_guest_arch_find(o->arch);
		if (!*arch)
			return sd_error_set(err, SD_ERR_USAGE,
					    "--arch %s: not a guest "
					    "architecture vmcheck knows (%s)",
					    o->arch, names);
	} else {
		*arch = sd_guest_arch_host();
		if (!*arch) {
			struct utsname u;
			return sd_error_set(err, SD_ERR_USAGE,
					    "this host (%s) is none of the "
					    "guest architectures vmcheck "
					    "knows (%s): give --arch",
					    uname(&u) == 0 ? u.machine : "?",
					    names);
		}
	}
	*machine = sd_guest_machine_find(*arch, o->machine);
	if (!*machine) {
		char list[128];
		size_t used = 0;
		list[0] = '\0';
		for (size_t i = 0; i < (*arch)->nmachines; i++) {
			int n = snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? " or " : "",
					 (*arch)->machines[i].name);
			if (n < 0 || (size_t)n >= sizeof(list) - used)
				break;
			used += (size_t)n;
		}
		return sd_error_set(err, SD_ERR_USAGE,
				    "--machine %s: an %s guest runs on %s",
				    o->machine, (*arch)->name, list);
	}
	*init = sd_guest_arch_init(*arch);
	if (!*init)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "--arch %s: this storedisk was built "
				    "without an %s guest init (%s was not "
				    "found when it was built: apt-get "
				    "install %s, then rebuild)",
				    o->arch ? o->arch : (*arch)->name,
				    (*arch)->name, (*arch)->cross_cc,
				    (*arch)->cross_packages);
	return SD_OK;
}

/*
 * The kernel's architecture and version: refused when it is another
 * architecture's.  When no release can be read from it but --modules
 * names lib/modules/RELEASE, that directory's name is the release.
 */
static int read_kernel(struct run *r, const struct sd_guest_arch *arch,
		       struct sd_error *err)
{
	const struct sd_vmcheck_options *o = r->o;
	struct sd_vmcheck_result *res = r->res;
	struct sd_kimage k;
	int rc = sd_kimage_read(o->kernel, &k, err);
	res->kernel_kind = k.kind;
	if (k.arch && strcmp(k.arch, arch->name))
		return sd_error_set(err, SD_ERR_USAGE,
				    "kernel %s is an %s kernel (%s), not an "
				    "%s one: give --arch %s, or an %s kernel "
				    "(scripts/fetch-guest-kernel.sh %s)",
				    o->kernel, k.arch, k.kind, arch->name,
				    k.arch, arch->name, arch->name);
	if (rc == SD_ERR_CORRUPT && o->modules_dir) {
		const char *base = strrchr(o->modules_dir, '/');
		base = base && base[1] ? base + 1 : o->modules_dir;
		uint32_t v = sd_kver_release(base);
		if (v) {
			logf_(r, SD_VMCHECK_LOG_INFO,
			      "%s; the release is taken from --modules %s",
			      err ? err->msg : "no release in the kernel",
			      o->modules_dir);
			sd_error_init(err);
			snprintf(k.release, sizeof(k.release), "%s", base);
			k.version = v;
			rc = SD_OK;
		}
	}
	if (rc)
		return rc;
	snprintf(res->kernel_release, sizeof(res->kernel_release), "%s",
		 k.release);
	res->kernel_version = k.version;
	logf_(r, SD_VMCHECK_LOG_INFO, "kernel %s (%s%s%s): %s", o->kernel,
	      k.kind, k.arch ? ", " : "", k.arch ? k.arch : "", k.release);
	return SD_OK;
}

int sd_vmcheck_run(const struct sd_vmcheck_options *o,
		   struct sd_vmcheck_result *res, struct sd_error *err)
{
	struct run r = {.o = o, .res = res, .t0 = now_s()};
	struct disk *disks = NULL;
	struct sd_kmod_list mods = {0};
	struct sd_initramfs_member *mem = NULL;
	struct buf conf = {0};
	struct strv argv = {0}, modpaths = {0};
	char moddir[4096], tmpdir[4096], initrd[4200], qmp[4200];
	char nonce[SD_VM_NONCE_LEN + 1];
	bool have_tmp = false;
	int rc;

	result_init(res);
	const struct sd_guest_arch *arch = NULL;
	const struct sd_guest_machine *machine = NULL;
	const struct sd_guest_init_blob *init = NULL;
	rc = pick_arch(o, &arch, &machine, &init, err);
	if (rc)
		goto out;
	res->arch = arch->name;
	res->machine = machine->name;
	if (!o->image || !o->kernel || o->argc == 0 || !o->argv[0] ||
	    o->argv[0][0] != '/') {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "vmcheck needs an image, a kernel and a "
				  "program given by its absolute path");
		goto out;
	}
	const char *store = o->store_dir ? o->store_dir : "/nix/store";
	if (o->nbases > SD_VMCHECK_MAX_BASES) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "at most %d bases (--base), not %zu",
				  SD_VMCHECK_MAX_BASES, o->nbases);
		goto out;
	}

	/* The images and the kernel, before anything is started. */
	disks = calloc(o->nbases + 1, sizeof(*disks));
	if (!disks) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = read_disks(&r, disks, err);
	if (rc)
		goto out;
	rc = read_kernel(&r, arch, err);
	if (rc)
		goto out;
	rc = check_kernel(o, disks, res, err);
	if (rc)
		goto out;
	if (o->by_label && disks[0].damaged) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "--by-label: the label of %s cannot be "
				  "read: %s",
				  o->image, res->damaged);
		goto out;
	}
	if (o->by_label && !disks[0].info.image.has_label) {
		rc = sd_error_set(err, SD_ERR_USAGE,
				  "--by-label: %s has no filesystem label "
				  "(%s has none; pack --format erofs has "
				  "one, --label NAME)",
				  o->image,
				  strcmp(disks[0].info.format, "squashfs")
					  ? "this image"
					  : "squashfs");
		goto out;
	}

	if (o->verity && (rc = pin_verity(&r, disks, err)))
		goto out;

	/* The guest's modules. */
	struct stat mst;
	if (o->modules_dir && stat(o->modules_dir, &mst)) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "--modules %s",
				    o->modules_dir);
		goto out;
	} else if (o->modules_dir && !S_ISDIR(mst.st_mode)) {
		rc = sd_error_errno(err, SD_ERR_IO, ENOTDIR, "--modules %s",
				    o->modules_dir);
		goto out;
	}
	if (o->modules_dir)
		snprintf(moddir, sizeof(moddir), "%s", o->modules_dir);
	else if ((rc = find_moddir(o->kernel, res->kernel_release, moddir,
				   sizeof(moddir), err)))
		goto out;
	const char *wanted[16];
	size_t nw = 0;
	wanted[nw++] = "virtio";
	wanted[nw++] = "virtio_ring";
	if (machine->virtio_module)
		wanted[nw++] = machine->virtio_module;
	wanted[nw++] = "virtio_blk";
	/* EROFS needs libcrc32c, which asks the crypto API for "crc32c"
	 * (its modinfo says "softdep=pre: crc32c", not "depends="): the
	 * generic one first, where it is a module (Debian's s390x kernel;
	 * amd64's and arm64's have it built in). */
	for (size_t i = 0; i <= o->nbases; i++)
		if (!strcmp(disks[i].info.format, "erofs")) {
			wanted[nw++] = "crc32c_generic";
			break;
		}
	size_t nfixed = nw; /* then the filesystems, each once */
	for (size_t i = 0; i <= o->nbases; i++) {
		bool dup = false;
		for (size_t k = nfixed; k < nw; k++)
			dup |= !strcmp(wanted[k], disks[i].info.format);
		if (!dup && nw < 10)
			wanted[nw++] = disks[i].info.format;
	}
	if (o->nbases)
		wanted[nw++] = "overlay";
	/* dm-verity's own dependencies (dm-mod, dm-bufio, reed_solomon
	 * on Debian's 6.1) come from its modinfo. */
	if (o->verity)
		wanted[nw++] = "dm_verity";
	rc = sd_kmod_resolve(moddir, wanted, nw, &mods, err);
	if (rc)
		goto out;
	res->nmodules = mods.n;
	logf_(&r, SD_VMCHECK_LOG_INFO, "modules from %s: %zu to load", moddir,
	      mods.n);

	/* The configuration: nonce, modules, store, disks, argv. */
	uint8_t rnd[SD_VM_NONCE_LEN / 2];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "getrandom");
		res->outcome = SD_VMCHECK_NOT_STARTED;
		goto out;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
	r.marker_len = (size_t)snprintf(r.marker, sizeof(r.marker), "%s %s ",
					SD_VM_MARKER, nonce);
	conf_record(&conf, SD_VM_KEY_NONCE, nonce, NULL);
	mem = calloc(mods.n + 8, sizeof(*mem));
	if (!mem) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	size_t nm = 0;
	mem[nm++] = (struct sd_initramfs_member){
		.path = "init",
		.kind = SD_INITRAMFS_FILE,
		.mode = 0755,
		.data = init->data,
		.len = init->len,
	};
	static const char *const dirs[] = {"dev", "proc", "sys", "run", "tmp"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mem[nm++] = (struct sd_initramfs_member){
			.path = dirs[i],
			.kind = SD_INITRAMFS_DIR,
			.mode = 0755,
		};
	for (size_t i = 0; i < mods.n; i++) {
		char p[512];
		snprintf(p, sizeof(p), "lib/modules/%s.ko", mods.v[i].name);
		strv_add(&modpaths, p);
		if (modpaths.failed)
			break;
		mem[nm++] = (struct sd_initramfs_member){
			.path = modpaths.v[i],
			.kind = SD_INITRAMFS_FILE,
			.mode = 0644,
			.host_path = mods.v[i].path,
		};
		conf_record(&conf, SD_VM_KEY_MODULE, "/", p);
	}
	conf_record(&conf, SD_VM_KEY_STORE, store, NULL);
	for (size_t i = 0; i <= o->nbases; i++) {
		char spec[256];
		if (i == 0 && o->by_label)
			snprintf(spec, sizeof(spec), "%s:LABEL=%s",
				 disks[i].info.format,
				 disks[i].info.image.label);
		else
			snprintf(spec, sizeof(spec), "%s:SERIAL=%s%zu",
				 disks[i].info.format, DISK_SERIAL, i);
		conf_record(&conf, SD_VM_KEY_DISK, spec, NULL);
	}
	for (size_t i = 0; o->verity && i <= o->nbases; i++) {
		/* vmproto.h: DATA_BLOCKS:HASH_START:ROOT:SALT, the top
		 * hash block one block past the superblock's. */
		const struct sd_verity *v = &disks[i].info.verity;
		char spec[256], salt[2 * SD_SHA256_LEN + 1];
		sd_hex_encode(v->salt, SD_SHA256_LEN, salt);
		snprintf(spec, sizeof(spec), "%llu:%llu:%s:%s",
			 (unsigned long long)v->data_blocks,
			 (unsigned long long)(v->hash_offset / SD_VERITY_BLOCK +
					      1),
			 res->verity_root[i], salt);
		conf_record(&conf, SD_VM_KEY_VERITY, spec, NULL);
	}
	for (size_t i = 0; i < o->argc; i++)
		conf_record(&conf, SD_VM_KEY_ARG, o->argv[i], NULL);
	if (conf.failed || modpaths.failed) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	mem[nm++] = (struct sd_initramfs_member){
		.path = &SD_VM_CONF_PATH[1], /* no leading "/" */
		.kind = SD_INITRAMFS_FILE,
		.mode = 0644,
		.data = conf.p,
		.len = conf.len,
	};

	/* The private directory: the initramfs and the QMP socket. */
	res->outcome = SD_VMCHECK_NOT_STARTED;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	/* The QMP socket's path must fit a sockaddr_un (108 bytes with
	 * its NUL): under a deeper TMPDIR, QEMU could not listen. */
	struct sockaddr_un sun;
	if (strlen(tmp) + strlen("/storedisk-vmcheck.XXXXXX/qmp.sock") >=
	    sizeof(sun.sun_path)) {
		logf_(&r, SD_VMCHECK_LOG_INFO,
		      "TMPDIR %s is too deep for a socket path (at most %zu "
		      "bytes): the private directory goes under /tmp",
		      tmp, sizeof(sun.sun_path) - 1);
		tmp = "/tmp";
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/storedisk-vmcheck.XXXXXX", tmp);
	if (!mkdtemp(tmpdir)) {
		rc = sd_error_errno(err, SD_ERR_IO, errno,
				    "cannot create a directory %s", tmpdir);
		goto out;
	}
	have_tmp = true;
	if (o->on_tmpdir)
		o->on_tmpdir(o->ctx, tmpdir);
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", tmpdir);
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", tmpdir);
	rc = sd_initramfs_write(initrd, mem, nm, err);
	if (rc) {
		sd_error_prefix(err, rc, "initramfs");
		goto out;
	}
	phase(&r, SD_VMCHECK_PH_INITRAMFS);
	if (o->interrupted && *o->interrupted) {
		res->outcome = SD_VMCHECK_INTERRUPTED;
		rc = sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted");
		goto out;
	}

	/* QEMU's command line. */
	char num[160];
	/* KVM runs the host's own architecture only. */
	int kvm = arch == sd_guest_arch_host()
			  ? open("/dev/kvm", O_RDWR | O_CLOEXEC)
			  : -1;
	res->accel = kvm >= 0 ? "kvm" : "tcg";
	if (kvm >= 0)
		close(kvm);
	strv_add(&argv, o->qemu ? o->qemu : arch->qemu);
	strv_add(&argv, "-machine");
	strv_add(&argv, machine->qemu_machine);
	strv_add(&argv, "-accel");
	strv_add(&argv, res->accel);
	const char *cpu = kvm >= 0 ? arch->cpu_kvm : arch->cpu_tcg;
	if (cpu) {
		strv_add(&argv, "-cpu");
		strv_add(&argv, cpu);
	}
	strv_add(&argv, "-m");
	snprintf(num, sizeof(num), "%u", o->memory_mib ? o->memory_mib : 256);
	strv_add(&argv, num);
	static const char *const fixed[] = {
		"-nodefaults", "-no-user-config", "-nographic",
		"-serial",     "stdio",           "-no-reboot",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		strv_add(&argv, fixed[i]);
	strv_add(&argv, "-kernel");
	strv_add(&argv, o->kernel);
	strv_add(&argv, "-initrd");
	strv_add(&argv, initrd);
	unsigned long khz = arch->tsc_khz ? host_tsc_khz() : 0;
	char append[256];
	int alen = snprintf(append, sizeof(append),
			    "console=%s panic=-1 quiet loglevel=1",
			    arch->console);
	if (khz)
		snprintf(append + alen, sizeof(append) - (size_t)alen,
			 " tsc_early_khz=%lu", khz);
	strv_add(&argv, "-append");
	strv_add(&argv, append);
	strv_add(&argv, "-qmp");
	char qmparg[sizeof(qmp) + 32];
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	strv_add(&argv, qmparg);
	for (size_t i = 0; i <= o->nbases; i++) {
		char *spec = drive_spec(disks[i].path, (unsigned)i);
		if (!spec) {
			argv.failed = true;
			break;
		}
		strv_add(&argv, "-drive");
		strv_add(&argv, spec);
		free(spec);
		snprintf(num, sizeof(num), "%s,drive=disk%zu,serial=%s%zu",
			 machine->blk_device, i, DISK_SERIAL, i);
		strv_add(&argv, "-device");
		strv_add(&argv, num);
	}
	if (argv.failed) {
		strv_free(argv.v);
		rc = sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		goto out;
	}
	res->qemu_argv = argv.v;
	logf_(&r, SD_VMCHECK_LOG_INFO, "%s guest, accelerator %s, machine %s%s",
	      arch->name, res->accel, machine->name,
	      arch->tsc_khz && !khz ? ", host TSC frequency unknown" : "");

	/* Run it. */
	struct sd_vmrun_options ro = {
		.argv = (const char *const *)res->qemu_argv,
		.qmp_path = qmp,
		.timeout = o->timeout,
		.grace = o->grace,
		.on_line = on_line,
		.on_step = on_step,
		.ctx = &r,
		.interrupted = o->interrupted,
	};
	struct sd_vmrun_result vr;
	phase(&r, SD_VMCHECK_PH_QEMU_START);
	rc = sd_vmrun(&ro, &vr, err);
	if (rc)
		goto out;
	res->vm_ran = true;
	if (r.held_empty && o->on_output)
		o->on_output(o->ctx, "", 0);
	res->end = vr.end;
	res->qemu_wait_status = vr.wait_status;
	phase(&r, SD_VMCHECK_PH_QEMU_EXIT);
	logf_(&r, SD_VMCHECK_LOG_INFO, "the VM ended: %s",
	      sd_vmcheck_end_name(res));
	if (r.result && res->status >= 0) {
		/* EXITED or SIGNALED, set by the marker. */
	} else if (vr.interrupted) {
		res->outcome = SD_VMCHECK_INTERRUPTED;
	} else if (vr.timed_out) {
		res->outcome = SD_VMCHECK_TIMEOUT;
	} else if (!r.any_console && vr.end == SD_VMRUN_EXITED &&
		   !(WIFEXITED(vr.wait_status) &&
		     WEXITSTATUS(vr.wait_status) == 0)) {
		res->outcome = SD_VMCHECK_NOT_STARTED;
		rc = sd_error_set(err, SD_ERR_IO,
				  "%s failed before the guest started%s%s",
				  res->qemu_argv[0], r.last_qemu[0] ? ": " : "",
				  r.last_qemu);
	} else {
		res->outcome = SD_VMCHECK_NO_RESULT;
	}

out:
	if (have_tmp) {
		const char *files[] = {initrd, qmp};
		remove_tmpdir(tmpdir, files, 2);
		if (o->on_tmpdir)
			o->on_tmpdir(o->ctx, NULL);
	}
	res->seconds = elapsed(&r);
	strv_free(modpaths.v);
	free(conf.p);
	free(mem);
	sd_kmod_list_release(&mods);
	free(disks);
	return rc;
}
