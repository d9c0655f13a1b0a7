/* SPDX-License-Identifier: MIT */
/*
 * storedisk vmcheck — boot an image in a QEMU microVM, run a program from
 * it and exit with its status (front-end of app/vmcheck.h).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "app/vmcheck.h"
#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/json.h"
#include "core/kver.h"

/* Exit codes of vmcheck beyond the program's own status (README). */
enum {
	VM_EXIT_NOT_STARTED = 120,
	VM_EXIT_NO_POWEROFF = 121,
	VM_EXIT_TIMEOUT = 124,
	VM_EXIT_NO_RESULT = 125,
};

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk vmcheck IMAGE --kernel VMLINUZ [OPTIONS] "
		"-- PROGRAM [ARGS...]\n"
		"Boot IMAGE in a QEMU microVM (read-only virtio disk, mounted "
		"at the store\ndirectory by our own init), run PROGRAM from it "
		"and exit with its status.\nQEMU is always gone at the end.\n\n"
		"  --arch ARCH        the guest's architecture: x86_64, "
		"aarch64 or s390x\n"
		"                     (amd64, arm64; default: the host's), "
		"booted under\n"
		"                     qemu-system-ARCH\n"
		"  --kernel VMLINUZ   the guest kernel, of that architecture "
		"(scripts/\n"
		"                     fetch-guest-kernel.sh [ARCH] fetches "
		"Debian's)\n"
		"  --modules DIR      its modules (lib/modules/RELEASE; "
		"default: next to the\n"
		"                     kernel, ROOT/lib/modules/RELEASE for "
		"ROOT/boot/vmlinuz-RELEASE,\n"
		"                     then /lib/modules/RELEASE)\n"
		"  --timeout S        seconds until the program's result "
		"(default 300)\n"
		"  --grace S          seconds the guest has to power off after "
		"it (default 10)\n"
		"  --memory M         guest memory in MiB, or with a K/M/G "
		"suffix (default 256)\n"
		"  --machine NAME     QEMU machine: microvm (default) or q35 "
		"for x86_64,\n"
		"                     virt for aarch64, s390-ccw-virtio for "
		"s390x\n"
		"  --base BASE.img    a base of IMAGE (pack --base), attached "
		"and overlaid;\n"
		"                     repeatable, in order\n"
		"  --by-label         init finds IMAGE by its filesystem label "
		"(EROFS), not\n"
		"                     by device name\n"
		"  --verity           open IMAGE and every BASE through "
		"dm-verity in the\n"
		"                     guest (pack --verity): a block that "
		"does not match the\n"
		"                     tree reads as an I/O error; the root "
		"hashes are\n"
		"                     IMAGE.roothash and BASE.roothash\n"
		"  --verity-root HASH IMAGE's root hash (64 hex digits) "
		"instead of\n"
		"                     IMAGE.roothash; implies --verity\n"
		"  --store-dir DIR    where the guest mounts it (default "
		"/nix/store)\n"
		"  --qemu BIN         QEMU's binary (default "
		"qemu-system-ARCH)\n"
		"  --log FILE         every phase, console line and teardown "
		"step, timed\n"
		"  --json             one JSON document on stdout (the "
		"program's output then\n"
		"                     goes to stderr)\n"
		"  -q, --quiet        no summary line on stderr\n"
		"  -h, --help         this help\n\n"
		"Exit codes: the program's status (128+N when killed by signal "
		"N); 2 usage\nerror, unreadable image or kernel, a kernel "
		"too old for the image, or a\ndamaged image (booted anyway) "
		"the program exited 0 from; 120 the\nVM could not be started; 121 "
		"the program exited 0 but the VM had to be\nstopped; 124 "
		"timeout; 125 the VM ended without the program's result;\n"
		"130/143 interrupted.\n");
}

struct ctx {
	FILE *out; /* the program's output */
	FILE *log; /* --log, or NULL */
};

static void on_output(void *vc, const char *line, size_t len)
{
	struct ctx *c = vc;
	fwrite(line, 1, len, c->out);
	fputc('\n', c->out);
	/* A reader gone (`vmcheck ... | head`): stop as on SIGINT, with
	 * the teardown and the temporary directory removed, then exit
	 * 128+SIGPIPE (SIGPIPE itself is ignored: it would end vmcheck
	 * before either). */
	if (fflush(c->out) != 0 && errno == EPIPE && !sd_interrupted)
		sd_interrupted = SIGPIPE;
}

static void on_log(void *vc, double t, enum sd_vmcheck_log kind,
		   const char *text, size_t len)
{
	struct ctx *c = vc;
	static const char *const kinds[] = {
		[SD_VMCHECK_LOG_PHASE] = "phase",
		[SD_VMCHECK_LOG_INFO] = "info",
		[SD_VMCHECK_LOG_CONSOLE] = "console",
		[SD_VMCHECK_LOG_QEMU] = "qemu",
		[SD_VMCHECK_LOG_STEP] = "teardown",
	};
	if (!c->log)
		return;
	fprintf(c->log, "%9.3f %-8s ", t, kinds[kind]);
	fwrite(text, 1, len, c->log);
	fputc('\n', c->log);
	fflush(c->log);
}

static void on_tmpdir(void *vc, const char *dir)
{
	(void)vc;
	sd_interrupt_set_dir(dir);
}

static bool parse_seconds(const char *opt, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e7) {
		sd_cli_errorf("%s \"%s\": not a positive number of seconds",
			      opt, s);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_memory(const char *s, unsigned *mib)
{
	uint64_t v;
	size_t len = strlen(s);
	bool suffix = len && (s[len - 1] < '0' || s[len - 1] > '9');
	if (!sd_cli_parse_size(s, &v) || v == 0)
		goto bad;
	if (suffix) {
		/* QEMU's -m here is in MiB: 1536K is not rounded to 1. */
		if (v & ((UINT64_C(1) << 20) - 1))
			goto bad;
		v >>= 20;
	}
	if (v == 0 || v > (1u << 20))
		goto bad;
	*mib = (unsigned)v;
	return true;
bad:
	sd_cli_errorf("--memory \"%s\": not a whole number of MiB between 1 "
		      "MiB and 1 TiB (MiB, or with a K/M/G suffix)",
		      s);
	return false;
}

/* The last phase reached, for messages. */
static const char *last_phase(const struct sd_vmcheck_result *r)
{
	const char *name = "none";
	for (int p = 0; p < SD_VMCHECK_NPHASES; p++)
		if (r->phase[p] >= 0 && p != SD_VMCHECK_PH_QEMU_EXIT)
			name = sd_vmcheck_phase_name((enum sd_vmcheck_phase)p);
	return name;
}

static void print_tail(const struct sd_vmcheck_result *r)
{
	if (r->ntail == 0) {
		fprintf(stderr, "  (the console stayed silent)\n");
		return;
	}
	fprintf(stderr, "last console lines:\n");
	for (size_t i = 0; i < r->ntail; i++)
		fprintf(stderr, "  %s\n", r->tail[i]);
}

static int exit_code_of(int rc, const struct sd_vmcheck_result *r);

/* Never 0 for an image storedisk's reader finds damaged, even where the
 * program ran from it: a damaged image is bad input (2), as for every
 * command. */
static int exit_code(int rc, const struct sd_vmcheck_result *r)
{
	int code = exit_code_of(rc, r);
	return code == SD_EXIT_OK && r->damaged ? SD_EXIT_BAD_INPUT : code;
}

static int exit_code_of(int rc, const struct sd_vmcheck_result *r)
{
	switch (r->outcome) {
	case SD_VMCHECK_REFUSED: return SD_EXIT_BAD_INPUT;
	case SD_VMCHECK_NOT_STARTED: return VM_EXIT_NOT_STARTED;
	case SD_VMCHECK_EXITED:
	case SD_VMCHECK_SIGNALED:
		if (r->status == 0 && r->end != SD_VMRUN_EXITED)
			return VM_EXIT_NO_POWEROFF;
		return r->status;
	case SD_VMCHECK_TIMEOUT: return VM_EXIT_TIMEOUT;
	case SD_VMCHECK_NO_RESULT: return VM_EXIT_NO_RESULT;
	case SD_VMCHECK_INTERRUPTED:
		return 128 + (sd_interrupted ? sd_interrupted : 2);
	}
	return rc ? SD_EXIT_FOUND : SD_EXIT_OK;
}

static void print_json(const struct sd_vmcheck_options *o,
		       const struct sd_vmcheck_result *r, int code,
		       const char *error)
{
	struct sd_json j;
	char v[32];

	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "image", o->image);
	sd_json_key(&j, "bases");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < o->nbases; i++)
		sd_json_string(&j, o->bases[i]);
	sd_json_array_end(&j);
	sd_json_key(&j, "argv");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < o->argc; i++)
		sd_json_string(&j, o->argv[i]);
	sd_json_array_end(&j);
	sd_json_kv_string(&j, "outcome", sd_vmcheck_outcome_name(r->outcome));
	sd_json_key(&j, "status");
	if (r->status >= 0)
		sd_json_u64(&j, (uint64_t)r->status);
	else
		sd_json_string(&j, NULL);
	sd_json_kv_u64(&j, "exit_code", (uint64_t)code);
	sd_json_kv_string(&j, "end", sd_vmcheck_end_name(r));
	sd_json_kv_string(&j, "error", error);
	sd_json_kv_string(&j, "damaged", r->damaged);
	sd_json_key(&j, "phases");
	sd_json_object_begin(&j);
	for (int p = 0; p < SD_VMCHECK_NPHASES; p++) {
		sd_json_key(&j,
			    sd_vmcheck_phase_name((enum sd_vmcheck_phase)p));
		sd_json_seconds(&j, r->phase[p]);
	}
	sd_json_object_end(&j);
	sd_json_key(&j, "seconds");
	sd_json_seconds(&j, r->seconds);
	sd_json_kv_string(&j, "arch", r->arch);
	sd_json_kv_string(&j, "kernel", o->kernel);
	sd_json_kv_string(&j, "kernel_version",
			  r->kernel_release[0] ? r->kernel_release : NULL);
	sd_kver_format(r->min_kernel, v, sizeof(v));
	sd_json_kv_string(&j, "min_kernel", r->min_kernel ? v : NULL);
	sd_json_kv_u64(&j, "modules", r->nmodules);
	sd_json_key(&j, "verity");
	if (r->verity) {
		sd_json_array_begin(&j);
		for (size_t i = 0; i <= o->nbases; i++)
			sd_json_string(&j, r->verity_root[i]);
		sd_json_array_end(&j);
	} else {
		sd_json_string(&j, NULL);
	}
	sd_json_key(&j, "qemu");
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "machine", r->machine);
	sd_json_kv_string(&j, "accel", r->accel);
	sd_json_key(&j, "argv");
	if (r->qemu_argv) {
		sd_json_array_begin(&j);
		for (char **a = r->qemu_argv; *a; a++)
			sd_json_string(&j, *a);
		sd_json_array_end(&j);
	} else {
		sd_json_string(&j, NULL);
	}
	sd_json_key(&j, "exit_status");
	if (r->vm_ran && WIFEXITED(r->qemu_wait_status))
		sd_json_u64(&j, (uint64_t)WEXITSTATUS(r->qemu_wait_status));
	else
		sd_json_string(&j, NULL);
	sd_json_key(&j, "signal");
	if (r->vm_ran && WIFSIGNALED(r->qemu_wait_status))
		sd_json_u64(&j, (uint64_t)WTERMSIG(r->qemu_wait_status));
	else
		sd_json_string(&j, NULL);
	sd_json_object_end(&j);
	sd_json_key(&j, "console_tail");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < r->ntail; i++)
		sd_json_string(&j, r->tail[i]);
	sd_json_array_end(&j);
	sd_json_object_end(&j);
	fflush(stdout);
}

/* What happened, on stderr (errors always; the summary unless -q). */
static void report(const struct sd_vmcheck_options *o,
		   const struct sd_vmcheck_result *r, int code, bool quiet)
{
	const char *prog = o->argv[0];
	if (r->damaged && code == SD_EXIT_BAD_INPUT)
		sd_cli_errorf("storedisk's reader finds the image damaged "
			      "(%s): the program ran from it, but vmcheck "
			      "does not pass a damaged image",
			      r->damaged);
	else if (r->damaged)
		sd_cli_warnf("storedisk's reader finds the image damaged (%s); "
			     "it was booted anyway, and the guest's kernel "
			     "read it as below",
			     r->damaged);
	if (r->verity_other) {
		size_t i = r->verity_other - 1;
		sd_cli_warnf("--verity: the tree of %s gives another root hash "
			     "than %s, the one pinned for it: the guest's "
			     "dm-verity refuses to read it (damaged image, "
			     "or a stale .roothash?)",
			     i ? o->bases[i - 1] : o->image, r->verity_root[i]);
	}
	switch (r->outcome) {
	case SD_VMCHECK_EXITED:
	case SD_VMCHECK_SIGNALED:
		if (code == VM_EXIT_NO_POWEROFF)
			sd_cli_errorf("%s exited 0, but the VM did not power "
				      "off by itself within %g s (ended: %s)",
				      prog, o->grace, sd_vmcheck_end_name(r));
		if (!quiet) {
			if (r->outcome == SD_VMCHECK_SIGNALED)
				fprintf(stderr,
					"%s: vmcheck: %s was killed by signal "
					"%d",
					sd_progname, prog, r->status - 128);
			else
				fprintf(stderr,
					"%s: vmcheck: %s exited with status %d",
					sd_progname, prog, r->status);
			fprintf(stderr,
				" (kernel up at %.1f s, mounted%s at %.1f s, "
				"%.1f s in all; the VM ended: %s)\n",
				r->phase[SD_VMCHECK_PH_KERNEL_UP],
				r->verity ? " through dm-verity" : "",
				r->phase[SD_VMCHECK_PH_MOUNTED], r->seconds,
				sd_vmcheck_end_name(r));
		}
		break;
	case SD_VMCHECK_TIMEOUT:
		sd_cli_errorf("no result from %s within --timeout %g s (last "
			      "phase: %s); the VM was stopped (%s)",
			      prog, o->timeout, last_phase(r),
			      sd_vmcheck_end_name(r));
		break;
	case SD_VMCHECK_NO_RESULT:
		if (r->error)
			sd_cli_errorf("the guest's init failed: %s (the VM "
				      "ended: %s)",
				      r->error, sd_vmcheck_end_name(r));
		else
			sd_cli_errorf("the VM ended without the program's "
				      "result (last phase: %s; ended: %s): a "
				      "kernel panic, too little memory or a "
				      "QEMU error?",
				      last_phase(r), sd_vmcheck_end_name(r));
		print_tail(r);
		break;
	case SD_VMCHECK_INTERRUPTED:
		sd_cli_errorf("%s; the VM was stopped (%s)",
			      sd_interrupted == SIGPIPE
				      ? "the reader of the program's output "
					"is gone (SIGPIPE)"
				      : "interrupted",
			      sd_vmcheck_end_name(r));
		break;
	default: break;
	}
}

int sd_cmd_vmcheck(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"arch", required_argument, NULL, 'a'},
		{"kernel", required_argument, NULL, 'k'},
		{"modules", required_argument, NULL, 'M'},
		{"timeout", required_argument, NULL, 't'},
		{"grace", required_argument, NULL, 'g'},
		{"memory", required_argument, NULL, 'm'},
		{"machine", required_argument, NULL, 'x'},
		{"base", required_argument, NULL, 'b'},
		{"by-label", no_argument, NULL, 'L'},
		{"verity", no_argument, NULL, 'V'},
		{"verity-root", required_argument, NULL, 'R'},
		{"store-dir", required_argument, NULL, 's'},
		{"qemu", required_argument, NULL, 'Q'},
		{"log", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sd_vmcheck_options o = {
		.timeout = 300,
		.grace = 10,
		.memory_mib = 256,
	};
	const char **bases = NULL;
	size_t nbases = 0;
	const char *log_path = NULL;
	char *store_dir = NULL;
	bool json = false, quiet = false;
	int code = SD_EXIT_BAD_INPUT, c;
	struct sd_error err;
	sd_error_init(&err);

	/* Options before "--"; the program and its arguments after it. */
	int dd = argc;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dd = i;
			break;
		}
	bases = calloc((size_t)argc, sizeof(*bases));
	if (!bases) {
		sd_cli_errorf("out of memory");
		return SD_EXIT_FOUND;
	}
	optind = 1;
	while ((c = getopt_long(dd, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.kernel = optarg; break;
		case 'M': o.modules_dir = optarg; break;
		case 't':
			if (!parse_seconds("--timeout", optarg, &o.timeout))
				goto out;
			break;
		case 'g':
			if (!parse_seconds("--grace", optarg, &o.grace))
				goto out;
			break;
		case 'm':
			if (!parse_memory(optarg, &o.memory_mib))
				goto out;
			break;
		case 'a': o.arch = optarg; break;
		case 'x': o.machine = optarg; break;
		case 'b': bases[nbases++] = optarg; break;
		case 'L': o.by_label = true; break;
		case 'V': o.verity = true; break;
		case 'R':
			o.verity = true;
			o.verity_root = optarg;
			break;
		case 's':
			free(store_dir);
			store_dir = sd_cli_store_dir(optarg, &err);
			if (!store_dir) {
				sd_cli_error(&err);
				goto out;
			}
			break;
		case 'Q': o.qemu = optarg; break;
		case 'l': log_path = optarg; break;
		case 'j': json = true; break;
		case 'q': quiet = true; break;
		case 'h':
			help(stdout);
			code = SD_EXIT_OK;
			goto out;
		default: help(stderr); goto out;
		}
	}
	/* IMAGE, then the program: after "--", or the rest without one. */
	if (optind >= dd) {
		sd_cli_errorf(
			"vmcheck takes an IMAGE and, after --, a PROGRAM");
		help(stderr);
		goto out;
	}
	o.image = argv[optind];
	if (dd < argc) {
		if (dd - optind != 1) {
			sd_cli_errorf("vmcheck takes one IMAGE before --");
			goto out;
		}
		o.argv = (const char *const *)argv + dd + 1;
		o.argc = (size_t)(argc - dd - 1);
	} else {
		o.argv = (const char *const *)argv + optind + 1;
		o.argc = (size_t)(argc - optind - 1);
	}
	if (o.argc == 0) {
		sd_cli_errorf("vmcheck needs a PROGRAM to run (after --)");
		goto out;
	}
	if (o.argv[0][0] != '/') {
		sd_cli_errorf("PROGRAM \"%s\": give its absolute path in the "
			      "guest (e.g. /nix/store/...-hello/bin/hello)",
			      o.argv[0]);
		goto out;
	}
	if (!o.kernel) {
		sd_cli_errorf("vmcheck needs --kernel VMLINUZ "
			      "(scripts/fetch-guest-kernel.sh [ARCH] fetches "
			      "one)");
		goto out;
	}
	o.bases = bases;
	o.nbases = nbases;
	o.store_dir = store_dir;

	struct ctx cx = {.out = json ? stderr : stdout};
	if (log_path) {
		cx.log = fopen(log_path, "we");
		if (!cx.log) {
			sd_cli_errorf("--log %s: %s", log_path,
				      strerror(errno));
			goto out;
		}
		char when[64];
		time_t t = time(NULL);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime_r(&t, &tm));
		fprintf(cx.log, "# storedisk vmcheck %s, started %s\n", o.image,
			when);
	}
	o.on_output = on_output;
	o.on_log = on_log;
	o.on_tmpdir = on_tmpdir;
	o.ctx = &cx;
	o.interrupted = &sd_interrupted;
	sd_interrupt_install(NULL);
	signal(SIGPIPE, SIG_IGN);

	struct sd_vmcheck_result r;
	int rc = sd_vmcheck_run(&o, &r, &err);
	code = exit_code(rc, &r);
	if (rc && r.outcome != SD_VMCHECK_INTERRUPTED) {
		sd_cli_error(&err);
		if (r.outcome == SD_VMCHECK_NOT_STARTED && r.vm_ran)
			print_tail(&r);
	} else {
		report(&o, &r, code, quiet);
	}
	if (cx.log) {
		/* The error first: the exit code is the log's last line. */
		if (rc)
			fprintf(cx.log, "%9.3f %-8s %s\n", r.seconds, "error",
				err.msg);
		fprintf(cx.log,
			"%9.3f %-8s exit code %d (%s, the VM ended: %s)\n",
			r.seconds, "result", code,
			sd_vmcheck_outcome_name(r.outcome),
			sd_vmcheck_end_name(&r));
		fclose(cx.log);
	}
	if (json && r.outcome != SD_VMCHECK_REFUSED)
		print_json(&o, &r, code, rc ? err.msg : r.error);
	sd_vmcheck_result_release(&r);
out:
	free(bases);
	free(store_dir);
	return code;
}
