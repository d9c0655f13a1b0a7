#!/bin/sh
# SPDX-License-Identifier: MIT
# test-lz4fast.sh — formats/codec/lz4fast writes liblz4 1.9.4's x86_64
# bytes on other hosts (issue 13), checked below the image level:
# lz4fast_digest.c prints one line per compression of a fixed input set
# (result, consumed size, hash of the block).  The native build against
# liblz4 ($SD_LZ4_DIGEST_REF) is the reference; the native build of
# lz4fast ($SD_LZ4_DIGEST_OURS) and static builds of lz4fast for s390x
# (big-endian) and arm64, made here with the Debian cross compiler and run
# under qemu-user, must print the same text.  An architecture without its
# cross compiler or qemu-user skips, saying so.
# Environment (tests/cross/meson.build): STOREDISK, SRCDIR,
# SD_LZ4_DIGEST_REF, SD_LZ4_DIGEST_OURS.
here=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(cd "$here/../.." && pwd)}"
export SRCDIR
# shellcheck source=tests/cli/lib.sh
. "$SRCDIR/tests/cli/lib.sh"

[ -x "${SD_LZ4_DIGEST_REF:-}" ] || skip_all "SD_LZ4_DIGEST_REF unset (tests/cross/meson.build builds it)"
[ -x "${SD_LZ4_DIGEST_OURS:-}" ] || skip_all "SD_LZ4_DIGEST_OURS unset"
case $(uname -m) in
x86_64 | aarch64) ;;
*) skip_all "liblz4 on $(uname -m) is not the reference (64-bit little-endian)" ;;
esac
"$SD_LZ4_DIGEST_REF" >"$WORK/ref" || skip_all "the liblz4 reference fails"
diag "reference: $(wc -l <"$WORK/ref") compressions by liblz4 on $(uname -m)"

check_same() { # NAME FILE
	if cmp -s "$WORK/ref" "$2"; then
		ok "$1: the same $(wc -l <"$2") results and blocks as liblz4"
	else
		fail "$1: $(diff "$WORK/ref" "$2" | grep -c '^<') of $(wc -l <"$WORK/ref") lines differ from liblz4's"
		diag "$(diff "$WORK/ref" "$2" | head -4)"
	fi
}

"$SD_LZ4_DIGEST_OURS" >"$WORK/ours" || fail "native lz4fast digest fails"
check_same "lz4fast on $(uname -m)" "$WORK/ours"

for arch in s390x arm64; do
	case $arch in
	s390x) cc=s390x-linux-gnu-gcc qemu=qemu-s390x-static ;;
	arm64) cc=aarch64-linux-gnu-gcc qemu=qemu-aarch64-static ;;
	esac
	if ! command -v "$cc" >/dev/null || ! command -v "$qemu" >/dev/null; then
		skip "lz4fast on $arch: no $cc or $qemu (scripts/cross-build.sh $arch installs them)"
		continue
	fi
	if ! "$cc" -std=c17 -O2 -static -I"$SRCDIR" -o "$WORK/digest-$arch" \
		"$SRCDIR/tests/cross/lz4fast_digest.c" \
		"$SRCDIR/formats/codec/lz4fast.c" 2>"$WORK/cc.err"; then
		fail "lz4fast on $arch: $cc fails: $(head -1 "$WORK/cc.err")"
		continue
	fi
	if ! "$qemu" "$WORK/digest-$arch" >"$WORK/out-$arch" 2>"$WORK/run.err"; then
		fail "lz4fast on $arch: fails under $qemu: $(head -1 "$WORK/run.err")"
		continue
	fi
	check_same "lz4fast on $arch (static, $qemu)" "$WORK/out-$arch"
done
finish
