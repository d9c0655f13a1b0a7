/* SPDX-License-Identifier: MIT */
#include "cli/verify_report.h"

#include "cli/cli.h"
#include "cli/json.h"
#include "closure/nar.h"

static void findings_json(struct sd_json *j, const struct sd_verify_result *r,
			  enum sd_finding_kind kind)
{
	sd_json_array_begin(j);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sd_finding *f = &r->findings[i];
		if (f->kind != kind)
			continue;
		sd_json_object_begin(j);
		sd_json_kv_string(j, "file", f->file);
		sd_json_kv_string(j, "where", f->where);
		sd_json_kv_u64(j, "offset", f->offset);
		sd_json_kv_u64(j, "occurrences", f->count);
		sd_json_kv_string(j, "path", f->path);
		sd_json_kv_string(j, "reason", f->reason);
		sd_json_kv_string(j, "category", f->category);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
}

static void strings_json(struct sd_json *j, char *const *l, size_t n)
{
	sd_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		sd_json_string(j, l[i]);
	sd_json_array_end(j);
}

static void mismatch_json(struct sd_json *j, const struct sd_nar_mismatch *m)
{
	char hash[SD_NAR_NIX32_LEN + 1];
	sd_json_object_begin(j);
	sd_json_kv_string(j, "path", m->path);
	sd_nar_hash_nix32(m->expected, hash);
	sd_json_kv_string(j, "expected_nar_hash", hash);
	sd_json_kv_u64(j, "expected_nar_size", m->expected_size);
	sd_nar_hash_nix32(m->actual, hash);
	sd_json_kv_string(j, "actual_nar_hash", hash);
	sd_json_kv_u64(j, "actual_nar_size", m->actual_size);
	sd_json_object_end(j);
}

static void registration_json(struct sd_json *j,
			      const struct sd_verify_registration *reg)
{
	sd_json_object_begin(j);
	sd_json_kv_string(j, "source", reg->source);
	sd_json_kv_u64(j, "paths", reg->npaths);
	sd_json_kv_u64(j, "nar_checked", reg->nar_checked);
	sd_json_key(j, "nar_mismatches");
	sd_json_array_begin(j);
	for (size_t i = 0; i < reg->nmismatches; i++)
		mismatch_json(j, &reg->mismatches[i]);
	sd_json_array_end(j);
	sd_json_key(j, "reference_differences");
	sd_json_array_begin(j);
	for (size_t i = 0; i < reg->ndiffs; i++) {
		const struct sd_ref_difference *d = &reg->diffs[i];
		sd_json_object_begin(j);
		sd_json_kv_string(j, "path", d->path);
		sd_json_key(j, "scanned_only");
		strings_json(j, d->scanned_only, d->nscanned_only);
		sd_json_key(j, "registered_only");
		strings_json(j, d->registered_only, d->nregistered_only);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
	sd_json_object_end(j);
}

static void root_symlinks_json(struct sd_json *j,
			       const struct sd_verify_result *r)
{
	sd_json_array_begin(j);
	for (size_t i = 0; i < r->nroot_symlinks; i++) {
		const struct sd_root_symlink *l = &r->root_symlinks[i];
		sd_json_object_begin(j);
		sd_json_kv_string(j, "name", l->name);
		sd_json_kv_string(j, "target", l->target);
		sd_json_kv_bool(j, "resolves", l->resolves);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
}

static void manifest_json(struct sd_json *j, const struct sd_verify_manifest *v)
{
	const struct sd_manifest *m = v->m;
	if (!m) {
		sd_json_string(j, NULL); /* null */
		return;
	}
	sd_json_object_begin(j);
	sd_json_kv_string(j, "source", "embedded");
	sd_json_key(j, "roots");
	strings_json(j, m->roots, m->nroots);
	sd_json_key(j, "absent");
	strings_json(j, m->absent, m->nabsent);
	sd_json_key(j, "accepted");
	strings_json(j, m->accepted, m->naccepted);
	sd_json_object_end(j);
}

static void resolved_json(struct sd_json *j, const struct sd_verify_result *r)
{
	sd_json_array_begin(j);
	for (size_t i = 0; i < r->nothers; i++) {
		const struct sd_verify_resolved *o = &r->others[i];
		sd_json_object_begin(j);
		sd_json_kv_string(j, "image", o->image);
		sd_json_kv_u64(j, "references", o->references);
		sd_json_kv_u64(j, "paths", o->paths);
		sd_json_object_end(j);
	}
	sd_json_array_end(j);
}

/* The members of one image's report (inside an object). */
static void report_members(struct sd_json *j, const char *store_dir,
			   const struct sd_verify_result *r)
{
	sd_json_kv_string(j, "format", r->format);
	sd_json_kv_string(j, "store_dir", store_dir);
	sd_json_kv_bool(j, "self_contained", r->nviolations == 0);
	sd_json_kv_u64(j, "paths", r->npaths);
	sd_json_kv_u64(j, "files", r->nfiles);
	sd_json_kv_u64(j, "directories", r->ndirs);
	sd_json_kv_u64(j, "symlinks", r->nsymlinks);
	sd_json_kv_u64(j, "bytes_scanned", r->bytes_scanned);
	sd_json_kv_u64(j, "references_resolved", r->references);
	sd_json_key(j, "violations");
	findings_json(j, r, SD_FINDING_VIOLATION);
	sd_json_key(j, "warnings");
	findings_json(j, r, SD_FINDING_WARNING);
	sd_json_key(j, "registration");
	registration_json(j, &r->reg);
	sd_json_key(j, "manifest");
	manifest_json(j, &r->manifest);
	if (r->has_raw_refs) {
		sd_json_key(j, "raw_refs");
		strings_json(j, r->raw_refs, r->nraw_refs);
	} else {
		sd_json_kv_string(j, "raw_refs", NULL);
	}
	sd_json_key(j, "root_symlinks");
	root_symlinks_json(j, r);
	if (r->nothers) {
		sd_json_key(j, "resolved_by");
		resolved_json(j, r);
	}
}

void sd_verify_print_json(FILE *out, const char *image, const char *store_dir,
			  const struct sd_verify_result *r, const char *error)
{
	struct sd_json j;
	sd_json_init(&j, out);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "image", image);
	if (error) {
		sd_json_kv_string(&j, "error", error);
		sd_json_object_end(&j);
		return;
	}
	report_members(&j, store_dir, r);
	sd_json_object_end(&j);
}

void sd_verify_print_json_union(FILE *out, const char *layer,
				const char *store_dir,
				const struct sd_verify_result *layer_res,
				const char *const *bases,
				const struct sd_verify_result *base_res,
				size_t nbases)
{
	struct sd_json j;
	sd_json_init(&j, out);
	sd_json_object_begin(&j);
	sd_json_kv_string(&j, "image", layer);
	report_members(&j, store_dir, layer_res);
	uint64_t by_bases = 0;
	size_t violations = layer_res->nviolations;
	for (size_t i = 0; i < layer_res->nothers; i++)
		by_bases += layer_res->others[i].references;
	for (size_t i = 0; i < nbases; i++)
		violations += base_res[i].nviolations;
	sd_json_kv_u64(&j, "references_resolved_by_bases", by_bases);
	sd_json_kv_bool(&j, "union_self_contained", violations == 0);
	sd_json_key(&j, "order_warnings");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < nbases; i++) {
		const struct sd_verify_result *r = &base_res[i];
		if (!r->order_paths)
			continue;
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "image", bases[i]);
		sd_json_kv_string(&j, "path", r->order_path);
		sd_json_kv_string(&j, "held_by", r->order_image);
		sd_json_kv_u64(&j, "paths", r->order_paths);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_key(&j, "bases");
	sd_json_array_begin(&j);
	for (size_t i = 0; i < nbases; i++) {
		sd_json_object_begin(&j);
		sd_json_kv_string(&j, "image", bases[i]);
		report_members(&j, store_dir, &base_res[i]);
		sd_json_object_end(&j);
	}
	sd_json_array_end(&j);
	sd_json_object_end(&j);
}

/* "a, b, c" or "-" for none. */
static void print_list(FILE *out, char *const *l, size_t n)
{
	if (!n)
		fputs("-", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", l[i]);
}

static void registration_text(FILE *out,
			      const struct sd_verify_registration *reg)
{
	if (!reg->source)
		return;
	fprintf(out, "registration: %s, %zu path%s; ", reg->source, reg->npaths,
		sd_plural(reg->npaths, "", "s"));
	if (reg->nar_checked)
		fprintf(out, "narHash checked for %zu path%s, %zu mismatch%s; ",
			reg->nar_checked, sd_plural(reg->nar_checked, "", "s"),
			reg->nmismatches,
			sd_plural(reg->nmismatches, "", "es"));
	else
		fputs("narHash not checked (none registered); ", out);
	fprintf(out, "references differ from the scan for %zu path%s\n",
		reg->ndiffs, sd_plural(reg->ndiffs, "", "s"));
	for (size_t i = 0; i < reg->ndiffs; i++) {
		const struct sd_ref_difference *d = &reg->diffs[i];
		fprintf(out,
			"reference difference: %s: scanned only: ", d->path);
		print_list(out, d->scanned_only, d->nscanned_only);
		fputs("; registered only: ", out);
		print_list(out, d->registered_only, d->nregistered_only);
		fputc('\n', out);
	}
}

/*
 * The summary line.  narHash/narSize mismatches are violations (exit 1)
 * but not of self-containment: alone, they head the line as "does not
 * match its registration".
 */
static void summary_text(FILE *out, const char *image,
			 const struct sd_verify_result *r)
{
	size_t nmis = r->reg.nmismatches;
	size_t others = r->nviolations > nmis ? r->nviolations - nmis : 0;
	if (r->nviolations == 0)
		fprintf(out,
			"%s: self-contained: %zu store path%s, %zu file%s, "
			"%llu reference%s resolved, %zu warning%s\n",
			image, r->npaths, sd_plural(r->npaths, "", "s"),
			r->nfiles, sd_plural(r->nfiles, "", "s"),
			(unsigned long long)r->references,
			sd_plural(r->references, "", "s"), r->nwarnings,
			sd_plural(r->nwarnings, "", "s"));
	else if (others == 0)
		fprintf(out,
			"%s: does not match its registration (%s): %zu "
			"narHash/narSize mismatch%s, %zu warning%s in %zu "
			"store path%s\n",
			image, r->reg.source ? r->reg.source : "?", nmis,
			sd_plural(nmis, "", "es"), r->nwarnings,
			sd_plural(r->nwarnings, "", "s"), r->npaths,
			sd_plural(r->npaths, "", "s"));
	else if (nmis == 0)
		fprintf(out,
			"%s: NOT self-contained: %zu violation%s, %zu "
			"warning%s in %zu store path%s\n",
			image, r->nviolations,
			sd_plural(r->nviolations, "", "s"), r->nwarnings,
			sd_plural(r->nwarnings, "", "s"), r->npaths,
			sd_plural(r->npaths, "", "s"));
	else
		fprintf(out,
			"%s: NOT self-contained: %zu violation%s, %zu "
			"warning%s in %zu store path%s; %zu of them do not "
			"match its registration (%s)\n",
			image, others, sd_plural(others, "", "s"), r->nwarnings,
			sd_plural(r->nwarnings, "", "s"), r->npaths,
			sd_plural(r->npaths, "", "s"), nmis,
			r->reg.source ? r->reg.source : "?");
}

static void finding_text(FILE *out, const struct sd_finding *f)
{
	fprintf(out, "%s: %s:%llu (%s): %s: %s",
		f->kind == SD_FINDING_VIOLATION ? "violation" : "warning",
		f->file ? f->file : "?", (unsigned long long)f->offset,
		f->where, f->path ? f->path : "?", f->reason ? f->reason : "?");
	if (f->count > 1)
		fprintf(out, " (%llu occurrences)",
			(unsigned long long)f->count);
	fputc('\n', out);
}

void sd_verify_print_violations(FILE *out, const char *image,
				const struct sd_verify_result *r)
{
	if (r->nviolations == 0)
		return;
	for (size_t i = 0; i < r->nfindings; i++)
		if (r->findings[i].kind == SD_FINDING_VIOLATION)
			finding_text(out, &r->findings[i]);
	summary_text(out, image, r);
}

void sd_verify_print_text(FILE *out, const char *image,
			  const struct sd_verify_result *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		finding_text(out, &r->findings[i]);
	registration_text(out, &r->reg);
	if (r->manifest.m)
		fprintf(out,
			"manifest: embedded, %zu root%s, %zu path%s that did "
			"not exist when packed, %zu accepted as missing\n",
			r->manifest.m->nroots,
			sd_plural(r->manifest.m->nroots, "", "s"),
			r->manifest.m->nabsent,
			sd_plural(r->manifest.m->nabsent, "", "s"),
			r->manifest.m->naccepted);
	for (size_t i = 0; i < r->nothers; i++)
		fprintf(out,
			"resolved by %s: %llu reference%s to %zu store "
			"path%s\n",
			r->others[i].image,
			(unsigned long long)r->others[i].references,
			sd_plural(r->others[i].references, "", "s"),
			r->others[i].paths,
			sd_plural(r->others[i].paths, "", "s"));
	for (size_t i = 0; i < r->nroot_symlinks; i++)
		if (r->root_symlinks[i].resolves)
			fprintf(out,
				"root symlink: %s -> %s (resolves inside "
				"the image)\n",
				r->root_symlinks[i].name,
				r->root_symlinks[i].target);
	summary_text(out, image, r);
}

void sd_verify_print_raw_refs(FILE *out, const struct sd_verify_result *r)
{
	for (size_t i = 0; i < r->nraw_refs; i++)
		fprintf(out, "%s\n", r->raw_refs[i]);
}
