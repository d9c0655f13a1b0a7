#!/bin/sh
# SPDX-License-Identifier: MIT
# storedisk info: format, compressors, sizes, features, counts, label, UUID
# and min_kernel of images of both formats (every compressor), of images
# written by mkfs.erofs and mksquashfs, text and JSON; exit 2 for what is
# not an image.  pack --min-kernel: options a kernel lacks are refused
# (exit 2, nothing written), and an EROFS image of a sparse file packed for
# 5.10 has no chunk-based file, mounts and matches the source.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
# A sparse file (a 1 MiB all-zero chunk and data around it: chunk-based in
# a default EROFS image) and a compressible one (for big pclusters).
python3 - "$S/$app/share" <<'PY'
import os, sys
d = sys.argv[1]
with open(os.path.join(d, "sparse"), "wb") as f:
    f.write(b"head" * 1000)
    f.seek(3 << 20)
    f.write(b"tail" * 1000)
open(os.path.join(d, "text"), "wb").write(b"".join(b"line %d of a compressible file\n" % i for i in range(40000)))
PY
"$SD" closure --store "$S" "$root" | sed 's|^/nix/store/||' >"$WORK/closure"
paths=$(cat "$WORK/closure")

# jget FILE EXPR: evaluate the Python expression EXPR over the JSON
# document in FILE (as d) and print the result.
jget() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# info_check IMAGE FORMAT COMPRESSOR MIN_KERNEL [FEATURE...]: info (text
# and JSON) says FORMAT, COMPRESSOR and MIN_KERNEL and lists every FEATURE.
info_check() {
	ic_img=$1 ic_fmt=$2 ic_comp=$3 ic_kver=$4
	shift 4
	ic_name=$(basename "$ic_img")
	expect_rc 0 "info $ic_name" "$SD" info "$ic_img"
	check "info $ic_name: text says format $ic_fmt" contains "$WORK/out" "format:         $ic_fmt"
	check "info $ic_name: text says min_kernel $ic_kver" \
		grep -q "^min kernel: *$ic_kver\\( \\|\$\\)" "$WORK/out"
	expect_rc 0 "info --json $ic_name" "$SD" info --json "$ic_img"
	cp "$WORK/out" "$WORK/info.json"
	check "info --json $ic_name: format $ic_fmt" [ "$(jget "$WORK/info.json" 'd["format"]')" = "$ic_fmt" ]
	check "info --json $ic_name: compressor $ic_comp" \
		[ "$(jget "$WORK/info.json" '",".join(c["name"] for c in d["compressors"])')" = "$ic_comp" ]
	check "info --json $ic_name: min_kernel $ic_kver" \
		[ "$(jget "$WORK/info.json" 'd["min_kernel"]')" = "$ic_kver" ]
	check "info --json $ic_name: image_bytes is the file size" \
		[ "$(jget "$WORK/info.json" 'd["image_bytes"]')" = "$(stat -c %s "$ic_img")" ]
	for ic_f in "$@"; do
		check "info --json $ic_name: feature $ic_f" \
			[ "$(jget "$WORK/info.json" "'$ic_f' in [x['name'] for x in d['features']]")" = True ]
	done
}

# ---- storedisk's own images ---------------------------------------
for comp in gzip xz lz4 zstd none; do
	img=$WORK/sq-$comp.img
	expect_rc 0 "pack squashfs $comp" "$SD" pack -q --no-digest -o "$img" \
		--compress "$comp" --store "$S" "$root"
	case $comp in
	gzip | none) k=2.6.29 c=gzip ;;
	xz) k=2.6.38 c=xz ;;
	lz4) k=3.19 c=lz4 ;;
	zstd) k=4.14 c=zstd ;;
	esac
	info_check "$img" squashfs "$c" "$k" export-table fragments
done
jget "$WORK/info.json" 'd["block_size"], d["label"], d["uuid"], d["pcluster_size"]' >"$WORK/v"
check "squashfs: 128K blocks, no label, no UUID, no pclusters" \
	[ "$(cat "$WORK/v")" = "(131072, None, None, 0)" ]
check "squashfs none: uncompressed-data is a feature" \
	[ "$(jget "$WORK/info.json" "'uncompressed-data' in [x['name'] for x in d['features']]")" = True ]
# counts agree with ls -R
nf=$("$SD" ls -R -l "$img" | grep -c '^-')
nd=$("$SD" ls -R -l "$img" | grep -c '^d')
nl=$("$SD" ls -R -l "$img" | grep -c '^l')
check "info counts files, directories (root included), symlinks as ls -R" \
	[ "$(jget "$WORK/info.json" '(d["files"], d["directories"], d["symlinks"])')" = "($nf, $((nd + 1)), $nl)" ]

for comp in none lz4 lz4hc lzma zstd lz4-64K; do
	img=$WORK/er-$comp.img
	case $comp in
	lz4-64K) opts="--compress lz4 --pcluster-size 64K" ;;
	*) opts="--compress $comp" ;;
	esac
	# shellcheck disable=SC2086
	expect_rc 0 "pack erofs $comp" "$SD" pack -q --no-digest -o "$img" \
		--format erofs $opts --store "$S" "$root"
	case $comp in
	none) info_check "$img" erofs "" 5.15 chunk-based compact-inodes inline-data sb-checksum ;;
	lz4 | lz4hc) info_check "$img" erofs lz4 5.4 compressed-files zero-padding ;;
	lzma) info_check "$img" erofs lzma 5.16 compressed-files compression-configs ;;
	zstd) info_check "$img" erofs zstd 6.10 compressed-files compression-configs ;;
	lz4-64K) info_check "$img" erofs lz4 5.13 big-pcluster compression-configs ;;
	esac
	case $comp in
	none) want=0 ;;
	lz4-64K) want=65536 ;;
	*) want=4096 ;;
	esac
	check "info --json erofs $comp: pcluster_size $want" \
		[ "$(jget "$WORK/info.json" 'd["pcluster_size"]')" = "$want" ]
done
check "erofs: label nix-store, a UUID, 4K blocks" \
	[ "$(jget "$WORK/info.json" 'd["label"], len(d["uuid"]), d["block_size"]')" = "('nix-store', 36, 4096)" ]
"$SD" info "$WORK/er-lzma.img" >"$WORK/lzma.txt"
check "erofs lzma: the kernel config line names CONFIG_EROFS_FS_ZIP_LZMA" \
	grep -q '^kernel config: *CONFIG_EROFS_FS .*CONFIG_EROFS_FS_ZIP_LZMA' "$WORK/lzma.txt"
check "every reported feature has a kernel version" \
	[ "$(jget "$WORK/info.json" 'all(x["since"] for x in d["features"] + d["compressors"])')" = True ]

# ---- images of other tools ----------------------------------------
src=$S/$app
if command -v mkfs.erofs >/dev/null; then
	mkfs.erofs --quiet -zlz4hc -Eztailpacking "$WORK/mk-zt.img" "$src" >/dev/null 2>&1
	info_check "$WORK/mk-zt.img" erofs lz4 5.17 ztailpacking compressed-files
	mkfs.erofs --quiet "$WORK/mk-plain.img" "$src" >/dev/null 2>&1
	info_check "$WORK/mk-plain.img" erofs "" 5.4 inline-data
	mkfs.erofs --quiet --chunksize=4096 "$WORK/mk-chunk.img" "$src" >/dev/null 2>&1
	info_check "$WORK/mk-chunk.img" erofs "" 5.15 chunk-based
	mkfs.erofs --quiet -zlz4hc -C65536 "$WORK/mk-big.img" "$src" >/dev/null 2>&1
	info_check "$WORK/mk-big.img" erofs lz4 5.13 big-pcluster compression-configs
	mkfs.erofs --quiet -zlz4 -Eforce-inode-extended "$WORK/mk-ext.img" "$src" >/dev/null 2>&1
	info_check "$WORK/mk-ext.img" erofs lz4 5.4 extended-inodes
else
	skip "mkfs.erofs images: mkfs.erofs is not installed"
fi
if command -v mksquashfs >/dev/null; then
	for c in gzip xz lz4 zstd lzma; do
		if ! mksquashfs "$src" "$WORK/mk-$c.sqfs" -comp "$c" -noappend -quiet >/dev/null 2>&1; then
			skip "mksquashfs -comp $c: not supported by this mksquashfs"
			continue
		fi
		case $c in
		gzip) k=2.6.29 ;;
		xz) k=2.6.38 ;;
		lz4) k=3.19 ;;
		zstd) k=4.14 ;;
		lzma) k=None ;;   # never in mainline
		esac
		if [ "$c" = lzma ]; then
			expect_rc 0 "info --json mksquashfs lzma" "$SD" info --json "$WORK/mk-$c.sqfs"
			cp "$WORK/out" "$WORK/info.json"
			check "mksquashfs lzma: min_kernel null (no mainline kernel reads it)" \
				[ "$(jget "$WORK/info.json" 'd["min_kernel"]')" = None ]
			continue
		fi
		info_check "$WORK/mk-$c.sqfs" squashfs "$c" "$k" fragments
	done
else
	skip "mksquashfs images: mksquashfs is not installed"
fi

# ---- not an image ------------------------------------------------
head -c 10000 /dev/urandom >"$WORK/junk.img"
expect_rc 2 "info on a random file gives 2" "$SD" info "$WORK/junk.img"
check "the error names the file" contains "$WORK/err" "$WORK/junk.img"
expect_rc 2 "info on a missing file gives 2" "$SD" info "$WORK/nothing.img"
head -c 8192 "$WORK/er-none.img" >"$WORK/trunc.img"
expect_rc 2 "info on a truncated EROFS image gives 2" "$SD" info "$WORK/trunc.img"
head -c 4096 "$WORK/sq-xz.img" >"$WORK/trunc.sqfs"
expect_rc 2 "info on a truncated squashfs image gives 2" "$SD" info "$WORK/trunc.sqfs"
expect_rc 2 "info without IMAGE gives 2" "$SD" info

# ---- pack --min-kernel: refusals -----------------------------------
# refuse WANT_TEXT ARGS...: pack ARGS exits 2 naming WANT_TEXT, no image.
refuse() {
	rf_text=$1
	shift
	rm -f "$WORK/r.img"
	expect_rc 2 "pack $* is refused" "$SD" pack -q -o "$WORK/r.img" "$@" --store "$S" "$root"
	check "... saying \"$rf_text\"" contains "$WORK/err" "$rf_text"
	check "... and writing nothing" [ ! -e "$WORK/r.img" ]
}
refuse "--compress zstd needs Linux 6.10 (EROFS Zstandard" --format erofs --compress zstd --min-kernel 6.1
refuse "--compress lzma needs Linux 5.16 (EROFS MicroLZMA" --format erofs --compress lzma --min-kernel 5.15
refuse "--pcluster-size 65536 needs Linux 5.13" --format erofs --compress lz4 --pcluster-size 64K --min-kernel 5.10
refuse "--format erofs needs Linux 5.4" --format erofs --min-kernel 4.19
refuse "--compress zstd (the default) needs Linux 4.14" --min-kernel 4.9
refuse "--compress lz4 needs Linux 3.19" --compress lz4 --min-kernel 3.18
refuse "--compress xz needs Linux 2.6.38" --compress xz --min-kernel 2.6.37
refuse "--min-kernel: bad version" --min-kernel six
expect_rc 0 "pack --format erofs --compress lz4hc --min-kernel 5.4 works" \
	"$SD" pack -q --no-digest -o "$WORK/k-lz4.img" --format erofs --compress lz4hc \
	--min-kernel 5.4 --store "$S" "$root"
check "... and gives the same bytes as without --min-kernel" \
	[ "$(sha "$WORK/k-lz4.img")" = "$(sha "$WORK/er-lz4hc.img")" ]
expect_rc 0 "pack --compress xz --min-kernel 2.6.38 works" \
	"$SD" pack -q --no-digest -o "$WORK/k-xz.img" --compress xz --min-kernel 2.6.38 --store "$S" "$root"

# ---- pack --min-kernel: the sparse file ----------------------------
expect_rc 0 "pack erofs --min-kernel 5.10 (sparse file)" "$SD" pack -q --no-digest \
	-o "$WORK/k510.img" --format erofs --min-kernel 5.10 --mtime 1 --store "$S" "$root"
info_check "$WORK/k510.img" erofs "" 5.4 compact-inodes
check "the 5.10 image has no chunk-based file" \
	[ "$(jget "$WORK/info.json" "'chunk-based' in [x['name'] for x in d['features']]")" = False ]
check "the default image stores the sparse file chunk-based (it is bigger without)" \
	[ "$(stat -c %s "$WORK/er-none.img")" -lt "$(stat -c %s "$WORK/k510.img")" ]
expect_rc 0 "pack erofs --min-kernel 5.15" "$SD" pack -q --no-digest \
	-o "$WORK/k515.img" --format erofs --min-kernel 5.15 --store "$S" "$root"
check "--min-kernel 5.15 gives the same bytes as no --min-kernel" \
	[ "$(sha "$WORK/k515.img")" = "$(sha "$WORK/er-none.img")" ]
"$SD" cat "$WORK/k510.img" "$app/share/sparse" | cmp -s - "$S/$app/share/sparse"
check "storedisk cat of the 5.10 image's sparse file equals the source" [ $? -eq 0 ]
if can_mount; then
	for i in k510 er-none k-lz4; do
		if mount_image "$WORK/$i.img" "$WORK/mnt-$i"; then
			# shellcheck disable=SC2086
			check "mount -o loop,ro of $i matches the source" \
				python3 "$SRCDIR/tests/cli/compare-tree.py" --no-mtime "$S" "$WORK/mnt-$i" 1 $paths
			umount_image "$WORK/mnt-$i"
		else
			fail "mount -o loop,ro of $i"
		fi
	done
else
	skip "kernel mounts: loop mounting is not permitted here"
fi

finish
