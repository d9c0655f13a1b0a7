/* SPDX-License-Identifier: MIT */
/* storedisk pack — pack a closure into a disk image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/baseimage.h"
#include "app/digestfile.h"
#include "app/kernelcheck.h"
#include "app/pack.h"
#include "app/verity.h"
#include "core/atomicfile.h"
#include "core/compcache.h"
#include "app/rootlinks.h"
#include "cli/cli.h"
#include "cli/closure_opts.h"
#include "cli/interrupt.h"
#include "cli/json.h"
#include "core/kver.h"
#include "cli/mentions.h"
#include "cli/progress.h"
#include "cli/verity_print.h"
#include "cli/pack_input.h"

/* --cache-max when not given: 10 GiB (ccache keeps 5 GB, sccache 10 GiB;
 * one 2 GB closure's compressed data takes about 1 GB). */
#define SD_PACK_CACHE_MAX_DEFAULT (10ull << 30)

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk pack -o IMAGE [OPTIONS] ROOT...\n"
		"Pack the closure of the ROOTs into a reproducible, read-only "
		"image whose root\nis the store directory (mount it at "
		"/nix/store).\n\n"
		"  -o, --output IMAGE     the image to write (appears "
		"atomically); its\n"
		"                         directory must exist and be "
		"writable (checked first)\n"
		"  --format FMT           squashfs (default) or erofs\n"
		"  --compress ALG[:LEVEL] squashfs: gzip, xz, lz4, zstd "
		"(default) or none;\n"
		"                         erofs: none (default), lz4, "
		"lz4hc, lzma or zstd\n"
		"  --block-size N         squashfs data block size, 4K..1M, a "
		"power of two\n"
		"                         (default 128K); EROFS blocks are "
		"always 4K\n"
		"  --jobs N               threads that read and compress "
		"(default: number of\n"
		"                         CPUs; squashfs: the writing thread "
		"is one of them,\n"
		"                         so 1 runs on one thread); the image "
		"bytes do not\n"
		"                         depend on it\n"
		"  --mtime SECONDS        the time of every entry (default: "
		"SOURCE_DATE_EPOCH,\n"
		"                         else %d)\n"
		"  --label LABEL          volume label (EROFS; default "
		"nix-store)\n"
		"  --uuid UUID            volume UUID (EROFS; default: derived "
		"from the content)\n"
		"  --pcluster-size N      EROFS physical cluster size, 4K..1M "
		"(default 4K)\n"
		"  --ztailpacking         EROFS with --compress: a compressed "
		"file's last pcluster\n"
		"                         inline after its indexes (smaller "
		"images; needs Linux 5.17)\n"
		"  --min-kernel X.Y[.Z]   refuse options Linux X.Y cannot "
		"mount and avoid\n"
		"                         later features (EROFS: no "
		"chunk-based files before 5.15);\n"
		"                         compressors need: squashfs gzip, "
		"none 2.6.29, xz 2.6.38,\n"
		"                         lz4 3.19, zstd 4.14; erofs 5.4, "
		"lz4/lz4hc 5.4, lzma 5.16,\n"
		"                         zstd 6.10, --pcluster-size over 4K "
		"5.13,\n"
		"                         --ztailpacking 5.17\n"
		"  --embed-registration   put the closure's registration "
		"(nix-store --load-db\n"
		"                         format: narHash, narSize, "
		"references) at the image\n"
		"                         root as nix-path-registration; "
		"derivers are left\n"
		"                         empty (as closureInfo does): the "
		"same bytes from\n"
		"                         --db, --registration, --paths, "
		"--scan, --tar and\n"
		"                         --nix-export\n"
		"  --registration-out F   write that registration to F too\n"
		"  --keep-derivers        copy derivers into it where the "
		"source has them (--db,\n"
		"                         --registration, --nix-export)\n"
		"  --root-symlink NAME=TARGET\n"
		"                         a symlink NAME at the image root to "
		"the store path\n"
		"                         TARGET (/nix/store/<hash>-<name>[/sub], "
		"its basename\n"
		"                         or a link such as ./result), e.g. "
		"system=./result;\n"
		"                         stored relative; repeatable; TARGET "
		"must be in the image\n"
		"  --tar FILE|-           pack the store paths in a tar "
		"stream (entries\n"
		"                         [/]nix/store/<hash>-<name>/...) "
		"instead of a store;\n"
		"                         all its paths are the closure\n"
		"  --nix-export FILE|-    pack a `nix-store --export` stream "
		"(its references\n"
		"                         must be complete unless "
		"--allow-missing)\n"
		"  --cache DIR            keep compressed data in the "
		"compression cache DIR\n"
		"                         (created if missing) and reuse "
		"it: a re-pack\n"
		"                         compresses only what changed; the "
		"image bytes do not\n"
		"                         depend on it; a cache that cannot "
		"be used is skipped\n"
		"                         with a warning\n"
		"  --cache-max SIZE       after packing, remove least "
		"recently used entries\n"
		"                         until the cache uses at most SIZE "
		"(K, M, G, T;\n"
		"                         default 10G; 0: no limit)\n"
		"  --base BASE.img        pack a layer over BASE (repeatable): "
		"the store paths\n"
		"                         that a BASE holds (same name at its "
		"root) are left\n"
		"                         out; a BASE whose embedded "
		"registration gives another\n"
		"                         narHash than the closure's source "
		"is refused; with\n"
		"                         --embed-registration the layer's "
		"registration covers\n"
		"                         the union (base paths from the "
		"bases' registrations)\n"
		"  --fsync                flush the image to disk before "
		"renaming it into\n"
		"                         place (durable across a power loss; "
		"slower)\n"
		"  --digest-out FILE      write the image's SHA-256 in "
		"sha256sum format to FILE\n"
		"                         (default: IMAGE.sha256)\n"
		"  --no-digest            write no digest file\n"
		"  --verity               append a dm-verity hash tree "
		"(SHA-256, 4K blocks,\n"
		"                         salt from the image) past the "
		"filesystem's end and\n"
		"                         write its root hash to "
		"IMAGE.roothash\n"
		"  --roothash-out FILE    write the root hash there instead "
		"(needs --verity)\n"
		"  --json                 print the summary as a JSON object "
		"on stdout\n"
		"  -q, --quiet            print nothing on success (and no "
		"progress line, which\n"
		"                         is otherwise drawn on stderr when it "
		"is a terminal\n"
		"                         and TERM is set and not dumb, outside a "
		"Nix build);\n"
		"                         --json still prints its document\n"
		"  -h, --help             this help\n\n",
		SD_DEFAULT_MTIME);
	sd_closure_cli_help(f);
	fprintf(f,
		"\nMetadata is normalised: owner 0:0, directories 0555, files "
		"0444 or 0555\n(owner-exec bit of the source), symlinks 0777, "
		"one mtime, no xattrs,\nhard links dereferenced, identical "
		"contents stored once.\n"
		"Exit codes: 0 success, 1 failure (nothing is left at IMAGE), "
		"2 usage error.\n");
}

static bool parse_compress(const char *arg, struct sd_write_options *w)
{
	static char name[16];
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	if (len == 0 || len >= sizeof(name))
		return false;
	memcpy(name, arg, len);
	name[len] = '\0';
	w->compressor = name;
	w->level = -1;
	if (colon) {
		int64_t level;
		if (!sd_cli_parse_i64(colon + 1, &level) || level < 0 ||
		    level > 100)
			return false;
		w->level = (int)level;
	}
	return true;
}

/* IMAGE.sha256 (or @out) for `sha256sum -c` on the receiving host. */
static int write_digest(const char *image, const char *out,
			const uint8_t digest[SD_SHA256_LEN],
			struct sd_error *err)
{
	if (out)
		return sd_digestfile_write(out, image, digest, err);
	size_t len = strlen(image) + sizeof(".sha256");
	char *path = malloc(len);
	if (!path)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	snprintf(path, len, "%s.sha256", image);
	int rc = sd_digestfile_write(path, image, digest, err);
	free(path);
	return rc;
}

/* Where the root hash goes: @out, else IMAGE.roothash (malloc'd; NULL:
 * out of memory). */
static char *roothash_path(const char *image, const char *out)
{
	if (out)
		return strdup(out);
	size_t len = strlen(image) + sizeof(".roothash");
	char *path = malloc(len);
	if (path)
		snprintf(path, len, "%s.roothash", image);
	return path;
}

/*
 * Refuse before any work an output that cannot be written: IMAGE, the
 * digest file and the registration copy (core/atomicfile.h).
 */
static int check_outputs(const struct sd_pack_options *po,
			 const char *digest_out, bool no_digest,
			 const char *roothash_out, struct sd_error *err)
{
	if (sd_atomic_check(po->output, err))
		return sd_error_prefix(err, err->code, "-o");
	if (po->verity) {
		char *rh = roothash_path(po->output, roothash_out);
		if (!rh)
			return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		int rc = sd_atomic_check(rh, err);
		free(rh);
		if (rc)
			return sd_error_prefix(err, rc, "root hash file");
	}
	if (po->registration_out && sd_atomic_check(po->registration_out, err))
		return sd_error_prefix(err, err->code, "--registration-out");
	if (no_digest)
		return 0;
	if (digest_out)
		return sd_atomic_check(digest_out, err)
			       ? sd_error_prefix(err, err->code, "--digest-out")
			       : 0;
	size_t len = strlen(po->output) + sizeof(".sha256");
	char *path = malloc(len);
	if (!path)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	snprintf(path, len, "%s.sha256", po->output);
	int rc = sd_atomic_check(path, err);
	free(path);
	return rc ? sd_error_prefix(err, rc, "digest file") : 0;
}

static void on_tmp(const char *tmp_path)
{
	sd_interrupt_install(tmp_path);
}

/* The images given with --base, read. */
struct pack_bases {
	const char **paths; /* as given */
	size_t n;
	struct sd_base_image *img; /* n of them once loaded */
	size_t *held;              /* closure paths each one holds */
	size_t nheld;              /* closure paths some base holds */
};

static bool bases_push(struct pack_bases *pb, const char *path)
{
	const char **p = realloc(pb->paths, (pb->n + 1) * sizeof(*p));
	if (!p)
		return false;
	pb->paths = p;
	pb->paths[pb->n++] = path;
	return true;
}

/*
 * Read every base (exit 2 on failure: a BASE is an input).  @output, the
 * image to write, must not be one of them: the rename at the end would
 * put the layer in the base's place.
 */
static int bases_load(struct pack_bases *pb, const char *store_dir_arg,
		      const char *output, struct sd_error *err)
{
	if (!pb->n)
		return 0;
	struct stat ost, bst;
	for (size_t i = 0; output && i < pb->n; i++)
		if (stat(output, &ost) == 0 && stat(pb->paths[i], &bst) == 0 &&
		    ost.st_dev == bst.st_dev && ost.st_ino == bst.st_ino)
			return sd_error_set(err, SD_ERR_USAGE,
					    "-o %s is the base %s: a layer "
					    "cannot take its base's place "
					    "(write it to another file)",
					    output, pb->paths[i]);
	char *store_dir = sd_cli_store_dir(
		store_dir_arg ? store_dir_arg : SD_DEFAULT_STORE_DIR, err);
	if (!store_dir)
		return err->code;
	pb->img = calloc(pb->n, sizeof(*pb->img));
	pb->held = calloc(pb->n, sizeof(*pb->held));
	int rc = pb->img && pb->held
			 ? 0
			 : sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < pb->n; i++) {
		rc = sd_base_image_init(&pb->img[i], pb->paths[i], store_dir,
					err);
		if (rc)
			sd_error_prefix(err, rc, "--base");
	}
	free(store_dir);
	return rc;
}

static void bases_release(struct pack_bases *pb)
{
	for (size_t i = 0; pb->img && i < pb->n; i++)
		sd_base_image_release(&pb->img[i]);
	free(pb->img);
	free(pb->held);
	free(pb->paths);
}

/*
 * The basenames of the closure's paths that no base holds into @bases
 * (*@n of them); a base whose registration contradicts the closure's
 * source is SD_ERR_USAGE.
 */
static int bases_filter(struct pack_bases *pb, const struct sd_closure *cl,
			const char **bases, size_t *n, struct sd_error *err)
{
	*n = 0;
	for (size_t i = 0; i < cl->npaths; i++) {
		const struct sd_closure_path *p = &cl->paths[i];
		bool held = false;
		for (size_t b = 0; b < pb->n; b++) {
			int rc = sd_base_image_contradiction(&pb->img[b], p,
							     err);
			if (rc)
				return rc;
			if (!held && sd_base_image_has(&pb->img[b], p->sp->base,
						       p->sp->base_len)) {
				held = true;
				pb->held[b]++;
			}
		}
		if (held)
			pb->nheld++;
		else
			bases[(*n)++] = p->sp->base;
	}
	return 0;
}

/* The summary as a JSON object (pack --json). */
static void print_json(const struct sd_pack_options *po,
		       const struct sd_pack_result *res,
		       const struct pack_bases *pb, const char *digest_hex)
{
	struct sd_json j;
	sd_json_init(&j, stdout);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "image", po->output);
	sd_json_kv_string(&j, "format", po->format->name);
	sd_json_kv_string(&j, "compressor", po->write.compressor);
	sd_json_kv_u64(&j, "store_paths", res->npaths);
	sd_json_kv_u64(&j, "store_paths_from_bases", pb->nheld);
	sd_json_key(&j, "bases");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < pb->n; i++) {
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "image", pb->paths[i]);
		sd_json_kv_string(&j, "format", pb->img[i].format);
		sd_json_kv_u64(&j, "store_paths", pb->img[i].nbases);
		sd_json_kv_u64(&j, "store_paths_used", pb->held[i]);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_kv_u64(&j, "files", res->nfiles);
	sd_json_kv_u64(&j, "directories", res->ndirs);
	sd_json_kv_u64(&j, "symlinks", res->nsymlinks);
	sd_json_kv_u64(&j, "bytes_in", res->bytes_in);
	sd_json_kv_u64(&j, "duplicate_files", res->write.files_deduplicated);
	sd_json_kv_u64(&j, "image_size", res->write.image_bytes);
	sd_json_kv_string(&j, "sha256", digest_hex);
	if (po->verity) {
		sd_json_key(&j, "verity");
		sd_cli_json_verity(&j, &res->verity);
	} else {
		sd_json_kv_string(&j, "verity", NULL);
	}
	/* Wall time per phase and in all, in seconds as every --json gives
	 * times (app/pack.h, sd_pack_seconds). */
	const struct sd_pack_seconds *t = &res->seconds;
	sd_json_key(&j, "phase_seconds");
	sd_json_object_begin(&j);
	sd_json_key(&j, "tree");
	sd_json_seconds(&j, t->tree);
	sd_json_key(&j, "prepare");
	sd_json_seconds(&j, t->prepare);
	sd_json_key(&j, "write");
	sd_json_seconds(&j, t->write);
	sd_json_key(&j, "finish");
	sd_json_seconds(&j, t->finish);
	sd_json_object_end(&j);
	sd_json_key(&j, "seconds");
	sd_json_seconds(&j, t->tree + t->prepare + t->write + t->finish);
	/* Of finish: the verity tree and the digest that comes with it. */
	sd_json_key(&j, "verity_seconds");
	sd_json_seconds(&j, t->verity);
	sd_json_object_end(&j);
}

/* A reference the bases resolve (sd_packscan_opts.held). */
static bool bases_hold(void *ctx, const char *hash)
{
	const struct pack_bases *pb = ctx;
	for (size_t i = 0; i < pb->n; i++)
		if (sd_base_image_has_hash(&pb->img[i], hash))
			return true;
	return false;
}

/* pack, with @pb (the bases) released by the caller. */
static int pack_main(int argc, char **argv, struct pack_bases *pbp)
{
	static const struct option longopts[] = {
		SD_CLOSURE_LONGOPTS,
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"compress", required_argument, NULL, 'c'},
		{"block-size", required_argument, NULL, 'b'},
		{"jobs", required_argument, NULL, 'j'},
		{"mtime", required_argument, NULL, 'm'},
		{"label", required_argument, NULL, 'L'},
		{"uuid", required_argument, NULL, 'U'},
		{"pcluster-size", required_argument, NULL, 'P'},
		{"ztailpacking", no_argument, NULL, 'Z'},
		{"min-kernel", required_argument, NULL, 'K'},
		{"quiet", no_argument, NULL, 'q'},
		{"fsync", no_argument, NULL, 'F'},
		{"embed-registration", no_argument, NULL, 'E'},
		{"registration-out", required_argument, NULL, 'R'},
		{"keep-derivers", no_argument, NULL, 'k'},
		{"tar", required_argument, NULL, 'T'},
		{"nix-export", required_argument, NULL, 'X'},
		{"digest-out", required_argument, NULL, 'D'},
		{"no-digest", no_argument, NULL, 'N'},
		{"verity", no_argument, NULL, 'V'},
		{"roothash-out", required_argument, NULL, 'H'},
		{"root-symlink", required_argument, NULL, 'Y'},
		{"cache", required_argument, NULL, 'C'},
		{"cache-max", required_argument, NULL, 'M'},
		{"base", required_argument, NULL, 'B'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* pack walks every path as it builds its tree: the closure's
	 * sizes would be a second walk of the store, never used */
	struct sd_closure_cli cc = {.no_bytes = true};
	struct sd_pack_options po = {0};
	const char *format = "squashfs", *mtime_arg = NULL;
	bool quiet = false, no_digest = false, json = false;
	const char *digest_out = NULL, *roothash_out = NULL;
	uint64_t v;
	const char *tar_in = NULL, *export_in = NULL;
	struct sd_root_links links = {0};
	const char *cache_dir = NULL;
	uint64_t cache_max = SD_PACK_CACHE_MAX_DEFAULT;
	bool cache_max_set = false;
	po.write.level = -1;
	po.write.jobs = sd_cli_ncpus();
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		if (sd_closure_cli_option(&cc, c, optarg))
			continue;
		switch (c) {
		case 'o': po.output = optarg; break;
		case 'f': format = optarg; break;
		case 'c':
			if (!parse_compress(optarg, &po.write)) {
				sd_cli_errorf("--compress: bad value \"%s\"",
					      optarg);
				return SD_EXIT_BAD_INPUT;
			}
			break;
		case 'b':
			if (!sd_cli_parse_size(optarg, &v) || v > UINT32_MAX) {
				sd_cli_errorf("--block-size: bad size \"%s\"",
					      optarg);
				return SD_EXIT_BAD_INPUT;
			}
			po.write.block_size = (uint32_t)v;
			break;
		case 'j':
			if (!sd_cli_parse_size(optarg, &v) || v < 1 ||
			    v > 1024) {
				sd_cli_errorf(
					"--jobs: want 1..1024, got \"%s\"",
					optarg);
				return SD_EXIT_BAD_INPUT;
			}
			po.write.jobs = (unsigned)v;
			break;
		case 'm': mtime_arg = optarg; break;
		case 'L': po.write.label = optarg; break;
		case 'U':
			if (!sd_cli_parse_uuid(optarg, po.write.uuid)) {
				sd_cli_errorf("--uuid: \"%s\" is not a UUID",
					      optarg);
				return SD_EXIT_BAD_INPUT;
			}
			po.write.has_uuid = true;
			break;
		case 'P':
			if (!sd_cli_parse_size(optarg, &v) || v > UINT32_MAX) {
				sd_cli_errorf(
					"--pcluster-size: bad size \"%s\"",
					optarg);
				return SD_EXIT_BAD_INPUT;
			}
			po.write.pcluster_size = (uint32_t)v;
			break;
		case 'Z': po.write.ztailpacking = true; break;
		case 'K':
			if (!sd_kver_parse(optarg, &po.write.min_kernel)) {
				sd_cli_errorf(
					"--min-kernel: bad version \"%s\" "
					"(X.Y or X.Y.Z)",
					optarg);
				return SD_EXIT_BAD_INPUT;
			}
			break;
		case 'q': quiet = true; break;
		case 'J': json = true; break;
		case 'F': po.fsync = true; break;
		case 'E': po.embed_registration = true; break;
		case 'R': po.registration_out = optarg; break;
		case 'k': po.keep_derivers = true; break;
		case 'T': tar_in = optarg; break;
		case 'X': export_in = optarg; break;
		case 'D': digest_out = optarg; break;
		case 'N': no_digest = true; break;
		case 'V': po.verity = true; break;
		case 'H': roothash_out = optarg; break;
		case 'Y':
			if (sd_root_links_push(&links, optarg, NULL)) {
				sd_cli_errorf("out of memory");
				return SD_EXIT_FOUND;
			}
			break;
		case 'C': cache_dir = optarg; break;
		case 'M':
			if (!sd_cli_parse_size(optarg, &cache_max)) {
				sd_cli_errorf("--cache-max: bad size \"%s\"",
					      optarg);
				return SD_EXIT_BAD_INPUT;
			}
			cache_max_set = true;
			break;
		case 'B':
			if (!bases_push(pbp, optarg)) {
				sd_cli_errorf("out of memory");
				return SD_EXIT_FOUND;
			}
			break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	struct sd_error err;
	sd_error_init(&err);
	if (!po.output) {
		sd_cli_errorf("pack needs -o IMAGE");
		return SD_EXIT_BAD_INPUT;
	}
	if (roothash_out && !po.verity) {
		sd_cli_errorf("--roothash-out needs --verity");
		return SD_EXIT_BAD_INPUT;
	}
	if (cache_max_set && !cache_dir) {
		sd_cli_errorf("--cache-max needs --cache DIR");
		return SD_EXIT_BAD_INPUT;
	}
	if (cache_dir && !*cache_dir) {
		sd_cli_errorf("--cache: empty directory name");
		return SD_EXIT_BAD_INPUT;
	}
	if (po.keep_derivers && !po.embed_registration &&
	    !po.registration_out) {
		sd_cli_errorf("--keep-derivers needs --embed-registration or "
			      "--registration-out");
		return SD_EXIT_BAD_INPUT;
	}
	if (pbp->n && (tar_in || export_in)) {
		sd_cli_errorf("--base needs a store: it does not work with "
			      "--tar or --nix-export yet");
		return SD_EXIT_BAD_INPUT;
	}
	po.format = sd_format_find(format);
	if (!po.format) {
		sd_cli_errorf("--format: unknown format \"%s\"", format);
		return SD_EXIT_BAD_INPUT;
	}
	if (po.write.ztailpacking && strcmp(po.format->name, "erofs")) {
		sd_cli_errorf("--ztailpacking is an EROFS option (--format "
			      "erofs)");
		return SD_EXIT_BAD_INPUT;
	}
	bool default_compressor = !po.write.compressor;
	if (!po.write.compressor)
		po.write.compressor = po.format->default_compressor;
	if (po.format->check_options(&po.write, &err) ||
	    sd_kernel_check_write(po.format, &po.write, default_compressor,
				  &err) ||
	    sd_cli_image_mtime(mtime_arg, &po.mtime, &err) ||
	    check_outputs(&po, digest_out, no_digest, roothash_out, &err)) {
		sd_cli_error(&err);
		return SD_EXIT_BAD_INPUT;
	}
	if (sd_root_links_prepare(&links, cc.store_dir,
				  tar_in || export_in ? NULL : cc.store,
				  &err)) {
		sd_cli_error(&err);
		sd_root_links_release(&links);
		return err.code == SD_ERR_USAGE ? SD_EXIT_BAD_INPUT
						: SD_EXIT_FOUND;
	}
	po.root_links = &links;
	if (bases_load(pbp, cc.store_dir, po.output, &err)) {
		sd_cli_error(&err);
		sd_root_links_release(&links);
		return err.code == SD_ERR_NOMEM ? SD_EXIT_FOUND
						: SD_EXIT_BAD_INPUT;
	}
	struct sd_compcache *cache = NULL;
	if (cache_dir) {
		struct sd_compcache_options copt = {.max_bytes = cache_max};
		if (sd_compcache_open(&cache, cache_dir, &copt, &err)) {
			sd_cli_error(&err);
			sd_root_links_release(&links);
			return SD_EXIT_FOUND;
		}
		po.write.cache = cache;
	}
	sd_interrupt_install(NULL);
	struct sd_progress progress;
	if (sd_progress_wanted(stderr, quiet)) {
		sd_progress_init(&progress, stderr);
		po.write.progress = sd_progress_update;
		po.write.progress_ctx = &progress;
		po.on_totals = sd_progress_totals;
	}
	int rc;
	struct sd_pack_result res = {0};
	struct sd_packscan_opts check = {0};
	bool streamed = tar_in || export_in;
	if (streamed) {
		po.digest = !no_digest || !quiet || json;
		po.interrupted = &sd_interrupted;
		po.on_tmp = on_tmp;
		rc = sd_pack_input_run(tar_in, export_in, &cc,
				       (const char *const *)argv + optind,
				       (size_t)(argc - optind), &po, &res,
				       &err);
		sd_interrupt_clear();
	} else {
		rc = sd_closure_cli_run(&cc, (const char *const *)argv + optind,
					(size_t)(argc - optind), false, &err);
	}
	if (!rc && !streamed) {
		const struct sd_closure *cl = cc.closure;
		const char **bases = calloc(cl->npaths + 1, sizeof(*bases));
		size_t nbases = 0;
		if (!bases)
			rc = sd_error_set(&err, SD_ERR_NOMEM, "out of memory");
		else
			rc = bases_filter(pbp, cl, bases, &nbases, &err);
		if (!rc) {
			po.store_phys = cc.st->phys_dir;
			/* For the digest file and the summary. */
			po.digest = !no_digest || !quiet || json;
			po.interrupted = &sd_interrupted;
			po.closure = cl;
			po.bases = pbp->img;
			po.nbases = pbp->n;
			/* A path list has no edges: scan for the references. */
			po.scan_refs = cc.paths != NULL;
			po.store_dir = cc.st->store_dir;
			po.on_tmp = on_tmp;
			if (cc.paths || cc.registration || cc.reg) {
				/* A closure that was given: check it. */
				check.st = cc.st;
				check.cl = cl;
				check.allow_missing = cc.allow_missing;
				check.allow = cc.allow;
				/* a layer's references may resolve below */
				if (pbp->n) {
					check.held = bases_hold;
					check.held_ctx = pbp;
				}
				po.check = &check;
			} else {
				sd_cli_report_absent(cl, cc.st->store_dir);
			}
			rc = sd_pack(bases, nbases, &po, &res, &err);
			sd_cli_report_packscan(res.scan, cc.st->store_dir);
			sd_interrupt_clear();
		}
		free(bases);
	}
	sd_pack_result_release(&res);
	sd_closure_cli_release(&cc);
	sd_root_links_release(&links);
	if (po.write.progress)
		sd_progress_end(&progress);
	struct sd_compcache_counters cn = {0};
	bool cache_off = false;
	if (cache) {
		sd_compcache_counters(cache, &cn);
		cache_off = !sd_compcache_enabled(cache);
		if (sd_compcache_warning(cache))
			sd_cli_warnf("%s", sd_compcache_warning(cache));
		/* Records the usage and prunes to --cache-max; never fails. */
		sd_compcache_close(cache);
	}
	if (!rc && !no_digest)
		rc = write_digest(po.output, digest_out, res.digest, &err);
	if (!rc && po.verity) {
		char *rh = roothash_path(po.output, roothash_out);
		rc = rh ? sd_verity_write_roothash(rh, res.verity.root, &err)
			: sd_error_set(&err, SD_ERR_NOMEM, "out of memory");
		free(rh);
	}
	if (rc) {
		sd_cli_error(&err);
		return rc == SD_ERR_USAGE ? SD_EXIT_BAD_INPUT : SD_EXIT_FOUND;
	}
	/* --json is output asked for: -q silences the progress line and the
	 * human summary only. */
	if (json) {
		char hex[SD_SHA256_LEN * 2 + 1];
		sd_hex_encode(res.digest, SD_SHA256_LEN, hex);
		print_json(&po, &res, pbp, hex);
	} else if (!quiet) {
		char hex[SD_SHA256_LEN * 2 + 1];
		sd_hex_encode(res.digest, SD_SHA256_LEN, hex);
		bool plain = !strcmp(po.write.compressor, "none");
		printf("%s: %s, %s%s%s\n", po.output, po.format->name,
		       plain ? "uncompressed" : po.write.compressor,
		       plain ? "" : " compression",
		       res.write.nothing_compressed
			       ? " (no file compressed: each one is stored "
				 "plain, compressing saved nothing)"
			       : "");
		if (pbp->n) {
			printf("  store paths: %zu in the layer, %zu from the "
			       "bases (%zu in the closure)\n",
			       res.npaths, pbp->nheld, res.npaths + pbp->nheld);
			for (size_t i = 0; i < pbp->n; i++)
				printf("  from base %s (%s, %zu store path%s): "
				       "%zu\n",
				       pbp->paths[i], pbp->img[i].format,
				       pbp->img[i].nbases,
				       sd_plural(pbp->img[i].nbases, "", "s"),
				       pbp->held[i]);
		} else {
			printf("  store paths: %zu\n", res.npaths);
		}
		printf("  files: %zu, directories: %zu, symlinks: %zu\n",
		       res.nfiles, res.ndirs, res.nsymlinks);
		printf("  bytes in: %llu\n", (unsigned long long)res.bytes_in);
		printf("  duplicate files stored once: %llu\n",
		       (unsigned long long)res.write.files_deduplicated);
		if (cache)
			printf("  cache: %llu hit%s (%llu byte%s), %llu %s, "
			       "%llu stored (%llu byte%s), %llu damaged "
			       "entr%s dropped%s\n",
			       (unsigned long long)cn.hits,
			       sd_plural(cn.hits, "", "s"),
			       (unsigned long long)cn.hit_bytes,
			       sd_plural(cn.hit_bytes, "", "s"),
			       (unsigned long long)cn.misses,
			       sd_plural(cn.misses, "miss", "misses"),
			       (unsigned long long)cn.puts,
			       (unsigned long long)cn.put_bytes,
			       sd_plural(cn.put_bytes, "", "s"),
			       (unsigned long long)cn.corrupt,
			       sd_plural(cn.corrupt, "y", "ies"),
			       cache_off
				       ? " (the cache is off: see the warning)"
				       : "");
		if (cache) {
			printf("  files known unchanged since an earlier pack: "
			       "%llu of %llu\n",
			       (unsigned long long)res.cache.known,
			       (unsigned long long)res.cache.files);
			printf("  files written from the cache without reading "
			       "them: %llu\n",
			       (unsigned long long)res.write.files_from_cache);
		}
		printf("  image size: %llu\n",
		       (unsigned long long)res.write.image_bytes);
		printf("  sha256: %s\n", hex);
		if (po.verity)
			sd_cli_print_verity(&res.verity, "  ");
	}
	return SD_EXIT_OK;
}

int sd_cmd_pack(int argc, char **argv)
{
	struct pack_bases pb = {0};
	int rc = pack_main(argc, argv, &pb);
	bases_release(&pb);
	return rc;
}
