#!/bin/sh
# SPDX-License-Identifier: MIT
# make-erofs-images.sh MKFS_EROFS — regenerate the erofs-*.img test images
# (tests/formats/test_erofs_reader.c reads them and knows their contents).
#
# MKFS_EROFS is mkfs.erofs from erofs-utils 1.9.3 (built from source: the
# images record what that release writes; other releases may differ).  Not
# run by the suite or CI.  The source tree, under a temporary directory:
#
#   q5i0fyvqg6yx5ra0ljqbjp9s0xsy8xmp-frag-test-1.0/
#     share/text-300, share/text-5000, share/text-12000
#                         "line 1\nline 2\n..." cut to that many bytes
#     lib/rand-3000, lib/rand-6000
#                         xorshift bytes (th_random, seeds 1 and 2)
#     empty               0 bytes
#     bin/link ->         ../share/text-300
#   c6ryzlnyxy9i4pn5qk0gbwz9n7fncg1w-frag-dep-1.0/
#     ref                 "/nix/store/q5i0...-frag-test-1.0/share/text-300\n"
#
# files 0444, directories 0555, every mtime 1, all owned by root.
set -eu
mkfs=${1:?usage: make-erofs-images.sh MKFS_EROFS}
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
t=q5i0fyvqg6yx5ra0ljqbjp9s0xsy8xmp-frag-test-1.0
d=c6ryzlnyxy9i4pn5qk0gbwz9n7fncg1w-frag-dep-1.0
src=$tmp/src
mkdir -p "$src/$t/share" "$src/$t/lib" "$src/$t/bin" "$src/$d"
python3 - "$src/$t" <<'PY'
import sys
root = sys.argv[1]
def text(n):
    s, i = b'', 1
    while len(s) < n:
        s += b'line %d\n' % i
        i += 1
    return s[:n]
def rand(n, seed):
    x = 0x9E3779B97F4A7C15 ^ seed
    m = (1 << 64) - 1
    out = bytearray()
    for _ in range(n):
        x ^= (x << 13) & m
        x ^= x >> 7
        x ^= (x << 17) & m
        out.append((x >> 24) & 0xFF)
    return bytes(out)
for n in (300, 5000, 12000):
    open('%s/share/text-%d' % (root, n), 'wb').write(text(n))
open(root + '/lib/rand-3000', 'wb').write(rand(3000, 1))
open(root + '/lib/rand-6000', 'wb').write(rand(6000, 2))
open(root + '/empty', 'wb').close()
PY
ln -s ../share/text-300 "$src/$t/bin/link"
printf '/nix/store/%s/share/text-300\n' "$t" > "$src/$d/ref"
find "$src" -type f -exec chmod 0444 {} +
find "$src" -type d -exec chmod 0555 {} +
find "$src" -exec touch -h -d @1 {} +

mk() {
	name=$1
	shift
	rm -f "$out/$name"
	"$mkfs" -T1 --all-root -U 00000000-0000-0000-0000-000000000001 \
		"$@" "$out/$name" "$src" >/dev/null
	echo "$name: $mkfs -T1 --all-root $*"
}
# microvm.nix's default: compact indexes, tail fragments, inline tails
mk erofs-lz4hc-ztail-frag.img -zlz4hc -Eztailpacking -Efragments
# full (legacy) indexes: tail fragment offsets with a high half
mk erofs-lz4hc-full-frag.img -zlz4hc -Elegacy-compress -Efragments
# every file whole in the packed inode, zstd
mk erofs-zstd-allfrag.img -zzstd -Eall-fragments
# MicroLZMA, fragments with deduplication
mk erofs-lzma-frag-dedupe.img -zlzma -Efragments -Ededupe
# a feature we refuse by name: only its first block is kept (the
# superblock is all the reader looks at before refusing)
mk erofs-lz4-48bit.img -zlz4 -E48bit
truncate -s 4096 "$out/erofs-lz4-48bit.img"
