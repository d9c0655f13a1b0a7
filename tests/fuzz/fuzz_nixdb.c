/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nixdb.c — fuzz target for reading a Nix database's rows
 * (closure/nixdb_rows.h): the input is the bytes of an SQLite file, opened
 * read-only in memory (sqlite3_deserialize), then checked for Nix's schema
 * and read into a registration.  Most mutations are rejected by SQLite
 * itself; the seeds (tests/fuzz/corpus/nixdb, made by tests/cli/mknixdb.py)
 * are valid databases whose rows mutate into odd paths, hashes, sizes and
 * references.  Any result is fine except a crash, a sanitizer report, a
 * hang, or a failure without a one-line reason (abort()).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "closure/nixdb_rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	unsigned char *copy = sqlite3_malloc64(size ? size : 1);
	if (!copy) {
		sqlite3_close(db);
		return 0;
	}
	memcpy(copy, data, size);
	if (sqlite3_deserialize(db, "main", copy, size, size,
				SQLITE_DESERIALIZE_FREEONCLOSE |
					SQLITE_DESERIALIZE_READONLY) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	struct sd_registration *reg = NULL;
	struct sd_error err;
	sd_error_init(&err);
	int rc =
		sd_nixdb_read_rows(db, "fuzz.sqlite", "/nix/store", &reg, &err);
	if (rc && (err.msg[0] == '\0' || strchr(err.msg, '\n')))
		abort();
	sd_registration_free(reg);
	sqlite3_close(db);
	return 0;
}
