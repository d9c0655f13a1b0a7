# lib.sh — shared helpers for the shell tests of the storedisk CLI.
# Sourced by each tests/cli/test-*.sh; meson passes STOREDISK (the binary)
# and SRCDIR (the source tree) in the environment.
set -u
: "${STOREDISK:?STOREDISK must name the storedisk binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"

SD=$STOREDISK
T_PASS=0
T_FAIL=0
T_SKIP=0
WORK=$(mktemp -d /tmp/sdtest.XXXXXX)
MOUNTS=""

cleanup() {
	for m in $MOUNTS; do umount "$m" 2>/dev/null; done
	chmod -R u+w "$WORK" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $*"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $*"; }

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
		sed 's/^/    stderr: /' "$WORK/err" | head -5
	fi
}

# contains FILE TEXT: FILE contains TEXT literally.
contains() { grep -qF -- "$2" "$1"; }

# The demo store; prints the root store path.
demo_store() { sh "$SRCDIR/scripts/make-demo-store.sh" "$1"; }

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

finish() {
	echo "$(basename "$0"): $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}
