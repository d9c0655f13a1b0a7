#!/bin/sh
# SPDX-License-Identifier: MIT
# The Nix database as Nix sees it now (closure/nixdb.h), against real Nix
# 2.8 (scripts/nix-setup.sh).  Most of it runs on a private Nix store
# (`nix-store --store $WORK/r`, its database $WORK/r/nix/var/nix/db), so
# that other tests using the host's store cannot change the files watched:
#
#  - while another process holds a read transaction on the database (so
#    Nix cannot checkpoint), a path added with `nix-store --add` lives only
#    in db.sqlite-wal; `closure --db` sees it;
#  - that read leaves db.sqlite and db.sqlite-wal as they were (existence,
#    size, mtime, bytes) and the -shm's existence and size.  The -shm's
#    mtime moves only when a reader records its read mark in it (the first
#    reader after a commit does, as every WAL reader does, Nix's own
#    included): a second read leaves all three untouched;
#  - while storedisk is stopped inside its read transaction (gdb, at
#    sd_nixdb_read_rows), `nix-store --add` completes: a Nix writer is not
#    blocked; the read then completes too;
#  - fallbacks: a copy of the database on a read-only bind mount with its
#    -shm is still read through the WAL (SQLite's read-only WAL support);
#    without its -shm, or as an unprivileged user who cannot read the
#    -shm, it is read as an immutable file with the warning, and a path
#    only in the -wal is "not registered" with the hint saying why;
#  - on the host's store held open the same way, the default database
#    rule (`closure P`, no source option) sees a path added a moment ago.
#
# Where Nix cannot be used the whole test is skipped with the reason.
. "$SRCDIR/tests/cli/lib.sh"
. "$SRCDIR/tests/nix/lib.sh"

R=$WORK/r
RS=$R/nix/store
DB=$R/nix/var/nix/db/db.sqlite

# add_path NAME [nix-store options]: a new store path (its content names
# this run); prints it.
add_path() {
	name=$1
	shift
	printf 'storedisk nixdb test %s %s\n' "$name" "$(date +%s%N)" >"$WORK/$name"
	nix-store "$@" --add "$WORK/$name"
}

# in_main_file DB PATH: is PATH in DB's main file alone (immutable read)?
in_main_file() {
	python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?immutable=1", uri=True)
n = c.execute("SELECT count(*) FROM ValidPaths WHERE path = ?",
              (sys.argv[2],)).fetchone()[0]
sys.exit(0 if n else 1)
EOF
}

# files_state DB [noshmtime]: existence, size, mtime and SHA-256 of DB and
# its -wal; existence, size and (unless noshmtime) mtime of its -shm.
files_state() {
	for f in "$1" "$1-wal"; do
		if [ -e "$f" ]; then echo "$(stat -c '%n %s %y' "$f") $(sha "$f")"; else echo "$f absent"; fi
	done
	if [ ! -e "$1-shm" ]; then
		echo "$1-shm absent"
	elif [ $# -gt 1 ]; then
		stat -c '%n %s' "$1-shm"
	else
		stat -c '%n %s %y' "$1-shm"
	fi
}

# same_state DESCRIPTION BEFORE AFTER
same_state() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		fail "$1"
		diff "$2" "$3" | sed 's/^/    /'
	fi
}

# A process holding a read transaction open until a file appears.
cat >"$WORK/holder.py" <<'EOF'
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM ValidPaths").fetchall()
open(sys.argv[2], "w").write("ready\n")
t = time.time()
while not os.path.exists(sys.argv[3]) and time.time() - t < 900:
    time.sleep(0.05)
c.execute("COMMIT")
c.close()
EOF
# hold DB NAME: start a holder of DB; its pid in $held; false if it failed.
hold() {
	python3 "$WORK/holder.py" "$1" "$WORK/$2.ready" "$WORK/$2.release" &
	held=$!
	n=0
	while [ ! -e "$WORK/$2.ready" ] && [ "$n" -lt 600 ] && kill -0 "$held" 2>/dev/null; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -e "$WORK/$2.ready" ]
}
# release NAME PID
release() {
	touch "$WORK/$1.release"
	wait "$2"
}

# ---------------------------------------------------------------------------
# A private store, held open.
OLD=$(add_path old --store "$R" 2>"$WORK/err")
if [ -z "$OLD" ] || ! hold "$DB" private; then
	sed 's/^/    /' "$WORK/err" | tail -5
	fail "a private Nix store in $R, held open by a python3 sqlite3 reader"
	finish
	exit 1
fi
holder=$held
NEW=$(add_path new --store "$R") || fail "nix-store --store $R --add"
if in_main_file "$DB" "$NEW"; then
	fail "precondition: $NEW is in db.sqlite itself, not only in its -wal"
else
	ok "nix-store --add registered $NEW in the -wal only (an immutable read of db.sqlite misses it)"
fi
check "precondition: $OLD is in db.sqlite itself" in_main_file "$DB" "$OLD"

files_state "$DB" noshmtime >"$WORK/state.before"
expect_rc 0 "closure --db while a reader holds the database open" \
	"$SD" closure --store "$RS" --db "$DB" "$NEW"
check "closure --db sees the path only in the -wal" [ "$(cat "$WORK/out")" = "$NEW" ]
check "no warning about the write-ahead log" sh -c "! grep -q 'write-ahead' '$WORK/err'"
files_state "$DB" noshmtime >"$WORK/state.after"
same_state "the read left db.sqlite and -wal unchanged (existence, size, mtime, bytes), and -shm's existence and size" \
	"$WORK/state.before" "$WORK/state.after"
files_state "$DB" >"$WORK/state.before"
expect_rc 0 "closure --db, a second time" "$SD" closure --store "$RS" --db "$DB" "$NEW"
files_state "$DB" >"$WORK/state.after"
same_state "the second read (read mark already recorded) left all three files unchanged, -shm's mtime included" \
	"$WORK/state.before" "$WORK/state.after"

# A Nix writer while storedisk is inside its read transaction.
if command -v gdb >/dev/null 2>&1; then
	printf 'storedisk nixdb test during %s\n' "$(date +%s%N)" >"$WORK/during"
	traced gdb -batch -nx -ex 'set breakpoint pending on' -ex 'break sd_nixdb_read_rows' \
		-ex run \
		-ex "shell timeout 300 nix-store --store $R --add $WORK/during >$WORK/during.path 2>$WORK/during.err; echo \$? >$WORK/during.rc" \
		-ex continue \
		--args "$SD" closure --store "$RS" --db "$DB" "$NEW" >"$WORK/gdb.out" 2>"$WORK/gdb.err"
	check "storedisk stopped inside its read transaction (gdb breakpoint at sd_nixdb_read_rows)" \
		grep -q 'Breakpoint 1, .*sd_nixdb_read_rows' "$WORK/gdb.out"
	check "meanwhile nix-store --add completed (the Nix writer is not blocked)" \
		[ "$(cat "$WORK/during.rc" 2>/dev/null)" = 0 ]
	check "then the read completed with the closure" grep -qxF "$NEW" "$WORK/gdb.out"
	check "gdb: storedisk exited normally" grep -q 'exited normally' "$WORK/gdb.out"
	expect_rc 0 "closure --db of the path added during the read" \
		"$SD" closure --store "$RS" --db "$DB" "$(cat "$WORK/during.path")"
else
	skip "Nix writer during storedisk's read: gdb is not installed"
fi

# Fallbacks, on copies of the database (the holder keeps NEW in the -wal).
mkdir -p "$WORK/copy" "$WORK/ro"
cp "$DB" "$DB-wal" "$DB-shm" "$WORK/copy/"
release private "$holder"
if mount --bind "$WORK/copy" "$WORK/ro" 2>/dev/null && MOUNTS="$MOUNTS $WORK/ro" &&
	mount -o remount,ro,bind "$WORK/ro" 2>/dev/null; then
	C=$WORK/ro/db.sqlite
	expect_rc 0 "read-only bind mount with -wal and -shm: closure --db" \
		"$SD" closure --store "$RS" --db "$C" "$NEW"
	check "read-only mount: still read through the WAL (no warning)" \
		sh -c "[ \"\$(cat '$WORK/out')\" = '$NEW' ] && ! grep -q 'write-ahead' '$WORK/err'"
	rm "$WORK/copy/db.sqlite-shm"
	expect_rc 0 "read-only mount without -shm: a path in the main file" \
		"$SD" closure --store "$RS" --db "$C" "$OLD"
	check "read-only mount without -shm: the warning names the reason" \
		grep -q "$C: read without its write-ahead log (.*-shm does not" "$WORK/err"
	expect_rc 1 "read-only mount without -shm: the path only in the -wal is not seen" \
		"$SD" closure --store "$RS" --db "$C" "$NEW"
	check "read-only mount without -shm: the error says the WAL was not read" \
		grep -q "not registered in $C (the Nix database was read without its WAL" "$WORK/err"
	umount "$WORK/ro"
else
	skip "read-only bind mount: mount --bind / remount,ro not possible here"
fi

# An unprivileged user who cannot read the -shm.
mkdir -p "$WORK/priv"
cp "$WORK/copy/db.sqlite" "$WORK/copy/db.sqlite-wal" "$WORK/priv/"
: >"$WORK/priv/db.sqlite-shm"
chmod 600 "$WORK/priv/db.sqlite-shm"
chmod 644 "$WORK/priv/db.sqlite" "$WORK/priv/db.sqlite-wal"
chmod 755 "$WORK" "$WORK/priv"
cp "$SD" "$WORK/storedisk"
chmod 755 "$WORK/storedisk"
if command -v setpriv >/dev/null 2>&1 &&
	setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	P=$WORK/priv/db.sqlite
	files_state "$P" >"$WORK/state.before"
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	expect_rc 0 "as nobody, -shm not readable: a path in the main file" \
		nobody "$WORK/storedisk" closure --store "$RS" --db "$P" "$OLD"
	check "as nobody: the warning says why the WAL was not used" \
		grep -q "$P: read without its write-ahead log (cannot read $P-shm: Permission denied)" "$WORK/err"
	expect_rc 1 "as nobody: the path only in the -wal is not seen" \
		nobody "$WORK/storedisk" closure --store "$RS" --db "$P" "$NEW"
	files_state "$P" >"$WORK/state.after"
	same_state "as nobody: the database files are unchanged" "$WORK/state.before" "$WORK/state.after"
else
	skip "unprivileged user: setpriv cannot switch to uid 65534 here"
fi

# ---------------------------------------------------------------------------
# The default database rule, on the host's store (only what other tests
# using it meanwhile cannot disturb).
HOSTDB=/nix/var/nix/db/db.sqlite
if hold "$HOSTDB" host; then
	HNEW=$(add_path hostnew)
	expect_rc 0 "closure (no source option) while the host's database is held open" \
		"$SD" closure "$HNEW"
	check "the default database rule sees the path registered a moment ago" \
		sh -c "[ \"\$(cat '$WORK/out')\" = '$HNEW' ] && grep -q 'using the Nix database $HOSTDB' '$WORK/err'"
	release host "$held"
else
	fail "a python3 sqlite3 reader could not open $HOSTDB"
fi

finish
