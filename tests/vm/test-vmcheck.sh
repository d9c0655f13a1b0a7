#!/bin/sh
# SPDX-License-Identifier: MIT
# storedisk vmcheck: real boots of Debian's cloud kernel under QEMU (TCG
# here) with a tiny static program in a store image — squashfs and EROFS,
# its exit status and output, --by-label, --base (overlay), a
# --root-symlink entry, --machine q35, --json and --log; the timeout (124)
# and an image the guest cannot mount (125) end with no QEMU of ours left,
# and so do a SIGKILL and a SIGTERM of vmcheck mid-boot; a truncated image
# is booted anyway (125, or 2 where the program ran from it); a file that
# is no image and a kernel too old for the image are refused before
# booting (2).  Skipped, with the reason, only where QEMU or the
# kernel (scripts/fetch-guest-kernel.sh; SD_GUEST_KERNEL and
# SD_GUEST_MODULES name another) cannot be had.
. "$SRCDIR/tests/cli/lib.sh"

# shellcheck source=tests/vm/lib-vm.sh
. "$SRCDIR/tests/vm/lib-vm.sh"

# The guest program, static (the guest has no libc): prints its
# arguments on stdout and a line on stderr, then "exit N" exits N,
# "hang" never returns, "cat FILE" prints FILE.
mkdir -p "$WORK/src"
cat >"$WORK/src/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	printf("vmprog:");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	fprintf(stderr, "vmprog on stderr\n");
	if (argc > 1 && !strcmp(argv[1], "hang"))
		for (;;)
			pause();
	if (argc > 2 && !strcmp(argv[1], "cat")) {
		FILE *f = fopen(argv[2], "r");
		if (!f)
			return 66;
		int c;
		while ((c = fgetc(f)) != EOF)
			putchar(c);
		return 0;
	}
	return argc > 2 && !strcmp(argv[1], "exit") ? atoi(argv[2]) : 0;
}
EOF
cc -static -O2 -o "$WORK/src/prog" "$WORK/src/prog.c" ||
	skip_all "cc -static cannot build the guest program (no static libc?)"

# A store of two paths: the program, and a data file (for --base).
hash() { printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'; }
S=$WORK/s/nix/store
prog=$(hash vmprog)-vmprog
data=$(hash vmdata)-vmdata
mkdir -p "$S/$prog/bin" "$S/$data"
cp "$WORK/src/prog" "$S/$prog/bin/prog"
echo "a file of the layer" >"$S/$data/msg"
P=/nix/store/$prog/bin/prog

pk() { "$SD" pack -q --store "$S" --scan "$@"; }
pk -o "$WORK/sq.img" "/nix/store/$prog" || fail "pack squashfs"
pk --format erofs -o "$WORK/ero.img" "/nix/store/$prog" || fail "pack erofs"
pk --format erofs --root-symlink "system=/nix/store/$prog" \
	-o "$WORK/sys.img" "/nix/store/$prog" || fail "pack --root-symlink"
pk --format erofs --base "$WORK/sq.img" -o "$WORK/layer.img" \
	"/nix/store/$prog" "/nix/store/$data" || fail "pack --base"
pk --format erofs --compress zstd -o "$WORK/zstd.img" "/nix/store/$prog" ||
	fail "pack erofs zstd"
pk --format erofs --compress lzma -o "$WORK/lzma.img" "/nix/store/$prog" ||
	fail "pack erofs lzma"

# Every temporary file of vmcheck goes here: it must be empty after each
# run that vmcheck finished itself.
VMTMP=$WORK/vmtmp
mkdir -p "$VMTMP"
vm() { TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" "$@"; }
# Boots on a loaded 2-core machine without KVM: generous.
T=120

nothing_left() {
	check "$1: no temporary file left" [ -z "$(ls -A "$VMTMP")" ]
}

# qemu_child PID: the pid of a QEMU process whose parent is PID, if any.
qemu_child() {
	sed -n 's/^\([0-9]*\) (qemu-system[^)]*) [A-Za-z] \([0-9]*\) .*/\1 \2/p' \
		/proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$2 == p { print $1; exit }'
}

# gone PID: the process has ended (no such process, or a zombie).
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# watch_qemu PID: wait for vmcheck PID's QEMU child (up to 60 s); its pid
# in $qpid ("" if none appeared before vmcheck ended).
watch_qemu() {
	qpid=
	i=0
	while [ $i -lt 600 ] && kill -0 "$1" 2>/dev/null; do
		qpid=$(qemu_child "$1")
		[ -n "$qpid" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
}

# --- squashfs: status 0, output, --json, --log
expect_rc 0 "squashfs: the program's exit status 0" \
	vm --timeout $T --json --log "$WORK/sq.log" "$WORK/sq.img" -- "$P" exit 0 hello
cp "$WORK/out" "$WORK/sq.json"
cp "$WORK/err" "$WORK/sq.err"
check "squashfs: the program's stdout (on stderr with --json)" \
	contains "$WORK/sq.err" "vmprog: exit 0 hello"
check "squashfs: the program's stderr too" contains "$WORK/sq.err" "vmprog on stderr"
check "--json: status, outcome, end, phases, kernel" python3 - "$WORK/sq.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == 0 and d["exit_code"] == 0, d
assert d["outcome"] == "exited" and d["end"] == "poweroff", d
assert d["error"] is None, d
assert d["kernel_version"].startswith(("5.", "6.", "7.")), d
assert d["qemu"]["machine"] == "microvm" and d["qemu"]["accel"] in ("tcg", "kvm"), d
assert d["qemu"]["exit_status"] == 0, d
ph = d["phases"]
order = ["initramfs", "qemu_start", "kernel_up", "modules_loaded", "mounted",
         "program_started", "program_exit", "poweroff", "qemu_exit"]
assert list(ph) == order, ph
t = [ph[k] for k in order]
assert all(isinstance(x, float) or isinstance(x, int) for x in t), ph
assert t == sorted(t), ph
assert d["seconds"] >= ph["qemu_exit"], d
EOF
check "--log: every phase with its time" python3 - "$WORK/sq.log" <<'EOF'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
assert lines[0].startswith("# storedisk vmcheck"), lines[0]
phases = [l.split()[2] for l in lines if re.match(r"^ *\d+\.\d{3} phase ", l)]
assert phases == ["initramfs", "qemu_start", "kernel_up", "modules_loaded",
                  "mounted", "program_started", "program_exit", "poweroff",
                  "qemu_exit"], phases
cons = [l for l in lines if re.match(r"^ *\d+\.\d{3} console ", l)]
assert any("vmprog: exit 0 hello" in l for l in cons), cons
assert any("@@storedisk-vmcheck" in l and " exit 0" in l for l in cons), cons
assert re.match(r"^ *\d+\.\d{3} result +exit code 0 \(exited, the VM ended: poweroff\)", lines[-1]), lines[-1]
EOF
nothing_left squashfs

expect_rc 3 "squashfs: a non-zero status (3) is vmcheck's" \
	vm --timeout $T -q "$WORK/sq.img" -- "$P" exit 3
check "squashfs: stdout is the program's output" contains "$WORK/out" "vmprog: exit 3"
check "squashfs: -q: no summary" sh -c "! grep -q 'exited with status' '$WORK/err'"
if grep -q '^@@storedisk' "$WORK/out"; then fail "no marker among the program's output"; else ok "no marker among the program's output"; fi

# --- EROFS, found by its label
expect_rc 0 "erofs --by-label: status 0" \
	vm --timeout $T --by-label "$WORK/ero.img" -- "$P" exit 0 erofs
check "erofs: the program's output" contains "$WORK/out" "vmprog: exit 0 erofs"
check "erofs: the summary names the status" contains "$WORK/err" "exited with status 0"
expect_rc 2 "--by-label with a squashfs image (no label): refused" \
	vm --timeout $T --by-label "$WORK/sq.img" -- "$P"
check "--by-label refusal names the missing label" contains "$WORK/err" "no filesystem label"

# --- a --root-symlink entry: the program through /nix/store/system
expect_rc 5 "--root-symlink: /nix/store/system/bin/prog runs (status 5)" \
	vm --timeout $T "$WORK/sys.img" -- /nix/store/system/bin/prog exit 5
check "--root-symlink: its output" contains "$WORK/out" "vmprog: exit 5"

# --- --base: the layer over its base, overlaid at /nix/store
expect_rc 0 "--base: the base's program reads the layer's file" \
	vm --timeout $T --base "$WORK/sq.img" "$WORK/layer.img" -- "$P" cat "/nix/store/$data/msg"
check "--base: the layer's file through the overlay" contains "$WORK/out" "a file of the layer"

# --- q35: virtio-pci
expect_rc 4 "--machine q35: status 4" \
	vm --timeout $T --machine q35 "$WORK/ero.img" -- "$P" exit 4
nothing_left "q35 and the others"

# --- refused before booting
expect_rc 2 "EROFS zstd on Linux 6.1: refused before booting" \
	vm --timeout $T --log "$WORK/zstd.log" "$WORK/zstd.img" -- "$P"
check "the refusal names the feature and the version" \
	grep -q 'needs Linux 6.10 for zstd (EROFS Zstandard compression): not booted' "$WORK/err"
check "the refusal started no QEMU" sh -c "grep -Eq 'result +exit code 2' '$WORK/zstd.log' && ! grep -Eq 'phase +qemu_start' '$WORK/zstd.log'"
expect_rc 2 "a relative PROGRAM: usage error" vm "$WORK/sq.img" -- prog
expect_rc 2 "no --kernel: usage error" "$SD" vmcheck "$WORK/sq.img" -- "$P"
expect_rc 2 "--memory 1536K (not whole MiB): usage error" vm --memory 1536K "$WORK/sq.img" -- "$P"
expect_rc 2 "--machine pc: usage error" vm --machine pc "$WORK/sq.img" -- "$P"
expect_rc 2 "an unreadable kernel: exit 2" \
	"$SD" vmcheck --kernel "$WORK/none" --modules "$MODS" "$WORK/sq.img" -- "$P"
expect_rc 2 "a missing --modules DIR: exit 2" vm --modules "$WORK/no-mods" "$WORK/sq.img" -- "$P"
check "a missing --modules DIR: the option is named" contains "$WORK/err" "--modules $WORK/no-mods: No such file"
expect_rc 120 "QEMU missing: 120" vm --qemu "$WORK/no-qemu" "$WORK/sq.img" -- "$P"
check "QEMU missing: named" contains "$WORK/err" "no-qemu"
nothing_left "refusals"

# --- a hanging program: 124, QEMU gone
TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" --timeout 25 \
	--log "$WORK/hang.log" "$WORK/sq.img" -- "$P" hang >"$WORK/out" 2>"$WORK/err" &
vpid=$!
watch_qemu $vpid
wait $vpid
rc=$?
check "a hanging program: 124 (exit $rc)" [ "$rc" -eq 124 ]
check "a hanging program: its QEMU was seen" [ -n "$qpid" ]
check "a hanging program: it had started" grep -Eq 'phase +program_started' "$WORK/hang.log"
check "a hanging program: no QEMU of ours left" gone "${qpid:-0}"
check "a hanging program: the teardown is logged" grep -Eq 'teardown .*QMP' "$WORK/hang.log"
check "a hanging program: the message names the timeout" contains "$WORK/err" "--timeout 25"
nothing_left "timeout"

# --- a truncated image is booted anyway, with a warning: the guest's
# kernel cannot mount a squashfs cut in half, so no result (125, init's
# error); an EROFS image short of its last block (the tail of the
# program's symbol table, never read) runs the program, but vmcheck never
# passes a damaged image: 2
size=$(stat -c %s "$WORK/sq.img")
head -c $((size / 2)) "$WORK/sq.img" >"$WORK/trunc.img"
expect_rc 125 "a truncated squashfs image: no result (125)" \
	vm --timeout $T --json --log "$WORK/trunc.log" "$WORK/trunc.img" -- "$P"
check "a truncated image: the warning names it and says truncated" \
	sh -c "grep -q 'warning:.*trunc.img.*truncated' '$WORK/err'"
check "a truncated image: init's failed mount is named" contains "$WORK/err" "mount /dev/vda (squashfs)"
check "a truncated image: --json has the diagnosis" python3 -c "
import json
d = json.load(open('$WORK/out'))
assert d['exit_code'] == 125 and d['outcome'] == 'no-result', d
assert 'truncated' in d['damaged'] and 'mount' in d['error'], d
assert d['phases']['mounted'] is None and d['phases']['program_exit'] is None, d
"
check "a truncated image: the log says it was booted anyway" grep -q 'booted anyway' "$WORK/trunc.log"
size=$(stat -c %s "$WORK/ero.img")
head -c $((size - 4096)) "$WORK/ero.img" >"$WORK/trunc1.img"
expect_rc 2 "an EROFS image short of one block, the program exits 0: 2" \
	vm --timeout $T "$WORK/trunc1.img" -- "$P" exit 0
check "... the program did run" contains "$WORK/out" "vmprog: exit 0"
check "... the error says vmcheck does not pass a damaged image" \
	contains "$WORK/err" "does not pass a damaged image"
expect_rc 2 "--by-label on a truncated image: its label cannot be read" \
	vm --timeout $T --by-label "$WORK/trunc1.img" -- "$P"
head -c 3000 /dev/urandom >"$WORK/junk.img"
expect_rc 2 "a file that is no image: refused before booting" \
	vm --timeout $T --log "$WORK/junk.log" "$WORK/junk.img" -- "$P"
check "... no QEMU started" sh -c "grep -Eq 'result +exit code 2' '$WORK/junk.log' && ! grep -Eq 'phase +qemu_start' '$WORK/junk.log'"
nothing_left "truncated images"
# An image the kernel cannot mount (EROFS lzma: Linux 5.16, but Debian's
# 6.1 is built without it) ends without a result: 125, init's error and
# the last console lines.
TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" --timeout $T \
	"$WORK/lzma.img" -- "$P" >"$WORK/out" 2>"$WORK/err" &
vpid=$!
watch_qemu $vpid
wait $vpid
rc=$?
check "an image the guest cannot mount: 125 (exit $rc)" [ "$rc" -eq 125 ]
check "an image the guest cannot mount: init's error is named" contains "$WORK/err" "init failed"
check "an image the guest cannot mount: the last console lines follow" \
	contains "$WORK/err" "last console lines"
check "an image the guest cannot mount: no QEMU of ours left" gone "${qpid:-0}"
nothing_left "unmountable image"
# A program that is not in the image: init's exec fails, named (125), and
# it never counts as started.
expect_rc 125 "a missing program: no result (125)" \
	vm --timeout $T --log "$WORK/noprog.log" "$WORK/sq.img" -- "$P-none"
check "a missing program: init's exec error names it" \
	contains "$WORK/err" "exec $P-none: No such file or directory"
check "a missing program: not started" sh -c "! grep -Eq 'phase +program_started' '$WORK/noprog.log'"
nothing_left "missing program"

# --- SIGKILL of vmcheck mid-boot: QEMU goes with it
TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" --timeout $T \
	"$WORK/sq.img" -- "$P" hang >"$WORK/out" 2>"$WORK/err" &
vpid=$!
watch_qemu $vpid
check "SIGKILL: QEMU started" [ -n "$qpid" ]
kill -KILL $vpid
wait $vpid 2>/dev/null
i=0
while [ $i -lt 50 ] && ! gone "${qpid:-0}"; do
	sleep 0.1
	i=$((i + 1))
done
check "SIGKILL of vmcheck: its QEMU is gone within 5 s" gone "${qpid:-0}"
rm -rf "${VMTMP:?}"/*

# --- SIGTERM: QEMU gone first, 143
TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" --timeout $T \
	"$WORK/sq.img" -- "$P" hang >"$WORK/out" 2>"$WORK/err" &
vpid=$!
watch_qemu $vpid
kill -TERM $vpid
wait $vpid
rc=$?
check "SIGTERM: 143 (exit $rc)" [ "$rc" -eq 143 ]
check "SIGTERM: no QEMU of ours left" gone "${qpid:-0}"
nothing_left "SIGTERM"

# --- two signals at once (SIGTERM, then SIGINT before the teardown ends):
# vmcheck exits at once, its temporary directory removed, QEMU gone with
# it (PR_SET_PDEATHSIG)
TMPDIR=$VMTMP "$SD" vmcheck --kernel "$K" --modules "$MODS" --timeout $T \
	"$WORK/sq.img" -- "$P" hang >"$WORK/out" 2>"$WORK/err" &
vpid=$!
watch_qemu $vpid
check "two signals: QEMU started" [ -n "$qpid" ]
kill -TERM $vpid
kill -INT $vpid
wait $vpid
rc=$?
check "two signals: 130 or 143 (exit $rc)" [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]
i=0
while [ $i -lt 50 ] && ! gone "${qpid:-0}"; do
	sleep 0.1
	i=$((i + 1))
done
check "two signals: its QEMU is gone within 5 s" gone "${qpid:-0}"
nothing_left "two signals"

finish
