/* SPDX-License-Identifier: MIT */
#include "cli/interrupt.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile int sd_interrupted;
static char tmp_copy[4096];
static volatile sig_atomic_t have_tmp;
static char dir_copy[4096];
static volatile sig_atomic_t have_dir;

/* Remove dir_copy's files and dir_copy, from a signal handler: open,
 * getdents64, unlinkat and rmdir are system calls, nothing allocates. */
static void remove_dir(void)
{
	int fd = open(dir_copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		char buf[4096];
		long n;
		/* Each pass removes what it listed; again until empty. */
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) >
		       0) {
			for (long off = 0; off < n;) {
				/* struct linux_dirent64: d_ino (8), d_off
				 * (8), d_reclen (2), d_type (1), d_name. */
				unsigned short reclen;
				memcpy(&reclen, buf + off + 16, sizeof(reclen));
				const char *name = buf + off + 19;
				if (reclen == 0)
					break;
				if (strcmp(name, ".") && strcmp(name, ".."))
					unlinkat(fd, name, 0);
				off += reclen;
			}
		}
		close(fd);
	}
	rmdir(dir_copy);
}

static void on_signal(int sig)
{
	if (sd_interrupted) {
		static const char msg[] = "storedisk: interrupted again: "
					  "exiting at once\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		if (have_tmp)
			unlink(tmp_copy);
		if (have_dir)
			remove_dir();
		_exit(128 + sig);
	}
	sd_interrupted = sig;
}

void sd_interrupt_install(const char *tmp_path)
{
	have_tmp = 0;
	if (tmp_path && strlen(tmp_path) < sizeof(tmp_copy)) {
		memcpy(tmp_copy, tmp_path, strlen(tmp_path) + 1);
		have_tmp = 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void sd_interrupt_clear(void)
{
	have_tmp = 0;
}

void sd_interrupt_set_dir(const char *dir)
{
	have_dir = 0;
	if (dir && strlen(dir) < sizeof(dir_copy)) {
		memcpy(dir_copy, dir, strlen(dir) + 1);
		have_dir = 1;
	}
}
