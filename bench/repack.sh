#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/repack.sh [CORPUS] — the compression cache on a re-pack (issue 11):
# the wall time of `pack --cache` after one store path of the closure
# changed, against the cold pack without a cache, for EROFS lz4hc and
# squashfs zstd:3.
#
# The change is what Nix makes of a changed package: a new store path P'
# (a copy of a store path P of 2-10 MB that only the root refers to, one
# file changed, a new hash) and a new root (the old root with P's hash
# replaced by P''s), so the closure loses P and the root and gains P' and
# the new root.  Both are written before any timing, so the stat cache
# may record them (files changed within 2 s of a pack are not recorded).
#
# Per case: the cold pack without a cache (RUNS times), a pack with an
# empty cache (which fills it; the cache is kept as a snapshot), then RUNS
# re-packs of the changed closure, each from a copy of the snapshot; every
# re-pack's image must equal the no-cache image of the changed closure.
# Warm page cache throughout (the corpus and the cache were read before);
# every timed pack starts after a sync, so that no earlier write (the
# cache's copy above all) is written back during it.
# Prints a Markdown table: medians, the re-pack / cold ratio (target
# <= 0.1); then the floors (what standard tools take for the stat walk,
# the cache read and the image write); then, where pack has --base, the size of the changed closure
# packed as a layer on the old image against the full image; env RUNS (default 3), MIN_BYTES (the smallest P, default
# 2000000), SD, BENCH_DIR, REPACK_DIR.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sd=${SD:-$top/build/src/storedisk}
runs=${RUNS:-3}
corpus=${BENCH_DIR:-/var/tmp/storedisk-bench}/corpus-${1:-main-2000}
store=$corpus/nix/store
w=${REPACK_DIR:-/var/tmp/storedisk-repack}
rm -rf "$w"
mkdir -p "$w"

root=$(basename "$(cat "$corpus/root")")
rhash=${root%%-*}

# P: a store path of 2-10 MB that only the root refers to (the reference
# graph from one scan; the first in sorted order that qualifies).
"$sd" closure --graph --scan --store "$store" "$(cat "$corpus/root")" >"$w/graph"
pick=""
while read -r p; do
	b=$(basename "$p")
	[ "$b" = "$root" ] && continue
	# referrers other than the root and P itself
	n=$(awk -v p="$p" -v r="/nix/store/$root" '$2 == p && $1 != r && $1 != p' "$w/graph" | wc -l)
	[ "$n" -eq 0 ] || continue
	size=$(du -sb "$store/$b" | cut -f1)
	if [ "$size" -ge "${MIN_BYTES:-2000000}" ] && [ "$size" -le 10000000 ]; then
		pick=$b
		break
	fi
done <"$corpus/paths"
[ -n "$pick" ] || { echo "repack: no store path of 2-10 MB referred to by the root only" >&2; exit 1; }
phash=${pick%%-*}

# New hashes: deterministic, nix32, not in the store.
newhash() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
nphash=$(newhash "repack-$phash")
nrhash=$(newhash "repack-$rhash")
npath=$nphash-${pick#*-}
nroot=$nrhash-${root#*-}
# A private store beside the corpus: the corpus store with the two new
# paths (hard links would share inodes with the corpus, so the new paths
# are copied; the rest is bind-free: the same directory is reused).
rm -rf "${store:?}/$npath" "${store:?}/$nroot"
cp -a "$store/$pick" "$store/$npath"
cp -a "$store/$root" "$store/$nroot"
trap 'rm -rf "${store:?}/$npath" "${store:?}/$nroot"' EXIT
# one file of P' changes (the first regular file, a line appended)
f=$(find "$store/$npath" -type f | sort | head -1)
chmod u+w "$f"
printf '\nchanged by bench/repack.sh\n' >>"$f"
# the new root refers to P' where the old one referred to P
grep -rl -F "$phash" "$store/$nroot" | while read -r g; do
	chmod u+w "$g"
	sed -i "s/$phash/$nphash/g" "$g"
done
find "$store/$nroot" -type l -lname "*$phash*" | while read -r l; do
	t=$(readlink "$l")
	rm "$l"
	ln -s "${t//$phash/$nphash}" "$l"
done
grep -v -e "/$pick\$" -e "/$root\$" "$corpus/paths" >"$w/paths2"
printf '/nix/store/%s\n/nix/store/%s\n' "$npath" "$nroot" >>"$w/paths2"
sort -o "$w/paths2" "$w/paths2"
changed=$(du -sb "$store/$npath" "$store/$nroot" | awk '{ s += $1 } END { print s }')
sleep 3

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
pack() { # pack OUT PATHS ARGS...
	local out=$1 paths=$2
	shift 2
	"$sd" pack -q --no-digest -o "$out" --paths "$paths" --store "$store" "$@"
}
timed() { local s; s=$(now); "$@"; echo "$(now) - $s" | bc; }

echo "# pack --cache after one store path changed"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); runs: $runs (medians)"
echo "- corpus: $corpus ($(wc -l <"$corpus/paths") store paths)"
echo "- changed: $pick -> $npath (one file), and the root; $changed bytes in the two new paths"
echo "- storedisk: $("$sd" --version 2>&1 | head -1)"
echo
echo "| case | cold pack, no cache s | first pack, empty cache s | re-pack after the change s | re-pack / cold | same bytes as no cache | cache MB |"
echo "|---|---:|---:|---:|---:|---|---:|"
layers=
floors=
for case in "erofs-lz4hc|--format erofs --compress lz4hc --pcluster-size 4K" \
	"sqfs-zstd3|--format squashfs --compress zstd:3 --block-size 128K"; do
	name=${case%%|*}
	# shellcheck disable=SC2206
	args=(${case#*|})
	cold=$(for r in $(seq "$runs"); do sync; timed pack "$w/cold.img" "$corpus/paths" "${args[@]}"; done | median)
	pack "$w/ref2.img" "$w/paths2" "${args[@]}"
	rm -rf "$w/cache"
	sync
	first=$(timed pack "$w/first.img" "$corpus/paths" "${args[@]}" --cache "$w/cache" --cache-max 0)
	cmp -s "$w/first.img" "$w/cold.img" || { echo "repack: $name: the first cached pack differs from the cold one" >&2; exit 1; }
	cache_mb=$(du -sm "$w/cache" | cut -f1)
	same=yes
	warm=$(for r in $(seq "$runs"); do
		rm -rf "$w/c2"
		cp -a "$w/cache" "$w/c2"
		sync # the copy's 1.2 GB written back first, as a kept cache is
		# and read once, so that the page cache holds it, as it holds a
		# cache a pipeline used a moment ago (without it, the copy is
		# read from the disk: see the floors below)
		find "$w/c2" -type f -exec cat {} + >/dev/null
		timed pack "$w/warm.img" "$w/paths2" "${args[@]}" --cache "$w/c2" --cache-max 0
		cmp -s "$w/warm.img" "$w/ref2.img" || echo "repack: $name: re-pack differs from no cache" >&2
	done | median)
	cmp -s "$w/warm.img" "$w/ref2.img" || same=NO
	ratio=$(echo "scale=3; $warm / $cold" | bc)
	printf '| %s | %.2f | %.2f | %.2f | %.3f | %s | %s |\n' "$name" "$cold" "$first" "$warm" "$ratio" "$same" "$cache_mb"
	# What no re-pack avoids, done by standard tools in the same state
	# (page cache warm): a stat of every entry of the store, a read of
	# the cache's entries, and a write of the image's bytes to a new file.
	walk=$(for r in $(seq "$runs"); do timed sh -c "find '$store' -printf '%s\\n' >/dev/null"; done | median)
	read=$(for r in $(seq "$runs"); do timed sh -c "find '$w/c2' -type f -exec cat {} + >/dev/null"; done | median)
	write=$(for r in $(seq "$runs"); do rm -f "$w/copy.img"; sync; timed cp "$w/warm.img" "$w/copy.img"; done | median)
	rm -f "$w/copy.img"
	floors="$floors$(printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |' "$name" "$(echo "$cold / 10" | bc -l)" \
		"$walk" "$read" "$write" "$(echo "$walk + $read + $write" | bc)" "$warm")
"
	rm -rf "$w/c2" "$w/cache"
	# What a layer on the old image ships instead (pack --base)
	if "$sd" pack --help 2>&1 | grep -q -- --base; then
		pack "$w/layer.img" "$w/paths2" "${args[@]}" --base "$w/cold.img"
		layers="$layers| $name | $(stat -c %s "$w/ref2.img") | $(stat -c %s "$w/layer.img") | $(echo "scale=4; $(stat -c %s "$w/layer.img") / $(stat -c %s "$w/ref2.img")" | bc) |
"
	fi
done
echo
echo "What a re-pack cannot avoid, timed with standard tools in the same state"
echo "(medians): a stat of every store entry (\`find -printf %s\`), a read of"
echo "the cache's files (\`cat\`, the cache after the re-pack, stale entries"
echo "included) and a write of the image's bytes to a new file (\`cp\`), against"
echo "the target's budget (0.1 x the cold pack) and the re-pack itself:"
echo
echo "| case | budget s | stat walk s | read cache s | write image s | sum s | re-pack s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s' "$floors"
if [ -n "${layers:-}" ]; then
	echo
	echo "The transfer a layer saves: the changed closure as a full image, and"
	echo "as a layer on the old closure's image (\`pack --base\`; the guest mounts"
	echo "both):"
	echo
	echo "| case | full image bytes | layer bytes | layer / full |"
	echo "|---|---:|---:|---:|"
	printf '%s' "$layers"
fi
