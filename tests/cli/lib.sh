# SPDX-License-Identifier: MIT
# lib.sh — shared helpers for the shell tests of the storedisk CLI.
# Sourced by each tests/cli/test-*.sh; meson passes STOREDISK (the binary)
# and SRCDIR (the source tree) in the environment.
set -u
: "${STOREDISK:?STOREDISK must name the storedisk binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"

SD=$STOREDISK
WORK=$(mktemp -d /tmp/sdtest.XXXXXX)
MOUNTS=""

# The tests' python3 is the system's (scripts/debian-packages.txt installs
# it) when there is one: a version manager's shim first in PATH (pyenv's
# is a shell script running `pyenv exec`) costs 0.3-0.5 s a call here, and
# some tests call Python hundreds of times.  A directory of our own first
# in PATH, so that commands the tests start see it too.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
	mkdir -p "$WORK/.bin"
	ln -s /usr/bin/python3 "$WORK/.bin/python3"
	PATH=$WORK/.bin:$PATH
	export PATH
fi

# Results are TAP (what meson's `protocol : 'tap'` reads): "ok N - what",
# "not ok N - what", "ok N - reason # SKIP", then the plan "1..N" from
# finish; a test that cannot run at all prints "1..0 # SKIP reason"
# (skip_all).  TAP goes to the test's stdout, kept as fd 9; everything
# else the test and its commands print goes to stderr, so it can never be
# mistaken for a result.  Each result is also a line in $T_RESULTS, so
# checks run in a subshell (a pipeline, $(...)) are numbered and counted.
exec 9>&1 1>&2
T_RESULTS=$WORK/.tap-results
: >"$T_RESULTS"

cleanup() {
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	chmod -R u+w "$WORK" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# tap_line pass|fail|skip TEXT: record one result and print its TAP line
# (TEXT on one line and without '#', which would start a TAP directive).
tap_line() {
	local tap_n tap_text
	echo "$1" >>"$T_RESULTS"
	tap_n=$(wc -l <"$T_RESULTS")
	tap_text=$(printf '%s' "$2" | tr '\n#' ' _')
	case $1 in
	pass) echo "ok $tap_n - $tap_text" >&9 ;;
	fail) echo "not ok $tap_n - $tap_text" >&9 ;;
	skip) echo "ok $tap_n - $tap_text # SKIP" >&9 ;;
	esac
}

# diag TEXT...: a TAP comment ("# TEXT") among the results.
diag() { printf '%s\n' "$*" | sed 's/^/# /' >&9; }

ok() { tap_line pass "$*"; }
fail() { tap_line fail "$*"; }
skip() { tap_line skip "$*"; }

# skip_all REASON: the whole test cannot run here; meson reports a SKIP
# (TAP "1..0 # SKIP", the way a TAP test says so; an exit code of 77 is
# an error under the TAP protocol).
skip_all() {
	echo "1..0 # SKIP $(printf '%s' "$*" | tr '\n' ' ')" >&9
	exit 0
}

# sanitized: true in a build with sanitizers (-Db_sanitize, which meson
# passes as SD_SANITIZE), where a check that cannot work under them
# (address-space limits, RSS figures, timings) skips with the reason.
sanitized() { [ "${SD_SANITIZE:-none}" != none ]; }

# no_lsan COMMAND...: run COMMAND with LeakSanitizer off, where it cannot
# work: under ptrace (strace, gdb: it fails the process with a report of
# its own) and where no thread can start (RLIMIT_NPROC: its leak check at
# exit runs in a thread of its own).  Every other sanitizer check stays on.
no_lsan() {
	ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" "$@"
}
# traced COMMAND...: run COMMAND for strace or gdb (no_lsan).
traced() { no_lsan "$@"; }

# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}

# expect_rc WANT DESCRIPTION COMMAND...: pass when the exit code is WANT.
# The command's stdout/stderr are kept in $WORK/out and $WORK/err.
expect_rc() {
	want=$1
	desc=$2
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$desc"
	else
		fail "$desc (exit $rc, wanted $want)"
		diag "$(head -5 "$WORK/err" | sed 's/^/    stderr: /')"
	fi
}

# contains FILE TEXT: FILE contains TEXT literally.
contains() { grep -qF -- "$2" "$1"; }

# The demo store; prints the root store path.
demo_store() { sh "$SRCDIR/scripts/make-demo-store.sh" "$1"; }

# nobody_setup: for checks that run as the unprivileged user nobody —
# $WORK readable by it, the binary copied to $WORK/storedisk (a build
# directory may not be), $NB a directory it can write, and $nobody_ok true
# when setpriv can switch to it here.
nobody_setup() {
	chmod 755 "$WORK"
	cp "$SD" "$WORK/storedisk"
	NB=$WORK/nb
	mkdir -p "$NB"
	chmod 777 "$NB"
	nobody_ok=false
	if command -v setpriv >/dev/null &&
		setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
		nobody_ok=true
	fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# can_mount: true when loop mounts work here (root, loop devices).
can_mount() {
	[ -n "${SD_CAN_MOUNT:-}" ] && return "$SD_CAN_MOUNT"
	SD_CAN_MOUNT=1
	if [ "$(id -u)" -eq 0 ] && command -v mksquashfs >/dev/null; then
		mkdir -p "$WORK/probe/src" "$WORK/probe/mnt"
		echo x >"$WORK/probe/src/x"
		if mksquashfs "$WORK/probe/src" "$WORK/probe/i" -quiet -noappend >/dev/null 2>&1 &&
			mount -o loop,ro "$WORK/probe/i" "$WORK/probe/mnt" 2>/dev/null; then
			umount "$WORK/probe/mnt"
			SD_CAN_MOUNT=0
		fi
	fi
	return "$SD_CAN_MOUNT"
}

# mount_image IMAGE DIR
mount_image() {
	mkdir -p "$2"
	mount -o loop,ro "$1" "$2" && MOUNTS="$MOUNTS $2"
}

umount_image() {
	umount "$1"
}

# fsck_extract_matches LABEL IMAGE SOURCE PATH...: fsck.erofs --extract of
# IMAGE equals the store paths PATH... of SOURCE (owners and mtimes aside;
# mode bits and bytes compared by compare-tree.py); skips without
# erofs-utils.
fsck_extract_matches() {
	local label=$1 img=$2 src=$3 out="$WORK/fsck-extract"
	shift 3
	if ! command -v fsck.erofs >/dev/null; then
		skip "fsck.erofs not installed"
		return
	fi
	rm -rf "$out"
	if fsck.erofs --extract="$out" "$img" >"$WORK/fsck.log" 2>&1; then
		check "fsck.erofs --extract matches the source ($label)" \
			python3 "$SRCDIR/tests/cli/compare-tree.py" --no-owner --no-mtime \
			"$src" "$out" 1234567 "$@"
	else
		fail "fsck.erofs reads the $label image: $(tail -1 "$WORK/fsck.log")"
	fi
	rm -rf "$out"
}

# finish: the plan and a summary; false when a check failed.
finish() {
	T_PASS=$(grep -c '^pass$' "$T_RESULTS")
	T_FAIL=$(grep -c '^fail$' "$T_RESULTS")
	T_SKIP=$(grep -c '^skip$' "$T_RESULTS")
	echo "1..$((T_PASS + T_FAIL + T_SKIP))" >&9
	diag "$(basename "$0"): $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}
