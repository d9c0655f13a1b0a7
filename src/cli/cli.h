/* SPDX-License-Identifier: MIT */
/*
 * cli.h — what the subcommand front-ends share: exit codes, message
 * printing and small option parsers.  Only the CLI prints.
 */
#ifndef SD_CLI_CLI_H
#define SD_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* Exit codes (documented in the README and the man page). */
enum sd_exit {
	SD_EXIT_OK = 0,        /* success; verify: self-contained */
	SD_EXIT_FOUND = 1,     /* verify: violations found; other: failure */
	SD_EXIT_BAD_INPUT = 2, /* usage error, unreadable/corrupt image */
};

extern const char *sd_progname;

/* "storedisk: <msg>" on stderr. */
void sd_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sd_cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err->msg (or the status string) as an error. */
void sd_cli_error(const struct sd_error *err);

/* @one when @n is 1, else @many: "%zu path%s" with sd_plural(n, "", "s"),
 * "%zu %s" with sd_plural(n, "entry", "entries"). */
const char *sd_plural(unsigned long long n, const char *one, const char *many);

/* Does the command line (argv[0] the command) ask for --json (before any
 * "--")? */
bool sd_cli_wants_json(int argc, char **argv);

/*
 * A --json command that ends with exit code @rc != 0 without having
 * started its JSON document on stdout prints {"error": MESSAGE,
 * "exit_code": RC} there instead: MESSAGE is the run's first error
 * (sd_cli_errorf, also on stderr), else "usage error" (exit 2) or
 * "failed".  Scripts reading stdout get a document on every outcome.
 */
void sd_cli_json_failure(int rc);

/* Parse a non-negative decimal integer with optional K/M/G suffix
 * (binary). Returns false on garbage or overflow. */
bool sd_cli_parse_size(const char *s, uint64_t *out);

/* Parse a decimal integer (may be negative). */
bool sd_cli_parse_i64(const char *s, int64_t *out);

/*
 * The image time: @opt (--mtime) if not NULL, else SOURCE_DATE_EPOCH if set,
 * else SD_DEFAULT_MTIME.  Errors (not a number) set @err.
 */
int sd_cli_image_mtime(const char *opt, int64_t *out, struct sd_error *err);

/*
 * Normalise a --store-dir value: absolute, no trailing slashes ("/" alone
 * is refused).  Returns a new string, or NULL with @err set.
 */
char *sd_cli_store_dir(const char *arg, struct sd_error *err);

/* Parse a UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex, any case). */
bool sd_cli_parse_uuid(const char *s, uint8_t out[16]);

/* Number of online CPUs (>= 1). */
unsigned sd_cli_ncpus(void);

/* Subcommands: argv[0] is the subcommand name. */
int sd_cmd_closure(int argc, char **argv);
int sd_cmd_pack(int argc, char **argv);
int sd_cmd_verify(int argc, char **argv);
int sd_cmd_registration(int argc, char **argv);
int sd_cmd_why(int argc, char **argv);
int sd_cmd_ls(int argc, char **argv);
int sd_cmd_cat(int argc, char **argv);
int sd_cmd_extract(int argc, char **argv);
int sd_cmd_diff(int argc, char **argv);
int sd_cmd_export(int argc, char **argv);
int sd_cmd_info(int argc, char **argv);
int sd_cmd_cache(int argc, char **argv);
int sd_cmd_layers(int argc, char **argv);
int sd_cmd_vmcheck(int argc, char **argv);

#endif
