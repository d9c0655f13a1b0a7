/* SPDX-License-Identifier: MIT */
/*
 * vmcheck.h — storedisk vmcheck: boot a store image in a QEMU microVM, run
 * one program from it and report its exit status, with QEMU always gone
 * at the end.
 *
 * The steps: read the image (and its bases) with imageinfo (format,
 * minimum kernel, label) and the kernel's architecture and version
 * (kimage.h), refusing before booting a kernel of another architecture
 * than the guest's (guestarch.h) or older than the images need; with
 * verity, read each image's dm-verity tree (verity.h, through imageinfo)
 * and the root hash the host pins for it (never one computed from the
 * image); resolve the guest's kernel modules (kmod.h); write, in a private temporary directory
 * removed at the end, an initramfs (initramfs.h) of the guest init
 * (src/guest, embedded in the binary), the modules and the configuration
 * file of core/vmproto.h with a fresh nonce; then run QEMU (vmrun.h) and
 * read the init's markers from the console.  The library never prints:
 * program output and log lines go to the caller's callbacks.
 */
#ifndef SD_APP_VMCHECK_H
#define SD_APP_VMCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/vmrun.h"
#include "core/error.h"
#include "core/sha256.h"

/* What one log line is about (sd_vmcheck_options.on_log). */
enum sd_vmcheck_log {
	SD_VMCHECK_LOG_PHASE,   /* a phase was reached ("phase mounted") */
	SD_VMCHECK_LOG_INFO,    /* a decision (accelerator, modules, argv) */
	SD_VMCHECK_LOG_CONSOLE, /* a line of the guest's console */
	SD_VMCHECK_LOG_QEMU,    /* a line QEMU wrote on its stderr */
	SD_VMCHECK_LOG_STEP,    /* a step of the teardown (vmrun.h) */
};

/* The phases, in the order they happen; times in seconds from the start
 * of sd_vmcheck_run(). */
enum sd_vmcheck_phase {
	SD_VMCHECK_PH_INITRAMFS,  /* the initramfs is written */
	SD_VMCHECK_PH_QEMU_START, /* QEMU is about to be started */
	SD_VMCHECK_PH_KERNEL_UP,  /* init's "init" marker */
	SD_VMCHECK_PH_MODULES,    /* "modules N" */
	SD_VMCHECK_PH_MOUNTED,    /* "mounted" */
	SD_VMCHECK_PH_STARTED,    /* "started": the program runs */
	SD_VMCHECK_PH_RESULT,     /* "exit N" or "signal N" (not "error") */
	SD_VMCHECK_PH_POWEROFF,   /* "poweroff" */
	SD_VMCHECK_PH_QEMU_EXIT,  /* QEMU was waited for */
	SD_VMCHECK_NPHASES,
};

/* The phase's name in logs and JSON ("initramfs", "qemu_start", ...). */
const char *sd_vmcheck_phase_name(enum sd_vmcheck_phase p);

/* The most bases one image may have here (each one more disk). */
#define SD_VMCHECK_MAX_BASES 16

struct sd_vmcheck_options {
	const char *image;        /* the store image, attached first */
	const char *const *bases; /* its bases (pack --base), in order;
				    * at most SD_VMCHECK_MAX_BASES */
	size_t nbases;
	const char *arch;        /* the guest's architecture, a name of
				  * guestarch.h ("x86_64", "aarch64", or
				  * Debian's "amd64", "arm64"); NULL: the
				  * host's */
	const char *kernel;      /* its kernel (vmlinuz: a bzImage, an
				  * arm64 Image, ...; kimage.h) */
	const char *modules_dir; /* lib/modules/VERSION, or NULL: next
					 * to the kernel (K/../lib/modules/R
					 * for K/boot/vmlinuz-R), then
					 * /lib/modules/R */
	const char *machine;     /* one of the architecture's machines
				  * (guestarch.h: "microvm", "q35";
				  * "virt"), NULL: its first */
	unsigned memory_mib;     /* guest memory (0: 256) */
	double timeout;          /* seconds until the program's
					 * result (0: none) */
	double grace;            /* seconds to power off after it */
	bool by_label;           /* find the image by its label */
	bool verity;             /* open every disk through dm-verity:
				  * each image (and base) needs a tree
				  * (pack --verity); its root hash is
				  * read from IMAGE.roothash, or is
				  * verity_root for the image itself */
	const char *verity_root; /* the image's root hash, 64 hex
				  * digits, or NULL: IMAGE.roothash */
	const char *store_dir;   /* where the guest mounts it (NULL:
					 * /nix/store) */
	const char *const *argv; /* the program (absolute, in the
					 * guest) and its arguments */
	size_t argc;
	const char *qemu; /* QEMU's binary (NULL: the
					 * architecture's,
					 * qemu-system-ARCH, looked up in
					 * PATH) */
	/* The program's output, one console line at a time (without its
	 * line end); may be NULL. */
	void (*on_output)(void *ctx, const char *line, size_t len);
	/* Everything for the log, @t seconds from the start; may be NULL. */
	void (*on_log)(void *ctx, double t, enum sd_vmcheck_log kind,
		       const char *text, size_t len);
	/* The private temporary directory once it is made (its path), then
	 * NULL once it is removed, so that a caller that must exit at once
	 * (a second signal) can remove it; may be NULL. */
	void (*on_tmpdir)(void *ctx, const char *dir);
	void *ctx;
	volatile const int *interrupted; /* polled; may be NULL */
};

enum sd_vmcheck_outcome {
	SD_VMCHECK_REFUSED,     /* not booted: bad input (image, kernel,
				 * modules, a kernel too old or of another
				 * architecture, no init for it) */
	SD_VMCHECK_NOT_STARTED, /* the VM could not be started */
	SD_VMCHECK_EXITED,      /* the program exited: status */
	SD_VMCHECK_SIGNALED,    /* it was killed: status is 128 + N */
	SD_VMCHECK_TIMEOUT,     /* no result before the timeout */
	SD_VMCHECK_NO_RESULT,   /* the VM ended without a result */
	SD_VMCHECK_INTERRUPTED, /* *interrupted was set first */
};

/* "refused", "not-started", "exited", "signaled", "timeout",
 * "no-result", "interrupted". */
const char *sd_vmcheck_outcome_name(enum sd_vmcheck_outcome o);

#define SD_VMCHECK_TAIL 20

struct sd_vmcheck_result {
	enum sd_vmcheck_outcome outcome;
	int status;       /* EXITED: 0..255; SIGNALED: 128 + N; else -1 */
	char *error;      /* init's "error" text, or NULL */
	char *damaged;    /* storedisk's reader's diagnosis of an image
			   * it finds damaged but booted anyway
			   * (truncated, a bad table), or NULL */
	bool vm_ran;      /* QEMU was started (end says how it ended) */
	bool powered_off; /* init printed its poweroff marker */
	enum sd_vmrun_end end;
	int qemu_wait_status;
	const char *arch;         /* the guest's (guestarch.h), NULL
				   * before it is known */
	const char *machine;      /* its machine's name, likewise */
	const char *kernel_kind;  /* kimage.h ("bzImage", ...), or NULL */
	char kernel_release[128]; /* "6.1.0-57-cloud-amd64" ("" unknown) */
	uint32_t kernel_version;  /* SD_KVER, 0 unknown */
	uint32_t min_kernel;      /* what the images need (SD_KVER) */
	const char *accel;        /* "kvm" or "tcg" (NULL before) */
	char **qemu_argv;         /* QEMU's command line, NULL-terminated,
				   * or NULL */
	size_t nmodules;          /* modules put into the initramfs */
	bool verity;              /* the disks were opened through
				   * dm-verity with these root hashes
				   * (lowercase hex; the image first) */
	char verity_root[SD_VMCHECK_MAX_BASES + 1][2 * SD_SHA256_LEN + 1];
	size_t verity_other; /* 1 + the first disk (0 the image, then the
			      * bases) whose tree's top level gives another
			      * root than the pinned one: the guest will
			      * refuse it; 0 none */
	double phase[SD_VMCHECK_NPHASES]; /* < 0: not reached */
	double seconds;                   /* the whole run */
	/* The last console lines (QEMU's stderr lines prefixed "qemu: "),
	 * oldest first. */
	char *tail[SD_VMCHECK_TAIL];
	size_t ntail;
};

/* How the VM ended: "poweroff" (QEMU exited by itself after init's
 * poweroff marker), "crashed" (it exited by itself without one: a panic,
 * a QEMU error), "qmp-quit", "terminated", "killed" (torn down), or
 * "none" (never started). */
const char *sd_vmcheck_end_name(const struct sd_vmcheck_result *r);

void sd_vmcheck_result_release(struct sd_vmcheck_result *r);

/*
 * Boot and check.  Returns 0 once the VM ran and ended (the outcome says
 * how: EXITED, SIGNALED, TIMEOUT, NO_RESULT, INTERRUPTED); an error when
 * it did not run, the outcome saying why: REFUSED (SD_ERR_USAGE for bad
 * options — an unknown architecture or machine —, an image without the
 * label --by-label needs, a kernel of another architecture, a kernel
 * too old for the images, naming the feature and the version it needs,
 * or with verity an image without a usable tree, a root hash file that
 * cannot be read or a bad verity_root;
 * SD_ERR_UNSUPPORTED when this build embeds no guest init for the
 * architecture, naming the cross compiler it lacked;
 * SD_ERR_IO/SD_ERR_CORRUPT for an unreadable image or kernel;
 * SD_ERR_MISSING for a module not found) or NOT_STARTED (the initramfs
 * could not be written, QEMU could not be started, or it exited with an
 * error before the guest wrote anything).  Nothing is left behind either
 * way: no temporary file, no QEMU.  @res is initialised first; release
 * it whatever the result.
 */
int sd_vmcheck_run(const struct sd_vmcheck_options *o,
		   struct sd_vmcheck_result *res, struct sd_error *err);

#endif
