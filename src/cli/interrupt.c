/* SPDX-License-Identifier: MIT */
#include "cli/interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

volatile int sd_interrupted;
static char tmp_copy[4096];
static volatile sig_atomic_t have_tmp;

static void on_signal(int sig)
{
	if (sd_interrupted) {
		if (have_tmp)
			unlink(tmp_copy);
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
