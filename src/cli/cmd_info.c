/* SPDX-License-Identifier: MIT */
/*
 * storedisk info — what an image is made of and the oldest kernel that
 * mounts it (front-end of app/imageinfo.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app/imageinfo.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/verity_print.h"
#include "core/hex.h"
#include "core/kver.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk info [--json] IMAGE\n"
		"Describe a squashfs or EROFS image: format, compressors, "
		"block and physical\ncluster size, the features it uses, "
		"inode and entry counts, label, UUID,\nsize, and the minimum kernel: "
		"the oldest Linux release that mounts it, from the\n"
		"features actually used (each feature's first kernel is "
		"listed with it).\n\n"
		"  --json             one JSON document: image, format, "
		"image_bytes, fs_bytes,\n"
		"                     block_size, pcluster_size, "
		"compressors, features, inodes,\n"
		"                     files, directories, symlinks, others, "
		"label, uuid,\n"
		"                     build_time, min_kernel, "
		"min_kernel_by, kernel_config,\n"
		"                     verity (null, or hash_offset, "
		"data_blocks, hash_algorithm,\n"
		"                     salt, root_hash, ...: "
		"`veritysetup verify --hash-offset=\n"
		"                     <hash_offset> IMAGE IMAGE <root_hash>` "
		"checks it)\n"
		"  -h, --help         this help\n\n"
		"min_kernel is about the version; the kernel must also be "
		"built with the\noptions listed as kernel_config (Debian's "
		"6.1 lacks CONFIG_EROFS_FS_ZIP_LZMA).\n"
		"Exit codes: 0 described, 2 usage error or unreadable "
		"image.\n");
}

static void print_items(const char *title, const struct sd_info_item *it,
			size_t n)
{
	char v[32];

	printf("%-16s", title);
	if (n == 0)
		fputs("none", stdout);
	for (size_t i = 0; i < n; i++) {
		printf("%s%s", i ? ", " : "", it[i].name);
		if (!it[i].kernel)
			continue;
		sd_kver_format(it[i].kernel->since, v, sizeof(v));
		printf(" (%s%s)", v, it[i].kernel->compat ? ", compat" : "");
	}
	fputc('\n', stdout);
}

static void print_text(const char *path, const struct sd_info *in)
{
	const struct sd_image_info *im = &in->image;
	char v[32], uuid[37];

	printf("%-16s%s\n", "image:", path);
	printf("%-16s%s\n", "format:", in->format);
	printf("%-16s%" PRIu64 " bytes (filesystem %" PRIu64 ")\n",
	       "size:", im->image_bytes, im->fs_bytes);
	printf("%-16s%" PRIu32 "\n", "block size:", im->block_size);
	if (im->pcluster_size)
		printf("%-16s%" PRIu32 "\n",
		       "pcluster size:", im->pcluster_size);
	print_items("compressors:", in->compressors, in->ncompressors);
	print_items("features:", in->features, in->nfeatures);
	printf("%-16s%" PRIu64 "\n", "inodes:", im->inodes);
	printf("%-16s%" PRIu64 " file%s, %" PRIu64 " director%s, %" PRIu64
	       " symlink%s, %" PRIu64 " other\n",
	       "entries:", im->files, im->files == 1 ? "" : "s", im->dirs,
	       im->dirs == 1 ? "y" : "ies", im->symlinks,
	       im->symlinks == 1 ? "" : "s", im->others);
	printf("%-16s", "label:");
	if (im->has_label) {
		fputc('"', stdout);
		for (const char *p = im->label; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == '"' ||
			    *p == '\\' || (unsigned char)*p >= 0x7f)
				printf("\\x%02x", (unsigned char)*p);
			else
				fputc(*p, stdout);
		fputs("\"\n", stdout);
	} else {
		fputs("none\n", stdout);
	}
	if (im->has_uuid)
		sd_uuid_format(im->uuid, uuid);
	printf("%-16s%s\n", "uuid:", im->has_uuid ? uuid : "none");
	printf("%-16s%" PRId64 "\n", "build time:", im->build_time);
	sd_kver_format(in->min_kernel, v, sizeof(v));
	printf("%-16s%s", "min kernel:", v);
	if (in->min_kernel_by)
		printf(" (%s)", in->min_kernel_by);
	fputc('\n', stdout);
	printf("%-16s", "kernel config:");
	for (size_t i = 0; i < in->nconfigs; i++)
		printf("%s%s", i ? " " : "", in->configs[i]);
	fputc('\n', stdout);
	if (in->has_verity) {
		char salt[SD_SHA256_LEN * 2 + 1], root[SD_SHA256_LEN * 2 + 1];
		const struct sd_verity *vt = &in->verity;
		sd_hex_encode(vt->salt, SD_SHA256_LEN, salt);
		sd_hex_encode(vt->root, SD_SHA256_LEN, root);
		printf("%-16s%s, %u-byte blocks, %" PRIu64 " data block%s\n",
		       "verity:", vt->algorithm, SD_VERITY_BLOCK,
		       vt->data_blocks, vt->data_blocks == 1 ? "" : "s");
		printf("%-16s%" PRIu64 " (tree %" PRIu64 " bytes)\n",
		       "  hash offset:", vt->hash_offset, vt->tree_bytes);
		printf("%-16s%s\n", "  salt:", salt);
		printf("%-16s%s\n", "  root hash:", root);
		/* The device-mapper table of dm-verity (the kernel's
		 * verity.rst): DEV the disk, ROOT the root hash kept apart
		 * (IMAGE.roothash), not the one computed above from the
		 * image itself. */
		printf("%-16s0 %" PRIu64 " verity 1 DEV DEV %u %u %" PRIu64
		       " %" PRIu64 " %s ROOT %s\n",
		       "  dm table:", vt->data_blocks * (SD_VERITY_BLOCK / 512),
		       SD_VERITY_BLOCK, SD_VERITY_BLOCK, vt->data_blocks,
		       vt->hash_offset / SD_VERITY_BLOCK + 1, vt->algorithm,
		       salt);
	} else if (in->verity_problem[0]) {
		printf("%-16s%s\n", "verity:", in->verity_problem);
	} else {
		printf("%-16s%s\n", "verity:", "none");
	}
}

static void json_items(struct sd_json *j, const char *key,
		       const struct sd_info_item *it, size_t n)
{
	char v[32];

	sd_json_key(j, key);
	sd_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		const struct sd_kfeature *k = it[i].kernel;
		sd_json_object_begin(j);
		sd_json_kv_string(j, "name", it[i].name);
		if (k)
			sd_kver_format(k->since, v, sizeof(v));
		sd_json_kv_string(j, "since", k ? v : NULL);
		sd_json_kv_bool(j, "compat", k && k->compat);
		sd_json_kv_string(j, "what", k ? k->what : NULL);
		sd_json_kv_string(j, "config", k ? k->config : NULL);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
}

static void print_json(const char *path, const struct sd_info *in)
{
	const struct sd_image_info *im = &in->image;
	struct sd_json j;
	char v[32], uuid[37];

	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "image", path);
	sd_json_kv_string(&j, "format", in->format);
	sd_json_kv_u64(&j, "image_bytes", im->image_bytes);
	sd_json_kv_u64(&j, "fs_bytes", im->fs_bytes);
	sd_json_kv_u64(&j, "block_size", im->block_size);
	sd_json_kv_u64(&j, "pcluster_size", im->pcluster_size);
	json_items(&j, "compressors", in->compressors, in->ncompressors);
	json_items(&j, "features", in->features, in->nfeatures);
	sd_json_kv_u64(&j, "inodes", im->inodes);
	sd_json_kv_u64(&j, "files", im->files);
	sd_json_kv_u64(&j, "directories", im->dirs);
	sd_json_kv_u64(&j, "symlinks", im->symlinks);
	sd_json_kv_u64(&j, "others", im->others);
	sd_json_kv_string(&j, "label", im->has_label ? im->label : NULL);
	if (im->has_uuid)
		sd_uuid_format(im->uuid, uuid);
	sd_json_kv_string(&j, "uuid", im->has_uuid ? uuid : NULL);
	sd_json_key(&j, "build_time");
	sd_json_i64(&j, im->build_time);
	sd_kver_format(in->min_kernel, v, sizeof(v));
	sd_json_kv_string(&j, "min_kernel",
			  in->min_kernel == SD_KVER_NEVER ? NULL : v);
	sd_json_kv_string(&j, "min_kernel_by", in->min_kernel_by);
	sd_json_key(&j, "kernel_config");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < in->nconfigs; i++)
		sd_json_string(&j, in->configs[i]);
	sd_json_array_end(&j);
	if (in->has_verity) {
		sd_json_key(&j, "verity");
		sd_cli_json_verity(&j, &in->verity);
	} else {
		sd_json_kv_string(&j, "verity", NULL);
	}
	sd_json_kv_string(&j, "verity_problem",
			  in->verity_problem[0] ? in->verity_problem : NULL);
	sd_json_object_end(&j);
}

int sd_cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (argc - optind != 1) {
		sd_cli_errorf("info takes one IMAGE");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	const char *path = argv[optind];
	struct sd_info info;
	struct sd_error err;
	sd_error_init(&err);
	if (sd_info_read(path, &info, &err)) {
		sd_cli_error(&err);
		return SD_EXIT_BAD_INPUT;
	}
	if (json)
		print_json(path, &info);
	else
		print_text(path, &info);
	return SD_EXIT_OK;
}
