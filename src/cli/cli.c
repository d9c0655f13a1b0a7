/* SPDX-License-Identifier: MIT */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/json.h"
#include "core/hex.h"
#include "core/tree.h"

const char *sd_progname = "storedisk";

/* The first error message of the run, for sd_cli_json_failure. */
static char first_error[1024];

void sd_cli_errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!first_error[0]) {
		va_list aq;
		va_copy(aq, ap);
		vsnprintf(first_error, sizeof(first_error), fmt, aq);
		va_end(aq);
	}
	fprintf(stderr, "%s: error: ", sd_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool sd_cli_wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--json"))
			return true;
	}
	return false;
}

void sd_cli_json_failure(int rc)
{
	if (rc == SD_EXIT_OK || sd_json_stdout_used)
		return;
	struct sd_json j;
	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "error",
			  first_error[0]            ? first_error
			  : rc == SD_EXIT_BAD_INPUT ? "usage error"
						    : "failed");
	sd_json_kv_u64(&j, "exit_code", (uint64_t)rc);
	sd_json_object_end(&j);
	fflush(stdout);
}

void sd_cli_warnf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: warning: ", sd_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const char *sd_plural(unsigned long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void sd_cli_error(const struct sd_error *err)
{
	if (err->msg[0])
		sd_cli_errorf("%s", err->msg);
	else
		sd_cli_errorf("%s", sd_status_str(err->code));
}

bool sd_cli_parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default: break;
	}
	if (*end)
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

bool sd_cli_parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int sd_cli_image_mtime(const char *opt, int64_t *out, struct sd_error *err)
{
	if (opt) {
		if (!sd_cli_parse_i64(opt, out) || *out < 0)
			return sd_error_set(
				err, SD_ERR_USAGE,
				"--mtime: \"%s\" is not a number of "
				"seconds since the epoch",
				opt);
		return SD_OK;
	}
	const char *env = getenv("SOURCE_DATE_EPOCH");
	if (env && *env) {
		if (!sd_cli_parse_i64(env, out) || *out < 0)
			return sd_error_set(
				err, SD_ERR_USAGE,
				"SOURCE_DATE_EPOCH: \"%s\" is not a "
				"number of seconds since the epoch",
				env);
		return SD_OK;
	}
	*out = SD_DEFAULT_MTIME;
	return SD_OK;
}

unsigned sd_cli_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

char *sd_cli_store_dir(const char *arg, struct sd_error *err)
{
	size_t len = strlen(arg);
	while (len > 1 && arg[len - 1] == '/')
		len--;
	if (arg[0] != '/' || len < 2) {
		sd_error_set(err, SD_ERR_USAGE,
			     "--store-dir \"%s\": must be an absolute path "
			     "other than /",
			     arg);
		return NULL;
	}
	char *s = strndup(arg, len);
	if (!s)
		sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	return s;
}

bool sd_cli_parse_uuid(const char *s, uint8_t out[16])
{
	size_t n = 0;
	for (size_t i = 0; s[i]; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		int hi = sd_hex_digit((unsigned char)s[i]);
		int lo = s[i + 1] ? sd_hex_digit((unsigned char)s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || n == 16)
			return false;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return n == 16 && strlen(s) == 36;
}
