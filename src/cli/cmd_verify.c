/* SPDX-License-Identifier: MIT */
/* storedisk verify — front-end of app/verify.h. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/baseimage.h"
#include "app/digestfile.h"
#include "app/imageinfo.h"
#include "app/verify.h"
#include "app/verity.h"
#include "cli/cli.h"
#include "cli/listfile.h"
#include "cli/verify_report.h"
#include "closure/allowlist.h"
#include "closure/registration.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: storedisk verify [OPTIONS] [--base BASE.img]... IMAGE\n"
		"Prove that IMAGE is self-contained: every store reference "
		"inside it resolves inside it.\n\n"
		"  --base BASE.img      IMAGE is a layer over BASE "
		"(repeatable): prove the\n"
		"                       union self-contained instead: every "
		"reference in\n"
		"                       IMAGE and in every BASE resolves "
		"inside one of them;\n"
		"                       registered paths a BASE holds are "
		"checked against it;\n"
		"                       bases upper first, the lowest last "
		"(a base that\n"
		"                       refers into an image above it is a "
		"warning)\n"
		"  --store-dir DIR      logical store directory (default "
		"/nix/store)\n"
		"  --candidates FILE    store paths or hashes to look for as "
		"bare hashes\n"
		"                       (e.g. the host's store listing); full "
		"paths found in\n"
		"                       neither the image nor FILE become "
		"warnings\n"
		"  --allow FILE         hashes or paths accepted as known "
		"exceptions\n"
		"  --registration FILE  check the image against FILE "
		"(nix-store --dump-db\n"
		"                       format or closureInfo's): every path "
		"registered and\n"
		"                       present, narHash/narSize equal, "
		"reference differences\n"
		"                       reported (give it once); default: the\n"
		"                       registration embedded in the image, "
		"if any\n"
		"                       (<store-dir>/nix-path-registration "
		"when mounted)\n"
		"  --raw-refs           list the store paths whose hash occurs "
		"in the image\n"
		"                       file's raw bytes (what Nix would "
		"register as the\n"
		"                       image's references) on stdout; the "
		"report goes to\n"
		"                       stderr\n"
		"  --digest FILE        first check the image's SHA-256 against "
		"FILE (sha256sum\n"
		"                       format, e.g. IMAGE.sha256 from pack, or "
		"a bare hex\n"
		"                       digest): a mismatch means a damaged "
		"copy (exit 1);\n"
		"                       a match prints \"digest: OK (sha256 "
		"HEX)\"\n"
		"  --verity-root HASH   first check IMAGE's dm-verity tree "
		"(pack --verity)\n"
		"                       against the root hash HASH (64 hex "
		"digits, e.g. from\n"
		"                       IMAGE.roothash), every hash and data "
		"block: a mismatch\n"
		"                       names the first bad block and its "
		"byte offset (exit 1);\n"
		"                       a match prints \"verity: OK ...\"\n"
		"  --strict             every full path of a store path that "
		"is not in the\n"
		"                       image is a violation, even where the "
		"manifest says it\n"
		"                       did not exist or --candidates lacks it\n"
		"  --json               machine-readable report on stdout\n"
		"  -q, --quiet          print nothing when IMAGE passes; "
		"otherwise only the\n"
		"                       violations and the summary, on "
		"stderr (exit codes\n"
		"                       unchanged; --json and --raw-refs "
		"still print)\n"
		"  -h, --help           this help\n\n"
		"verify reads only IMAGE (and the files named): it needs no "
		"store and no\ndatabase, so it runs on any host the image is "
		"copied to.\n"
		"A symlink at the image root that is not a store path (pack "
		"--root-symlink)\nis checked, not scanned: its target must "
		"resolve inside the image.\n"
		"A reference is the hash of a store path that exists (Nix's "
		"rule).  A full\npath <store-dir>/<hash>-... of a path not in "
		"the image is a violation unless\nthe image's manifest "
		"(<store-dir>/storedisk-manifest, written by pack\n"
		"--embed-registration) says it did not exist when packed, or "
		"--candidates\nis given and lacks it (then a warning); a "
		"registration never downgrades.\n"
		"Exit codes: 0 self-contained, 1 violations found, digest "
		"or verity\nmismatch, 2 the image, its digest file "
		"or its registration cannot be read (corrupt, truncated,\nnot "
		"an image) or usage error.\n");
}

struct verify_args {
	const char *store_dir;
	const char *candidates_file, *allow_file, *registration_file;
	const char *digest_file;
	const char *verity_root; /* --verity-root, as given */
	bool json, raw_refs, quiet, strict;
	const char *image;
	const char **bases; /* --base, in order */
	size_t nbases;
};

/* Parse the command line: -1 to go on, or the exit code to return now. */
static int parse_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option longopts[] = {
		{"store-dir", required_argument, NULL, 'S'},
		{"candidates", required_argument, NULL, 'c'},
		{"allow", required_argument, NULL, 'a'},
		{"registration", required_argument, NULL, 'r'},
		{"raw-refs", no_argument, NULL, 'R'},
		{"strict", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"digest", required_argument, NULL, 'd'},
		{"verity-root", required_argument, NULL, 'V'},
		{"quiet", no_argument, NULL, 'q'},
		{"base", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'B': {
			const char **b =
				realloc(a->bases, (a->nbases + 1) * sizeof(*b));
			if (!b) {
				sd_cli_errorf("out of memory");
				return SD_EXIT_FOUND;
			}
			a->bases = b;
			a->bases[a->nbases++] = optarg;
			break;
		}
		case 'S': a->store_dir = optarg; break;
		case 'c': a->candidates_file = optarg; break;
		case 'a': a->allow_file = optarg; break;
		case 'r':
			if (a->registration_file) {
				sd_cli_errorf("--registration given twice "
					      "(%s, %s): verify checks the "
					      "image against one registration",
					      a->registration_file, optarg);
				return SD_EXIT_BAD_INPUT;
			}
			a->registration_file = optarg;
			break;
		case 'R': a->raw_refs = true; break;
		case 's': a->strict = true; break;
		case 'j': a->json = true; break;
		case 'd': a->digest_file = optarg; break;
		case 'V': a->verity_root = optarg; break;
		case 'q': a->quiet = true; break;
		case 'h': help(stdout); return SD_EXIT_OK;
		default: help(stderr); return SD_EXIT_BAD_INPUT;
		}
	}
	if (optind + 1 != argc) {
		sd_cli_errorf("verify takes exactly one IMAGE");
		help(stderr);
		return SD_EXIT_BAD_INPUT;
	}
	a->image = argv[optind];
	return -1;
}

/* The inputs named on the command line, loaded. */
struct verify_inputs {
	char *store_dir;
	struct sd_listfile cands;
	struct sd_allowlist *allow;
	struct sd_registration *reg;
};

static int load_inputs(const struct verify_args *a, struct verify_inputs *in,
		       struct sd_verify_options *opts, struct sd_error *err)
{
	in->store_dir = sd_cli_store_dir(a->store_dir, err);
	if (!in->store_dir)
		return err->code;
	opts->store_dir = in->store_dir;
	int rc = 0;
	if (a->candidates_file) {
		rc = sd_listfile_load(&in->cands, a->candidates_file, err);
		opts->has_candidates = true;
		opts->candidates = (const char *const *)in->cands.items;
		opts->ncandidates = in->cands.count;
	}
	if (!rc && a->allow_file)
		rc = sd_allowlist_load(a->allow_file, in->store_dir, &in->allow,
				       err);
	if (!rc && a->registration_file)
		rc = sd_registration_load(a->registration_file, in->store_dir,
					  &in->reg, err);
	opts->allowed = in->allow;
	opts->registration = in->reg;
	opts->registration_name = a->registration_file;
	opts->raw_refs = a->raw_refs;
	opts->strict = a->strict;
	return rc;
}

/*
 * The image's SHA-256 (into @got) against the digest file: 0 equal, 1
 * (message in @err) a damaged copy, 2 the digest file or the image
 * unreadable.
 */
static int check_digest(const struct verify_args *a, uint8_t got[SD_SHA256_LEN],
			struct sd_error *err)
{
	uint8_t want[SD_SHA256_LEN];
	if (sd_digestfile_read(a->digest_file, a->image, want, err) ||
	    sd_sha256_file(a->image, got, err))
		return SD_EXIT_BAD_INPUT;
	if (!memcmp(want, got, sizeof(want)))
		return SD_EXIT_OK;
	char hw[SD_SHA256_LEN * 2 + 1], hg[SD_SHA256_LEN * 2 + 1];
	sd_hex_encode(want, SD_SHA256_LEN, hw);
	sd_hex_encode(got, SD_SHA256_LEN, hg);
	sd_error_set(err, SD_ERR_CORRUPT,
		     "%s: digest mismatch: expected %s, got %s", a->image, hw,
		     hg);
	return SD_EXIT_FOUND;
}

/*
 * The tree of one image (@path) against @root: 0 every block matches
 * (*@info filled, for the report), 1 a mismatch or no tree (message in
 * @err), 2 an unreadable image.
 */
static int check_one_tree(const char *path, const uint8_t *root,
			  struct sd_info *info, struct sd_error *err)
{
	int rc = sd_info_read(path, info, err) ? SD_EXIT_BAD_INPUT : 0;
	struct sd_verity_bad bad;
	if (!rc && info->verity_problem[0]) {
		sd_error_set(err, SD_ERR_CORRUPT, "%s", info->verity_problem);
		rc = SD_EXIT_FOUND;
	} else if (!rc && !info->has_verity) {
		sd_error_set(err, SD_ERR_CORRUPT,
			     "%s: no verity tree after the filesystem's end "
			     "(at %llu): not an image packed with --verity",
			     path, (unsigned long long)info->image.fs_bytes);
		rc = SD_EXIT_FOUND;
	}
	if (!rc && sd_verity_check(path, &info->verity, root, &bad, err))
		rc = SD_EXIT_BAD_INPUT;
	/* The root covers the salt too, through every digest: a changed
	 * salt shows as the first block checked, the top one. */
	if (!rc && bad.bad && bad.hash)
		sd_error_set(err, SD_ERR_CORRUPT,
			     "%s: verity: hash block %llu of level %u (byte "
			     "offset %llu) does not match %s",
			     path, (unsigned long long)bad.block, bad.level,
			     (unsigned long long)bad.offset,
			     bad.top ? "the root hash (or the superblock's "
				       "salt was changed)"
				     : "its parent's digest");
	else if (!rc && bad.bad)
		sd_error_set(err, SD_ERR_CORRUPT,
			     "%s: verity: data block %llu (byte offset %llu) "
			     "does not match %s",
			     path, (unsigned long long)bad.block,
			     (unsigned long long)bad.offset,
			     info->verity.data_blocks == 1
				     ? "the root hash (or the superblock's "
				       "salt was changed)"
				     : "the tree");
	if (!rc && bad.bad)
		rc = SD_EXIT_FOUND;
	return rc;
}

/*
 * --verity-root: the image's tree against HASH, then each --base's
 * against the root hash pack --verity wrote beside it (BASE.roothash),
 * as vmcheck --verity pins them.  0 every block of every layer matches
 * (a line for the report in @ok), 1 a mismatch or a layer without a tree
 * (message in @err), 2 a bad HASH, a base without its .roothash or an
 * unreadable image.
 */
static int check_verity(const struct verify_args *a, char *ok, size_t oklen,
			struct sd_error *err)
{
	uint8_t root[SD_SHA256_LEN];
	if (strlen(a->verity_root) != SD_SHA256_LEN * 2 ||
	    sd_hex_decode(a->verity_root, root, SD_SHA256_LEN, NULL)) {
		sd_error_set(err, SD_ERR_USAGE,
			     "--verity-root: want 64 hex digits, got \"%s\"",
			     a->verity_root);
		return SD_EXIT_BAD_INPUT;
	}
	struct sd_info *info = malloc(sizeof(*info));
	if (!info) {
		sd_error_set(err, SD_ERR_NOMEM, "out of memory");
		return SD_EXIT_BAD_INPUT;
	}
	int rc = check_one_tree(a->image, root, info, err);
	uint64_t own = info->verity.data_blocks, blocks = own;
	uint64_t offset = info->verity.hash_offset;
	for (size_t i = 0; !rc && i < a->nbases; i++) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s.roothash", a->bases[i]);
		uint8_t broot[SD_SHA256_LEN];
		if (sd_verity_read_roothash(path, broot, err)) {
			sd_error_prefix(err, err->code,
					"--verity-root: base %s: its root "
					"hash comes from %s",
					a->bases[i], path);
			rc = SD_EXIT_BAD_INPUT;
		} else {
			rc = check_one_tree(a->bases[i], broot, info, err);
			blocks += info->verity.data_blocks;
		}
	}
	if (!rc && a->nbases)
		snprintf(ok, oklen,
			 "verity: OK (root hash %s, %llu data block%s, hash "
			 "offset %llu; %zu base%s against %s .roothash, %llu "
			 "data blocks in all)",
			 a->verity_root, (unsigned long long)own,
			 own == 1 ? "" : "s", (unsigned long long)offset,
			 a->nbases, a->nbases == 1 ? "" : "s",
			 a->nbases == 1 ? "its" : "their",
			 (unsigned long long)blocks);
	else if (!rc)
		snprintf(ok, oklen,
			 "verity: OK (root hash %s, %llu data block%s, hash "
			 "offset %llu)",
			 a->verity_root, (unsigned long long)blocks,
			 blocks == 1 ? "" : "s", (unsigned long long)offset);
	free(info);
	return rc;
}

static void release_inputs(struct verify_inputs *in)
{
	sd_registration_free(in->reg);
	sd_allowlist_free(in->allow);
	sd_listfile_release(&in->cands);
	free(in->store_dir);
}

/* A check before the scan failed (--digest, --verity-root): its error on
 * stderr, and with --json as verify's document; the inputs released.
 * Returns @rc, the exit code. */
static int fail_before_scan(const struct verify_args *a,
			    struct verify_inputs *in,
			    const struct sd_error *err, int rc)
{
	sd_cli_error(err);
	if (a->json)
		sd_verify_print_json(stdout, a->image, in->store_dir, NULL,
				     err->msg);
	release_inputs(in);
	return rc;
}

/* The images of a union (verify --base): [0] the layer, then the bases. */
struct union_images {
	size_t n;
	const char **names;
	struct sd_base_image *img; /* their store paths */
	struct sd_verify_other *others;
	struct sd_verify_result *res;
	size_t nres; /* results to release */
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct store paths of the union into *@paths, and how many of
 * them more than one of its images holds into *@shared (a path in a base
 * and in the layer is one path the guest sees). */
static void union_count(const struct union_images *u, size_t *paths,
			size_t *shared)
{
	size_t total = 0;
	for (size_t i = 0; i < u->n; i++)
		total += u->img[i].nbases;
	*paths = total;
	*shared = 0;
	char **all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return; /* the plain sum, then */
	size_t k = 0;
	for (size_t i = 0; i < u->n; i++)
		for (size_t j = 0; j < u->img[i].nbases; j++)
			all[k++] = u->img[i].bases[j];
	qsort(all, total, sizeof(*all), cmp_name);
	size_t distinct = 0;
	for (size_t i = 0; i < total; i++) {
		if (i && !strcmp(all[i], all[i - 1])) {
			if (i < 2 || strcmp(all[i - 1], all[i - 2]))
				(*shared)++;
			continue;
		}
		distinct++;
	}
	*paths = distinct;
	free(all);
}

static void union_release(struct union_images *u)
{
	for (size_t i = 0; i < u->nres; i++)
		sd_verify_result_release(&u->res[i]);
	for (size_t i = 0; u->img && i < u->n; i++)
		sd_base_image_release(&u->img[i]);
	free(u->names);
	free(u->img);
	free(u->others);
	free(u->res);
}

/* Verify each image of the union with the others resolving; 0, or the
 * error (the image it concerns in *@which). */
static int union_verify(struct union_images *u, const struct verify_args *a,
			const struct verify_inputs *in,
			const struct sd_verify_options *opts,
			const char **which, struct sd_error *err)
{
	u->n = a->nbases + 1;
	u->names = calloc(u->n, sizeof(*u->names));
	u->img = calloc(u->n, sizeof(*u->img));
	u->others = calloc(u->n, sizeof(*u->others));
	u->res = calloc(u->n, sizeof(*u->res));
	if (!u->names || !u->img || !u->others || !u->res)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
	u->names[0] = a->image;
	for (size_t i = 0; i < a->nbases; i++)
		u->names[i + 1] = a->bases[i];
	for (size_t i = 0; i < u->n; i++) {
		*which = u->names[i];
		int rc = sd_base_image_init(&u->img[i], u->names[i],
					    in->store_dir, err);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < u->n; i++) {
		size_t k = 0;
		for (size_t j = 0; j < u->n; j++)
			if (j != i)
				u->others[k++] = (struct sd_verify_other){
					.image = u->names[j],
					.bases = (const char *const *)u->img[j]
							 .bases,
					.nbases = u->img[j].nbases,
					.img = &u->img[j],
					.above = j < i};
		struct sd_verify_options o = *opts;
		o.others = u->others;
		o.nothers = k;
		if (i) {
			/* --registration and --raw-refs are the layer's */
			o.registration = NULL;
			o.registration_name = NULL;
			o.raw_refs = false;
		}
		*which = u->names[i];
		int rc = sd_verify_image(u->names[i], &o, &u->res[i], err);
		if (rc)
			return rc;
		u->nres++;
	}
	return 0;
}

/* A base that refers to paths only the images above it hold: the order
 * of the union looks swapped (a warning; the union is checked as given). */
static void order_warnings(const struct union_images *u)
{
	for (size_t i = 1; i < u->n; i++) {
		const struct sd_verify_result *r = &u->res[i];
		if (!r->order_paths)
			continue;
		char more[64] = "";
		if (r->order_paths > 1)
			snprintf(more, sizeof(more),
				 " (and %zu more store path%s)",
				 r->order_paths - 1,
				 sd_plural(r->order_paths - 1, "", "s"));
		sd_cli_warnf("--base %s refers to %s%s, which only %s holds, "
			     "an image above it in the union: the order "
			     "looks swapped (give the top layer as IMAGE "
			     "and the bases to --base upper first, the lowest "
			     "last, as in overlayfs's lowerdir=IMAGE:BASE1:"
			     "BASE2; each base may refer only into itself "
			     "and the bases after it)",
			     u->names[i], r->order_path, more, r->order_image);
	}
}

/* verify --base: the union of the layer a->image and its bases. */
static int verify_union(const struct verify_args *a,
			const struct verify_inputs *in,
			const struct sd_verify_options *opts, FILE *report)
{
	struct union_images u = {0};
	struct sd_error err;
	sd_error_init(&err);
	const char *which = a->image;
	int rc = union_verify(&u, a, in, opts, &which, &err);
	if (rc) {
		/* a base that cannot be read: said as pack says it */
		if (which != a->image)
			sd_error_prefix(&err, rc, "--base");
		sd_cli_error(&err);
		if (a->json)
			sd_verify_print_json(stdout, a->image, in->store_dir,
					     NULL, err.msg);
		union_release(&u);
		return rc == SD_ERR_NOMEM ? SD_EXIT_FOUND : SD_EXIT_BAD_INPUT;
	}
	size_t violations = 0, paths = 0, shared = 0;
	for (size_t i = 0; i < u.n; i++)
		violations += u.res[i].nviolations;
	union_count(&u, &paths, &shared);
	if (a->json) {
		sd_verify_print_json_union(stdout, a->image, in->store_dir,
					   &u.res[0], u.names + 1, u.res + 1,
					   u.n - 1);
	} else {
		if (a->raw_refs)
			sd_verify_print_raw_refs(stdout, &u.res[0]);
		for (size_t i = 0; i < u.n; i++) {
			if (a->quiet)
				sd_verify_print_violations(report, u.names[i],
							   &u.res[i]);
			else
				sd_verify_print_text(report, u.names[i],
						     &u.res[i]);
		}
		if (violations)
			fprintf(report,
				"%s + %zu base%s: the union is NOT "
				"self-contained: %zu violation%s\n",
				a->image, a->nbases, a->nbases == 1 ? "" : "s",
				violations, violations == 1 ? "" : "s");
		else if (!a->quiet)
			fprintf(report,
				"%s + %zu base%s: the union is "
				"self-contained: %zu store path%s, %zu in the "
				"layer",
				a->image, a->nbases, a->nbases == 1 ? "" : "s",
				paths, paths == 1 ? "" : "s", u.res[0].npaths);
		if (!violations && !a->quiet && shared)
			fprintf(report, " (%zu in more than one image)",
				shared);
		if (!violations && !a->quiet)
			fputc('\n', report);
	}
	if (!a->quiet) {
		fflush(stdout); /* after the report it concerns */
		order_warnings(&u);
	}
	union_release(&u);
	return violations ? SD_EXIT_FOUND : SD_EXIT_OK;
}

/* verify, once the arguments are parsed. */
static int verify_main(const struct verify_args *ap)
{
	const struct verify_args a = *ap;
	int rc;
	struct sd_error err;
	sd_error_init(&err);
	struct sd_verify_options opts = {0};
	struct verify_inputs in = {0};
	if (load_inputs(&a, &in, &opts, &err)) {
		sd_cli_error(&err);
		release_inputs(&in);
		return SD_EXIT_BAD_INPUT;
	}

	/* The report's stream: stdout, or stderr when stdout carries the
	 * raw references or (-q) nothing. */
	FILE *report = a.raw_refs || a.quiet ? stderr : stdout;
	if (a.digest_file) {
		uint8_t got[SD_SHA256_LEN];
		int drc = check_digest(&a, got, &err);
		if (drc) {
			return fail_before_scan(&a, &in, &err, drc);
		}
		char hex[SD_SHA256_LEN * 2 + 1];
		sd_hex_encode(got, SD_SHA256_LEN, hex);
		if (!a.json && !a.quiet)
			fprintf(report, "digest: OK (sha256 %s)\n", hex);
	}
	if (a.verity_root) {
		char ok[256];
		int vrc = check_verity(&a, ok, sizeof(ok), &err);
		if (vrc) {
			return fail_before_scan(&a, &in, &err, vrc);
		}
		if (!a.json && !a.quiet)
			fprintf(report, "%s\n", ok);
	}
	if (a.nbases) {
		int exit_code = verify_union(&a, &in, &opts, report);
		release_inputs(&in);
		return exit_code;
	}
	struct sd_verify_result res;
	rc = sd_verify_image(a.image, &opts, &res, &err);
	int exit_code;
	if (rc) {
		sd_cli_error(&err);
		if (a.json)
			sd_verify_print_json(stdout, a.image, in.store_dir,
					     NULL, err.msg);
		exit_code = SD_EXIT_BAD_INPUT;
	} else {
		if (a.json) {
			sd_verify_print_json(stdout, a.image, in.store_dir,
					     &res, NULL);
		} else {
			if (a.raw_refs)
				sd_verify_print_raw_refs(stdout, &res);
			if (a.quiet)
				sd_verify_print_violations(report, a.image,
							   &res);
			else
				sd_verify_print_text(report, a.image, &res);
		}
		exit_code = res.nviolations ? SD_EXIT_FOUND : SD_EXIT_OK;
		sd_verify_result_release(&res);
	}
	release_inputs(&in);
	return exit_code;
}

int sd_cmd_verify(int argc, char **argv)
{
	struct verify_args a = {.store_dir = "/nix/store"};
	int rc = parse_args(argc, argv, &a);
	if (rc < 0)
		rc = verify_main(&a);
	free(a.bases);
	return rc;
}
