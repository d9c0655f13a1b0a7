/* SPDX-License-Identifier: MIT */
/*
 * vmrun.c — one QEMU process, escalated teardown, never orphaned
 * (vmrun.h).
 *
 * One poll loop does everything: it reads QEMU's stdout and stderr (both
 * non-blocking pipes), talks QMP on a non-blocking socket, and wakes at
 * least every TICK_MS to check the interrupt flag, the timers and
 * waitpid(WNOHANG).  No call in it can block for longer than that.
 */
#include "app/vmrun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100
#define CHUNK 65536
/* Reads per pipe and loop turn, so that a flood cannot starve the timers. */
#define READS_PER_TURN 4
/* What the drain after QEMU's end reads at most per pipe (a grandchild
 * could keep writing into an inherited pipe). */
#define DRAIN_MAX ((size_t)16 << 20)
#define QMP_LINE 4096

enum phase {
	PH_RUNNING, /* waiting for the result (or the timeout) */
	PH_GRACE,   /* result known, the guest may power off by itself */
	PH_QMP,     /* quit asked through QMP */
	PH_TERM,    /* SIGTERM sent */
	PH_KILL,    /* SIGKILL sent */
};

enum qmp_state {
	Q_NONE,     /* no socket */
	Q_GREETING, /* connected, waiting for {"QMP": ...} */
	Q_CAPS,     /* qmp_capabilities sent */
	Q_QUIT,     /* quit sent */
};

struct stream {
	enum sd_vmrun_stream which;
	int fd;    /* read end, non-blocking; -1 once at end of file */
	char *buf; /* SD_VMRUN_LINE_MAX + 1 */
	size_t len;
};

struct run {
	const struct sd_vmrun_options *o;
	struct sd_vmrun_result *res;
	struct timespec t0;
	double escalate;
	pid_t pid;
	enum phase phase;
	double next; /* seconds from t0: the next step in PH_QMP/PH_TERM */
	struct stream s[2];
	char *chunk; /* CHUNK */
	int qfd;
	enum qmp_state q;
	char qbuf[QMP_LINE];
	size_t qlen;
};

static double now(const struct run *r)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - r->t0.tv_sec) +
	       (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static void step(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void step(const struct run *r, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	if (!r->o->on_step)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->o->on_step(r->o->ctx, text);
}

/* ---- lines ---- */

static void deliver(struct run *r, struct stream *s, bool strip)
{
	size_t n = s->len;
	bool known;

	if (strip)
		while (n && s->buf[n - 1] == '\r')
			n--;
	s->buf[n] = '\0';
	s->len = 0;
	known = r->o->on_line(r->o->ctx, s->which, s->buf, n);
	if (!known || r->res->result_known)
		return;
	r->res->result_known = true;
	r->res->result_at = now(r);
	if (r->phase == PH_RUNNING)
		r->phase = PH_GRACE;
}

/* Split @n bytes of @p into lines.  A piece of SD_VMRUN_LINE_MAX bytes is
 * delivered only when one more byte of the same line follows, so a line
 * of exactly that length is still whole. */
static void feed(struct run *r, struct stream *s, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;

		while (seg) {
			size_t take;

			if (s->len == SD_VMRUN_LINE_MAX)
				deliver(r, s, false);
			take = SD_VMRUN_LINE_MAX - s->len;
			if (take > seg)
				take = seg;
			memcpy(s->buf + s->len, p, take);
			s->len += take;
			p += take;
			n -= take;
			seg -= take;
		}
		if (nl) {
			deliver(r, s, true);
			p++;
			n--;
		}
	}
}

static void stream_close(struct run *r, struct stream *s)
{
	if (s->len)
		deliver(r, s, true);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Read what @s has, at most @max bytes (rounded up to a chunk). */
static void pump(struct run *r, struct stream *s, size_t max)
{
	size_t got = 0;

	while (s->fd >= 0 && got < max) {
		ssize_t k = read(s->fd, r->chunk, CHUNK);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0) { /* end of file, or an error: the same to us */
			stream_close(r, s);
			return;
		}
		feed(r, s, r->chunk, (size_t)k);
		got += (size_t)k;
	}
}

/* ---- the steps of the end ---- */

static void qmp_close(struct run *r)
{
	if (r->qfd >= 0)
		close(r->qfd);
	r->qfd = -1;
	r->q = Q_NONE;
}

static void send_term(struct run *r)
{
	qmp_close(r);
	kill(r->pid, SIGTERM);
	r->res->end = SD_VMRUN_TERMINATED;
	r->phase = PH_TERM;
	r->next = now(r) + r->escalate;
}

static void send_kill(struct run *r)
{
	kill(r->pid, SIGKILL);
	r->res->end = SD_VMRUN_KILLED;
	r->phase = PH_KILL;
}

/* A connected non-blocking socket on @path, or -1 with errno set. */
static int qmp_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	int fd;

	if (n >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A Unix socket connects at once or fails at once (EAGAIN when the
	 * listener's backlog is full): never in progress. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The first step: QMP quit if there is a socket, else SIGTERM. */
static void begin_end(struct run *r, const char *why)
{
	const char *path = r->o->qmp_path;

	if (path) {
		r->qfd = qmp_connect(path);
		if (r->qfd >= 0) {
			step(r, "%s: quitting through QMP", why);
			r->q = Q_GREETING;
			r->qlen = 0;
			r->phase = PH_QMP;
			r->next = now(r) + r->escalate;
			return;
		}
		step(r, "%s: QMP socket %s: %s: sending SIGTERM", why, path,
		     strerror(errno));
	} else {
		step(r, "%s: sending SIGTERM", why);
	}
	send_term(r);
}

static void qmp_fail(struct run *r, const char *what)
{
	step(r, "QMP on %s: %s: sending SIGTERM", r->o->qmp_path, what);
	send_term(r);
}

static bool qmp_send(struct run *r, const char *msg)
{
	size_t n = strlen(msg);
	ssize_t w;

	do
		w = send(r->qfd, msg, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	/* A few bytes into a fresh socket's empty buffer: all or nothing. */
	return w == (ssize_t)n;
}

/* The first key of a QMP message: "QMP", "return", "error", "event". */
static bool first_key(const char *line, const char *key)
{
	size_t n = strlen(key);

	while (*line == ' ' || *line == '\t' || *line == '\r')
		line++;
	if (*line++ != '{')
		return false;
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '"' && !strncmp(line + 1, key, n) && line[1 + n] == '"';
}

/* One message from QEMU; false when the exchange ended (quit answered)
 * or failed (and SIGTERM went out).  Only a "return" or an "error"
 * answers a command: anything else, such as an event ({"timestamp": ...,
 * "event": "SHUTDOWN"}, which QEMU 7.2 sends before its reply to quit),
 * is skipped; the timer still bounds the wait. */
static bool qmp_message(struct run *r, const char *line)
{
	bool ret = first_key(line, "return");

	if (r->q != Q_GREETING && !ret && !first_key(line, "error"))
		return true;
	switch (r->q) {
	case Q_GREETING:
		if (!first_key(line, "QMP"))
			return true;
		if (!qmp_send(r, "{\"execute\": \"qmp_capabilities\"}\n")) {
			qmp_fail(r, "cannot send qmp_capabilities");
			return false;
		}
		r->q = Q_CAPS;
		return true;
	case Q_CAPS:
		if (!ret) {
			qmp_fail(r, "qmp_capabilities refused");
			return false;
		}
		if (!qmp_send(r, "{\"execute\": \"quit\"}\n")) {
			qmp_fail(r, "cannot send quit");
			return false;
		}
		r->q = Q_QUIT;
		r->res->end = SD_VMRUN_QMP_QUIT;
		return true;
	case Q_QUIT:
		if (!ret) {
			qmp_fail(r, "quit refused");
			return false;
		}
		/* QEMU is on its way out; the timer still bounds it. */
		qmp_close(r);
		return false;
	case Q_NONE: break;
	}
	return false;
}

static void qmp_read(struct run *r)
{
	ssize_t k;
	char *nl;

	do
		k = recv(r->qfd, r->qbuf + r->qlen,
			 sizeof(r->qbuf) - 1 - r->qlen, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (k <= 0) {
		if (r->q == Q_QUIT) /* it quit before its reply got out */
			qmp_close(r);
		else
			qmp_fail(r, k ? strerror(errno)
				      : "connection closed before quit");
		return;
	}
	r->qlen += (size_t)k;
	r->qbuf[r->qlen] = '\0';
	while ((nl = memchr(r->qbuf, '\n', r->qlen))) {
		size_t used = (size_t)(nl - r->qbuf) + 1;

		*nl = '\0';
		if (!qmp_message(r, r->qbuf))
			return;
		memmove(r->qbuf, r->qbuf + used, r->qlen - used);
		r->qlen -= used;
		r->qbuf[r->qlen] = '\0';
	}
	if (r->qlen == sizeof(r->qbuf) - 1)
		qmp_fail(r, "message too long");
}

/* Interrupt and timers: start or continue the end when it is time. */
static void tick(struct run *r)
{
	const struct sd_vmrun_options *o = r->o;
	bool intr = o->interrupted && *o->interrupted;
	double t = now(r);
	char why[128];

	switch (r->phase) {
	case PH_RUNNING:
	case PH_GRACE:
		if (intr) {
			r->res->interrupted = true;
			begin_end(r, "interrupted");
		} else if (r->phase == PH_RUNNING && o->timeout > 0 &&
			   t >= o->timeout) {
			r->res->timed_out = true;
			snprintf(why, sizeof(why), "timeout of %g s passed",
				 o->timeout);
			begin_end(r, why);
		} else if (r->phase == PH_GRACE &&
			   t >= r->res->result_at + o->grace) {
			snprintf(why, sizeof(why),
				 "grace period of %g s passed", o->grace);
			begin_end(r, why);
		}
		break;
	case PH_QMP:
		if (t < r->next)
			break;
		if (r->res->end == SD_VMRUN_QMP_QUIT)
			step(r,
			     "QEMU still running %g s after QMP: sending "
			     "SIGTERM",
			     r->escalate);
		else
			step(r,
			     "QMP on %s: no answer within %g s: sending "
			     "SIGTERM",
			     o->qmp_path, r->escalate);
		send_term(r);
		break;
	case PH_TERM:
		if (t < r->next)
			break;
		step(r,
		     "QEMU still running %g s after SIGTERM: sending SIGKILL",
		     r->escalate);
		send_kill(r);
		break;
	case PH_KILL: break;
	}
}

/* Milliseconds poll may sleep: up to the next deadline, at most TICK_MS. */
static int poll_ms(const struct run *r)
{
	double deadline = -1, ms;

	switch (r->phase) {
	case PH_RUNNING:
		if (r->o->timeout > 0)
			deadline = r->o->timeout;
		break;
	case PH_GRACE: deadline = r->res->result_at + r->o->grace; break;
	case PH_QMP:
	case PH_TERM: deadline = r->next; break;
	case PH_KILL: break;
	}
	if (deadline < 0)
		return TICK_MS;
	ms = (deadline - now(r)) * 1000.0;
	if (ms <= 0)
		return 0;
	return ms < TICK_MS ? (int)ms + 1 : TICK_MS;
}

/* True once QEMU has been waited for (its status in res). */
static bool reap(struct run *r)
{
	int st = 0;
	pid_t w;

	do
		w = waitpid(r->pid, &st, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == 0)
		return false;
	/* w < 0 (ECHILD): someone else reaped it (SIGCHLD ignored); it is
	 * gone all the same. */
	r->res->wait_status = w > 0 ? st : 0;
	return true;
}

static void report_end(struct run *r)
{
	static const char *const how[] = {
		[SD_VMRUN_EXITED] = "by itself",
		[SD_VMRUN_QMP_QUIT] = "after QMP quit",
		[SD_VMRUN_TERMINATED] = "after SIGTERM",
		[SD_VMRUN_KILLED] = "after SIGKILL",
	};
	int st = r->res->wait_status;

	if (WIFSIGNALED(st)) {
		const char *name = sigabbrev_np(WTERMSIG(st));
		step(r,
		     "QEMU ended %s after %.1f s: killed by signal %d (SIG%s)",
		     how[r->res->end], r->res->seconds, WTERMSIG(st),
		     name ? name : "?");
	} else {
		step(r, "QEMU ended %s after %.1f s: exit status %d",
		     how[r->res->end], r->res->seconds, WEXITSTATUS(st));
	}
}

static void loop(struct run *r)
{
	for (;;) {
		struct pollfd p[3];
		int np = 0, k;

		for (int i = 0; i < 2; i++)
			if (r->s[i].fd >= 0)
				p[np++] =
					(struct pollfd){r->s[i].fd, POLLIN, 0};
		if (r->qfd >= 0)
			p[np++] = (struct pollfd){r->qfd, POLLIN, 0};
		k = poll(p, (nfds_t)np, poll_ms(r));
		if (k < 0 && errno != EINTR) /* cannot be; do not spin */
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000},
				  NULL);
		for (int i = 0; i < 2; i++)
			if (r->s[i].fd >= 0)
				pump(r, &r->s[i],
				     (size_t)READS_PER_TURN * CHUNK);
		if (r->qfd >= 0)
			qmp_read(r);
		if (reap(r))
			break;
		tick(r);
	}
	r->res->seconds = now(r);
	/* Everything QEMU wrote is in the pipes now: take it, do not wait
	 * for an end of file a grandchild could hold back. */
	for (int i = 0; i < 2; i++) {
		pump(r, &r->s[i], DRAIN_MAX);
		stream_close(r, &r->s[i]);
	}
	qmp_close(r);
	report_end(r);
}

/* ---- starting ---- */

static __attribute__((noreturn)) void child_fail(int report)
{
	int e = errno;
	ssize_t w = write(report, &e, sizeof(e));

	(void)w;
	_exit(127);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static __attribute__((noreturn)) void child(const char *const *argv,
					    pid_t parent, int devnull, int out,
					    int errfd, int report)
{
	static const int reset[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE};
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int in, o1, o2, moved;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		child_fail(report);
	if (getppid() != parent) /* the parent died before the prctl */
		_exit(127);
	/* A process group of its own: a Ctrl-C on the terminal reaches the
	 * parent only, which tears QEMU down in order (QMP first) instead of
	 * QEMU dying of the SIGINT halfway through.  Its stdin is /dev/null,
	 * so it never reads the terminal from the background. */
	(void)setpgid(0, 0);
	/* Move everything above 2 first: the parent may have had 0-2 closed
	 * and been given them for the pipes.  Should that fail, the error
	 * still goes out on the pipe where it is (not yet replaced), or the
	 * parent would take the silent end for an exec. */
	moved = fcntl(report, F_DUPFD_CLOEXEC, 3);
	if (moved < 0)
		child_fail(report);
	report = moved;
	in = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
	o1 = fcntl(out, F_DUPFD_CLOEXEC, 3);
	o2 = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || o1 < 0 || o2 < 0 || dup2(in, 0) < 0 || dup2(o1, 1) < 0 ||
	    dup2(o2, 2) < 0)
		child_fail(report);
		/* Every other descriptor closes at exec (report tells until then). */
#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
	{
		struct rlimit rl;
		int max = 65536;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max)
			max = (int)rl.rlim_cur;
		for (int fd = 3; fd < max; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaction(reset[i], &dfl, NULL);
	execvp(argv[0], (char *const *)argv);
	child_fail(report);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int sd_vmrun(const struct sd_vmrun_options *o, struct sd_vmrun_result *res,
	     struct sd_error *err)
{
	struct run r = {.o = o, .res = res, .qfd = -1};
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	int devnull = -1, e = 0, rc = SD_OK;
	pid_t parent = getpid();
	ssize_t n;

	memset(res, 0, sizeof(*res));
	res->end = SD_VMRUN_EXITED;
	res->result_at = -1;
	if (!o->argv || !o->argv[0] || !o->on_line)
		return sd_error_set(err, SD_ERR_USAGE,
				    "vmrun: no command or no line callback");
	r.escalate = o->escalate > 0 ? o->escalate : 2.0;
	r.s[0] = (struct stream){.which = SD_VMRUN_CONSOLE, .fd = -1};
	r.s[1] = (struct stream){.which = SD_VMRUN_QEMU, .fd = -1};
	r.s[0].buf = malloc(SD_VMRUN_LINE_MAX + 1);
	r.s[1].buf = malloc(SD_VMRUN_LINE_MAX + 1);
	r.chunk = malloc(CHUNK);
	if (!r.s[0].buf || !r.s[1].buf || !r.chunk) {
		rc = sd_error_set(err, SD_ERR_NOMEM, "vmrun: out of memory");
		goto out;
	}
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) ||
	    pipe2(rep, O_CLOEXEC)) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s: pipe",
				    o->argv[0]);
		goto out;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "/dev/null");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.pid = fork();
	if (r.pid < 0) {
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s: fork",
				    o->argv[0]);
		goto out;
	}
	if (r.pid == 0)
		child(o->argv, parent, devnull, out[1], errp[1], rep[1]);
	close_fd(&out[1]);
	close_fd(&errp[1]);
	close_fd(&rep[1]);
	close_fd(&devnull);
	/* The child execs or exits at once, waiting on nothing: this read
	 * ends with the exec (end of file: the pipe was close-on-exec) or
	 * with the child's errno. */
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		int st;

		if (n != (ssize_t)sizeof(e))
			e = n < 0 ? errno : EIO;
		kill(r.pid, SIGKILL); /* it is on its way out already */
		while (waitpid(r.pid, &st, 0) < 0 && errno == EINTR)
			;
		rc = sd_error_errno(err, SD_ERR_IO, e, "cannot run %s",
				    o->argv[0]);
		goto out;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	r.s[0].fd = out[0];
	r.s[1].fd = errp[0];
	out[0] = errp[0] = -1;
	loop(&r);
out:
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&rep[0]);
	close_fd(&rep[1]);
	close_fd(&devnull);
	close_fd(&r.s[0].fd);
	close_fd(&r.s[1].fd);
	free(r.s[0].buf);
	free(r.s[1].buf);
	free(r.chunk);
	return rc;
}
