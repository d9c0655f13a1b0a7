/* SPDX-License-Identifier: MIT */
/*
 * test_kmod.c — sd_kmod_resolve (src/app/kmod.h) on modules directories
 * the test writes (minimal ELF64 files with a .modinfo section), and on
 * Debian's cloud kernel modules when they are on this machine.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/kmod.h"
#include "core/le.h"
#include "tests/common/tmpdir.h"
#include "tests/common/tools.h"

/* Debian's cloud kernel modules (lib/modules/RELEASE), as
 * scripts/fetch-guest-kernel.sh unpacks them and scripts/test.sh names
 * them, or NULL. */
static const char *debian_mods(void)
{
	const char *m = getenv("SD_GUEST_MODULES");
	return m && *m ? m : NULL;
}
#define DEBIAN_MODS debian_mods()

static void setup(void)
{
	tt_setup("sd-kmod");
	tt_mkdir("m/kernel");
}

TestSuite(kmod, .init = setup, .fini = tt_teardown);

/*
 * A minimal relocatable ELF64 little-endian file: the header, the
 * section name table, the .modinfo bytes (@info, @ilen), then three
 * section headers (null, .shstrtab, .modinfo).  *@len is its size.
 */
static uint8_t *make_ko(const void *info, size_t ilen, size_t *len)
{
	static const char names[] = "\0.shstrtab\0.modinfo"; /* 1, 11 */
	size_t nlen = sizeof(names); /* with the final NUL */
	size_t names_at = 64, info_at = names_at + nlen;
	size_t sh_at = (info_at + ilen + 7) & ~(size_t)7;
	size_t total = sh_at + 3 * 64;
	uint8_t *b = calloc(1, total);
	cr_assert(b);
	memcpy(b, "\177ELF", 4);
	b[4] = 2;             /* 64-bit */
	b[5] = 1;             /* little-endian */
	b[6] = 1;             /* version */
	put_le16(b + 16, 1);  /* ET_REL */
	put_le16(b + 18, 62); /* EM_X86_64 */
	put_le32(b + 20, 1);  /* e_version */
	put_le64(b + 0x28, sh_at);
	put_le16(b + 0x34, 64); /* e_ehsize */
	put_le16(b + 0x3a, 64); /* e_shentsize */
	put_le16(b + 0x3c, 3);  /* e_shnum */
	put_le16(b + 0x3e, 1);  /* e_shstrndx */
	memcpy(b + names_at, names, nlen);
	memcpy(b + info_at, info, ilen);
	uint8_t *sh = b + sh_at + 64;
	put_le32(sh + 0, 1); /* ".shstrtab" */
	put_le32(sh + 4, 3); /* SHT_STRTAB */
	put_le64(sh + 24, names_at);
	put_le64(sh + 32, nlen);
	sh += 64;
	put_le32(sh + 0, 11); /* ".modinfo" */
	put_le32(sh + 4, 1);  /* SHT_PROGBITS */
	put_le64(sh + 24, info_at);
	put_le64(sh + 32, ilen);
	*len = total;
	return b;
}

/* Reverse @n bytes at @p (a little-endian field becomes big-endian). */
static void swap_field(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = p[i];
		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

/* make_ko's output as a big-endian (s390x) module: ELFDATA2MSB and every
 * field it set in that byte order. */
static void to_big_endian(uint8_t *b)
{
	size_t sh_at = (size_t)get_le64(b + 0x28);
	b[5] = 2;
	swap_field(b + 16, 2);
	put_le16(b + 18, 22); /* EM_S390, swapped below */
	swap_field(b + 18, 2);
	swap_field(b + 20, 4);
	swap_field(b + 0x28, 8);
	swap_field(b + 0x34, 2);
	swap_field(b + 0x3a, 2);
	swap_field(b + 0x3c, 2);
	swap_field(b + 0x3e, 2);
	for (size_t i = 0; i < 3; i++) {
		uint8_t *sh = b + sh_at + i * 64;
		swap_field(sh + 0, 4);
		swap_field(sh + 4, 4);
		swap_field(sh + 24, 8);
		swap_field(sh + 32, 8);
	}
}

/* ko() writes big-endian modules while this is set. */
static bool ko_big_endian;

/* Offsets in make_ko's output, for the corruption tests. */
static size_t sh_table(const uint8_t *b)
{
	return (size_t)get_le64(b + 0x28);
}

/*
 * Write m/kernel/@rel, a module whose .modinfo holds "depends=@deps"
 * and, when @name is not NULL, "name=@name" (as modpost writes them:
 * NUL-ended strings, other keys around).
 */
static void ko(const char *rel, const char *name, const char *deps)
{
	char info[512];
	size_t n = 0;
	n += (size_t)snprintf(info + n, sizeof(info) - n, "license=GPL") + 1;
	n += (size_t)snprintf(info + n, sizeof(info) - n, "depends=%s", deps) +
	     1;
	info[n++] = '\0'; /* padding, as between real entries */
	if (name)
		n += (size_t)snprintf(info + n, sizeof(info) - n, "name=%s",
				      name) +
		     1;
	n += (size_t)snprintf(info + n, sizeof(info) - n, "vermagic=6.1.0") + 1;
	size_t len;
	uint8_t *b = make_ko(info, n, &len);
	if (ko_big_endian)
		to_big_endian(b);
	char path[512];
	snprintf(path, sizeof(path), "m/kernel/%s", rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	tt_mkdir(path);
	*slash = '/';
	tt_write(path, b, len, 0644);
	free(b);
}

static int resolve(const char *const *wanted, size_t n, struct sd_kmod_list *l,
		   struct sd_error *err)
{
	sd_error_init(err);
	return sd_kmod_resolve(tt_path("m"), wanted, n, l, err);
}

/* The names of @l, space-separated, in a static buffer. */
static const char *names(const struct sd_kmod_list *l)
{
	static char buf[4096];
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s",
				       i ? " " : "", l->v[i].name);
	return buf;
}

/* s390x's modules are big-endian ELF: read in their own byte order. */
Test(kmod, big_endian_modules)
{
	ko_big_endian = true;
	ko("drivers/block/virtio_blk.ko", "virtio_blk", "virtio_ring");
	ko("drivers/virtio/virtio_ring.ko", NULL, "");
	ko_big_endian = false;
	const char *w[] = {"virtio_blk"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "virtio_ring virtio_blk");
	sd_kmod_list_release(&l);
}

Test(kmod, dependencies_first_each_once)
{
	ko("drivers/a/a.ko", "a", "b,c");
	ko("drivers/b/b.ko", "b", "c");
	ko("fs/c.ko", "c", "");
	ko("fs/d.ko", "d", "c");
	const char *w[] = {"a", "d", "c"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 3, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "c b a d");
	char want[512];
	snprintf(want, sizeof(want), "%s/kernel/drivers/b/b.ko", tt_path("m"));
	cr_assert_str_eq(l.v[1].path, want);
	cr_assert_eq(l.v[1].path[0], '/');
	sd_kmod_list_release(&l);
	cr_assert_eq(l.n, 0);
}

Test(kmod, deterministic_order)
{
	/* many modules, created in an order unrelated to their names */
	static const char *const order[] = {"m7", "m2", "m9", "m0", "m5",
					    "m1", "m8", "m3", "m6", "m4"};
	for (size_t i = 0; i < 10; i++) {
		char rel[64], deps[64];
		snprintf(rel, sizeof(rel), "d%zu/%s.ko", i % 3, order[i]);
		int k = order[i][1] - '0';
		/* mK depends on m(K-1) and m(K-2) */
		if (k >= 2)
			snprintf(deps, sizeof(deps), "m%d,m%d", k - 1, k - 2);
		else if (k == 1)
			snprintf(deps, sizeof(deps), "m0");
		else
			deps[0] = '\0';
		ko(rel, order[i], deps);
	}
	const char *w[] = {"m9", "m4"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 2, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "m0 m1 m2 m3 m4 m5 m6 m7 m8 m9");
	sd_kmod_list_release(&l);
	const char *w2[] = {"m3", "m9"};
	cr_assert_eq(resolve(w2, 2, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "m0 m1 m2 m3 m4 m5 m6 m7 m8 m9");
	sd_kmod_list_release(&l);
	const char *w3[] = {"m1", "m0"};
	cr_assert_eq(resolve(w3, 2, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "m0 m1");
	sd_kmod_list_release(&l);
}

Test(kmod, builtin_left_out)
{
	ko("drivers/a.ko", "a", "b,virtio");
	ko("drivers/b.ko", "b", "");
	/* a stale .ko of a built-in module is never taken */
	ko("drivers/virtio.ko", "virtio", "nonexistent");
	tt_write("m/modules.builtin",
		 "kernel/drivers/virtio/virtio.ko\nkernel/fs/ext4/ext4.ko\n",
		 (size_t)-1, 0644);
	const char *w[] = {"ext4", "a", "virtio"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 3, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "b a");
	sd_kmod_list_release(&l);
	const char *only[] = {"ext4"};
	cr_assert_eq(resolve(only, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, 0);
	sd_kmod_list_release(&l);
}

Test(kmod, missing_names_both)
{
	ko("drivers/a.ko", "a", "b");
	ko("drivers/b.ko", "b", "zzz_gone");
	const char *w[] = {"a"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), SD_ERR_MISSING, "%s", err.msg);
	cr_assert(strstr(err.msg, "module zzz_gone, needed by b ("), "%s",
		  err.msg);
	cr_assert(strstr(err.msg, "/kernel/drivers/b.ko"), "%s", err.msg);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.v);
	sd_kmod_list_release(&l);

	const char *w2[] = {"nothere"};
	cr_assert_eq(resolve(w2, 1, &l, &err), SD_ERR_MISSING, "%s", err.msg);
	cr_assert(strstr(err.msg, "module nothere is neither built in nor "
				  "found under "),
		  "%s", err.msg);
	sd_kmod_list_release(&l);
}

Test(kmod, cycle)
{
	ko("a.ko", "a", "b");
	ko("b.ko", "b", "c");
	ko("c.ko", "c", "b");
	const char *w[] = {"a"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), SD_ERR_INVALID, "%s", err.msg);
	cr_assert_str_eq(err.msg, "module dependency cycle: b -> c -> b");
	sd_kmod_list_release(&l);

	ko("self.ko", "self", "self");
	const char *w2[] = {"self"};
	cr_assert_eq(resolve(w2, 1, &l, &err), SD_ERR_INVALID, "%s", err.msg);
	cr_assert_str_eq(err.msg, "module dependency cycle: self -> self");
	sd_kmod_list_release(&l);
}

Test(kmod, dash_and_underscore)
{
	/* no name=: the name is the file's; dependencies spelt the other
	 * way find it */
	ko("sound/snd-pcm.ko", NULL, "snd_timer");
	ko("sound/snd-timer.ko", NULL, "");
	ko("x/uses_pcm.ko", "uses_pcm", "snd-pcm");
	const char *w[] = {"uses-pcm", "snd_pcm"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 2, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "snd-timer snd-pcm uses_pcm");
	sd_kmod_list_release(&l);

	/* modules.builtin in either spelling */
	tt_write("m/modules.builtin", "kernel/sound/snd_timer.ko\n", (size_t)-1,
		 0644);
	const char *w2[] = {"snd-pcm"};
	cr_assert_eq(resolve(w2, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "snd-pcm");
	sd_kmod_list_release(&l);
}

Test(kmod, name_from_modinfo)
{
	ko("fs/file-name.ko", "real_name", "");
	const char *w[] = {"file_name"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "real_name");
	sd_kmod_list_release(&l);
}

Test(kmod, compressed_unsupported)
{
	tt_mkdir("m/kernel/fs");
	tt_write("m/kernel/fs/xfs.ko.xz", "\3757zXZ", 5, 0644);
	/* an uncompressed copy beside a compressed one is taken */
	ko("fs/ok.ko", "ok", "");
	tt_write("m/kernel/fs/ok.ko.zst", "x", 1, 0644);
	const char *w[] = {"ok", "xfs"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 2, &l, &err), SD_ERR_UNSUPPORTED, "%s",
		     err.msg);
	cr_assert(strstr(err.msg, "module xfs is only there compressed"), "%s",
		  err.msg);
	cr_assert(strstr(err.msg, "xfs.ko.xz"), "%s", err.msg);
	sd_kmod_list_release(&l);
	cr_assert_eq(resolve(w, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "ok");
	sd_kmod_list_release(&l);
}

/* Write m/kernel/bad.ko from @b (@len bytes) and expect SD_ERR_CORRUPT
 * naming it, with @what in the message. */
static void expect_corrupt(const uint8_t *b, size_t len, const char *what)
{
	tt_write("m/kernel/bad.ko", b, len, 0644);
	ko("good.ko", "good", "bad");
	const char *w[] = {"good"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), SD_ERR_CORRUPT, "%s: %s", what,
		     err.msg);
	cr_assert(strstr(err.msg, "/kernel/bad.ko: "), "%s", err.msg);
	cr_assert(strstr(err.msg, what), "want \"%s\" in: %s", what, err.msg);
	cr_assert_eq(l.n, 0);
	sd_kmod_list_release(&l);
}

Test(kmod, corrupt_elf)
{
	static const char info[] = "depends=\0name=bad";
	size_t len;
	uint8_t *b = make_ko(info, sizeof(info), &len);
	uint8_t *c = malloc(len);
	cr_assert(c);
	size_t sh = sh_table(b);

	expect_corrupt(b, 0, "not an ELF file");
	expect_corrupt(b, 40, "not an ELF file");
	/* truncated: the section headers are cut off */
	expect_corrupt(b, len - 10, "the section header table");
	expect_corrupt(b, sh + 10, "the section header table");

	memcpy(c, b, len);
	c[0] = 'X';
	expect_corrupt(c, len, "bad magic");

	memcpy(c, b, len);
	c[4] = 1; /* 32-bit */
	expect_corrupt(c, len, "not a 64-bit ELF file");

	memcpy(c, b, len);
	c[5] = 3; /* neither byte order */
	expect_corrupt(c, len, "not a 64-bit ELF file");

	memcpy(c, b, len);
	put_le64(c + 0x28, UINT64_MAX - 8); /* e_shoff */
	expect_corrupt(c, len, "beyond the end of the file");

	memcpy(c, b, len);
	put_le16(c + 0x3c, 0xffff); /* e_shnum past the end */
	expect_corrupt(c, len, "the section header table");

	memcpy(c, b, len);
	put_le16(c + 0x3e, 7); /* e_shstrndx >= e_shnum */
	expect_corrupt(c, len, "section name table index 7 out of range");

	memcpy(c, b, len);
	put_le16(c + 0x3a, 8); /* e_shentsize too small */
	expect_corrupt(c, len, "no section header table");

	/* .modinfo out of bounds, by its offset and by its size (the sum
	 * overflows 64 bits) */
	memcpy(c, b, len);
	put_le64(c + sh + 128 + 24, len + 1);
	expect_corrupt(c, len, "the .modinfo section");
	memcpy(c, b, len);
	put_le64(c + sh + 128 + 24, 8);
	put_le64(c + sh + 128 + 32, UINT64_MAX - 4);
	expect_corrupt(c, len, "implausibly large");
	memcpy(c, b, len);
	put_le64(c + sh + 128 + 32, len);
	expect_corrupt(c, len, "beyond the end of the file");

	/* the name table out of bounds */
	memcpy(c, b, len);
	put_le64(c + sh + 64 + 24, UINT64_MAX);
	expect_corrupt(c, len, "the section name table");

	/* a .modinfo of no contents, then none at all */
	memcpy(c, b, len);
	put_le32(c + sh + 128 + 4, 8); /* SHT_NOBITS */
	expect_corrupt(c, len, "has no contents");
	memcpy(c, b, len);
	put_le32(c + sh + 128, 0xfffffff0u); /* sh_name out of the table */
	expect_corrupt(c, len, "no .modinfo section");

	/* the same file intact reads */
	tt_write("m/kernel/bad.ko", b, len, 0644);
	const char *w[] = {"good"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "bad good");
	sd_kmod_list_release(&l);
	free(b);
	free(c);
}

Test(kmod, modinfo_without_final_nul)
{
	/* the section ends inside its last string: read up to its end */
	static const char info[] = {'d', 'e', 'p', 'e', 'n', 'd',
				    's', '=', 'x', ',', 'y'};
	size_t len;
	uint8_t *b = make_ko(info, sizeof(info), &len);
	tt_write("m/kernel/a.ko", b, len, 0644);
	free(b);
	ko("x.ko", "x", "");
	ko("y.ko", "y", "");
	const char *w[] = {"a"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "x y a");
	sd_kmod_list_release(&l);
}

Test(kmod, no_moddir)
{
	const char *w[] = {"a"};
	struct sd_kmod_list l = {(void *)1, 1};
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_kmod_resolve(tt_path("nope"), w, 1, &l, &err),
		     SD_ERR_IO);
	cr_assert(strstr(err.msg, "/nope: No such file"), "%s", err.msg);
	cr_assert_eq(l.n, 0);
	sd_kmod_list_release(&l);
}

Test(kmod, fifo_behind_a_link_is_refused_not_waited_on, .timeout = 10)
{
	/* a FIFO opened for reading blocks until a writer comes: a .ko link
	 * to one must be refused at once, naming it */
	cr_assert_eq(mkfifo(tt_path("fifo"), 0644), 0);
	tt_symlink(tt_path("fifo"), "m/kernel/a.ko");
	const char *w[] = {"a"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), SD_ERR_CORRUPT, "%s", err.msg);
	cr_assert(strstr(err.msg, "/kernel/a.ko: not a regular file"), "%s",
		  err.msg);
	sd_kmod_list_release(&l);
}

/* ---- Debian's modules ------------------------------------------------ */

/* Is @name (key spelling) in @builtin (the text of modules.builtin)? */
static bool in_builtin(const char *builtin, const char *name)
{
	for (const char *p = builtin; *p;) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *base = p;
		for (size_t i = 0; i < n; i++)
			if (p[i] == '/')
				base = p + i + 1;
		size_t bl = (size_t)(p + n - base);
		if (bl == strlen(name) + 3 &&
		    !memcmp(base + bl - 3, ".ko", 3)) {
			size_t i = 0;
			for (; i < bl - 3; i++) {
				char a = base[i] == '-' ? '_' : base[i];
				char b = name[i] == '-' ? '_' : name[i];
				if (a != b)
					break;
			}
			if (i == bl - 3)
				return true;
		}
		p += n + (end ? 1 : 0);
	}
	return false;
}

/* "depends=" of @path: modinfo -F depends when installed, else the
 * string found in the file's bytes (our own reading). */
static char *depends_of(const char *path, bool modinfo)
{
	if (modinfo) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "modinfo -F depends '%s'", path);
		char *out = tt_run(cmd);
		out[strcspn(out, "\n")] = '\0';
		return out;
	}
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s", path);
	static char buf[32 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *hit = memmem(buf, n, "\0depends=", 9);
	cr_assert(hit, "%s: no depends=", path);
	return strdup(hit + 9);
}

/*
 * Resolve @w (@nw names) in Debian's modules and check the result against
 * modinfo (or the files' own depends= strings): each wanted module once,
 * each dependency built in or before, nothing unneeded; then the exact
 * list @want, as read on 2026-12-02 (dependencies in their depends=
 * order).
 */
static void check_debian(const char *const *w, size_t nw, const char *want)
{
	bool modinfo = tt_have_tool("modinfo");
	if (!modinfo)
		cr_log_info("modinfo not installed: checking against the "
			    "depends= strings of the files");
	struct sd_kmod_list l;
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_kmod_resolve(DEBIAN_MODS, w, nw, &l, &err), 0, "%s",
		     err.msg);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "cat '%s/modules.builtin'", DEBIAN_MODS);
	char *builtin = tt_run(cmd);
	/* every wanted module is there, once */
	for (size_t i = 0; i < nw; i++) {
		size_t hits = 0;
		for (size_t j = 0; j < l.n; j++)
			hits += !strcmp(l.v[j].name, w[i]);
		cr_assert_eq(hits, 1, "%s in: %s", w[i], names(&l));
	}
	/* every dependency is built in or loaded before; every module
	 * listed is wanted or needed by one after it */
	bool *needed = calloc(l.n, sizeof(bool));
	for (size_t j = 0; j < l.n; j++) {
		cr_assert(!strncmp(l.v[j].path, DEBIAN_MODS,
				   strlen(DEBIAN_MODS)) &&
				  !strncmp(l.v[j].path + strlen(DEBIAN_MODS),
					   "/kernel/", 8),
			  "%s", l.v[j].path);
		for (size_t i = 0; i < nw; i++)
			if (!strcmp(l.v[j].name, w[i]))
				needed[j] = true;
		char *deps = depends_of(l.v[j].path, modinfo);
		for (char *tok = strtok(deps, ","); tok;
		     tok = strtok(NULL, ",")) {
			size_t k = 0;
			while (k < j && strcmp(l.v[k].name, tok))
				k++;
			if (k < j)
				needed[k] = true;
			else
				cr_assert(in_builtin(builtin, tok),
					  "%s needs %s, neither built in nor "
					  "before it in: %s",
					  l.v[j].name, tok, names(&l));
		}
		free(deps);
	}
	for (size_t j = 0; j < l.n; j++)
		cr_assert(needed[j], "%s is not needed: %s", l.v[j].name,
			  names(&l));
	cr_log_info("debian: %s", names(&l));
	cr_assert_str_eq(names(&l), want);
	free(needed);
	free(builtin);
	sd_kmod_list_release(&l);
}

Test(kmod, only_needed_modules_are_read)
{
	tt_write("m/kernel/garbage.ko", "not an ELF file", (size_t)-1, 0644);
	ko("a.ko", "a", "");
	const char *w[] = {"a"};
	struct sd_kmod_list l;
	struct sd_error err;
	cr_assert_eq(resolve(w, 1, &l, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&l), "a");
	sd_kmod_list_release(&l);
}

Test(kmod, mutated_elf_never_crashes)
{
	static const char info[] = "license=GPL\0depends=\0name=bad";
	size_t len;
	uint8_t *b = make_ko(info, sizeof(info), &len);
	uint8_t *c = malloc(len);
	cr_assert(c);
	ko("good.ko", "good", "bad");
	const char *w[] = {"good"};
	uint32_t seed = 12345;
	size_t outcomes[4] = {0};
	size_t sh = sh_table(b);
	for (unsigned round = 0; round < 800; round++) {
		memcpy(c, b, len);
		unsigned flips = 1 + round % 4;
		for (unsigned k = 0; k < flips; k++) {
			/* mostly in the ELF header and the section headers,
			 * where the offsets and sizes are */
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			if (k % 2 == 0)
				at = round % 2 ? at % 64 : sh + at % (len - sh);
			seed = seed * 1103515245u + 12345u;
			c[at] = (uint8_t)(seed >> 16);
		}
		size_t cut = round % 7 == 0 ? (seed >> 4) % len : len;
		tt_write("m/kernel/bad.ko", c, cut, 0644);
		struct sd_kmod_list l;
		struct sd_error err;
		int rc = resolve(w, 1, &l, &err);
		cr_assert(rc == 0 || rc == SD_ERR_CORRUPT ||
				  rc == SD_ERR_MISSING || rc == SD_ERR_INVALID,
			  "round %u: %d %s", round, rc, err.msg);
		if (rc == SD_ERR_CORRUPT)
			cr_assert(strstr(err.msg, "/kernel/bad.ko: "), "%s",
				  err.msg);
		outcomes[rc == 0 ? 0 : rc == SD_ERR_CORRUPT ? 1 : 2]++;
		sd_kmod_list_release(&l);
	}
	cr_log_info("mutations: %zu read, %zu corrupt, %zu other", outcomes[0],
		    outcomes[1], outcomes[2]);
	cr_assert_gt(outcomes[0], 0);
	cr_assert_gt(outcomes[1], 0);
	free(b);
	free(c);
}

static void need_debian(void)
{
	struct stat st;
	if (!DEBIAN_MODS)
		cr_skip_test("SD_GUEST_MODULES names no modules directory "
			     "(scripts/test.sh sets it from "
			     "scripts/fetch-guest-kernel.sh)");
	if (stat(DEBIAN_MODS, &st) != 0)
		cr_skip_test("%s is not on this machine", DEBIAN_MODS);
}

Test(kmod, debian_cloud_kernel_microvm)
{
	need_debian();
	const char *w[] = {"virtio_blk", "virtio_mmio", "squashfs", "erofs",
			   "overlay"};
	check_debian(w, 5,
		     "virtio_ring virtio virtio_blk virtio_mmio squashfs "
		     "libcrc32c erofs overlay");
}

Test(kmod, debian_cloud_kernel_q35)
{
	need_debian();
	const char *w[] = {"virtio_pci", "virtio_blk", "erofs"};
	check_debian(w, 3,
		     "virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev "
		     "virtio virtio_pci virtio_blk libcrc32c erofs");
}
