/* SPDX-License-Identifier: MIT */
/*
 * test_init_blob.c — the guest init embedded in storedisk
 * (src/guest/init_blob.h) is the executable meson built (same length, same
 * bytes; SD_GUEST_INIT names the file) and a static ELF for this machine:
 * ELF64, little-endian, an executable of the host's architecture, with no
 * program interpreter (PT_INTERP) and no dynamic section (PT_DYNAMIC);
 * so is every cross-compiled init, for the architecture it is listed for.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "guest/init_blob.h"

#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ELF_ET_EXEC 2
#define ELF_EM_X86_64 62
#define ELF_EM_AARCH64 183
#define ELF_EM_S390 22
#define ELF_DATA_MSB 2
#define ELF_PT_DYNAMIC 2
#define ELF_PT_INTERP 3
#define ELF64_EHDR_SIZE 64

Test(guest_init, blob_is_the_built_file)
{
	const char *path = getenv("SD_GUEST_INIT");
	FILE *f;
	unsigned char *buf;
	long size;

	cr_assert(path, "SD_GUEST_INIT names the built guest init");
	f = fopen(path, "rb");
	cr_assert(f, "open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	cr_assert_eq((size_t)size, sd_guest_init_len, "%s: %ld bytes, blob %zu",
		     path, size, sd_guest_init_len);
	rewind(f);
	buf = malloc((size_t)size);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	cr_assert(memcmp(buf, sd_guest_init, (size_t)size) == 0,
		  "the blob holds the file's bytes");
	free(buf);
}

/* e_machine of an architecture's executables (the ELF gABI's list). */
static unsigned elf_machine(const char *arch)
{
	if (!strcmp(arch, "x86_64"))
		return ELF_EM_X86_64;
	if (!strcmp(arch, "aarch64"))
		return ELF_EM_AARCH64;
	if (!strcmp(arch, "s390x"))
		return ELF_EM_S390;
	return 0;
}

/* The @size-byte field at @off of @b in its byte order (e_ident[EI_DATA]). */
static uint64_t field(const unsigned char *b, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned k = b[5] == ELF_DATA_MSB ? i : size - 1 - i;
		v = v << 8 | b[off + k];
	}
	return v;
}

/* @b is a static ELF64 executable for @arch, in its byte order
 * (big-endian for s390x). */
static void check_static_elf(const char *arch, const unsigned char *b,
			     size_t len)
{
	uint64_t phoff;
	uint16_t phentsize, phnum;

	cr_assert_geq(len, ELF64_EHDR_SIZE, "%s", arch);
	cr_assert(memcmp(b,
			 "\x7f"
			 "ELF",
			 4) == 0,
		  "%s: ELF magic", arch);
	cr_assert_eq(b[4], ELF_CLASS64, "%s: ELFCLASS64", arch);
	cr_assert_eq(b[5], strcmp(arch, "s390x") ? ELF_DATA_LSB : ELF_DATA_MSB,
		     "%s: byte order", arch);
	cr_assert_eq(field(b, 16, 2), ELF_ET_EXEC, "%s: e_type ET_EXEC", arch);
	cr_assert_neq(elf_machine(arch), 0, "%s: a machine this test knows",
		      arch);
	cr_assert_eq(field(b, 18, 2), elf_machine(arch), "%s: e_machine", arch);
	phoff = field(b, 32, 8);
	phentsize = (uint16_t)field(b, 54, 2);
	phnum = (uint16_t)field(b, 56, 2);
	cr_assert_geq(phentsize, 56, "Elf64_Phdr is 56 bytes");
	cr_assert_gt(phnum, 0, "program headers");
	cr_assert_leq(phoff + (uint64_t)phentsize * phnum, len,
		      "program headers inside the file");
	for (uint16_t i = 0; i < phnum; i++) {
		uint32_t type =
			(uint32_t)field(b, phoff + (uint64_t)i * phentsize, 4);
		cr_assert_neq(type, ELF_PT_INTERP,
			      "%s: no PT_INTERP (header %u)", arch, i);
		cr_assert_neq(type, ELF_PT_DYNAMIC,
			      "%s: no PT_DYNAMIC (header %u)", arch, i);
	}
}

Test(guest_init, blob_is_a_static_elf_executable)
{
#if defined(__x86_64__)
	check_static_elf("x86_64", sd_guest_init, sd_guest_init_len);
#elif defined(__aarch64__)
	check_static_elf("aarch64", sd_guest_init, sd_guest_init_len);
#endif
	cr_assert_eq(sd_guest_inits[0].data, sd_guest_init);
	cr_assert_eq(sd_guest_inits[0].len, sd_guest_init_len);
}

/* Every init embedded (the cross-compiled ones too) is a static
 * executable of the architecture it is listed for, each listed once. */
Test(guest_init, every_embedded_init_is_a_static_elf_of_its_arch)
{
	for (size_t i = 0; i < sd_guest_inits_n; i++) {
		check_static_elf(sd_guest_inits[i].arch, sd_guest_inits[i].data,
				 sd_guest_inits[i].len);
		for (size_t k = 0; k < i; k++)
			cr_assert_str_neq(sd_guest_inits[i].arch,
					  sd_guest_inits[k].arch);
	}
}
