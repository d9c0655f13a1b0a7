#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/run.sh — storedisk against every installed peer, in one command.
#
#   bench/run.sh [--quick] [--runs N] [--name NAME] [--no-read] [--groups "G..."] [BUILDDIR]
#   bench/run.sh --rss [--quick] [BUILDDIR]
#
# The first form builds (once; cached under $BENCH_DIR, default
# /var/tmp/storedisk-bench) two Nix-like corpora from this machine's files
# with bench/make-corpus.py — "main", about 2 GB (hundreds of store paths,
# planted references, duplicated files, files over 50 MB, tens of thousands
# under 4 KiB, symlinks) and "microvm", ~160 paths of many small files — and
# on each of them runs, at matched settings, alternating A B C A B C, N runs
# each (default 3), warm page cache, a fresh output file every run:
#   squashfs lz4 and zstd:3, 128K blocks: storedisk, mksquashfs, gensquashfs
#   EROFS none, lz4, lz4hc, 4K pclusters: storedisk, mkfs.erofs; and
#     storedisk --ztailpacking (where it has the option) against mkfs.erofs
#     -Eztailpacking (and -Eztailpacking,fragments where mkfs.erofs has it)
#   storedisk --jobs 1 beside --jobs N for zstd:3 and lz4hc (core scaling)
#   storedisk --verity beside the plain pack for squashfs and EROFS lz4 (the
#     cost of the dm-verity tree: issue 14's target is at most 15%)
#   storedisk closure --scan against reading every input file once (cat)
#   storedisk verify against reading the mounted image's files
# then the read side a guest feels: every image loop-mounted read-only,
# a cold-cache metadata walk (find -printf %s: an lstat of every entry) and
# a cold read of every file (cat), alternating over the images of one
# compressor.  Cold: the image file's pages are dropped with
# posix_fadvise(DONTNEED) (checked with fincore) and the image is mounted
# afresh (a new loop device, so no block-device or inode cache survives).
# Every measurement is /usr/bin/time's wall, user, sys and peak RSS; the
# medians, the image sizes and the ratios storedisk / peer go to
# bench/results/<date>-<NAME>.md (default NAME: bench; quick) with the
# machine, the load, the tool versions and the exact command lines.
#
# --rss builds a store of 1,000,000 small files (1000 paths of 1000 files;
# generation takes minutes, cached) and records storedisk's peak RSS for
# every format and compressor on the first 100 paths and on all of them:
# the growth divided by the 900,000 extra files is the RSS per file.
# Written to bench/results/<date>-rss.md.
#
# --groups "G...": only these pack groups (sqfs-lz4 sqfs-zstd3 erofs-none
# erofs-lz4 erofs-lz4hc erofs-lz4-zt erofs-lz4hc-zt), no scan/verify rows.
#
# --quick: a ~250 MB main corpus, a 60-path microVM corpus, 50,000 files
# for --rss, and one run each: a try-out in a few minutes, not a result.
#
# Needs root (loop mounts), python3, /usr/bin/time; the peers are used
# where installed.  Not part of the test suite (.ci/run): it measures.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
quick='' runs='' name='' rss='' noread='' only=''
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--runs) runs=$2; shift ;;
	--name) name=$2; shift ;;
	--rss) rss=1 ;;
	--no-read) noread=1 ;;
	--groups) only=$2; shift ;;
	-h|--help) sed -n '3,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
build=$(cd "${1:-$top/build}" && pwd)
sd="$build/src/storedisk"
[ -x "$sd" ] || { echo "run.sh: no storedisk at $sd (build it first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || [ -n "$noread" ] || { echo "run.sh: loop mounts need root (or --no-read)" >&2; exit 2; }
work=${BENCH_DIR:-/var/tmp/storedisk-bench}
jobs=$(nproc)
if [ -n "$quick" ]; then
	runs=${runs:-1} mainmb=250 mvpaths=60 nthousand=50 name=${name:-quick}
else
	runs=${runs:-3} mainmb=2000 mvpaths=160 nthousand=1000 name=${name:-bench}
fi
if [ -n "$rss" ]; then
	name=rss
	if [ -n "$quick" ]; then name='rss-quick'; fi
fi
mkdir -p "$work/out" "$work/mnt"
raw="$work/$name.tsv"   # corpus group tool run wall user sys rss bytes
: >"$raw"
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# corpus KIND ARG -> prints the corpus directory; rebuilt when the generator
# or its argument changed.
corpus() {
	local dir="$work/corpus-$1-$2" stamp
	stamp="$(sha256sum <"$top/bench/make-corpus.py" | cut -c1-16) $1 $2"
	if [ ! -f "$dir.stamp" ] || [ "$(cat "$dir.stamp")" != "$stamp" ] || [ ! -f "$dir/root" ]; then
		log "building the $1 corpus in $dir (once)"
		rm -f "$dir.stamp"
		python3 "$top/bench/make-corpus.py" "$1" "$dir" "$2" >/dev/null
		sync
		echo "$stamp" >"$dir.stamp"
	fi
	echo "$dir"
}

# measure CORPUS GROUP TOOL RUN OUT CMD... — one timed run; OUT (an image
# path, or -) is removed first and synced so no earlier write-back lands in
# this run; its size is recorded.
measure() {
	local c=$1 g=$2 t=$3 r=$4 out=$5 tf="$work/time.$$" ef="$work/err.$$" size=-
	shift 5
	if [ "$out" != - ]; then rm -f "$out" "$out.sha256"; sync; fi
	if /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >/dev/null 2>"$ef"; then
		[ "$out" != - ] && size=$(stat -c %s "$out")
		echo "$c	$g	$t	$r	$(cat "$tf" | tr ' ' '\t')	$size" >>"$raw"
	else
		log "FAILED: $g $t: $* — $(grep -v '^Command exited' "$ef" | tail -n 2 | tr '\n' ' ')"
		echo "$c	$g	$t	$r	FAIL	FAIL	FAIL	FAIL	-" >>"$raw"
	fi
	rm -f "$tf" "$ef"
}

catall() { find "$1" -type f -print0 | xargs -0 -r cat >/dev/null; }
export -f catall

# The commands: FUNCTION OUT DIR ARGS... runs one tool on the corpus DIR
# (its store directory is the image root) writing OUT.  Settings matched from the tools' --help and manuals:
# 128K blocks, one compressor level, processors = $jobs, no xattrs, owner
# root, fixed times, no appending, no digest file.
have() { command -v "$1" >/dev/null 2>&1; }
sdpack() { local out=$1 dir=$2; shift 2
	"$sd" pack -q --no-digest -o "$out" --jobs "$jobs" --paths "$dir/paths" \
		--store "$dir/nix/store" "$@"; }
mksq() { local out=$1 dir=$2; shift 2
	mksquashfs "$dir/nix/store" "$out" -noappend -quiet -no-progress -b 131072 \
		-processors "$jobs" -all-root -no-xattrs -mkfs-time 1 -all-time 1 "$@"; }
# --exportable: storedisk and mksquashfs write an NFS export table by
# default, gensquashfs only when asked.
gensq() { local out=$1 dir=$2; shift 2
	gensquashfs -q -f -D "$dir/nix/store" -b 131072 -j "$jobs" --all-root --exportable "$@" "$out"; }
mkerofs() { local out=$1 dir=$2; shift 2
	mkfs.erofs --quiet -x-1 -T1 --all-root -U 00000000-0000-0000-0000-000000000001 \
		"$@" "$out" "$dir/nix/store"; }
fragments=
# mkfs.erofs 1.5 ignores -E options it does not know: look for the word.
have mkfs.erofs && grep -aqw fragments "$(command -v mkfs.erofs)" && fragments=1

# tools GROUP -> "tool|fs|FUNCTION ARGS..." lines; run_group puts OUT and
# DIR between FUNCTION and ARGS.
tools() {
	case $1 in
	sqfs-lz4)
		echo "storedisk|squashfs|sdpack --format squashfs --compress lz4 --block-size 128K"
		echo "storedisk-verity|squashfs|sdpack --format squashfs --compress lz4 --block-size 128K --verity"
		have mksquashfs && echo "mksquashfs|squashfs|mksq -comp lz4"
		have gensquashfs && echo "gensquashfs|squashfs|gensq -c lz4" ;;
	sqfs-zstd3)
		echo "storedisk|squashfs|sdpack --format squashfs --compress zstd:3 --block-size 128K"
		echo "storedisk-j1|squashfs|sdpack --format squashfs --compress zstd:3 --block-size 128K --jobs 1"
		have mksquashfs && echo "mksquashfs|squashfs|mksq -comp zstd -Xcompression-level 3"
		have gensquashfs && echo "gensquashfs|squashfs|gensq -c zstd -X level=3" ;;
	erofs-none)
		echo "storedisk|erofs|sdpack --format erofs --compress none"
		have mkfs.erofs && echo "mkfs.erofs|erofs|mkerofs" ;;
	erofs-lz4|erofs-lz4hc)
		local z=lz4 zs=lz4
		[ "$1" = erofs-lz4hc ] && z=lz4hc,9 zs=lz4hc:9
		echo "storedisk|erofs|sdpack --format erofs --compress $zs --pcluster-size 4K"
		[ "$1" = erofs-lz4 ] &&
			echo "storedisk-verity|erofs|sdpack --format erofs --compress $zs --pcluster-size 4K --verity"
		[ "$1" = erofs-lz4hc ] &&
			echo "storedisk-j1|erofs|sdpack --format erofs --compress $zs --pcluster-size 4K --jobs 1"
		if have mkfs.erofs; then
			echo "mkfs.erofs|erofs|mkerofs -z$z -C4096"
			# Without storedisk --ztailpacking, the tail-packed peers
			# stand beside storedisk's default image.
			if [ -z "$sd_zt" ]; then
				echo "mkfs.erofs-zt|erofs|mkerofs -z$z -C4096 -Eztailpacking"
				[ -n "$fragments" ] && echo "mkfs.erofs-ztfr|erofs|mkerofs -z$z -C4096 -Eztailpacking,fragments"
			fi
		fi ;;
	erofs-lz4-zt|erofs-lz4hc-zt)
		local z=lz4 zs=lz4
		[ "$1" = erofs-lz4hc-zt ] && z=lz4hc,9 zs=lz4hc:9
		echo "storedisk|erofs|sdpack --format erofs --compress $zs --pcluster-size 4K --ztailpacking"
		if have mkfs.erofs; then
			echo "mkfs.erofs-zt|erofs|mkerofs -z$z -C4096 -Eztailpacking"
			[ -n "$fragments" ] && echo "mkfs.erofs-ztfr|erofs|mkerofs -z$z -C4096 -Eztailpacking,fragments"
		fi ;;
	esac
}
groups="sqfs-lz4 sqfs-zstd3 erofs-none erofs-lz4 erofs-lz4hc"
# storedisk with inline compressed tails (--ztailpacking) against the
# peers' tail-packed images, in groups of their own.
sd_zt=
"$sd" pack --help 2>&1 | grep -q -- --ztailpacking && sd_zt=1
[ -n "$sd_zt" ] && groups="$groups erofs-lz4-zt erofs-lz4hc-zt"
if [ -n "$only" ]; then
	for g in $only; do
		case " $groups " in *" $g "*) ;; *) echo "run.sh: unknown group $g (known: $groups)" >&2; exit 2 ;; esac
	done
	groups=$only
fi
img() { echo "$work/out/$1-$2-$3.img"; }   # corpus group tool

run_group() { # CORPUSNAME DIR GROUP
	local c=$1 dir=$2 g=$3 r=1 line t fn args
	while [ "$r" -le "$runs" ]; do
		while IFS= read -r line; do
			t=${line%%|*}; fn=${line##*|}; args=
			case $fn in *" "*) args=${fn#* } ;; esac
			log "$c $g $t run $r"
			# shellcheck disable=SC2086
			measure "$c" "$g" "$t" "$r" "$(img "$c" "$g" "$t")" \
				bash -c '"$@"' _ ${fn%% *} "$(img "$c" "$g" "$t")" "$dir" $args
		done < <(tools "$g")
		r=$((r + 1))
	done
}
export -f sdpack mksq gensq mkerofs
export sd jobs

# cold_mount IMG FS: drop the image's pages, mount it on $work/mnt.
cold_mount() {
	umount "$work/mnt" 2>/dev/null || true
	python3 "$top/bench/drop-pages.py" "$1"
	if have fincore; then
		local res
		res=$(fincore -nb -o RES "$1" | tr -d ' ')
		[ "${res:-0}" -lt 1048576 ] || log "warning: $res bytes of $1 still cached"
	fi
	mount -t "$2" -o ro,loop "$1" "$work/mnt"
}
warm_mount() { umount "$work/mnt" 2>/dev/null || true; mount -t "$2" -o ro,loop "$1" "$work/mnt"; }

read_side() { # CORPUSNAME GROUP
	local c=$1 g=$2 r=1 line t fs i
	while [ "$r" -le "$runs" ]; do
		while IFS= read -r line; do
			t=${line%%|*}; fs=${line#*|}; fs=${fs%%|*}
			case $t in *-j1|*-verity) continue ;; esac
			i=$(img "$c" "$g" "$t")
			[ -f "$i" ] || continue
			log "$c $g $t read run $r"
			cold_mount "$i" "$fs"
			measure "$c" "walk:$g" "$t" "$r" - find "$work/mnt" -printf '%s\n'
			cold_mount "$i" "$fs"
			measure "$c" "read:$g" "$t" "$r" - bash -c 'catall "$1"' _ "$work/mnt"
			umount "$work/mnt"
		done < <(tools "$g")
		r=$((r + 1))
	done
}

scan_verify() { # CORPUSNAME DIR
	local c=$1 dir=$2 r=1 g i fs
	while [ "$r" -le "$runs" ]; do
		log "$c scan/verify run $r"
		measure "$c" scan storedisk "$r" - "$sd" closure --scan --store "$dir/nix/store" \
			"$(cat "$dir/root")"
		measure "$c" scan "cat inputs" "$r" - bash -c 'catall "$1"' _ "$dir/nix/store"
		for g in sqfs-zstd3 erofs-lz4; do
			i=$(img "$c" "$g" storedisk); fs=squashfs
			[ "$g" = erofs-lz4 ] && fs=erofs
			[ -f "$i" ] || continue
			# --candidates: the store paths that existed, so a documentation
			# example's full path (Nix's own binary has some) is no violation.
			measure "$c" "verify:$g" storedisk "$r" - "$sd" verify -q --candidates "$dir/paths" "$i"
			warm_mount "$i" "$fs"
			measure "$c" "verify:$g" "cat mounted" "$r" - bash -c 'catall "$1"' _ "$work/mnt"
			umount "$work/mnt"
		done
		r=$((r + 1))
	done
}

meta() { # facts for the results header
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel=$(uname -r)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $jobs"
	echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "storedisk=$("$sd" --version 2>&1 | head -n1) ($sd)"
	have mksquashfs && echo "mksquashfs=$(mksquashfs -version 2>&1 | head -n1)"
	have gensquashfs && echo "gensquashfs=$(gensquashfs --version 2>&1 | head -n1)"
	have mkfs.erofs && echo "mkfs.erofs=$(mkfs.erofs 2>&1 | grep -m1 '^mkfs.erofs')$([ -z "$fragments" ] && echo ' (no -Efragments)')"
	echo "runs=$runs"; echo "quick=${quick:-0}"; echo "jobs=$jobs"
}

if [ -n "$rss" ]; then
	runs=1   # peak RSS does not depend on the load
	dir=$(corpus files "$nthousand")
	sub=$((nthousand / 10))
	grep -v -e "-files-bench-root$" "$dir/paths" | head -n "$sub" >"$work/paths-sub"
	{ meta; echo "corpus=files $(cat "$dir/summary")"; echo "sub=$sub"; } >"$work/$name.meta"
	for g in $groups; do
		while IFS= read -r line; do
			t=${line%%|*}; fn=${line##*|}
			[ "$t" = storedisk ] || continue
			for set in sub all; do
				p="$dir/paths"; [ $set = sub ] && p="$work/paths-sub"
				log "rss $g $set"
				# shellcheck disable=SC2086
				measure "files-$set" "$g" storedisk 1 "$work/out/rss.img" \
					"$sd" pack -q --no-digest -o "$work/out/rss.img" --jobs "$jobs" \
					--paths "$p" --store "$dir/nix/store" ${fn#sdpack }
			done
		done < <(tools "$g")
	done
	log "rss closure --scan and verify"
	measure files-all scan storedisk 1 - "$sd" closure --scan --store "$dir/nix/store" "$(cat "$dir/root")"
	"$sd" pack -q --no-digest -o "$work/out/rss.img" --paths "$dir/paths" --store "$dir/nix/store" \
		--compress lz4
	measure files-all verify:sqfs-lz4 storedisk 1 - "$sd" verify -q "$work/out/rss.img"
	rm -f "$work/out/rss.img"
else
	main=$(corpus main "$mainmb")
	mv=$(corpus microvm "$mvpaths")
	{ meta; echo "corpus=main $(cat "$main/summary")"; echo "corpus=microvm $(cat "$mv/summary")"
	  for g in $groups; do tools "$g" | sed "s/^/cmd=$g|/"; done; } >"$work/$name.meta"
	for c in main microvm; do
		dir=$main; [ $c = microvm ] && dir=$mv
		log "warming the page cache with $c"
		catall "$dir/nix/store"
		for g in $groups; do run_group "$c" "$dir" "$g"; done
		[ -n "$only" ] || scan_verify "$c" "$dir"
		[ -n "$noread" ] || for g in $groups; do read_side "$c" "$g"; done
	done
fi
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/$name.meta"
mkdir -p "$top/bench/results"
res="$top/bench/results/$(date -u +%Y-%m-%d)-$name.md"
python3 "$top/bench/report.py" "$work/$name.meta" "$raw" >"$res"
log "results: $res"
