/* SPDX-License-Identifier: MIT */
/*
 * test_vmrun.c — sd_vmrun (src/app/vmrun.h) against fake "QEMU"s: small
 * shell and python3 scripts written into the test's directory that print
 * console lines, exit, hang, ignore SIGTERM or answer QMP.  No QEMU runs.
 * The escalation interval is made short, so the whole suite takes a few
 * seconds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/vmrun.h"
#include "tests/common/tmpdir.h"
#include "tests/common/tools.h"

#define PY "#!/usr/bin/python3\n"

static void setup(void)
{
	tt_setup("vmrun");
}

TestSuite(vmrun, .init = setup, .fini = tt_teardown, .timeout = 60);

/* What sd_vmrun handed over. */
struct cap {
	size_t n;
	char *line[64];
	size_t len[64];
	enum sd_vmrun_stream stream[64];
	size_t nsteps;
	char *steps[16];
	const char *marker; /* the line that makes the result known */
};

static bool on_line(void *ctx, enum sd_vmrun_stream stream, const char *line,
		    size_t len)
{
	struct cap *c = ctx;

	cr_assert_eq(line[len], '\0');
	cr_assert_lt(c->n, 64);
	c->line[c->n] = malloc(len + 1);
	cr_assert(c->line[c->n]);
	memcpy(c->line[c->n], line, len + 1);
	c->len[c->n] = len;
	c->stream[c->n] = stream;
	c->n++;
	return c->marker && len == strlen(c->marker) &&
	       !memcmp(line, c->marker, len);
}

static void on_step(void *ctx, const char *text)
{
	struct cap *c = ctx;

	cr_assert_lt(c->nsteps, 16);
	cr_assert_eq(strchr(text, '\n'), NULL);
	c->steps[c->nsteps++] = strdup(text);
}

static void cap_free(struct cap *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->line[i]);
	for (size_t i = 0; i < c->nsteps; i++)
		free(c->steps[i]);
}

/* Run fake @script (written as "fake", mode 0755) with @args after it. */
static int run_fake(const char *script, const char *const *args,
		    struct sd_vmrun_options *o, struct cap *c,
		    struct sd_vmrun_result *res, struct sd_error *err)
{
	const char *argv[8] = {NULL};
	size_t i = 0;

	tt_write("fake", script, (size_t)-1, 0755);
	argv[i++] = strdup(tt_path("fake"));
	for (; args && *args; args++)
		argv[i++] = *args;
	o->argv = argv;
	o->on_line = on_line;
	o->on_step = on_step;
	o->ctx = c;
	sd_error_init(err);
	int rc = sd_vmrun(o, res, err);
	free((char *)argv[0]);
	return rc;
}

static void expect_line(const struct cap *c, size_t i,
			enum sd_vmrun_stream stream, const char *text)
{
	cr_assert_lt(i, c->n, "line %zu missing", i);
	cr_expect_eq(c->stream[i], stream, "line %zu: stream %d", i,
		     (int)c->stream[i]);
	cr_expect_eq(c->len[i], strlen(text), "line %zu: length %zu", i,
		     c->len[i]);
	cr_expect_str_eq(c->line[i], text);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

Test(vmrun, result_then_exits_by_itself)
{
	struct cap c = {.marker = "RESULT 0"};
	struct sd_vmrun_options o = {.timeout = 20, .grace = 10};
	struct sd_vmrun_result res;
	struct sd_error err;

	cr_assert_eq(run_fake("#!/bin/sh\necho booting\necho 'RESULT 0'\n"
			      "echo 'powering off'\nexit 0\n",
			      NULL, &o, &c, &res, &err),
		     0, "%s", err.msg);
	cr_expect(res.result_known);
	cr_expect(!res.timed_out && !res.interrupted);
	cr_expect_eq(res.end, SD_VMRUN_EXITED);
	cr_expect(WIFEXITED(res.wait_status) &&
		  WEXITSTATUS(res.wait_status) == 0);
	cr_expect_geq(res.result_at, 0);
	cr_expect_geq(res.seconds, res.result_at);
	cr_expect_lt(res.seconds, 10, "waited for the grace period: %g s",
		     res.seconds);
	cr_assert_eq(c.n, 3);
	expect_line(&c, 0, SD_VMRUN_CONSOLE, "booting");
	expect_line(&c, 1, SD_VMRUN_CONSOLE, "RESULT 0");
	expect_line(&c, 2, SD_VMRUN_CONSOLE, "powering off");
	/* No escalation: the one step is how it ended. */
	cr_assert_eq(c.nsteps, 1);
	cr_expect(starts(c.steps[0], "QEMU ended by itself after "), "%s",
		  c.steps[0]);
	cr_expect(strstr(c.steps[0], ": exit status 0"), "%s", c.steps[0]);
	cap_free(&c);
}

Test(vmrun, exits_without_result)
{
	struct cap c = {.marker = "RESULT 0"};
	struct sd_vmrun_options o = {.timeout = 20, .grace = 10};
	struct sd_vmrun_result res;
	struct sd_error err;

	cr_assert_eq(run_fake("#!/bin/sh\necho 'Kernel panic' >&2\nexit 3\n",
			      NULL, &o, &c, &res, &err),
		     0, "%s", err.msg);
	cr_expect(!res.result_known);
	cr_expect_lt(res.result_at, 0);
	cr_expect_eq(res.end, SD_VMRUN_EXITED);
	cr_expect(WIFEXITED(res.wait_status) &&
		  WEXITSTATUS(res.wait_status) == 3);
	cr_assert_eq(c.n, 1);
	expect_line(&c, 0, SD_VMRUN_QEMU, "Kernel panic");
	cr_assert_eq(c.nsteps, 1);
	cr_expect(strstr(c.steps[0], "by itself") &&
			  strstr(c.steps[0], "exit status 3"),
		  "%s", c.steps[0]);
	cap_free(&c);
}

/*
 * A fake QMP server on argv[1]: "answer" greets, wants qmp_capabilities
 * before quit (as QEMU does) and quits on quit; "deaf" ignores SIGTERM and
 * never accepts the connection.  Each command it gets is told on stderr.
 */
static const char qmp_fake[] = PY
	"import json, os, signal, socket, sys, time\n"
	"path, mode = sys.argv[1], sys.argv[2]\n"
	"if mode == 'deaf':\n"
	"    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
	"s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
	"s.bind(path)\n"
	"s.listen(1)\n"
	"print('RESULT 0', flush=True)\n"
	"if mode == 'deaf':\n"
	"    while True:\n"
	"        time.sleep(1)\n"
	"c, _ = s.accept()\n"
	"def send(obj):\n"
	"    c.sendall(json.dumps(obj).encode() + b'\\r\\n')\n"
	"send({'QMP': {'version': {'qemu': {'micro': 0, 'minor': 2,\n"
	"      'major': 7}, 'package': ''}, 'capabilities': ['oob']}})\n"
	"caps = False\n"
	"for line in c.makefile('rb'):\n"
	"    cmd = json.loads(line)['execute']\n"
	"    print('qmp: ' + cmd, file=sys.stderr, flush=True)\n"
	"    if cmd == 'qmp_capabilities' and not caps:\n"
	"        caps = True\n"
	"        send({'return': {}})\n"
	"    elif cmd == 'quit' and caps:\n"
	"        # QEMU 7.2's order: the event, then the reply\n"
	"        send({'timestamp': {'seconds': 1, 'microseconds': 2},\n"
	"              'event': 'SHUTDOWN', 'data': {'guest': False,\n"
	"              'reason': 'host-qmp-quit'}})\n"
	"        send({'return': {}})\n"
	"        sys.exit(0)\n"
	"    else:\n"
	"        send({'error': {'class': 'CommandNotFound',\n"
	"                        'desc': 'not now'}})\n"
	"time.sleep(60)\n";

Test(vmrun, qmp_quit)
{
	struct cap c = {.marker = "RESULT 0"};
	struct sd_vmrun_options o = {
		.timeout = 20, .grace = 0.2, .escalate = 5};
	struct sd_vmrun_result res;
	struct sd_error err;
	const char *qmp = strdup(tt_path("qmp.sock"));
	const char *args[] = {qmp, "answer", NULL};

	if (!tt_have_tool("python3"))
		cr_skip_test("python3 is not installed");
	o.qmp_path = qmp;
	cr_assert_eq(run_fake(qmp_fake, args, &o, &c, &res, &err), 0, "%s",
		     err.msg);
	cr_expect(res.result_known && !res.timed_out && !res.interrupted);
	cr_expect_eq(res.end, SD_VMRUN_QMP_QUIT, "end %d", (int)res.end);
	cr_expect(WIFEXITED(res.wait_status) &&
		  WEXITSTATUS(res.wait_status) == 0);
	/* Well within the escalation interval: QMP did it, not SIGTERM. */
	cr_expect_lt(res.seconds, res.result_at + 0.2 + 5);
	cr_assert_eq(c.n, 3);
	expect_line(&c, 0, SD_VMRUN_CONSOLE, "RESULT 0");
	expect_line(&c, 1, SD_VMRUN_QEMU, "qmp: qmp_capabilities");
	expect_line(&c, 2, SD_VMRUN_QEMU, "qmp: quit");
	cr_assert_eq(c.nsteps, 2);
	cr_expect_str_eq(c.steps[0],
			 "grace period of 0.2 s passed: quitting through QMP");
	cr_expect(starts(c.steps[1], "QEMU ended after QMP quit after ") &&
			  strstr(c.steps[1], "exit status 0"),
		  "%s", c.steps[1]);
	cap_free(&c);
	free((char *)qmp);
}

Test(vmrun, ignores_qmp_and_sigterm)
{
	struct cap c = {.marker = "RESULT 0"};
	struct sd_vmrun_options o = {
		.timeout = 20, .grace = 0.2, .escalate = 0.3};
	struct sd_vmrun_result res;
	struct sd_error err;
	const char *qmp = strdup(tt_path("qmp.sock"));
	const char *args[] = {qmp, "deaf", NULL};

	if (!tt_have_tool("python3"))
		cr_skip_test("python3 is not installed");
	o.qmp_path = qmp;
	cr_assert_eq(run_fake(qmp_fake, args, &o, &c, &res, &err), 0, "%s",
		     err.msg);
	cr_expect(res.result_known);
	cr_expect_eq(res.end, SD_VMRUN_KILLED, "end %d", (int)res.end);
	cr_expect(WIFSIGNALED(res.wait_status) &&
		  WTERMSIG(res.wait_status) == SIGKILL);
	/* grace, then QMP and SIGTERM each given their interval */
	cr_expect_geq(res.seconds, res.result_at + 0.2 + 0.3 + 0.3);
	cr_assert_eq(c.nsteps, 4);
	cr_expect_str_eq(c.steps[0],
			 "grace period of 0.2 s passed: quitting through QMP");
	cr_expect(strstr(c.steps[1], ": no answer within 0.3 s: sending "
				     "SIGTERM"),
		  "%s", c.steps[1]);
	cr_expect_str_eq(c.steps[2], "QEMU still running 0.3 s after "
				     "SIGTERM: sending SIGKILL");
	cr_expect(starts(c.steps[3], "QEMU ended after SIGKILL after ") &&
			  strstr(c.steps[3], "killed by signal 9 (SIGKILL)"),
		  "%s", c.steps[3]);
	cap_free(&c);
	free((char *)qmp);
}

Test(vmrun, qmp_socket_missing)
{
	struct cap c = {.marker = "RESULT 0"};
	struct sd_vmrun_options o = {.timeout = 20, .escalate = 0.3};
	struct sd_vmrun_result res;
	struct sd_error err;

	o.qmp_path = tt_path("no-such.sock");
	cr_assert_eq(run_fake("#!/bin/sh\necho 'RESULT 0'\nexec sleep 30\n",
			      NULL, &o, &c, &res, &err),
		     0, "%s", err.msg);
	cr_expect_eq(res.end, SD_VMRUN_TERMINATED);
	cr_expect(WIFSIGNALED(res.wait_status) &&
		  WTERMSIG(res.wait_status) == SIGTERM);
	cr_assert_eq(c.nsteps, 2);
	cr_expect(starts(c.steps[0], "grace period of 0 s passed: QMP "
				     "socket ") &&
			  strstr(c.steps[0], "No such file or directory: "
					     "sending SIGTERM"),
		  "%s", c.steps[0]);
	cap_free(&c);
}

Test(vmrun, timeout)
{
	struct cap c = {.marker = "RESULT 0"};
	struct sd_vmrun_options o = {
		.timeout = 0.5, .grace = 10, .escalate = 0.3};
	struct sd_vmrun_result res;
	struct sd_error err;

	cr_assert_eq(run_fake("#!/bin/sh\necho booting\nexec sleep 30\n", NULL,
			      &o, &c, &res, &err),
		     0, "%s", err.msg);
	cr_expect(res.timed_out && !res.result_known && !res.interrupted);
	cr_expect_eq(res.end, SD_VMRUN_TERMINATED);
	cr_expect(WIFSIGNALED(res.wait_status) &&
		  WTERMSIG(res.wait_status) == SIGTERM);
	/* Torn down within the timeout plus the whole escalation (and a
	 * margin for a loaded machine). */
	cr_expect_geq(res.seconds, 0.5);
	cr_expect_lt(res.seconds, 0.5 + 2 * 0.3 + 1.0, "%g s", res.seconds);
	cr_assert_eq(c.n, 1);
	expect_line(&c, 0, SD_VMRUN_CONSOLE, "booting");
	cr_assert_eq(c.nsteps, 2);
	cr_expect_str_eq(c.steps[0],
			 "timeout of 0.5 s passed: sending SIGTERM");
	cr_expect(starts(c.steps[1], "QEMU ended after SIGTERM after "), "%s",
		  c.steps[1]);
	cap_free(&c);
}

static volatile int flag;

static void *interrupter(void *arg)
{
	(void)arg;
	nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
	flag = 1;
	return NULL;
}

Test(vmrun, interrupted_from_another_thread)
{
	struct cap c = {0};
	struct sd_vmrun_options o = {
		.grace = 10, .escalate = 0.3, .interrupted = &flag};
	struct sd_vmrun_result res;
	struct sd_error err;
	pthread_t t;

	flag = 0;
	cr_assert_eq(pthread_create(&t, NULL, interrupter, NULL), 0);
	cr_assert_eq(run_fake("#!/bin/sh\nexec sleep 30\n", NULL, &o, &c, &res,
			      &err),
		     0, "%s", err.msg);
	pthread_join(t, NULL);
	cr_expect(res.interrupted && !res.timed_out && !res.result_known);
	cr_expect_eq(res.end, SD_VMRUN_TERMINATED);
	cr_expect_lt(res.seconds, 0.3 + 0.3 + 1.0, "%g s", res.seconds);
	cr_assert_eq(c.nsteps, 2);
	cr_expect_str_eq(c.steps[0], "interrupted: sending SIGTERM");
	cap_free(&c);
}

/* No child of this process is left (waited for or not). */
static void expect_no_child(void)
{
	errno = 0;
	cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_expect_eq(errno, ECHILD, "%s", strerror(errno));
}

static void expect_cannot_run(const char *prog, const char *reason)
{
	const char *argv[] = {prog, "-nographic", NULL};
	struct cap c = {0};
	struct sd_vmrun_options o = {
		.argv = argv, .on_line = on_line, .ctx = &c};
	struct sd_vmrun_result res;
	struct sd_error err;

	sd_error_init(&err);
	cr_assert_eq(sd_vmrun(&o, &res, &err), SD_ERR_IO);
	cr_expect(strstr(err.msg, prog), "%s", err.msg);
	cr_expect(strstr(err.msg, reason), "%s", err.msg);
	cr_expect_eq(c.n, 0);
	expect_no_child();
}

Test(vmrun, missing_program)
{
	expect_cannot_run("/nonexistent-dir/qemu-system-x86_64",
			  "No such file or directory");
	expect_cannot_run("storedisk-test-no-such-qemu",
			  "No such file or directory");
	tt_write("noexec", "#!/bin/sh\nexit 0\n", (size_t)-1, 0644);
	expect_cannot_run(tt_path("noexec"), "Permission denied");
}

Test(vmrun, no_descriptor_left_in_the_child)
{
	/* Every descriptor taken but the 7 sd_vmrun opens (3 pipes and
	 * /dev/null): the child cannot move its report pipe above 2.  That
	 * is an error to report, not a silent end taken for an exec. */
	struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64};
	int fds[64], n = 0, fd;

	tt_write("true", "#!/bin/sh\nexit 0\n", (size_t)-1, 0755);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[n++] = fd;
	cr_assert_eq(errno, EMFILE);
	cr_assert_geq(n, 7);
	for (int i = 0; i < 7; i++)
		close(fds[--n]);
	expect_cannot_run(tt_path("true"), "Too many open files");
	while (n)
		close(fds[--n]);
}

Test(vmrun, line_ends)
{
	struct cap c = {0};
	struct sd_vmrun_options o = {.timeout = 20};
	struct sd_vmrun_result res;
	struct sd_error err;

	cr_assert_eq(run_fake("#!/bin/sh\nprintf 'one\\r\\ntwo\\n\\na\\rb\\n'\n"
			      "printf 'err1\\nerr2' >&2\n"
			      "printf 'last'\n",
			      NULL, &o, &c, &res, &err),
		     0, "%s", err.msg);
	cr_assert_eq(c.n, 7);
	/* The two streams' order between each other is not defined. */
	const char *console[] = {"one", "two", "", "a\rb", "last"};
	const char *qemu[] = {"err1", "err2"};
	size_t ic = 0, iq = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (c.stream[i] == SD_VMRUN_CONSOLE) {
			cr_assert_lt(ic, 5);
			expect_line(&c, i, SD_VMRUN_CONSOLE, console[ic++]);
		} else {
			cr_assert_lt(iq, 2);
			expect_line(&c, i, SD_VMRUN_QEMU, qemu[iq++]);
		}
	}
	cr_expect_eq(ic, 5);
	cr_expect_eq(iq, 2);
	cap_free(&c);
}

static void expect_run(const struct cap *c, size_t i, char ch, size_t len)
{
	cr_assert_lt(i, c->n);
	cr_expect_eq(c->len[i], len, "line %zu: %zu bytes, not %zu", i,
		     c->len[i], len);
	for (size_t k = 0; k < c->len[i]; k++)
		if (c->line[i][k] != ch) {
			cr_expect_fail("line %zu: byte %zu is not %c", i, k,
				       ch);
			return;
		}
}

Test(vmrun, long_lines)
{
	struct cap c = {0};
	struct sd_vmrun_options o = {.timeout = 30};
	struct sd_vmrun_result res;
	struct sd_error err;
	const size_t M = SD_VMRUN_LINE_MAX;

	if (!tt_have_tool("python3"))
		cr_skip_test("python3 is not installed");
	cr_assert_eq(M, 1048576);
	cr_assert_eq(run_fake(PY "import sys\n"
				 "M = 1 << 20\n"
				 "w = sys.stdout.buffer.write\n"
				 "w(b'x' * 100000 + b'\\n')\n"
				 "w(b'y' * (2 * M + M // 2) + b'\\n')\n"
				 "w(b'z' * M + b'\\n')\n"
				 "w(b'end')\n",
			      NULL, &o, &c, &res, &err),
		     0, "%s", err.msg);
	cr_assert_eq(c.n, 6);
	expect_run(&c, 0, 'x', 100000); /* whole */
	expect_run(&c, 1, 'y', M);      /* split in pieces of M */
	expect_run(&c, 2, 'y', M);
	expect_run(&c, 3, 'y', M / 2);
	expect_run(&c, 4, 'z', M); /* exactly M: whole */
	expect_line(&c, 5, SD_VMRUN_CONSOLE, "end");
	cap_free(&c);
}

/*
 * The drain after the end: on_line stalls the loop on the first line
 * until the fake has filled its (enlarged, 1 MiB) pipe and exited, so that
 * at its end more is in the pipe than one turn of the loop reads.
 */
struct drain {
	size_t n;
	char last[16];
	const char *done; /* the file the fake writes after its last line */
};

static bool drain_line(void *ctx, enum sd_vmrun_stream stream, const char *line,
		       size_t len)
{
	struct drain *d = ctx;

	(void)stream;
	if (d->n++ == 0) {
		for (int i = 0; i < 200 && access(d->done, F_OK); i++)
			nanosleep(&(struct timespec){0, 25 * 1000 * 1000},
				  NULL);
		/* and time to exit after its last write */
		nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
	}
	snprintf(d->last, sizeof(d->last), "%.*s", (int)len, line);
	return false;
}

Test(vmrun, drains_after_exit)
{
	struct drain d = {0};
	const char *argv[3] = {NULL};
	struct sd_vmrun_options o = {
		.timeout = 30, .argv = argv, .on_line = drain_line, .ctx = &d};
	struct sd_vmrun_result res;
	struct sd_error err;

	if (!tt_have_tool("python3"))
		cr_skip_test("python3 is not installed");
	tt_write("fake",
		 PY
		 "import fcntl, os, sys, time\n"
		 "if fcntl.fcntl(1, fcntl.F_SETPIPE_SZ, 1 << 20) < 1 << 20:\n"
		 "    sys.exit(9)\n"
		 "os.write(1, b'first\\n')\n"
		 "time.sleep(0.3)\n"
		 "data = b''.join(b'%0999d\\n' % i for i in range(1040))\n"
		 "data += b'last\\n'\n"
		 "while data:\n"
		 "    data = data[os.write(1, data):]\n"
		 "open(sys.argv[1], 'w').close()\n",
		 (size_t)-1, 0755);
	argv[0] = tt_path("fake");
	argv[1] = d.done = strdup(tt_path("done"));
	sd_error_init(&err);
	cr_assert_eq(sd_vmrun(&o, &res, &err), 0, "%s", err.msg);
	cr_assert(WIFEXITED(res.wait_status) &&
			  WEXITSTATUS(res.wait_status) == 0,
		  "the fake failed (status %d)", res.wait_status);
	cr_expect_eq(d.n, 1 + 1040 + 1, "%zu lines", d.n);
	cr_expect_str_eq(d.last, "last");
	free((char *)d.done);
}

/* Is @pid gone (or a zombie only its reaper has yet to collect)? */
static bool gone(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

Test(vmrun, pdeathsig)
{
	struct cap c = {0};
	struct sd_vmrun_options o = {0};
	struct sd_vmrun_result res;
	struct sd_error err;
	char script[512];
	pid_t mid, fake = 0;
	int st;

	snprintf(script, sizeof(script),
		 "#!/bin/sh\necho $$ > %s.tmp\nmv %s.tmp %s\nexec sleep 60\n",
		 tt_path("fake.pid"), tt_path("fake.pid"), tt_path("fake.pid"));
	mid = fork();
	cr_assert_geq(mid, 0);
	if (mid == 0) {
		run_fake(script, NULL, &o, &c, &res, &err);
		_exit(0); /* not reached in time: it is killed first */
	}
	for (int i = 0; i < 200 && !fake; i++) {
		FILE *f = fopen(tt_path("fake.pid"), "r");
		int p;
		if (f && fscanf(f, "%d", &p) == 1)
			fake = (pid_t)p;
		if (f)
			fclose(f);
		if (!fake)
			nanosleep(&(struct timespec){0, 50 * 1000 * 1000},
				  NULL);
	}
	if (!fake) {
		kill(mid, SIGKILL);
		waitpid(mid, &st, 0);
		cr_assert_fail("the fake wrote no pid file");
	}
	cr_assert(!gone(fake), "the fake is not running");
	cr_assert_eq(kill(mid, SIGKILL), 0);
	cr_assert_eq(waitpid(mid, &st, 0), mid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	bool ok = false;
	for (int i = 0; i < 100 && !(ok = gone(fake)); i++)
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	if (!ok)
		kill(fake, SIGKILL);
	cr_expect(ok, "the fake QEMU (pid %d) outlived its parent by 5 s",
		  (int)fake);
	waitpid(fake, NULL, WNOHANG); /* in case this process reaps it */
}
