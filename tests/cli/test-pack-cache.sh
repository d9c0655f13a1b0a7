#!/bin/sh
# SPDX-License-Identifier: MIT
# pack --cache DIR: the image bytes never depend on the compression cache.
# For each format and every compressor, the image packed with a cold, a
# warm, a partly emptied and a damaged cache, from two packs sharing one
# cache at once, with a cache that cannot be written, and after a closure
# change, is byte-identical to the image packed without a cache; a warm
# pack is served from the cache (hits, no misses); --cache-max bounds it.
. "$SRCDIR/tests/cli/lib.sh"

root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
app=$(basename "$root")
# The shapes that matter for the cache units: several blocks, several
# EROFS segments (> 1 MiB), an all-zero stretch, incompressible data,
# duplicate files and duplicate tails, files below one block.
python3 - "$S/$app" <<'EOF'
import os, random, sys
d = sys.argv[1] + "/share"
os.makedirs(d, exist_ok=True)
r = random.Random(11)
text = b"".join(b"line %d of a compressible text file\n" % i for i in range(40000))
open(d + "/big.txt", "wb").write(text)                        # ~1.5 MB: 2 segments
open(d + "/random.bin", "wb").write(r.randbytes(700000))      # incompressible
open(d + "/sparse.bin", "wb").write(bytes(300000) + text[:50000])
open(d + "/copy.txt", "wb").write(text)                       # duplicate file
for i in range(40):
    open(d + "/small%02d" % i, "wb").write(text[i * 977:i * 977 + 100 + 37 * i])
open(d + "/tail-a", "wb").write(text[:131072] + b"same tail")
open(d + "/tail-b", "wb").write(text[131072:262144] + b"same tail")
open(d + "/empty", "wb").close()
EOF

# A changed closure: the app under a new store path with one file changed.
app2=00000000000000000000000000000000-demo-app-1.1
cp -a "$S/$app" "$S/$app2"
printf 'changed\n' >>"$S/$app2/share/small07"

C=$WORK/cache
# pack NAME ROOT ARGS...: pack ROOT to $WORK/NAME.img with ARGS; its
# summary in $WORK/NAME.log.
pack() {
	name=$1 r=$2
	shift 2
	"$SD" pack -o "$WORK/$name.img" --no-digest --jobs 2 --store "$S" "$@" "$r" \
		>"$WORK/$name.log" 2>&1
}
# counter NAME WHAT: the number before WHAT ("hit", "miss", "stored": a
# prefix of the word, which is singular for 1)
# in the cache line of $WORK/NAME.log.
counter() {
	sed -n "s/^  cache: .*[ ,]\([0-9][0-9]*\) $2.*/\1/p; s/^  cache: \([0-9][0-9]*\) $2.*/\1/p" \
		"$WORK/$1.log" | head -1
}
same() { cmp -s "$WORK/$1.img" "$WORK/$2.img"; }
entries() { find "$C/v1" -type f -name '[0-9a-f]*' | sort; }

# flip_entries N: flip one byte in the middle of every Nth entry.
flip_entries() {
	entries | awk -v n="$1" 'NR % n == 0' | python3 -c 'import sys
for line in sys.stdin:
    p = line.rstrip("\n")
    b = bytearray(open(p, "rb").read())
    b[len(b) // 2] ^= 0x5a
    open(p, "wb").write(b)'
}

# run_case LABEL ARGS...: every cache state against the no-cache image.
run_case() {
	label=$1
	shift
	rm -rf "$C"
	if ! pack ref "$root" "$@"; then
		fail "$label: pack without a cache: $(tail -1 "$WORK/ref.log")"
		return
	fi
	pack cold "$root" "$@" --cache "$C" &&
		check "$label: cold cache, same bytes" same cold ref ||
		fail "$label: cold pack: $(tail -1 "$WORK/cold.log")"
	n_cold=$(entries | wc -l)
	pack warm "$root" "$@" --cache "$C" &&
		check "$label: warm cache, same bytes" same warm ref ||
		fail "$label: warm pack: $(tail -1 "$WORK/warm.log")"
	if [ "$compressed" = yes ]; then
		check "$label: the cold pack stored entries ($n_cold)" [ "$n_cold" -gt 0 ]
		check "$label: the warm pack hit ($(counter warm hit)) and missed nothing" \
			[ "$(counter warm hit)" -gt 0 -a "$(counter warm miss)" -eq 0 ]
	fi
	# Partly emptied: every other entry removed.
	entries | awk 'NR % 2 == 0' | xargs -r rm -f
	pack part "$root" "$@" --cache "$C" &&
		check "$label: partly emptied cache, same bytes" same part ref ||
		fail "$label: partial pack: $(tail -1 "$WORK/part.log")"
	# Damaged: a flipped byte in every third entry.
	flip_entries 3
	pack dmg "$root" "$@" --cache "$C" &&
		check "$label: damaged entries, same bytes" same dmg ref ||
		fail "$label: damaged pack: $(tail -1 "$WORK/dmg.log")"
	if [ "$compressed" = yes ]; then
		check "$label: the damaged entries were counted" \
			grep -q 'cache: .*, [1-9][0-9]* damaged entr\(y\|ies\) dropped' "$WORK/dmg.log"
	fi
	# The changed closure, from the cache of the first.
	pack chref "$root2" "$@" &&
		pack chg "$root2" "$@" --cache "$C" &&
		check "$label: a changed closure from a warm cache, same bytes as without" \
			same chg chref ||
		fail "$label: changed-closure pack: $(tail -1 "$WORK/chg.log")"
	if [ "$compressed" = yes ]; then
		check "$label: ... served mostly from the cache" \
			[ "$(counter chg hit)" -gt "$(counter chg miss)" ]
	fi
}
root2=/nix/store/$app2

compressed=yes
for comp in gzip xz lz4 zstd zstd:19; do
	run_case "squashfs $comp" --format squashfs --compress "$comp"
done
run_case "squashfs zstd, 16K blocks" --format squashfs --compress zstd --block-size 16K
for comp in lz4 lz4hc lzma zstd; do
	run_case "erofs $comp" --format erofs --compress "$comp"
done
run_case "erofs lz4hc, 64K pclusters, ztailpacking" \
	--format erofs --compress lz4hc --pcluster-size 64K --ztailpacking
compressed=no
run_case "squashfs none" --format squashfs --compress none
run_case "erofs none" --format erofs --compress none

# ---- one cache, several parameter sets ---------------------------------
# Entries of one compressor level are never served for another.
rm -rf "$C"
pack a "$root" --format squashfs --compress zstd:3 --cache "$C"
pack ref "$root" --format squashfs --compress zstd:19
pack b "$root" --format squashfs --compress zstd:19 --cache "$C"
check "a cache filled at zstd:3 gives zstd:19 the zstd:19 bytes" same b ref
check "... compressing and storing its own entries" [ "$(counter b stored)" -gt 0 ]
pack ref "$root" --format erofs --compress lz4hc
pack e "$root" --format erofs --compress lz4hc --cache "$C"
check "squashfs and EROFS share a cache directory" same e ref

# ---- two packs at once share one cache ---------------------------------
rm -rf "$C"
pack ref "$root" --format erofs --compress lz4hc --pcluster-size 16K
pack p1 "$root" --format erofs --compress lz4hc --pcluster-size 16K --cache "$C" &
pid=$!
pack p2 "$root" --format erofs --compress lz4hc --pcluster-size 16K --cache "$C"
rc2=$?
wait "$pid"
rc1=$?
check "two packs sharing a cache at once both succeed" [ "$rc1" -eq 0 -a "$rc2" -eq 0 ]
check "... and both give the bytes of no cache" sh -c \
	"cmp -s '$WORK/p1.img' '$WORK/ref.img' && cmp -s '$WORK/p2.img' '$WORK/ref.img'"
check "... leaving no temporary file" [ -z "$(find "$C/v1" -name '.tmp.*')" ]

# ---- a cache that cannot be used ----------------------------------------
pack ref "$root" --format squashfs
mkdir -p "$WORK/notcache"
echo mine >"$WORK/notcache/notes"
pack nc "$root" --format squashfs --cache "$WORK/notcache"
check "a directory that is not a cache: the pack succeeds, same bytes" same nc ref
check "... with one warning naming it" \
	sh -c "[ \$(grep -c 'warning: cache $WORK/notcache not used' '$WORK/nc.log') -eq 1 ]"
check "... and the directory is left alone" [ "$(ls -A "$WORK/notcache")" = notes ]
: >"$WORK/afile"
pack nf "$root" --format squashfs --cache "$WORK/afile"
check "a file as the cache: the pack succeeds, same bytes" same nf ref
# A read-only cache (a read-only bind mount: root ignores mode bits).
rm -rf "$C"
pack fill "$root" --format squashfs --cache "$C"
mkdir -p "$WORK/ro"
if mount --bind "$C" "$WORK/ro" 2>/dev/null; then
	MOUNTS="$MOUNTS $WORK/ro"
	if mount -o remount,bind,ro "$WORK/ro" 2>/dev/null; then
		pack ro "$root" --format squashfs --cache "$WORK/ro"
		check "a read-only warm cache: the pack succeeds, same bytes" same ro ref
		# a cache that cannot be written is no cache (core/compcache.h)
		check "... with one warning" \
			sh -c "[ \$(grep -c 'warning: cache' '$WORK/ro.log') -eq 1 ]"
		pack ro2 "$root" --format squashfs --compress gzip --cache "$WORK/ro"
		pack ref2 "$root" --format squashfs --compress gzip
		check "a read-only cold cache: same bytes" same ro2 ref2
		check "... and one warning" \
			sh -c "[ \$(grep -c 'warning: cache' '$WORK/ro2.log') -eq 1 ]"
	else
		skip "cannot remount read-only here"
	fi
	umount "$WORK/ro"
else
	skip "cannot bind-mount here (read-only cache)"
fi

# ---- the stat cache: unchanged files known without reading ---------------
# Files changed within 2 s of a pack are not recorded: let the store age.
sleep 3
rm -rf "$C"
pack st1 "$root" --format squashfs --cache "$C"
pack st2 "$root" --format squashfs --cache "$C"
nfiles=$(sed -n 's/^  files known unchanged since an earlier pack: [0-9]* of \([0-9]*\)$/\1/p' "$WORK/st2.log")
check "the first pack knows no file unchanged" \
	grep -q '^  files known unchanged since an earlier pack: 0 of ' "$WORK/st1.log"
check "the second knows every file ($nfiles)" \
	grep -q "^  files known unchanged since an earlier pack: $nfiles of $nfiles\$" "$WORK/st2.log"
check "... and gives the same bytes" same st2 st1
# A file rewritten with the same size and mtime: its ctime moved, so it
# is not known, and the image holds the new content.
f=$S/$app/share/small03
cp -p "$f" "$WORK/small03.orig"
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[0] ^= 1; open(p, "wb").write(b)' "$f"
touch -r "$WORK/small03.orig" "$f"
pack st3 "$root" --format squashfs --cache "$C"
pack st3ref "$root" --format squashfs
check "a file rewritten with its size and mtime kept is read again" \
	grep -q "^  files known unchanged since an earlier pack: $((nfiles - 1)) of $nfiles\$" "$WORK/st3.log"
check "... and the image holds its new content" same st3 st3ref
check "... which differs from the old" sh -c "! cmp -s '$WORK/st3.img' '$WORK/st1.img'"

# The reference check of a given closure (--paths) over known files: a
# reference outside the closure in a file known unchanged still refuses.
"$SD" closure --store "$S" "$root" >"$WORK/paths"
unused=$(cd "$S" && ls -d *-demo-unused-0.1)
printf 'see /nix/store/%s/bin/x\n' "$unused" >"$S/$app/share/refers"
printf 'example /nix/store/%s-not-in-the-store\n' 00000000000000000000000000000000 | tr 0 1 >"$S/$app/share/mentions"
sleep 3
rm -rf "$C"
expect_rc 0 "pack --paths --allow-missing accepts the outside reference (cold)" \
	"$SD" pack -o "$WORK/ck1.img" --no-digest --store "$S" --paths "$WORK/paths" \
	--allow-missing --cache "$C"
sed 's/ *$//' "$WORK/err" >"$WORK/ck1.err"
expect_rc 0 "... and again from a warm cache" \
	"$SD" pack -o "$WORK/ck2.img" --no-digest --store "$S" --paths "$WORK/paths" \
	--allow-missing --cache "$C"
check "... which knows the files unchanged" \
	grep -q "^  files known unchanged since an earlier pack: \([0-9]*\) of \1\$" "$WORK/out"
check "... with the same findings (accepted reference, mention)" \
	sh -c "sed 's/ *\$//' '$WORK/err' | cmp -s - '$WORK/ck1.err'"
check "... naming the mention" grep -q 'share/mentions' "$WORK/ck1.err"
expect_rc 1 "without --allow-missing, a warm cache still refuses it" \
	"$SD" pack -o "$WORK/ck3.img" --no-digest --store "$S" --paths "$WORK/paths" \
	--cache "$C"
cp "$WORK/err" "$WORK/ck3.err"
check "... naming the file and the path" \
	contains "$WORK/err" "share/refers: content at offset 15 refers to /nix/store/$unused, which is not in the closure"
check "... and leaves nothing" [ ! -e "$WORK/ck3.img" ]
rm -f "$S/$app/share/refers" "$S/$app/share/mentions"

# ---- --cache-max ---------------------------------------------------------
rm -rf "$C"
pack m "$root" --format erofs --compress lz4 --cache "$C" --cache-max 4K
check "--cache-max 4K: same bytes" sh -c \
	"'$SD' pack -o '$WORK/mref.img' --no-digest --store '$S' --format erofs --compress lz4 '$root' >/dev/null && cmp -s '$WORK/m.img' '$WORK/mref.img'"
usage=$(find "$C/v1" -type f -name '[0-9a-f]*' -printf '%b\n' | awk '{ s += $1 * 512 } END { print s + 0 }')
check "... leaves at most 4 KiB of entries ($usage bytes)" [ "$usage" -le 4096 ]
expect_rc 0 "cache stats reads what pack left" "$SD" cache stats "$C"
expect_rc 2 "--cache-max without --cache" "$SD" pack -o "$WORK/x.img" --cache-max 1G --store "$S" "$root"
check "... says so" contains "$WORK/err" "--cache-max needs --cache DIR"
expect_rc 2 "--cache-max with a bad size" "$SD" pack -o "$WORK/x.img" --cache "$C" --cache-max 5Q --store "$S" "$root"
check "... names it" contains "$WORK/err" '--cache-max: bad size "5Q"'
expect_rc 0 "pack --help" "$SD" pack --help
check "pack --help documents --cache and --cache-max" \
	sh -c "grep -q -- '--cache DIR' '$WORK/out' && grep -q -- '--cache-max SIZE' '$WORK/out'"

finish
