/* SPDX-License-Identifier: MIT */
/*
 * sha256_batch.c — many SHA-256 digests at once (sha256_batch.h): on
 * intel-ipsec-mb's multi-buffer manager when built in (SD_HAVE_IPSEC_MB),
 * else on OpenSSL's EVP one message at a time.
 */
#include "app/sha256_batch.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SD_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

struct sd_sha256_batch {
	EVP_MD *md; /* OpenSSL's SHA-256, fetched once */
	EVP_MD_CTX *ctx;
#ifdef SD_HAVE_IPSEC_MB
	IMB_MGR *mgr; /* NULL: the OpenSSL engine */
#endif
	char engine[64];
};

#ifdef SD_HAVE_IPSEC_MB
/* The manager's name; the enum's other values (and their number) vary
 * between the library's versions. */
static const char *arch_name(IMB_ARCH a)
{
	return a == IMB_ARCH_AVX512 ? "avx512"
	       : a == IMB_ARCH_AVX2 ? "avx2"
	       : a == IMB_ARCH_SSE  ? "sse"
				    : "other";
}

/*
 * Set @m up for this CPU; false when none fits (then OpenSSL hashes).
 * init_mb_mgr_auto trusts CPUID alone, which can offer AVX-512 or AVX2
 * that the kernel has not enabled (XCR0), and the library then dies of
 * SIGILL (intel-ipsec-mb issue #153, a hypervisor that hides the state);
 * GCC's __builtin_cpu_supports checks XCR0 too, so each manager is asked
 * for only where it says yes.  Every manager needs AES-NI and PCLMULQDQ
 * (init_mb_mgr_sse on QEMU's Nehalem model, which has neither, crashed
 * under qemu-user), the SSE one SSE4.2 too.
 */
static bool mgr_init(IMB_MGR *m, IMB_ARCH *arch)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("aes") ||
	    !__builtin_cpu_supports("pclmul") ||
	    !__builtin_cpu_supports("sse4.2"))
		return false;
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl")) {
		init_mb_mgr_auto(m, arch);
	} else if (__builtin_cpu_supports("avx2")) {
		init_mb_mgr_avx2(m);
		*arch = IMB_ARCH_AVX2;
	} else {
		init_mb_mgr_sse(m);
		*arch = IMB_ARCH_SSE;
	}
#else
	init_mb_mgr_auto(m, arch);
#endif
	return true;
}

/* A manager for this CPU, or NULL (the caller falls back to OpenSSL). */
static IMB_MGR *mgr_new(char *engine, size_t engine_len)
{
	IMB_MGR *m = alloc_mb_mgr(0);
	if (!m)
		return NULL;
	IMB_ARCH arch = IMB_ARCH_NONE;
	if (!mgr_init(m, &arch) || imb_get_errno(m) || arch == IMB_ARCH_NONE) {
		free_mb_mgr(m);
		return NULL;
	}
	snprintf(engine, engine_len, "intel-ipsec-mb %s (%s)",
		 imb_get_version_str(), arch_name(arch));
	return m;
}

/* A job finished by the manager: completed, or the batch fails. */
static int job_done(const IMB_JOB *j)
{
	return j->status == IMB_STATUS_COMPLETED ? 0 : -1;
}

static int run_mb(IMB_MGR *m, const uint8_t *msgs, size_t stride, size_t len,
		  size_t n, uint8_t *out)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		IMB_JOB *j = IMB_GET_NEXT_JOB(m);
		j->cipher_mode = IMB_CIPHER_NULL;
		j->cipher_direction = IMB_DIR_ENCRYPT;
		j->chain_order = IMB_ORDER_HASH_CIPHER;
		j->hash_alg = IMB_AUTH_SHA_256;
		/* The slot may hold a finished job's cipher fields (the
		 * library's own start-up test leaves keys and lengths). */
		j->cipher_start_src_offset_in_bytes = 0;
		j->msg_len_to_cipher_in_bytes = 0;
		j->iv_len_in_bytes = 0;
		j->src = msgs + i * stride;
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = len;
		j->auth_tag_output = out + i * 32;
		j->auth_tag_output_len_in_bytes = 32;
		/* The manager hands back the jobs it finished, any order. */
		for (j = IMB_SUBMIT_JOB(m); j; j = IMB_GET_COMPLETED_JOB(m))
			bad |= job_done(j);
	}
	for (IMB_JOB *j = IMB_FLUSH_JOB(m); j; j = IMB_FLUSH_JOB(m))
		bad |= job_done(j);
	return bad || imb_get_errno(m) ? -1 : 0;
}
#endif

int sd_sha256_batch_new(struct sd_sha256_batch **out,
			enum sd_sha256_engine engine, struct sd_error *err)
{
	*out = NULL;
	struct sd_sha256_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return sd_error_set(err, SD_ERR_NOMEM, "out of memory");
#ifdef SD_HAVE_IPSEC_MB
	if (engine == SD_SHA256_AUTO)
		b->mgr = mgr_new(b->engine, sizeof(b->engine));
	if (b->mgr) {
		*out = b;
		return 0;
	}
#else
	(void)engine;
#endif
	snprintf(b->engine, sizeof(b->engine), "openssl");
	b->md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	b->ctx = EVP_MD_CTX_new();
	if (!b->md || !b->ctx) {
		sd_sha256_batch_free(b);
		return sd_error_set(err, SD_ERR_NOMEM,
				    "SHA-256: OpenSSL has none");
	}
	*out = b;
	return 0;
}

int sd_sha256_batch_run(struct sd_sha256_batch *b, const uint8_t *msgs,
			size_t stride, size_t len, size_t n, uint8_t *out,
			struct sd_error *err)
{
#ifdef SD_HAVE_IPSEC_MB
	if (b->mgr) {
		if (run_mb(b->mgr, msgs, stride, len, n, out))
			return sd_error_set(err, SD_ERR_NOMEM,
					    "SHA-256 failed (%s)", b->engine);
		return 0;
	}
#endif
	for (size_t i = 0; i < n; i++) {
		unsigned got = 0;
		if (EVP_DigestInit_ex(b->ctx, b->md, NULL) != 1 ||
		    EVP_DigestUpdate(b->ctx, msgs + i * stride, len) != 1 ||
		    EVP_DigestFinal_ex(b->ctx, out + i * 32, &got) != 1 ||
		    got != 32)
			return sd_error_set(err, SD_ERR_NOMEM,
					    "SHA-256 failed (openssl)");
	}
	return 0;
}

const char *sd_sha256_batch_engine(const struct sd_sha256_batch *b)
{
	return b->engine;
}

void sd_sha256_batch_free(struct sd_sha256_batch *b)
{
	if (!b)
		return;
#ifdef SD_HAVE_IPSEC_MB
	if (b->mgr)
		free_mb_mgr(b->mgr);
#endif
	EVP_MD_CTX_free(b->ctx);
	EVP_MD_free(b->md);
	free(b);
}
