#!/bin/sh
# SPDX-License-Identifier: MIT
# Compressed EROFS layouts (issue 9): compact indexes, files stored plain
# when compression saves no room, --ztailpacking.  Files chosen for each
# case; every image mounts in the kernel and matches the source byte for
# byte, fsck.erofs --extract (erofs-utils 1.5) agrees where it can read
# the compressor, and storedisk verify, extract and diff agree with it.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
python3 - "$S/$app/share" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(9)
def text(n, seed):
    q = random.Random(seed)
    words = [b"store", b"path", b"erofs", b"closure", b"nix", b"image", b"block"]
    lines, size = [], 0
    while size < n:
        lines.append(b" ".join(q.choice(words) for _ in range(12)) + b"\n")
        size += len(lines[-1])
    return b"".join(lines)[:n]
def put(name, data):
    open(os.path.join(d, name), "wb").write(data)
# incompressible 4K..12K: stored plain (whole blocks + inline tail)
for n in (4096, 4097, 5000, 8191, 8192, 12000, 12288):
    put("rand%d" % n, r.randbytes(n))
# compressible, the compressed tail tiny / the raw tail just under a block
put("text-tiny-tail", text(3 * 4096 + 7, 1))
put("text-rawtail-4000", text(5 * 4096, 2) + r.randbytes(4000))
put("text-rawtail-4090", text(5 * 4096, 3) + r.randbytes(4090))
# small compressible files (compressed inline with --ztailpacking)
for n in (1, 100, 1000, 3000, 4095):
    put("small%d" % n, text(n, 10 + n))
# many lclusters: indexes too long for an inline tail in the inode's block
put("text-long", text(9 * 1024 * 1024 + 123, 4))
# several segments, incompressible: stored plain after a second read
put("rand-multi", r.randbytes(2 * 1024 * 1024 + 3333))
# duplicates: plain, compressed, compressed with an inline tail
for name in ("rand5000", "text-tiny-tail", "small3000", "rand-multi",
             "text-rawtail-4000"):
    put(name + ".copy", open(os.path.join(d, name), "rb").read())
put("empty", b"")
PY
"$SD" closure --store "$S" "$root" | sed 's|^/nix/store/||' >"$WORK/closure"
paths=$(cat "$WORK/closure")
"$SD" pack -q -o "$WORK/ref.erofs" --format erofs --compress none \
	--mtime 1234567 --store "$S" "$root"

layout() { # IMAGE PATH: the Layout dump.erofs prints
	dump.erofs --path="/$app/share/$2" "$1" 2>/dev/null |
		sed -n 's/.*Layout: \([0-9]\).*/\1/p'
}
inline_tail() { # IMAGE PATH: true if the last extent is not block-aligned
	dump.erofs -e --path="/$app/share/$2" "$1" 2>/dev/null |
		awk '/^ *[0-9]+:/ { last = $10 } END { exit !(last % 4096) }'
}

for cfg in "lz4 4K" "lz4 4K zt" "lz4hc 64K" "lz4hc 64K zt" "lzma 4K zt" \
	"zstd 64K zt" "zstd 4K"; do
	# shellcheck disable=SC2086
	set -- $cfg
	comp=$1 pc=$2 zt=${3:+--ztailpacking}
	name="$comp-$pc${3:+-zt}"
	img="$WORK/$name.erofs"
	# shellcheck disable=SC2086
	"$SD" pack -q -o "$img" --format erofs --compress "$comp" \
		--pcluster-size "$pc" $zt --mtime 1234567 --store "$S" "$root" \
		2>"$WORK/err"
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q "not yet supported" "$WORK/err"; then
		skip "erofs $name: $(cat "$WORK/err")"
		continue
	fi
	check "pack ($name)" [ "$rc" -eq 0 ]
	for j in 1 3; do
		# shellcheck disable=SC2086
		"$SD" pack -q -o "$img.j$j" --format erofs --compress "$comp" \
			--pcluster-size "$pc" $zt --mtime 1234567 --jobs $j \
			--store "$S" "$root"
	done
	check "same bytes for --jobs 1, 3 and the default ($name)" \
		sh -c 'cmp -s "$1" "$1.j1" && cmp -s "$1" "$1.j3"' - "$img"
	rm -f "$img.j1" "$img.j3"
	if can_mount; then
		mnt="$WORK/mnt-$name"
		if mount_image "$img" "$mnt"; then
			# shellcheck disable=SC2086
			check "kernel mount matches the source ($name)" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" "$S" "$mnt" 1234567 $paths
			umount_image "$mnt"
		else
			fail "kernel mount of $name"
		fi
	else
		skip "kernel mount ($name): loop mounting is not permitted here"
	fi
	expect_rc 0 "verify reads $name" "$SD" verify "$img"
	"$SD" extract "$img" "$WORK/x-$name" >/dev/null 2>&1
	# shellcheck disable=SC2086
	check "storedisk extract matches the source ($name)" \
		python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner "$S" "$WORK/x-$name" 1234567 $paths
	chmod -R u+w "$WORK/x-$name" && rm -rf "$WORK/x-$name"
	expect_rc 0 "storedisk diff finds $name equal to the uncompressed image" \
		"$SD" diff "$img" "$WORK/ref.erofs"
	case $comp in
	lz4 | lz4hc)
		# shellcheck disable=SC2086
		fsck_extract_matches "$name" "$img" "$S" $paths
		;;
	esac
	if ! command -v dump.erofs >/dev/null; then
		skip "dump.erofs not installed"
		continue
	fi
	# layouts: 0 FLAT_PLAIN, 2 FLAT_INLINE, 3 COMPRESSED_COMPACT
	plain=yes
	for n in 4096 4097 5000 8191 8192 12000 12288; do
		case $(layout "$img" "rand$n") in 0 | 2) ;; *) plain="no: rand$n" ;; esac
	done
	check "incompressible 4096..12288-byte files are stored plain ($name): $plain" \
		[ "$plain" = yes ]
	check "a multi-segment incompressible file is stored plain ($name)" \
		[ "$(layout "$img" rand-multi)" = 2 ]
	check "compressible files use compact indexes ($name)" \
		[ "$(layout "$img" text-long)" = 3 ] && [ "$(layout "$img" text-tiny-tail)" = 3 ]
	if [ "$comp" = zstd ]; then
		:   # erofs-utils 1.5 cannot map zstd extents: no dump.erofs -e
	elif [ -n "$zt" ]; then
		check "a tiny compressed tail is inline ($name)" inline_tail "$img" text-tiny-tail
		check "its duplicate is inline too ($name)" inline_tail "$img" text-tiny-tail.copy
		check "a small compressible file is compressed inline ($name)" \
			sh -c '[ "$1" = 3 ]' - "$(layout "$img" small3000)"
		check "a tail behind long indexes is not inline ($name)" \
			sh -c '! "$@"' - inline_tail "$img" text-long
	else
		check "no inline pcluster without --ztailpacking ($name)" \
			sh -c '! "$@"' - inline_tail "$img" text-tiny-tail
	fi
done

check "--ztailpacking makes the lz4 4K image smaller" \
	[ "$(stat -c %s "$WORK/lz4-4K-zt.erofs")" -lt "$(stat -c %s "$WORK/lz4-4K.erofs")" ]
expect_rc 2 "--ztailpacking is refused under --min-kernel 5.16" "$SD" pack \
	-o "$WORK/old.erofs" --format erofs --compress lz4 --ztailpacking \
	--min-kernel 5.16 --store "$S" "$root"
check "the refusal names the option and the kernel" \
	sh -c '"$@" 2>&1 | grep -q -- "--ztailpacking needs Linux 5.17"' - "$SD" pack \
	-o "$WORK/old.erofs" --format erofs --compress lz4 --ztailpacking \
	--min-kernel 5.16 --store "$S" "$root"
expect_rc 0 "--ztailpacking is accepted under --min-kernel 5.17" "$SD" pack \
	-q -o "$WORK/new.erofs" --format erofs --compress lz4 --ztailpacking \
	--min-kernel 5.17 --store "$S" "$root"
"$SD" info "$WORK/new.erofs" >"$WORK/info" 2>&1
check "info shows ztailpacking with its kernel" contains "$WORK/info" "ztailpacking (5.17"
expect_rc 2 "--ztailpacking without a compressor is refused" "$SD" pack \
	-o "$WORK/n.erofs" --format erofs --ztailpacking --store "$S" "$root"
expect_rc 2 "--ztailpacking with squashfs is refused" "$SD" pack \
	-o "$WORK/n.sqfs" --ztailpacking --store "$S" "$root"
"$SD" info "$WORK/lz4-4K.erofs" >"$WORK/info" 2>&1
check "the default compressed image needs Linux 5.4" contains "$WORK/info" "min kernel:     5.4"

finish
