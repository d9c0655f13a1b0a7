/* SPDX-License-Identifier: MIT */
/*
 * nixdb_rows.h — internal to nixdb.c: the tables of an open Nix database
 * turned into a registration.
 */
#ifndef SD_CLOSURE_NIXDB_ROWS_H
#define SD_CLOSURE_NIXDB_ROWS_H

#include <sqlite3.h>

#include "closure/registration.h"
#include "core/error.h"

/*
 * Check that @db (opened from @db_path, used in messages) has the tables
 * and columns of a Nix database, then read ValidPaths and Refs into a new
 * registration of the paths in @store_dir.  Errors as sd_nixdb_load()
 * (nixdb.h) describes them, except the retrying, which is the caller's.
 */
int sd_nixdb_read_rows(sqlite3 *db, const char *db_path, const char *store_dir,
		       struct sd_registration **out, struct sd_error *err);

#endif
