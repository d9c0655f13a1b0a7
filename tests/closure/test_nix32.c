/* SPDX-License-Identifier: MIT */
/* Tests of nix32 encoding and the narHash parser. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "closure/hashparse.h"
#include "closure/nix32.h"

/* sha256("abc") */
static const uint8_t abc[32] = {
	0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
	0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
	0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};
static const char abc_nix32[] =
	"1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
static const char abc_hex[] =
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char abc_b64[] = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";

Test(nix32, alphabet)
{
	cr_assert_eq(strlen(sd_nix32_alphabet), 32);
	int n = 0;
	for (int c = 0; c < 256; c++) {
		bool in = c && strchr(sd_nix32_alphabet, c) != NULL;
		cr_assert_eq(sd_nix32_is_char((unsigned char)c), in, "char %d",
			     c);
		n += in;
	}
	cr_assert_eq(n, 32);
	cr_assert(!sd_nix32_is_char('e'));
	cr_assert(!sd_nix32_is_char('o'));
	cr_assert(!sd_nix32_is_char('u'));
	cr_assert(!sd_nix32_is_char('t'));
	cr_assert(!sd_nix32_is_char('A'));
	cr_assert(sd_nix32_is_char('z'));
	cr_assert(sd_nix32_is_char('0'));
}

Test(nix32, lengths)
{
	cr_assert_eq(sd_nix32_encoded_len(0), 0);
	cr_assert_eq(sd_nix32_encoded_len(1), 2);
	cr_assert_eq(sd_nix32_encoded_len(20), 32);
	cr_assert_eq(sd_nix32_encoded_len(32), 52);
}

Test(nix32, abc_vector)
{
	char out[53];
	sd_nix32_encode(abc, 32, out);
	cr_assert_str_eq(out, abc_nix32);
	uint8_t back[32];
	cr_assert_eq(sd_nix32_decode(abc_nix32, 52, back, 32, NULL), 0);
	cr_assert_arr_eq(back, abc, 32);
}

Test(nix32, small_values)
{
	char out[8];
	uint8_t one = 1;
	sd_nix32_encode(&one, 1, out);
	cr_assert_str_eq(out, "01");
	uint8_t ff = 0xff;
	sd_nix32_encode(&ff, 1, out);
	cr_assert_str_eq(out, "7z"); /* 0xff = 7*32 + 31 */
	uint8_t zero[2] = {0, 0};
	sd_nix32_encode(zero, 2, out);
	cr_assert_str_eq(out, "0000");
}

Test(nix32, roundtrip_all_lengths)
{
	uint8_t in[64], back[64];
	char enc[128];
	uint32_t x = 12345;
	for (size_t n = 1; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			in[i] = (uint8_t)(x >> 16);
		}
		sd_nix32_encode(in, n, enc);
		cr_assert_eq(strlen(enc), sd_nix32_encoded_len(n));
		struct sd_error err;
		cr_assert_eq(sd_nix32_decode(enc, strlen(enc), back, n, &err),
			     0, "%zu: %s", n, err.msg);
		cr_assert_arr_eq(back, in, n);
	}
}

Test(nix32, decode_errors)
{
	uint8_t out[32];
	struct sd_error err;
	char bad[53];
	memcpy(bad, abc_nix32, sizeof(bad));
	bad[10] = 'e';
	cr_assert_eq(sd_nix32_decode(bad, 52, out, 32, &err), SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "offset 10"), "%s", err.msg);
	cr_assert_eq(sd_nix32_decode(abc_nix32, 51, out, 32, &err),
		     SD_ERR_INVALID);
	/* 52 chars carry 260 bits: a first digit >= 16 overflows 256. */
	memcpy(bad, abc_nix32, sizeof(bad));
	bad[0] = 'z';
	cr_assert_eq(sd_nix32_decode(bad, 52, out, 32, &err), SD_ERR_INVALID);
	cr_assert(strstr(err.msg, "excess"), "%s", err.msg);
}

static void expect_abc(const char *s)
{
	uint8_t out[32];
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_hash_parse(s, strlen(s), out, &err), 0, "%s: %s", s,
		     err.msg);
	cr_assert_arr_eq(out, abc, 32, "%s", s);
}

Test(hashparse, all_notations)
{
	char buf[128];
	expect_abc(abc_hex);
	expect_abc(abc_nix32);
	expect_abc(abc_b64);
	snprintf(buf, sizeof(buf), "sha256:%s", abc_hex);
	expect_abc(buf);
	snprintf(buf, sizeof(buf), "sha256:%s", abc_nix32);
	expect_abc(buf);
	snprintf(buf, sizeof(buf), "sha256:%s", abc_b64);
	expect_abc(buf);
	snprintf(buf, sizeof(buf), "sha256-%s", abc_b64);
	expect_abc(buf);
	/* upper-case hex and unpadded base64 */
	char up[65];
	for (int i = 0; i < 64; i++)
		up[i] = (char)(abc_hex[i] >= 'a' ? abc_hex[i] - 32
						 : abc_hex[i]);
	up[64] = '\0';
	expect_abc(up);
	snprintf(buf, sizeof(buf), "sha256-%.43s", abc_b64);
	expect_abc(buf);
}

static void expect_bad(const char *s)
{
	uint8_t out[32];
	struct sd_error err;
	sd_error_init(&err);
	cr_assert_eq(sd_hash_parse(s, strlen(s), out, &err), SD_ERR_INVALID,
		     "accepted '%s'", s);
	cr_assert(err.msg[0]);
}

Test(hashparse, rejects)
{
	expect_bad("");
	expect_bad("sha256:");
	expect_bad("sha1:0123456789abcdef0123456789abcdef01234567");
	expect_bad("sha512-abcd");
	expect_bad("md5:00000000000000000000000000000000");
	expect_bad(
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a");
	expect_bad(
		"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_bad("sha256-!ngWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
	expect_bad("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa==");
	expect_bad("1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5e");
}
