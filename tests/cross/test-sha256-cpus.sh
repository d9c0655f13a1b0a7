#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sha256-cpus.sh — the SHA-256 engine of --verity trees
# (src/app/sha256_batch.c) on x86_64 CPUs other than this one, run under
# qemu-user's CPU models: each gets the intel-ipsec-mb manager its
# features allow, or OpenSSL where the library cannot run (no AES-NI),
# never a crash, and the same digests as OpenSSL's one-shot SHA-256 on
# every one.  TCG has no AVX-512, so the models never reach that manager;
# this host's own run shows it where the CPU has it.
# Environment (tests/cross/meson.build): SD_SHA256_ENGINE (the program).
here=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(cd "$here/../.." && pwd)}"
export SRCDIR
# shellcheck source=tests/cli/lib.sh
. "$SRCDIR/tests/cli/lib.sh"

prog=${SD_SHA256_ENGINE:-}
[ -x "$prog" ] || skip_all "SD_SHA256_ENGINE unset (tests/cross/meson.build builds it)"
[ "$(uname -m)" = x86_64 ] || skip_all "intel-ipsec-mb is x86_64 only; this is $(uname -m)"
[ "$("$prog" --built-with)" = intel-ipsec-mb ] ||
	skip_all "built without intel-ipsec-mb (-Dipsec_mb, libipsec-mb-dev): OpenSSL only, nothing to pick"
qemu=$(command -v qemu-x86_64-static || command -v qemu-x86_64) ||
	skip_all "no qemu-user for x86_64 (qemu-user-static; scripts/cross-build.sh installs it)"

if "$prog" >"$WORK/native"; then
	ok "this CPU: $(head -1 "$WORK/native"), $(tail -1 "$WORK/native")"
else
	fail "this CPU: $(cat "$WORK/native")"
fi

# MODEL EXPECTED-ENGINE: Nehalem has no AES-NI (the library's managers
# need it), Westmere adds AES-NI and PCLMULQDQ (SSE), Haswell AVX2.
for pair in "Nehalem openssl" "qemu64 openssl" \
	"Westmere intel-ipsec-mb 1.*(sse)" "Haswell intel-ipsec-mb 1.*(avx2)"; do
	model=${pair%% *}
	want=${pair#* }
	"$qemu" -cpu "$model" "$prog" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	engine=$(head -1 "$WORK/out")
	if [ "$rc" -eq 0 ] && printf '%s\n' "$engine" | grep -qx "$want"; then
		ok "QEMU $model: $engine, $(tail -1 "$WORK/out")"
	else
		fail "QEMU $model: exit $rc, engine '$engine' (want '$want')"
		diag "$(tail -1 "$WORK/out") $(grep -v warning "$WORK/err" | head -3)"
	fi
done
finish
