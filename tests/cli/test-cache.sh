#!/bin/sh
# SPDX-License-Identifier: MIT
# storedisk cache stats|prune: counts and disk usage (text and JSON), least
# recently used entries removed first down to --max, stale temporary
# files, nothing removed that is not the cache's; usage errors and
# directories that are not caches exit 2, a prune that cannot remove
# exits 1.  The cache is filled by compcache-fill (tests/core), as pack
# --cache will.
. "$SRCDIR/tests/cli/lib.sh"
: "${CACHEFILL:?CACHEFILL must name the compcache-fill helper}"

C=$WORK/cache

# jget FILE EXPR: the Python expression EXPR over the JSON in FILE (as d).
jget() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# disk_usage DIR: st_blocks * 512 summed over the entry files of DIR.
disk_usage() {
	find "$1/v1" -type f -name '[0-9a-f]*' -printf '%b\n' |
		awk '{ s += $1 * 512 } END { print s + 0 }'
}

# hits I...: every item I is a hit in $C; misses I...: none is.
hits() {
	for h in "$@"; do "$CACHEFILL" get "$C" "$h" 20000 || return 1; done
}
misses() {
	for h in "$@"; do
		"$CACHEFILL" get "$C" "$h" 20000 && return 1
	done
	return 0
}

# ---- help and usage errors ---------------------------------------------
expect_rc 0 "cache --help" "$SD" cache --help
check "cache --help names stats and prune" \
	sh -c "grep -q 'cache stats' '$WORK/out' && grep -q 'cache prune --max SIZE' '$WORK/out'"
expect_rc 0 "storedisk --help" "$SD" --help
check "storedisk --help lists cache" grep -q '^  cache ' "$WORK/out"
expect_rc 0 "cache stats --help" "$SD" cache stats --help
expect_rc 2 "cache without an action" "$SD" cache
expect_rc 2 "cache with an unknown action" "$SD" cache frob "$C"
check "... which it names" contains "$WORK/err" "unknown action 'frob'"
expect_rc 2 "cache stats without DIR" "$SD" cache stats
expect_rc 2 "cache stats with two DIRs" "$SD" cache stats "$C" "$C"
expect_rc 2 "cache prune without --max" "$SD" cache prune "$C"
check "... says so" contains "$WORK/err" "needs --max SIZE"
expect_rc 2 "cache prune --max 12Q" "$SD" cache prune --max 12Q "$C"
check "... names the bad size" contains "$WORK/err" '--max: bad size "12Q"'
expect_rc 2 "cache stats --max" "$SD" cache stats --max 1 "$C"

# ---- what is not a cache -----------------------------------------------
expect_rc 2 "cache stats on a missing directory" "$SD" cache stats "$WORK/none"
check "... says so" contains "$WORK/err" "$WORK/none: no such directory"
check "... and creates nothing" [ ! -e "$WORK/none" ]
mkdir -p "$WORK/home"
echo mine >"$WORK/home/notes"
expect_rc 2 "cache prune on a directory that is not a cache" \
	"$SD" cache prune --max 0 "$WORK/home"
check "... says so" contains "$WORK/err" "is not a storedisk cache (no storedisk-cache file)"
check "... and leaves it alone" [ "$(ls -A "$WORK/home")" = notes ]
expect_rc 2 "cache stats on a file" "$SD" cache stats "$WORK/home/notes"
check "... says so" contains "$WORK/err" "not a directory"

# ---- stats -------------------------------------------------------------
check "fill a cache with 10 entries" "$CACHEFILL" put "$C" 0 10 20000
check "... created as a cache" test -f "$C/storedisk-cache" -a -f "$C/CACHEDIR.TAG"
check "... tagged for backup tools" \
	grep -q '^Signature: 8a477f597d28d172789f06886806bc55' "$C/CACHEDIR.TAG"
echo "not an entry" >"$C/README"
du0=$(disk_usage "$C")
expect_rc 0 "cache stats" "$SD" cache stats "$C"
check "stats: 10 entries" grep -q '^entries: *10$' "$WORK/out"
check "stats: bytes and disk usage" \
	grep -q "^size: *$((10 * 20064)) bytes (disk usage $du0 bytes)\$" "$WORK/out"
check "stats: recorded usage" grep -q "^recorded usage: *$du0 bytes\$" "$WORK/out"
check "stats: least and most recent use" \
	sh -c "grep -q '^least recent: *2020-09-13T12:26:40Z\$' '$WORK/out' &&
		grep -q '^most recent: *2020-09-13T12:26:49Z\$' '$WORK/out'"
check "stats: no temporary files" grep -q '^temporary: *0 (0 older than an hour)$' "$WORK/out"
expect_rc 0 "cache stats --json" "$SD" cache stats --json "$C"
cp "$WORK/out" "$WORK/stats.json"
check "stats --json: entries, bytes, disk_bytes, recorded_bytes" \
	[ "$(jget "$WORK/stats.json" '(d["entries"], d["bytes"], d["disk_bytes"], d["recorded_bytes"])')" = "(10, $((10 * 20064)), $du0, $du0)" ]
check "stats --json: oldest, newest, temporary, stale" \
	[ "$(jget "$WORK/stats.json" '(d["oldest"], d["newest"], d["temporary"], d["stale"])')" = "(1600000000, 1600000009, 0, 0)" ]
check "stats --json: the cache" [ "$(jget "$WORK/stats.json" 'd["cache"]')" = "$C" ]

# ---- opening a cache reads no directory --------------------------------
if command -v strace >/dev/null; then
	traced strace -f -o "$WORK/trace" -e trace=getdents,getdents64 \
		"$CACHEFILL" get "$C" 9 20000
	check "a get through a new handle: a hit" [ $? -eq 0 ]
	check "... that listed no directory (open is cheap however big the cache)" \
		[ "$(grep -c getdents "$WORK/trace")" -eq 0 ]
else
	skip "strace not installed"
fi

# ---- prune: least recently used first ---------------------------------
one=$((du0 / 10))
check "item 2 is a hit (and so the most recent)" hits 2
expect_rc 0 "cache prune --max (room for 4 entries)" \
	"$SD" cache prune --max $((4 * one)) "$C"
check "prune: says what it removed and kept" \
	grep -q "^$C: removed 6 entries ($((6 * one)) bytes), kept 4 entries ($((4 * one)) bytes)\$" "$WORK/out"
check "prune: the least recently used are gone" misses 0 1 3 4 5 6
check "prune: the most recently used are kept" hits 2 7 8 9
check "prune: the disk usage is what it kept" [ "$(disk_usage "$C")" -eq $((4 * one)) ]
check "prune: files that are not entries stay" test -f "$C/README" -a -f "$C/storedisk-cache"
expect_rc 0 "cache prune --max above the usage" "$SD" cache prune --json --max 1G "$C"
check "prune --json: nothing removed" \
	[ "$(jget "$WORK/out" '(d["max_bytes"], d["removed"], d["removed_bytes"], d["kept"], d["kept_bytes"], d["stale_removed"])')" = "($((1 << 30)), 0, 0, 4, $((4 * one)), 0)" ]

# ---- stale temporary files ---------------------------------------------
fan=$(basename "$(ls -d "$C"/v1/?? | head -1)")
echo torn >"$C/v1/$fan/.tmp.99999.1"
touch -d @1000 "$C/v1/$fan/.tmp.99999.1"
echo busy >"$C/v1/$fan/.tmp.99999.2"
expect_rc 0 "cache stats with temporary files" "$SD" cache stats "$C"
check "stats: 2 temporary, 1 stale" grep -q '^temporary: *2 (1 older than an hour)$' "$WORK/out"

# ---- prune --max 0 empties it -----------------------------------------
expect_rc 0 "cache prune --max 0" "$SD" cache prune --max 0 "$C"
check "prune --max 0: says it removed the 4 and a stale file" \
	grep -q "^$C: removed 4 entries ($((4 * one)) bytes), kept 0 entries (0 bytes), 1 stale temporary file\$" "$WORK/out"
check "prune --max 0: a fresh temporary file stays" [ -f "$C/v1/$fan/.tmp.99999.2" ]
expect_rc 0 "cache stats of the empty cache" "$SD" cache stats "$C"
check "stats: 0 entries, none used" \
	sh -c "grep -q '^entries: *0\$' '$WORK/out' && grep -q '^least recent: *none\$' '$WORK/out' &&
		grep -q '^recorded usage: *0 bytes\$' '$WORK/out'"
expect_rc 0 "cache stats --json of the empty cache" "$SD" cache stats --json "$C"
check "stats --json: null times" [ "$(jget "$WORK/out" '(d["oldest"], d["newest"])')" = "(None, None)" ]
check "size suffixes: --max 1K" "$SD" cache prune --max 1K "$C"

# ---- a cache this user cannot change ----------------------------------
nobody_setup
if $nobody_ok; then
	"$CACHEFILL" put "$C" 0 3 20000
	chmod -R a+rX "$C"
	expect_rc 0 "cache stats as a user who cannot write it" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$WORK/storedisk" cache stats "$C"
	expect_rc 1 "cache prune as a user who cannot write it" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$WORK/storedisk" cache prune --max 0 "$C"
	check "... names the entry and the reason" \
		grep -q "cannot remove $C/v1/.*: Permission denied" "$WORK/err"
	check "... and removed nothing" hits 0 1 2
	check "... but says what it did: 3 it could not remove" \
		grep -q "removed 0 entries (0 bytes), kept 3 entries .*, 3 that could not be removed" "$WORK/out"
	# one fan-out directory it cannot change among others it can: the
	# prune goes on past it
	"$CACHEFILL" put "$C" 3 12 20000
	chown -R 65534:65534 "$C"
	locked=$(find "$C/v1" -mindepth 2 -type f ! -name '.*' | head -1 | xargs dirname)
	chown root:root "$locked"
	stuck=$(find "$locked" -type f | wc -l)
	expect_rc 1 "cache prune --json past a directory it cannot change" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$WORK/storedisk" cache prune --json --max 0 "$C"
	check "... removed every other entry" \
		[ "$(find "$C/v1" -mindepth 2 -type f ! -name '.*' | wc -l)" = "$stuck" ]
	check "... and its JSON counts the ones it could not remove" \
		[ "$(jget "$WORK/out" '(d["removed"], d["failed"], d["kept"])')" = "($((15 - stuck)), $stuck, $stuck)" ]
	chown -R 0:0 "$C"
else
	skip "setpriv cannot switch to nobody here"
fi

# ---- a prune that waits for another says so ----------------------------
rm -rf "$C"
"$CACHEFILL" put "$C" 0 4 20000
if command -v flock >/dev/null; then
	# The holder says when it has the lock; the prune starts only then.
	rm -f "$WORK/held"
	flock "$C/v1/lock" sh -c ": >'$WORK/held'; sleep 3" &
	holder=$!
	i=0
	while [ ! -e "$WORK/held" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	expect_rc 0 "cache prune while another holds the prune lock: waits, then prunes" \
		"$SD" cache prune --max 0 "$C"
	check "... saying that it waits, and for what" \
		contains "$WORK/err" "waiting for another prune of $C to finish"
	check "... and then removes the entries" misses 0 1 2 3
	wait "$holder"
	expect_rc 0 "cache prune with the lock free" "$SD" cache prune --max 0 "$C"
	check "... says nothing of waiting" [ ! -s "$WORK/err" ]
else
	skip "flock(1) is missing: no second prune to wait for"
fi

finish
