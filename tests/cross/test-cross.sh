#!/bin/sh
# SPDX-License-Identifier: MIT
# test-cross.sh — the same store gives the same image on every host (issue
# 13): the native storedisk ($SD, or $STOREDISK as meson passes it) and a
# cross-built one run under qemu-user ($SD_CROSS: the DIR/storedisk wrapper
# of scripts/cross-build.sh, s390x for byte order, arm64 for unsigned char)
# pack the demo store plus scripts/cross/mkbig.py's path in both formats
# with every compressor, and each reads the other's images:
#  - closure and registration of the store: the same text;
#  - per case: the same image SHA-256, except where a compression library
#    is known to differ (its upstream version in DIR/versions.txt differs
#    from the host's), which is reported as a skip with the reason after
#    checking the two images hold the same files.  Fast lz4 included: on a
#    big-endian host storedisk compresses it with formats/codec/lz4fast,
#    which writes liblz4 1.9.4's x86_64 bytes (liblz4's own match finder
#    hashes the bytes as a host-order integer there);
#  - pack --verity: the same image, tree included, and root hash, and each
#    binary's verify --verity-root accepts the other's image;
#  - verify, info --json, ls -lR and registration --image of each image by
#    the other binary: the same verdict and the same text;
#  - packs from a Nix database (SQLite), a nix-store --export stream and a
#    tar, and export --tar: the same bytes; a compression cache made by
#    one binary serves the other (cache hits, the same image).
# Environment: SD or STOREDISK, SD_CROSS, optional SD_CROSS_VERSIONS
# (default: versions.txt beside SD_CROSS), SRCDIR (default: this tree).
# Skips (1..0) when SD_CROSS is unset or does not run.
here=$(cd "$(dirname "$0")" && pwd)
: "${SRCDIR:=$(cd "$here/../.." && pwd)}"
: "${STOREDISK:=${SD:-}}"
export SRCDIR STOREDISK
if [ -z "$STOREDISK" ]; then
	echo "1..0 # SKIP no native binary (set SD or STOREDISK)"
	exit 0
fi
# shellcheck source=tests/cli/lib.sh
. "$SRCDIR/tests/cli/lib.sh"

# Under meson (tests/cross/meson.build): SD_CROSS_ARCH names the
# architecture, and scripts/test.sh's release stage the wrapper it built
# (SD_CROSS_S390X, SD_CROSS_ARM64), or why it could not
# (SD_CROSS_S390X_ERROR: a failed build fails the test; only a toolchain
# that cannot be installed skips it).
if [ -z "${SD_CROSS:-}" ] && [ -n "${SD_CROSS_ARCH:-}" ]; then
	up=$(echo "$SD_CROSS_ARCH" | tr '[:lower:]' '[:upper:]')
	eval "SD_CROSS=\${SD_CROSS_$up:-}"
	eval "xerr=\${SD_CROSS_${up}_ERROR:-}"
	eval "xskip=\${SD_CROSS_${up}_SKIP:-}"
	if [ -n "$xerr" ]; then
		echo "1..1"
		echo "not ok 1 - scripts/cross-build.sh $SD_CROSS_ARCH failed: $xerr"
		exit 1
	fi
	[ -z "$xskip" ] || skip_all "no $SD_CROSS_ARCH cross toolchain: $xskip"
	[ -n "$SD_CROSS" ] || skip_all "no $SD_CROSS_ARCH cross build named (SD_CROSS_$up): scripts/test.sh builds one in its release stage (scripts/cross-build.sh $SD_CROSS_ARCH DIR)"
fi
[ -n "${SD_CROSS:-}" ] || skip_all "SD_CROSS unset (a wrapper from scripts/cross-build.sh ARCH DIR: DIR/storedisk)"
[ -x "$SD_CROSS" ] || skip_all "SD_CROSS=$SD_CROSS is not executable"
XS=$SD_CROSS
versions=${SD_CROSS_VERSIONS:-$(dirname "$XS")/versions.txt}
[ -f "$versions" ] || skip_all "no $versions (scripts/cross-build.sh writes it beside the wrapper)"
arch=$(awk 'NR == 1 { sub(/^sysroot-/, "", $2); print $2 }' "$versions")
case $arch in
s390x | powerpc | ppc64 | mips | mips64 | sparc64) big_endian=true ;;
*) big_endian=false ;;
esac
"$XS" --version >"$WORK/xv" 2>&1 || skip_all "$XS --version fails under qemu-user: $(head -1 "$WORK/xv")"
diag "cross: $arch (big-endian: $big_endian), $(cat "$WORK/xv")"
# The cross reads of each case's images: every case, or SD_CROSS_READS=few.
reads=${SD_CROSS_READS:-every}

# lib_of PACKAGE: "host-version sysroot-version" from versions.txt, upstream
# versions only (no epoch, no Debian revision: a security patch of the
# archive, say 5.4.1-1+deb12u1, does not excuse a different image).
lib_of() {
	awk -v p="$1" 'function up(v) { sub(/^[0-9]+:/, "", v); sub(/-[^-]*$/, "", v); return v }
		$1 == p { print up($3), up($2) }' "$versions"
}

# known_diff FORMAT COMPRESSOR: why the two images may differ, or nothing.
known_diff() {
	kd_fmt=$1 kd_comp=$2
	case $kd_comp in
	gzip) pkgs=zlib1g ;;
	xz | lzma) pkgs=liblzma5 ;;
	lz4 | lz4hc) pkgs=liblz4-1 ;;
	zstd) pkgs=libzstd1 ;;
	*) pkgs= ;;
	esac
	[ "$kd_fmt" = squashfs ] && pkgs="$pkgs libsquashfs1"
	for p in $pkgs; do
		# shellcheck disable=SC2046
		set -- $(lib_of "$p")
		if [ "${1:-}" != "${2:-}" ]; then
			echo "upstream $p differs: host ${1:-none}, $arch sysroot ${2:-none}"
			return
		fi
	done
}

same_output() { # DESCRIPTION ARGS...: both binaries print the same stdout
	desc=$1
	shift
	if ! "$SD" "$@" >"$WORK/o.native" 2>"$WORK/e.native"; then
		fail "$desc: native $1 fails: $(head -1 "$WORK/e.native")"
	elif ! "$XS" "$@" >"$WORK/o.cross" 2>"$WORK/e.cross"; then
		fail "$desc: $arch $1 fails: $(head -1 "$WORK/e.cross")"
	elif cmp -s "$WORK/o.native" "$WORK/o.cross"; then
		ok "$desc"
	else
		fail "$desc: outputs differ"
		diag "$(diff "$WORK/o.native" "$WORK/o.cross" | head -6)"
	fi
}

root=$(demo_store "$WORK/demo")
store=$WORK/demo/nix/store
big=/nix/store/$(python3 "$SRCDIR/scripts/cross/mkbig.py" "$store" cross-big-1.0)
same_output "closure --json of the store" closure --json --store "$store" "$root" "$big"
same_output "registration of the store (NAR hashes)" registration --store "$store" "$root" "$big"

cases="squashfs:none squashfs:gzip squashfs:xz squashfs:lz4 squashfs:zstd
squashfs:zstd:19/--block-size=4096 squashfs:xz/--block-size=1048576
erofs:none erofs:lz4 erofs:lz4hc erofs:lzma erofs:zstd
erofs:lz4hc/--ztailpacking erofs:lzma/--pcluster-size=65536
erofs:zstd/--ztailpacking/--pcluster-size=16384 erofs:none/--embed-registration
squashfs:lz4/--block-size=4096 erofs:lz4/--pcluster-size=65536
squashfs:gzip/--verity erofs:lz4hc/--verity"
n=0
for c in $cases; do
	n=$((n + 1))
	fmtcomp=${c%%/*}
	extra=
	[ "$fmtcomp" = "$c" ] || extra=$(echo "${c#*/}" | tr '/' ' ')
	fmt=${fmtcomp%%:*}
	comp=${fmtcomp#*:}
	name=$(echo "$c" | tr '/' ' ')
	a=$WORK/$n.native
	b=$WORK/$n.cross
	# shellcheck disable=SC2086
	"$SD" pack -q --no-digest --format "$fmt" --compress "$comp" $extra \
		-o "$a" --store "$store" "$root" "$big" 2>"$WORK/e.native"
	# shellcheck disable=SC2086
	"$XS" pack -q --no-digest --format "$fmt" --compress "$comp" $extra \
		-o "$b" --store "$store" "$root" "$big" 2>"$WORK/e.cross"
	if [ ! -f "$a" ] || [ ! -f "$b" ]; then
		fail "$name: pack: native: $(head -1 "$WORK/e.native") $arch: $(head -1 "$WORK/e.cross")"
		continue
	fi
	if [ "$(sha "$a")" = "$(sha "$b")" ]; then
		ok "$name: the $arch image is the native one"
	else
		why=$(known_diff "$fmt" "${comp%%:*}")
		rm -rf "$WORK/xa" "$WORK/xb"
		if "$SD" extract "$a" "$WORK/xa" 2>/dev/null &&
			"$SD" extract "$b" "$WORK/xb" 2>/dev/null &&
			diff -r --no-dereference "$WORK/xa" "$WORK/xb" >/dev/null; then
			ok "$name: the two images hold the same files"
		else
			fail "$name: the two images hold different files"
		fi
		chmod -R u+w "$WORK/xa" "$WORK/xb" 2>/dev/null
		rm -rf "$WORK/xa" "$WORK/xb"
		if [ -n "$why" ]; then
			skip "$name: the images differ: $why"
		else
			fail "$name: the $arch image differs from the native one"
			diag "cmp: $(cmp "$a" "$b" 2>&1 | head -1)"
			diag "$(grep -E '^(library|libsquashfs1|liblz4-1|libzstd1|liblzma5|zlib1g) ' "$versions")"
		fi
	fi
	# A dm-verity tree (pack --verity): the same root hash, and each
	# binary checks the other's tree against it.
	case " $extra " in
	*" --verity "*)
		check "$name: the same root hash ($(cat "$a.roothash" 2>/dev/null))" \
			cmp -s "$a.roothash" "$b.roothash"
		check "$name: $arch verify --verity-root of the native image" \
			"$XS" verify -q --verity-root "$(cat "$a.roothash")" "$a"
		check "$name: native verify --verity-root of the $arch image" \
			"$SD" verify -q --verity-root "$(cat "$b.roothash")" "$b"
		;;
	esac
	# The images matched; what each binary reads from the other's
	# (every case on a big-endian host, the first of each format on a
	# little-endian one, where only char's signedness differs: CI's
	# time).
	if [ "$reads" = every ] || [ "$n" -eq 1 ] || [ "$c" = erofs:none ]; then :; else continue; fi
	check "$name: $arch verify of the native image" "$XS" verify -q "$a"
	check "$name: native verify of the $arch image" "$SD" verify -q "$b"
	same_output "$name: info --json of the native image" info --json "$a"
	same_output "$name: ls -lR of the native image" ls -lR "$a"
	same_output "$name: registration --image of the native image" registration --image "$a"
done

# verify's and diff's reports, text and JSON, from both binaries: the same
# text and the same exit status (diff: 1 when the images differ).
same_report() { # DESCRIPTION ARGS...
	desc=$1
	shift
	"$SD" "$@" >"$WORK/o.native" 2>"$WORK/e.native"
	rn=$?
	"$XS" "$@" >"$WORK/o.cross" 2>"$WORK/e.cross"
	rx=$?
	if [ "$rn" -ne "$rx" ]; then
		fail "$desc: exit $rn natively, $rx on $arch"
	elif [ "$rn" -ge 2 ]; then
		fail "$desc: both fail (exit $rn): $(head -1 "$WORK/e.native")"
	elif cmp -s "$WORK/o.native" "$WORK/o.cross"; then
		ok "$desc (exit $rn)"
	else
		fail "$desc: outputs differ"
		diag "$(diff "$WORK/o.native" "$WORK/o.cross" | head -6)"
	fi
}
same_output "verify --json of the native squashfs image: the same report" verify --json "$WORK/1.native"
same_output "verify of the native EROFS image: the same text" verify "$WORK/8.native"
"$SD" pack -q --no-digest --format erofs -o "$WORK/small.img" --store "$store" "$root"
same_report "diff of a squashfs and an EROFS image of one closure: the same" \
	diff "$WORK/1.native" "$WORK/8.native"
same_report "diff of two closures (text): the same" diff "$WORK/small.img" "$WORK/1.native"
same_report "diff --json of two closures: the same" diff --json "$WORK/small.img" "$WORK/1.native"

# The other inputs (a Nix database through SQLite, a `nix-store --export`
# stream, a tar) and the compression cache, one case each: the same image
# from both, and a cache made by one host serves the other.
# same_pack DESCRIPTION PACK-ARGS...: both binaries pack the same image.
same_pack() {
	desc=$1
	shift
	rm -f "$WORK/p.native" "$WORK/p.cross"
	"$SD" pack -q --no-digest -o "$WORK/p.native" "$@" 2>"$WORK/e.native"
	"$XS" pack -q --no-digest -o "$WORK/p.cross" "$@" 2>"$WORK/e.cross"
	if [ ! -f "$WORK/p.native" ] || [ ! -f "$WORK/p.cross" ]; then
		fail "$desc: pack: native: $(head -1 "$WORK/e.native") $arch: $(head -1 "$WORK/e.cross")"
	elif cmp -s "$WORK/p.native" "$WORK/p.cross"; then
		ok "$desc"
	else
		fail "$desc: the images differ"
	fi
}
"$SD" registration --store "$store" "$root" "$big" >"$WORK/reg"
python3 "$SRCDIR/tests/cli/mknixdb.py" "$WORK/reg" "$WORK/db.sqlite"
python3 "$SRCDIR/tests/cli/mkexport.py" "$WORK/export.nar" "$store" "reg=$WORK/reg"
same_pack "pack --db (SQLite) --embed-registration: the same image" --compress zstd \
	--db "$WORK/db.sqlite" --embed-registration --store "$store" "$root" "$big"
same_pack "pack --nix-export (EROFS lzma): the same image" --format erofs --compress lzma \
	--nix-export "$WORK/export.nar"
same_output "export --tar of the native image: the same tar" export "$WORK/1.native" --tar -
"$SD" export "$WORK/1.native" --tar "$WORK/store.tar"
same_pack "pack --tar (EROFS lz4hc, ztailpacking): the same image" --format erofs \
	--compress lz4hc --ztailpacking --tar "$WORK/store.tar"
for who in native cross; do
	[ $who = native ] && bin=$SD || bin=$XS
	other=cross
	[ $who = native ] || other=native
	"$bin" pack -q --no-digest --compress zstd --cache "$WORK/cache.$who" \
		-o "$WORK/c.$who" --store "$store" "$root" "$big" 2>/dev/null
	[ $who = native ] && bin=$XS || bin=$SD
	"$bin" pack --no-digest --compress zstd --cache "$WORK/cache.$who" \
		-o "$WORK/c2.$who" --store "$store" "$root" "$big" >"$WORK/c2.out" 2>&1
	if [ -f "$WORK/c.$who" ] && cmp -s "$WORK/c.$who" "$WORK/c2.$who" &&
		grep -q 'files written from the cache without reading them: [1-9]' "$WORK/c2.out"; then
		ok "a compression cache made by the $who binary serves the $other one (same image)"
	else
		fail "a compression cache made by the $who binary serves the $other one (same image)"
		diag "$(grep -i 'cache\|sha256' "$WORK/c2.out" | head -4)"
	fi
done
# A second store for what a small one cannot show: a file over 4 GiB
# (sparse: 64-bit sizes and offsets, block lists past 2^32, holes) and one
# directory of more than 65,536 entries (16-bit counts, directory indexes
# over many metadata blocks), a third of their names with bytes >= 0x80,
# some not UTF-8 (signed char in sorting and hashing).  Compressors whose
# work holes and empty files skip: the formats' own encoding is the test.
hstore=$WORK/huge/nix/store
hname=$(python3 - "$hstore" <<'PY'
import os, sys
store = sys.argv[1]
top = os.path.join(store, "0c5g8r7x9d1f2b3a4h6i0j1k2l3m4n5p-cross-huge-1.0")
os.makedirs(os.path.join(top, "many").encode(), exist_ok=True)
with open(os.path.join(top, "sparse"), "wb") as f:
    f.write(b"head")
    f.seek((4 << 30) + 12345)
    f.write(b"past 4 GiB")
    f.seek((4 << 30) + (3 << 20))
    f.write(b"tail")
d = os.path.join(top, "many").encode()
for i in range(70000):
    pre = (b"", b"\xc3\xa9", b"\xff\x80")[i % 3]
    name = pre + b"e%05d" % i
    open(os.path.join(d, name), "wb").close()
with open(os.path.join(d, b"\xfe-data"), "wb") as f:
    f.write(b"x" * 5000)
print(os.path.basename(top))
PY
)
hroot=/nix/store/$hname
hcases="squashfs:none squashfs:zstd erofs:none"
for c in $hcases; do
	fmt=${c%%:*}
	comp=${c#*:}
	a=$WORK/h.$fmt.$comp.native
	b=$WORK/h.$fmt.$comp.cross
	"$SD" pack -q --no-digest --format "$fmt" --compress "$comp" -o "$a" \
		--store "$hstore" --scan "$hroot" 2>"$WORK/e.native"
	"$XS" pack -q --no-digest --format "$fmt" --compress "$comp" -o "$b" \
		--store "$hstore" --scan "$hroot" 2>"$WORK/e.cross"
	if [ ! -f "$a" ] || [ ! -f "$b" ]; then
		fail "over 4 GiB and 70,001 entries, $fmt $comp: pack: native: $(head -1 "$WORK/e.native") $arch: $(head -1 "$WORK/e.cross")"
		continue
	fi
	check "over 4 GiB and 70,001 entries, $fmt $comp: the $arch image is the native one" \
		cmp -s "$a" "$b"
	[ "$reads" = every ] || continue
	check "... $arch verify of the native image" "$XS" verify -q "$a"
	same_output "... ls -lR of the native image" ls -lR "$a"
done
finish
