/* SPDX-License-Identifier: MIT */
/* verity_print.c — a verity tree's parameters printed (verity_print.h). */
#include "cli/verity_print.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/hex.h"

void sd_cli_json_verity(struct sd_json *j, const struct sd_verity *v)
{
	char salt[SD_SHA256_LEN * 2 + 1], root[SD_SHA256_LEN * 2 + 1];
	sd_hex_encode(v->salt, SD_SHA256_LEN, salt);
	sd_hex_encode(v->root, SD_SHA256_LEN, root);
	sd_json_object_begin(j);
	sd_json_kv_u64(j, "hash_offset", v->hash_offset);
	sd_json_kv_u64(j, "data_blocks", v->data_blocks);
	sd_json_kv_u64(j, "data_block_size", SD_VERITY_BLOCK);
	sd_json_kv_u64(j, "hash_block_size", SD_VERITY_BLOCK);
	sd_json_kv_u64(j, "tree_bytes", v->tree_bytes);
	sd_json_kv_string(j, "hash_algorithm", v->algorithm);
	sd_json_kv_string(j, "salt", salt);
	sd_json_kv_string(j, "root_hash", root);
	sd_json_object_end(j);
}

void sd_cli_print_verity(const struct sd_verity *v, const char *indent)
{
	char salt[SD_SHA256_LEN * 2 + 1], root[SD_SHA256_LEN * 2 + 1];
	sd_hex_encode(v->salt, SD_SHA256_LEN, salt);
	sd_hex_encode(v->root, SD_SHA256_LEN, root);
	printf("%sverity root hash: %s\n", indent, root);
	printf("%sverity tree: %s, %u-byte blocks, hash offset %" PRIu64
	       ", %" PRIu64 " data block%s, %" PRIu64 " bytes\n",
	       indent, v->algorithm, SD_VERITY_BLOCK, v->hash_offset,
	       v->data_blocks, v->data_blocks == 1 ? "" : "s", v->tree_bytes);
	printf("%sverity salt: %s\n", indent, salt);
}
