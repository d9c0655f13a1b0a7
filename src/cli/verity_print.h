/* SPDX-License-Identifier: MIT */
/*
 * verity_print.h — a dm-verity tree's parameters (app/verity.h) as pack,
 * info and verify print them.
 */
#ifndef SD_CLI_VERITY_PRINT_H
#define SD_CLI_VERITY_PRINT_H

#include "app/verity.h"
#include "cli/json.h"

/*
 * The value of a "verity" key: {"hash_offset", "data_blocks",
 * "hash_block_size", "data_block_size", "tree_bytes", "hash_algorithm",
 * "salt", "root_hash"}; offsets and sizes in bytes, salt and root hash
 * lowercase hex (so `veritysetup verify --hash-offset=<hash_offset>
 * IMAGE IMAGE <root_hash>` checks the image).
 */
void sd_cli_json_verity(struct sd_json *j, const struct sd_verity *v);

/* The same as text lines on stdout, each starting with @indent. */
void sd_cli_print_verity(const struct sd_verity *v, const char *indent);

#endif
