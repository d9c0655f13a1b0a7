/* SPDX-License-Identifier: MIT */
/*
 * kmod.c — sd_kmod_resolve: an index of moddir/kernel (one walk), the
 * built-in list, and each needed module's ".modinfo" read from its ELF64
 * section table, every offset and size checked against the file.
 */
#include "app/kmod.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/le.h"

/* ELF64, as the fields are laid out in the ELF specification (and
 * include/uapi/linux/elf.h), in the byte order e_ident[EI_DATA] says:
 * little-endian (x86_64, aarch64) or big-endian (s390x). */
#define EHDR_SIZE 64u
#define EH_CLASS 4    /* e_ident[EI_CLASS]: 2 = ELFCLASS64 */
#define EH_DATA 5     /* e_ident[EI_DATA]: 1 = ELFDATA2LSB, 2 = MSB */
#define EH_SHOFF 0x28 /* u64 */
#define EH_SHENTSIZE 0x3a
#define EH_SHNUM 0x3c
#define EH_SHSTRNDX 0x3e
#define SHDR_SIZE 64u
#define SH_NAME 0    /* u32, offset in the section name table */
#define SH_TYPE 4    /* u32 */
#define SH_LINK 40   /* u32 */
#define SH_OFFSET 24 /* u64 */
#define SH_SIZE 32   /* u64 */
#define SHT_NOBITS 8u
#define SHN_XINDEX 0xffffu

/* A section table or a section we read whole: far beyond any real module
 * (a .modinfo is a few KiB), small enough to hold in memory. */
#define MAX_READ (16u << 20)
/* Longest dependency chain followed (a real one is a handful deep). */
#define MAX_DEPTH 1024u

enum { UNSEEN, VISITING, DONE };

struct mod {
	char *key;  /* file name without ".ko", '-' as '_' */
	char *path; /* absolute */
	bool compressed;
	int state;
	char *name;  /* from "name=", else the file's; NULL until read */
	char **deps; /* from "depends=" */
	size_t ndeps;
};

struct ctx {
	const char *moddir; /* absolute */
	struct mod *mods;
	size_t nmods, capmods;
	char **builtin; /* keys, sorted */
	size_t nbuiltin, capbuiltin;
	struct sd_kmod_list *out;
	size_t capout;
	struct mod **stack; /* the chain being resolved, for cycle messages */
	size_t depth;
};

static int nomem(struct sd_error *err)
{
	return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
}

/* A new string of @n bytes of @s with '-' as '_'. */
static char *key_of(const char *s, size_t n)
{
	char *k = strndup(s, n);
	if (k)
		for (char *p = k; *p; p++)
			if (*p == '-')
				*p = '_';
	return k;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_mod(const void *a, const void *b)
{
	const struct mod *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	/* An uncompressed module wins over a compressed one of the same
	 * name, then the bytewise first path: the same pick whatever order
	 * readdir gives. */
	if (x->compressed != y->compressed)
		return x->compressed ? 1 : -1;
	return strcmp(x->path, y->path);
}

static struct mod *find_mod(struct ctx *c, const char *key)
{
	size_t lo = 0, hi = c->nmods;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->mods[mid].key, key);
		if (r == 0)
			return &c->mods[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool is_builtin(const struct ctx *c, const char *key)
{
	return c->nbuiltin && bsearch(&key, c->builtin, c->nbuiltin,
				      sizeof(char *), cmp_str) != NULL;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);
	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

/* Does @name end in @suffix?  Sets *@stem to the length before it. */
static bool ends_with(const char *name, const char *suffix, size_t *stem)
{
	size_t n = strlen(name), s = strlen(suffix);
	if (n <= s || memcmp(name + n - s, suffix, s) != 0)
		return false;
	*stem = n - s;
	return true;
}

static int add_mod(struct ctx *c, const char *dir, const char *name,
		   struct sd_error *err)
{
	static const char *const packed[] = {".ko.xz", ".ko.zst", ".ko.gz"};
	size_t stem;
	bool compressed = false;
	if (!ends_with(name, ".ko", &stem)) {
		size_t i;
		for (i = 0; i < 3; i++)
			if (ends_with(name, packed[i], &stem))
				break;
		if (i == 3)
			return 0;
		compressed = true;
	}
	if (c->nmods == c->capmods) {
		size_t cap = c->capmods ? 2 * c->capmods : 256;
		struct mod *v = realloc(c->mods, cap * sizeof(*v));
		if (!v)
			return nomem(err);
		c->mods = v;
		c->capmods = cap;
	}
	struct mod *m = &c->mods[c->nmods];
	memset(m, 0, sizeof(*m));
	m->key = key_of(name, stem);
	m->path = join(dir, name);
	m->compressed = compressed;
	if (!m->key || !m->path) {
		free(m->key);
		free(m->path);
		return nomem(err);
	}
	c->nmods++;
	return 0;
}

/* Index the modules under @dir (absolute), recursively.  Symbolic links
 * to directories are not followed (no loops). */
static int walk(struct ctx *c, const char *dir, unsigned depth,
		struct sd_error *err)
{
	if (depth > MAX_DEPTH)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "%s: directories nested too deep", dir);
	DIR *d = opendir(dir);
	if (!d)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", dir);
	int rc = 0;
	struct dirent *e;
	errno = 0;
	while (!rc && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		unsigned char type = e->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) != 0) {
				rc = sd_error_errno(err, SD_ERR_IO, errno,
						    "%s/%s", dir, e->d_name);
				break;
			}
			type = S_ISDIR(st.st_mode)   ? DT_DIR
			       : S_ISREG(st.st_mode) ? DT_REG
			       : S_ISLNK(st.st_mode) ? DT_LNK
						     : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			char *sub = join(dir, e->d_name);
			rc = sub ? walk(c, sub, depth + 1, err) : nomem(err);
			free(sub);
		} else if (type == DT_REG || type == DT_LNK) {
			rc = add_mod(c, dir, e->d_name, err);
		}
		errno = 0;
	}
	if (!rc && errno)
		rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", dir);
	closedir(d);
	return rc;
}

/* modules.builtin: "kernel/fs/ext4/ext4.ko" a line.  Absent: none. */
static int read_builtin(struct ctx *c, struct sd_error *err)
{
	char *path = join(c->moddir, "modules.builtin");
	if (!path)
		return nomem(err);
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		int rc = e == ENOENT ? 0
				     : sd_error_errno(err, SD_ERR_IO, e, "%s",
						      path);
		free(path);
		return rc;
	}
	int rc = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	errno = 0;
	while (!rc && (len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r' ||
			line[len - 1] == ' '))
			line[--len] = '\0';
		const char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		size_t stem;
		if (!ends_with(base, ".ko", &stem))
			continue;
		if (c->nbuiltin == c->capbuiltin) {
			size_t ncap = c->capbuiltin ? 2 * c->capbuiltin : 256;
			char **v = realloc(c->builtin, ncap * sizeof(*v));
			if (!v) {
				rc = nomem(err);
				break;
			}
			c->builtin = v;
			c->capbuiltin = ncap;
		}
		char *k = key_of(base, stem);
		if (!k)
			rc = nomem(err);
		else
			c->builtin[c->nbuiltin++] = k;
		errno = 0;
	}
	if (!rc && ferror(f))
		rc = sd_error_errno(err, SD_ERR_IO, errno ? errno : EIO, "%s",
				    path);
	free(line);
	fclose(f);
	free(path);
	if (!rc && c->nbuiltin)
		qsort(c->builtin, c->nbuiltin, sizeof(char *), cmp_str);
	return rc;
}

/* ---- the ELF side ---------------------------------------------------- */

struct elf {
	int fd;
	uint64_t size;
	const char *path;
	bool be; /* big-endian (ELFDATA2MSB) */
};

/* The file's 16-, 32- and 64-bit fields at @p, in its byte order. */
static uint16_t e16(const struct elf *f, const uint8_t *p)
{
	return f->be ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : get_le16(p);
}

static uint32_t e32(const struct elf *f, const uint8_t *p)
{
	return f->be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			       (uint32_t)p[2] << 8 | p[3]
		     : get_le32(p);
}

static uint64_t e64(const struct elf *f, const uint8_t *p)
{
	return f->be ? (uint64_t)e32(f, p) << 32 | e32(f, p + 4) : get_le64(p);
}

/* Read @len bytes at @off of the file, which must hold them. */
static int read_at(const struct elf *f, uint64_t off, uint64_t len, void *buf,
		   const char *what, struct sd_error *err)
{
	if (off > f->size || len > f->size - off)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: %s (%llu bytes at %llu) is beyond "
				    "the end of the file (%llu bytes)",
				    f->path, what, (unsigned long long)len,
				    (unsigned long long)off,
				    (unsigned long long)f->size);
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(f->fd, p + done, (size_t)(len - done),
				  (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sd_error_errno(err, SD_ERR_IO, errno, "%s",
					      f->path);
		if (r == 0)
			return sd_error_set(err, SD_ERR_CORRUPT,
					    "%s: truncated while reading %s",
					    f->path, what);
		done += (size_t)r;
	}
	return 0;
}

/* A section's contents, malloc'ed (@len bytes, plus a NUL). */
static int read_section(const struct elf *f, const uint8_t *sh,
			const char *what, char **out, size_t *len,
			struct sd_error *err)
{
	*out = NULL;
	if (e32(f, sh + SH_TYPE) == SHT_NOBITS)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: %s has no contents in the file",
				    f->path, what);
	uint64_t off = e64(f, sh + SH_OFFSET), size = e64(f, sh + SH_SIZE);
	if (size > MAX_READ)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: %s is implausibly large (%llu bytes)",
				    f->path, what, (unsigned long long)size);
	char *buf = malloc((size_t)size + 1);
	if (!buf)
		return nomem(err);
	int rc = read_at(f, off, size, buf, what, err);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[size] = '\0';
	*out = buf;
	*len = (size_t)size;
	return 0;
}

/*
 * The ".modinfo" section of @f: its bytes in *@out (malloc'ed, NUL
 * after them), *@len of them.
 */
static int elf_modinfo(struct elf *f, char **out, size_t *len,
		       struct sd_error *err)
{
	uint8_t eh[EHDR_SIZE];
	*out = NULL;
	if (f->size < EHDR_SIZE)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: not an ELF file (%llu bytes)", f->path,
				    (unsigned long long)f->size);
	int rc = read_at(f, 0, EHDR_SIZE, eh, "the ELF header", err);
	if (rc)
		return rc;
	if (memcmp(eh, "\177ELF", 4) != 0)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: not an ELF file (bad magic)", f->path);
	if (eh[EH_CLASS] != 2 || (eh[EH_DATA] != 1 && eh[EH_DATA] != 2))
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: not a 64-bit ELF file", f->path);
	f->be = eh[EH_DATA] == 2;
	uint64_t shoff = e64(f, eh + EH_SHOFF);
	uint32_t entsize = e16(f, eh + EH_SHENTSIZE);
	uint64_t shnum = e16(f, eh + EH_SHNUM);
	uint32_t strndx = e16(f, eh + EH_SHSTRNDX);
	if (shoff == 0 || entsize < SHDR_SIZE)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: no section header table", f->path);
	/* Extended numbering: section 0 holds the count and the index. */
	uint8_t sh0[SHDR_SIZE];
	rc = read_at(f, shoff, SHDR_SIZE, sh0, "the section header table", err);
	if (rc)
		return rc;
	if (shnum == 0)
		shnum = e64(f, sh0 + SH_SIZE);
	if (strndx == SHN_XINDEX)
		strndx = e32(f, sh0 + SH_LINK);
	if (shnum == 0 || shnum > MAX_READ / entsize)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: implausible section count %llu",
				    f->path, (unsigned long long)shnum);
	if (strndx >= shnum)
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: section name table index %u out of "
				    "range (%llu sections)",
				    f->path, strndx, (unsigned long long)shnum);
	size_t tsize = (size_t)shnum * entsize;
	uint8_t *tab = malloc(tsize);
	if (!tab)
		return nomem(err);
	char *names = NULL;
	size_t nlen = 0;
	rc = read_at(f, shoff, tsize, tab, "the section header table", err);
	if (!rc)
		rc = read_section(f, tab + (size_t)strndx * entsize,
				  "the section name table", &names, &nlen, err);
	const uint8_t *found = NULL;
	for (size_t i = 0; !rc && i < shnum; i++) {
		const uint8_t *sh = tab + i * entsize;
		uint32_t at = e32(f, sh + SH_NAME);
		/* names[nlen] is the NUL we added: a name not ended
		 * inside the table still ends there. */
		if (at >= nlen)
			continue;
		if (!strcmp(names + at, ".modinfo")) {
			found = sh;
			break;
		}
	}
	if (!rc && !found)
		rc = sd_error_set(err, SD_ERR_CORRUPT,
				  "%s: no .modinfo section", f->path);
	if (!rc)
		rc = read_section(f, found, "the .modinfo section", out, len,
				  err);
	free(names);
	free(tab);
	return rc;
}

/* Split "a,b,c" into keys appended to m->deps. */
static int add_deps(struct mod *m, const char *list, struct sd_error *err)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n) {
			char **v =
				realloc(m->deps, (m->ndeps + 1) * sizeof(*v));
			if (!v)
				return nomem(err);
			m->deps = v;
			if (!(v[m->ndeps] = key_of(p, n)))
				return nomem(err);
			m->ndeps++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Read @m's name and dependencies from its .modinfo. */
static int load(struct mod *m, struct sd_error *err)
{
	struct elf f = {.path = m->path};
	/* O_NONBLOCK: a .ko link to a FIFO would block the open until a
	 * writer came; opened at once, it is refused below as not a regular
	 * file.  (Reads of a regular file ignore the flag.) */
	f.fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (f.fd < 0)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", m->path);
	struct stat st;
	if (fstat(f.fd, &st) != 0) {
		int e = errno;
		close(f.fd);
		return sd_error_errno(err, SD_ERR_IO, e, "%s", m->path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(f.fd);
		return sd_error_set(err, SD_ERR_CORRUPT,
				    "%s: not a regular file", m->path);
	}
	f.size = (uint64_t)st.st_size;
	char *info;
	size_t len;
	int rc = elf_modinfo(&f, &info, &len, err);
	close(f.fd);
	if (rc)
		return rc;
	/* "key=value" strings, each ended by a NUL (runs of NULs pad
	 * between them); info[len] is a NUL we added. */
	const char *name = NULL;
	for (size_t at = 0; !rc && at < len;) {
		const char *s = info + at;
		size_t n = strlen(s);
		if (!strncmp(s, "depends=", 8))
			rc = add_deps(m, s + 8, err);
		else if (!strncmp(s, "name=", 5) && s[5] && !name)
			name = s + 5;
		at += n + 1;
	}
	if (!rc) {
		/* else the file's name as it is spelt, not its key */
		const char *base = strrchr(m->path, '/') + 1;
		size_t stem = strlen(base);
		ends_with(base, ".ko", &stem);
		m->name = name ? strdup(name) : strndup(base, stem);
		if (!m->name)
			rc = nomem(err);
	}
	free(info);
	return rc;
}

/* ---- resolution -------------------------------------------------------- */

static int emit(struct ctx *c, const struct mod *m, struct sd_error *err)
{
	struct sd_kmod_list *l = c->out;
	if (l->n == c->capout) {
		size_t cap = c->capout ? 2 * c->capout : 16;
		struct sd_kmod *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return nomem(err);
		l->v = v;
		c->capout = cap;
	}
	struct sd_kmod *k = &l->v[l->n];
	k->name = strdup(m->name);
	k->path = strdup(m->path);
	if (!k->name || !k->path) {
		free(k->name);
		free(k->path);
		return nomem(err);
	}
	l->n++;
	return 0;
}

/* "a -> b -> c -> a" for the cycle closing at @m, in a new string. */
static char *cycle_text(const struct ctx *c, const struct mod *m)
{
	size_t from = 0;
	while (from < c->depth && c->stack[from] != m)
		from++;
	size_t len = strlen(m->name) + 1;
	for (size_t i = from; i < c->depth; i++)
		len += strlen(c->stack[i]->name) + 4;
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t at = 0;
	for (size_t i = from; i < c->depth; i++) {
		size_t n = strlen(c->stack[i]->name);
		memcpy(s + at, c->stack[i]->name, n);
		memcpy(s + at + n, " -> ", 4);
		at += n + 4;
	}
	memcpy(s + at, m->name, strlen(m->name) + 1);
	return s;
}

/* Resolve the module of key @key, needed by @by (NULL when wanted). */
static int visit(struct ctx *c, const char *key, const struct mod *by,
		 struct sd_error *err)
{
	if (is_builtin(c, key))
		return 0;
	struct mod *m = find_mod(c, key);
	if (!m) {
		if (by)
			return sd_error_set(err, SD_ERR_MISSING,
					    "module %s, needed by %s (%s), is "
					    "neither built in nor found under "
					    "%s/kernel",
					    key, by->name, by->path, c->moddir);
		return sd_error_set(err, SD_ERR_MISSING,
				    "module %s is neither built in nor found "
				    "under %s/kernel",
				    key, c->moddir);
	}
	if (m->compressed)
		return sd_error_set(err, SD_ERR_UNSUPPORTED,
				    "module %s is only there compressed (%s): "
				    "compressed modules are not read",
				    key, m->path);
	if (m->state == DONE)
		return 0;
	if (m->state == VISITING) {
		char *s = cycle_text(c, m);
		int rc = sd_error_set(err, SD_ERR_INVALID,
				      "module dependency cycle: %s",
				      s ? s : m->name);
		free(s);
		return rc;
	}
	if (c->depth >= MAX_DEPTH)
		return sd_error_set(err, SD_ERR_LIMIT,
				    "module %s: dependency chain deeper than "
				    "%u",
				    key, MAX_DEPTH);
	int rc = m->name ? 0 : load(m, err);
	if (rc)
		return rc;
	m->state = VISITING;
	c->stack[c->depth++] = m;
	for (size_t i = 0; !rc && i < m->ndeps; i++)
		rc = visit(c, m->deps[i], m, err);
	c->depth--;
	if (rc)
		return rc;
	m->state = DONE;
	return emit(c, m, err);
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->nmods; i++) {
		struct mod *m = &c->mods[i];
		free(m->key);
		free(m->path);
		free(m->name);
		for (size_t j = 0; j < m->ndeps; j++)
			free(m->deps[j]);
		free(m->deps);
	}
	free(c->mods);
	for (size_t i = 0; i < c->nbuiltin; i++)
		free(c->builtin[i]);
	free(c->builtin);
	free(c->stack);
}

int sd_kmod_resolve(const char *moddir, const char *const *wanted, size_t n,
		    struct sd_kmod_list *out, struct sd_error *err)
{
	out->v = NULL;
	out->n = 0;
	struct ctx c = {.out = out};
	char *abs = realpath(moddir, NULL);
	if (!abs)
		return sd_error_errno(err, SD_ERR_IO, errno, "%s", moddir);
	c.moddir = abs;
	int rc = 0;
	char *kdir = join(abs, "kernel");
	c.stack = malloc(MAX_DEPTH * sizeof(*c.stack));
	if (!kdir || !c.stack)
		rc = nomem(err);
	struct stat st;
	if (!rc && stat(kdir, &st) != 0) {
		if (errno != ENOENT)
			rc = sd_error_errno(err, SD_ERR_IO, errno, "%s", kdir);
	} else if (!rc) {
		rc = walk(&c, kdir, 0, err);
	}
	if (!rc && c.nmods)
		qsort(c.mods, c.nmods, sizeof(*c.mods), cmp_mod);
	/* Keep one module per name: the first after sorting. */
	if (!rc && c.nmods) {
		size_t w = 1;
		for (size_t i = 1; i < c.nmods; i++) {
			if (!strcmp(c.mods[i].key, c.mods[w - 1].key)) {
				free(c.mods[i].key);
				free(c.mods[i].path);
				continue;
			}
			c.mods[w++] = c.mods[i];
		}
		c.nmods = w;
	}
	if (!rc)
		rc = read_builtin(&c, err);
	for (size_t i = 0; !rc && i < n; i++) {
		char *k = key_of(wanted[i], strlen(wanted[i]));
		rc = k ? visit(&c, k, NULL, err) : nomem(err);
		free(k);
	}
	ctx_release(&c);
	free(kdir);
	free(abs);
	if (rc)
		sd_kmod_list_release(out);
	return rc;
}

void sd_kmod_list_release(struct sd_kmod_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].path);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
