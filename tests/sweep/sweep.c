/* SPDX-License-Identifier: MIT */
/*
 * sweep.c — the corruption sweep: for each format and compressor, a
 * golden image and a fixed, seeded set of damaged copies of it (1,000
 * corruptions spread over every structural region, plus a truncation at
 * every 4 KiB boundary), each run through the commands that read images
 * exactly as the CLI runs them: info, verify, ls -R, cat of every file,
 * extract, and diff against the golden image.
 *
 * Each damaged image is run in a child process (fork, no exec: the
 * commands are called in process), which bounds what a case can do:
 *   - a crash (signal) or a sanitizer report (the child's exit status) fails;
 *   - a hang fails (alarm in the child: SWEEP_TIMEOUT seconds per case);
 *   - memory is bounded: the child's peak RSS must stay under
 *     SWEEP_MAX_RSS_MB (and, outside sanitizer builds, a 4 GiB address
 *     space limit turns a runaway allocation into an allocation failure);
 *   - every command ends with exit 0 or 1 (normal: the damage is not
 *     seen, as in file data, or is reported as a finding or a difference)
 *     or exit 2 with exactly one line on stderr;
 *   - verify never passes (exit 0) an image that ls -R, extract or diff
 *     refuses as unreadable (exit 2).
 * The tally of outcomes per command and per region goes to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/le.h"
#include "golden.h"
#include "regions.h"
#include "util.h"

#ifndef SWEEP_SANITIZED
#define SWEEP_SANITIZED 0
#endif
/* Corruptions per format and compressor: 1,000, or SD_SWEEP_CORRUPTIONS
 * from the environment (scripts/test.sh gives the builds without
 * sanitizers fewer; the sanitizer build runs them all). */
static unsigned corruptions(void)
{
	const char *e = getenv("SD_SWEEP_CORRUPTIONS");
	char *end;
	unsigned long n = e ? strtoul(e, &end, 10) : 0;

	return e && *e && !*end && n > 0 && n <= 1000000 ? (unsigned)n : 1000;
}
#define SWEEP_TIMEOUT (SWEEP_SANITIZED ? 120 : 30)
#define SWEEP_MAX_RSS_MB (SWEEP_SANITIZED ? 1024 : 256)
#define MAX_CMDS 16
#define MAX_FAILURES_SHOWN 8

/* ---- the commands of one case ------------------------------------- */

enum cmd_kind { C_INFO, C_VERIFY, C_LS, C_CAT, C_EXTRACT, C_DIFF, C_KINDS };
static const char *const kind_name[C_KINDS] = {
	"info", "verify", "ls -R", "cat", "extract", "diff",
};

struct cmd {
	enum cmd_kind kind;
	int (*run)(int, char **);
	int argc;
	char *argv[8];
};

/* What a child reports about one case, through shared memory. */
struct result {
	int done;    /* every command returned */
	int running; /* the command running: 1 + its index (0: none) */
	int peak_mb; /* the child's peak RSS after the case */
	struct {
		int rc;
		int lines;     /* lines on stderr */
		char msg[120]; /* its first line */
	} cmd[MAX_CMDS];
};

struct sweep {
	const char *name;
	struct cmd cmds[MAX_CMDS];
	int ncmds;
	const char *image, *errfile, *extract_dir;
	/* the cases: 0 the golden image, then the truncations, then the
	 * corruptions (made by make_case) */
	const uint8_t *golden;
	size_t len;
	const struct sw_regions *regions;
	uint64_t seed;
	unsigned ntrunc, ncases;
	struct result *res; /* ncases results, shared with the children */
	volatile unsigned *current; /* the case a child is running */
	/* tallies */
	unsigned cases, failures, refused, reported, invisible;
	unsigned rc[C_KINDS][3];
	unsigned region_cases[SW_MAX_REGIONS], region_refused[SW_MAX_REGIONS];
};

static void add_cmd(struct sweep *s, enum cmd_kind kind,
		    int (*run)(int, char **), const char *a1, const char *a2,
		    const char *a3)
{
	struct cmd *c = &s->cmds[s->ncmds++];
	const char *args[] = {kind_name[kind], a1, a2, a3};

	if (s->ncmds > MAX_CMDS)
		sw_die("more than %d commands", MAX_CMDS);
	c->kind = kind;
	c->run = run;
	for (size_t i = 0; i < 4 && args[i]; i++)
		c->argv[c->argc++] = (char *)args[i];
	if (kind == C_LS)
		c->argv[0] = "ls";
}

static void corrupt(uint8_t *img, size_t len, size_t off, uint64_t r,
		    char *desc, size_t dsz);

/* Case @k's image in @buf (s->len bytes), its length, description and
 * region (-1: none); the same in the parent and in every child. */
static size_t make_case(const struct sweep *s, unsigned k, uint8_t *buf,
			char *desc, size_t dsz, int *region)
{
	*region = -1;
	memcpy(buf, s->golden, s->len);
	if (k == 0) {
		snprintf(desc, dsz, "the golden image");
		return s->len;
	}
	if (k <= s->ntrunc) {
		/* every 4 KiB boundary below the size, then one byte short */
		size_t cut = k < s->ntrunc ? (size_t)(k - 1) * 4096
					   : s->len - 1;
		snprintf(desc, dsz, "truncated to %zu bytes", cut);
		return cut;
	}
	/* Half the corruptions go to each region in turn, whatever its
	 * size; the other half to uniformly chosen bytes. */
	unsigned i = k - s->ntrunc - 1;
	uint64_t state = s->seed * 0x100000001b3ull + i;
	uint64_t r = sw_rand(&state);
	size_t off;
	if (i % 2 == 0) {
		const struct sw_region *rg =
			&s->regions->r[(i / 2) % s->regions->n];
		off = rg->offsets[sw_rand(&state) % rg->count];
	} else {
		off = (size_t)(sw_rand(&state) % s->len);
	}
	*region = s->regions->of_byte[off];
	corrupt(buf, s->len, off, r, desc, dsz);
	return s->len;
}

static void write_image(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t done = 0;

	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (fd < 0 || done != len || close(fd) != 0)
		_exit(92); /* also in children: no Criterion assert there */
}

/* Run one command of the current case; its results into @r. */
static void run_cmd(const struct sweep *s, int i, struct result *r)
{
	const struct cmd *c = &s->cmds[i];
	char *argv[8];
	int fd = open(s->errfile, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(91);
	close(fd);
	memcpy(argv, c->argv, sizeof(argv)); /* getopt permutes */
	optind = 0;
	int rc = c->run(c->argc, argv);
	fflush(stdout);
	fflush(stderr);

	char buf[4096];
	FILE *f = fopen(s->errfile, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	int lines = 0;
	for (size_t k = 0; k < n; k++)
		lines += buf[k] == '\n';
	if (n && buf[n - 1] != '\n')
		lines++;
	r->cmd[i].rc = rc;
	r->cmd[i].lines = lines;
	snprintf(r->cmd[i].msg, sizeof(r->cmd[i].msg), "%.*s",
		 (int)strcspn(buf, "\n"), buf);
}

/* A child runs the cases from @first on, one after another, until the
 * last or until one kills it (crash, sanitizer report, alarm). */
static void child(struct sweep *s, unsigned first)
{
	int devnull = open("/dev/null", O_WRONLY);
	uint8_t *buf = malloc(s->len ? s->len : 1);
	char desc[160];
	int region;

	if (devnull < 0 || dup2(devnull, 1) < 0 || !buf)
		_exit(90);
	if (!SWEEP_SANITIZED) {
		struct rlimit rl = {4ull << 30, 4ull << 30};
		setrlimit(RLIMIT_AS, &rl);
	}
	for (unsigned k = first; k < s->ncases; k++) {
		struct result *r = &s->res[k];
		struct rusage ru;

		*s->current = k;
		write_image(s->image, buf,
			    make_case(s, k, buf, desc, sizeof(desc), &region));
		alarm(SWEEP_TIMEOUT);
		for (int i = 0; i < s->ncmds; i++) {
			r->running = i + 1;
			run_cmd(s, i, r);
		}
		r->running = 0;
		alarm(0);
		sw_remove_tree(s->extract_dir);
		getrusage(RUSAGE_SELF, &ru);
		r->peak_mb = (int)(ru.ru_maxrss / 1024);
		r->done = 1;
	}
	free(buf);
	exit(0); /* through exit(): LeakSanitizer checks the child */
}

static void failure(struct sweep *s, const char *what, const char *why, int cmd,
		    const struct result *r)
{
	if (s->failures++ >= MAX_FAILURES_SHOWN)
		return;
	if (cmd >= 0 && cmd < s->ncmds)
		fprintf(stderr, "sweep %s: FAIL %s: %s in `%s %s`: %s\n",
			s->name, what, why, s->cmds[cmd].argv[0],
			s->cmds[cmd].argc > 2 ? s->cmds[cmd].argv[2] : "",
			r->cmd[cmd].msg);
	else
		fprintf(stderr, "sweep %s: FAIL %s: %s\n", s->name, what, why);
}

/* Judge case @k from its result. */
static void judge(struct sweep *s, unsigned k, int region, const char *what)
{
	const struct result *r = &s->res[k];
	bool refused = false, all_zero = true, broken = false;
	int verify_rc = -1;
	char why[128];

	s->cases++;
	if (region >= 0)
		s->region_cases[region]++;
	if (r->peak_mb > SWEEP_MAX_RSS_MB) {
		snprintf(why, sizeof(why), "peak RSS %d MB (bound %d MB)",
			 r->peak_mb, SWEEP_MAX_RSS_MB);
		failure(s, what, why, -1, r);
		return;
	}
	for (int i = 0; i < s->ncmds; i++) {
		int rc = r->cmd[i].rc;
		enum cmd_kind kind = s->cmds[i].kind;
		if (rc < 0 || rc > 2) {
			snprintf(why, sizeof(why), "exit code %d", rc);
			failure(s, what, why, i, r);
			return;
		}
		if (rc == 2 && r->cmd[i].lines != 1) {
			snprintf(why, sizeof(why),
				 "exit 2 with %d lines on stderr (want 1)",
				 r->cmd[i].lines);
			failure(s, what, why, i, r);
			return;
		}
		s->rc[kind][rc]++;
		refused |= rc == 2;
		all_zero &= rc == 0;
		if (kind == C_VERIFY)
			verify_rc = rc;
		if (rc == 2 &&
		    (kind == C_LS || kind == C_EXTRACT || kind == C_DIFF))
			broken = true;
	}
	if (verify_rc == 0 && broken) {
		failure(s, what,
			"verify passed (exit 0) an image that ls -R, "
			"extract or diff refuses",
			-1, r);
		return;
	}
	s->refused += refused;
	s->reported += !refused && !all_zero;
	s->invisible += all_zero;
	if (region >= 0)
		s->region_refused[region] += refused;
}

/* Run every case, in children that each go on until the end or until a
 * case kills them; then judge every case. */
static void run_cases(struct sweep *s)
{
	char desc[160], why[160];
	uint8_t *buf;
	int region;

	for (unsigned first = 0; first < s->ncases;) {
		struct rusage ru;
		int status;

		*s->current = first;
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0)
			sw_die("fork: %s", strerror(errno));
		if (pid == 0)
			child(s, first);
		if (wait4(pid, &status, 0, &ru) != pid)
			sw_die("wait4: %s", strerror(errno));
		sw_remove_tree(s->extract_dir);
		unsigned k = *s->current;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    s->res[s->ncases - 1].done)
			break;
		/* Case k killed the child, or (all done) a leak report at
		 * its exit. */
		buf = malloc(s->len ? s->len : 1);
		if (!buf)
			sw_die("out of memory");
		make_case(s, k, buf, desc, sizeof(desc), &region);
		free(buf);
		if (s->res[k].done)
			snprintf(why, sizeof(why),
				 "exit status %d at the end of "
				 "cases %u..%u (86: a LeakSanitizer report)",
				 WEXITSTATUS(status), first, k);
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
			snprintf(why, sizeof(why), "hang (over %d s)",
				 SWEEP_TIMEOUT);
		else if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "signal %d",
				 WTERMSIG(status));
		else
			snprintf(why, sizeof(why),
				 "exit status %d (86: "
				 "AddressSanitizer, 87: UBSan)",
				 WEXITSTATUS(status));
		failure(s, desc, why, s->res[k].running - 1, &s->res[k]);
		s->res[k].done = -1; /* judged */
		first = k + 1;
	}
	/* Case 0, the golden image, is checked by the caller. */
	buf = malloc(s->len ? s->len : 1);
	if (!buf)
		sw_die("out of memory");
	for (unsigned k = 1; k < s->ncases; k++) {
		make_case(s, k, buf, desc, sizeof(desc), &region);
		if (s->res[k].done == 1)
			judge(s, k, region, desc);
	}
	free(buf);
}

/* ---- the damage ------------------------------------------------------ */

/* Damage @img (@len bytes) at @off in one of eight ways chosen by @r;
 * describe it in @desc. */
static void corrupt(uint8_t *img, size_t len, size_t off, uint64_t r,
		    char *desc, size_t dsz)
{
	static const uint64_t interesting[] = {
		0,
		1,
		0x7f,
		0x80,
		0xff,
		0x7fff,
		0xffff,
		0x7fffffff,
		0x80000000,
		0xffffffff,
		0x100000000ull,
		0x7fffffffffffffffull,
		0x8000000000000000ull,
		UINT64_MAX,
		4096,
		4095,
	};
	uint64_t v = interesting[(r >> 8) % 16];
	size_t n;

	switch (r % 8) {
	case 0:
		img[off] ^= (uint8_t)(1u << ((r >> 8) % 8));
		snprintf(desc, dsz, "bit flip at %zu", off);
		break;
	case 1:
		img[off] = 0;
		snprintf(desc, dsz, "byte 0x00 at %zu", off);
		break;
	case 2:
		img[off] = 0xff;
		snprintf(desc, dsz, "byte 0xff at %zu", off);
		break;
	case 3:
		img[off] = (uint8_t)(r >> 16);
		snprintf(desc, dsz, "byte 0x%02x at %zu",
			 (unsigned)(uint8_t)(r >> 16), off);
		break;
	case 4:
	case 5:
		n = r % 8 == 4 ? 4 : 8;
		if (r & 0x10000)
			v = (r >> 32) % 2
				    ? len
				    : len + 4096; /* sizes and offsets near the end */
		if (off + n > len)
			off = len - n;
		if (n == 4)
			put_le32(img + off, (uint32_t)v);
		else
			put_le64(img + off, v);
		snprintf(desc, dsz, "le%zu 0x%llx at %zu", n * 8,
			 (unsigned long long)(n == 4 ? (uint32_t)v : v), off);
		break;
	case 6:
		n = 16 + (r >> 8) % 497;
		if (off + n > len)
			n = len - off;
		memset(img + off, 0, n);
		snprintf(desc, dsz, "%zu zero bytes at %zu", n, off);
		break;
	default: {
		size_t from = (size_t)((r >> 16) % (len - 32));
		n = off + 32 > len ? len - off : 32;
		memmove(img + off, img + from, n);
		snprintf(desc, dsz, "%zu bytes copied from %zu to %zu", n, from,
			 off);
	}
	}
}

/* ---- one format and compressor --------------------------------------- */

/* One format and compressor: the golden image, its cases, the tally on
 * stderr and TAP result @tapno; returns the number of failed cases. */
static unsigned sweep_format(const char *dir, const char *format,
			     const char *compress, const char *const *extra,
			     uint64_t seed, const char *name, unsigned tapno)
{
	struct sweep s = {0};
	struct sw_regions regions;
	const char *options[12] = {"--format", format, "--compress", compress};
	size_t nopt = 4;

	for (size_t i = 0; extra && extra[i] && nopt < 11; i++)
		options[nopt++] = extra[i];
	options[nopt] = NULL;
	char *store = sw_path(dir, "store"), *gold = sw_path(dir, "golden.img");
	char *img = sw_path(dir, "case.img"), *errf = sw_path(dir, "stderr");
	char *x = sw_path(dir, "x");
	s.name = name;
	s.image = img;
	s.errfile = errf;
	s.extract_dir = x;

	sw_golden_store(store);
	sw_golden_pack(store, options, gold);
	uint8_t *golden = sw_slurp(gold, &s.len);
	if (!strcmp(format, "erofs"))
		sw_regions_erofs(golden, s.len, &regions);
	else
		sw_regions_squashfs(golden, s.len, &regions);
	s.golden = golden;
	s.regions = &regions;
	s.seed = seed;
	s.ntrunc = (unsigned)((s.len + 4095) / 4096) + 1;
	s.ncases = 1 + s.ntrunc + corruptions();
	size_t shared = s.ncases * sizeof(struct result) + 64;
	s.res = mmap(NULL, shared, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s.res == MAP_FAILED)
		sw_die("mmap: %s", strerror(errno));
	s.current = (volatile unsigned *)(s.res + s.ncases);

	add_cmd(&s, C_INFO, sd_cmd_info, img, NULL, NULL);
	add_cmd(&s, C_VERIFY, sd_cmd_verify, img, NULL, NULL);
	add_cmd(&s, C_LS, sd_cmd_ls, "-R", img, NULL);
	for (size_t i = 0; sw_golden_files[i]; i++)
		add_cmd(&s, C_CAT, sd_cmd_cat, img, sw_golden_files[i], NULL);
	add_cmd(&s, C_EXTRACT, sd_cmd_extract, img, x, NULL);
	add_cmd(&s, C_DIFF, sd_cmd_diff, gold, img, NULL);

	run_cases(&s);

	/* The golden image itself: every command exits 0. */
	if (s.res[0].done != 1)
		sw_die("%s: the golden image fails", name);
	for (int i = 0; i < s.ncmds; i++)
		if (s.res[0].cmd[i].rc != 0)
			sw_die("%s: `%s` exits %d on the golden image: %s",
			       name, s.cmds[i].argv[0], s.res[0].cmd[i].rc,
			       s.res[0].cmd[i].msg);

	fprintf(stderr,
		"sweep %s: %zu-byte golden image; %u cases (%u truncations, "
		"%u corruptions): %u refused by some command (exit 2), %u "
		"reported as findings or differences only (exit 1), %u "
		"changed nothing any command shows, %u failures; per "
		"command (cat: per file of each case):\n",
		name, s.len, s.ncases - 1, s.ntrunc, s.ncases - 1 - s.ntrunc,
		s.refused, s.reported, s.invisible, s.failures);
	for (int k = 0; k < C_KINDS; k++)
		fprintf(stderr,
			"sweep %s:   %-7s exit 0: %5u  exit 1: %5u  "
			"exit 2: %5u\n",
			name, kind_name[k], s.rc[k][0], s.rc[k][1], s.rc[k][2]);
	for (size_t i = 0; i < regions.n; i++)
		fprintf(stderr,
			"sweep %s:   region %-34s %6zu bytes, %4u "
			"cases, %4u refused\n",
			name, regions.r[i].name, regions.r[i].count,
			s.region_cases[i], s.region_refused[i]);
	printf("%s %u - %s: %u cases (%u truncations), %u refused, %u "
	       "failed\n",
	       s.failures ? "not ok" : "ok", tapno, name, s.ncases - 1,
	       s.ntrunc, s.refused, s.failures);
	free(golden);
	sw_regions_release(&regions);
	munmap(s.res, shared);
	if (sw_remove_tree(store) != 0)
		sw_die("cannot remove %s", store);
	free(store);
	free(gold);
	free(img);
	free(errf);
	free(x);
	return s.failures;
}

static const char *const sq_block[] = {"--block-size", "16K", NULL};
static const char *const ztail[] = {"--ztailpacking", "--pcluster-size", "16K",
				    NULL};

static const struct {
	const char *format, *compress;
	const char *const *extra;
} combos[] = {
	{"squashfs", "gzip", sq_block}, {"squashfs", "xz", sq_block},
	{"squashfs", "lz4", sq_block},  {"squashfs", "zstd", sq_block},
	{"squashfs", "none", sq_block}, {"erofs", "none", NULL},
	{"erofs", "lz4", NULL},         {"erofs", "lz4hc", NULL},
	{"erofs", "lz4hc", ztail},      {"erofs", "lzma", NULL},
	{"erofs", "zstd", NULL},
};

/* test-sweep [squashfs|erofs]: every combination of that format (default:
 * both), one TAP result each. */
int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t n = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++)
		n += !only || !strcmp(only, combos[i].format);
	if (n == 0)
		sw_die("unknown format '%s' (squashfs or erofs)", only);
	printf("1..%zu\n", n);
	char *dir = sw_scratch_dir();
	for (size_t i = 0, t = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		char name[96];
		if (only && strcmp(only, combos[i].format))
			continue;
		snprintf(name, sizeof(name), "%s %s", combos[i].format,
			 combos[i].compress);
		for (size_t k = 0; combos[i].extra && combos[i].extra[k]; k++)
			snprintf(name + strlen(name),
				 sizeof(name) - strlen(name), " %s",
				 combos[i].extra[k]);
		t++;
		failed += sweep_format(dir, combos[i].format,
				       combos[i].compress, combos[i].extra,
				       100 + i, name, (unsigned)t) != 0;
	}
	if (sw_remove_tree(dir) != 0)
		sw_die("cannot remove %s", dir);
	free(dir);
	return failed ? 1 : 0;
}
