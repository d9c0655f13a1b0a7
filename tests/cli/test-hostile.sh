#!/bin/sh
# SPDX-License-Identifier: MIT
# Every hand-made hostile image of tests/formats/test_hostile.c (both
# formats: cycles, bad references, bad names, huge sizes) through every
# command that reads an image: verify, info, ls -R, cat of every listed
# path, extract, export and diff.  Each ends with exit 0, 1 or 2 and at
# most one line on stderr; never a signal (crash, sanitizer abort) or a
# hang (the test's timeout); a refused image is exit 2.
. "$SRCDIR/tests/cli/lib.sh"
: "${HOSTILE:?HOSTILE must name the test-formats-hostile binary}"

mkdir -p "$WORK/h"
if ! SD_HOSTILE_KEEP=$WORK/h "$HOSTILE" --filter 'hostile/[es]*_[crh]*' \
	>"$WORK/gen.log" 2>&1; then
	fail "the hostile image tests pass"
	tail -5 "$WORK/gen.log"
fi
n=$(ls "$WORK/h" | wc -l)
check "hostile images were written ($n)" [ "$n" -ge 25 ]

# run DESC CMD...: exit 0..2, stderr at most one line
run() {
	desc=$1
	shift
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	lines=$(wc -l <"$WORK/err")
	if [ "$rc" -le 2 ] && [ "$lines" -le 1 ]; then
		return 0
	fi
	fail "$desc: exit $rc, $lines stderr lines"
	head -3 "$WORK/err" | sed 's/^/    stderr: /'
	bad=$((bad + 1))
	return 1
}

bad=0
refused=0
for img in "$WORK/h"/*; do
	name=$(basename "$img")
	run "$name: verify" "$SD" verify "$img"
	[ "$rc" -eq 2 ] && refused=$((refused + 1))
	vrc=$rc
	run "$name: info" "$SD" info "$img"
	[ "$vrc" -eq 2 ] && [ "$rc" -ne 2 ] && fail "$name: verify refused, info exit $rc"
	run "$name: ls -R" "$SD" ls -R "$img"
	if [ "$rc" -eq 0 ]; then
		cp "$WORK/out" "$WORK/list"
		while IFS= read -r p; do
			run "$name: cat $p" "$SD" cat "$img" "/nix/store/$p"
		done <"$WORK/list"
	fi
	rm -rf "$WORK/x"
	run "$name: extract" "$SD" extract "$img" "$WORK/x"
	run "$name: export" "$SD" export "$img" --tar "$WORK/x.tar"
	run "$name: diff" "$SD" diff "$img" "$img"
done
check "every command on every image ended cleanly" [ "$bad" -eq 0 ]
check "most images are refused ($refused of $n)" [ "$refused" -ge $((n / 2)) ]
finish
