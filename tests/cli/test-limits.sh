#!/bin/sh
# SPDX-License-Identifier: MIT
# pack under resource limits (issue 10, part 4): ulimit -n 64 and ulimit -v
# 512M give the same bytes as an unlimited pack, and a pack where no thread
# can start (RLIMIT_NPROC 1, as nobody) runs on one and gives the same
# bytes.  In the suite 'unsanitized' too: AddressSanitizer cannot run under
# ulimit -v, so the builds without sanitizers run this test as well.
. "$SRCDIR/tests/cli/lib.sh"

q="-q --no-digest"
# The thread test runs as nobody.
nobody_setup

# ---- resource limits: ulimit -n 64, ulimit -v 512M, no threads -----------
demo=$(demo_store "$WORK/d")
D=$WORK/d/nix/store
head -c 24M /dev/urandom >"$D/$(basename "$demo")/share/big"
for fmt in squashfs erofs; do
	"$SD" pack $q --format $fmt -o "$WORK/lim-ref.$fmt" --store "$D" "$demo"
	for lim in "-n 64" "-v 524288"; do
		if [ "$lim" = "-v 524288" ] && sanitized; then
			skip "ulimit -v 512M ($fmt): AddressSanitizer reserves terabytes of address space"
			continue
		fi
		expect_rc 0 "ulimit $lim: pack --jobs 4 ($fmt)" sh -c \
			"ulimit $lim && exec \"\$0\" \"\$@\"" "$SD" pack $q --format $fmt \
			--jobs 4 -o "$WORK/lim.$fmt" --store "$D" "$demo"
		check "... the same bytes ($fmt, ulimit $lim)" cmp -s "$WORK/lim-ref.$fmt" "$WORK/lim.$fmt"
	done
done
if $nobody_ok && command -v prlimit >/dev/null; then
	# RLIMIT_NPROC 1 for a user with one process: every pthread_create
	# fails (EAGAIN), as fork does.
	chmod -R a+rX "$WORK/d"
	expect_rc 2 "RLIMIT_NPROC 1 stops fork (the limit is in force)" \
		prlimit --nproc=1:1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		sh -c 'true & wait'
	check "... the shell says it cannot fork" contains "$WORK/err" "fork"
	for fmt in squashfs erofs; do
		for c in default lz4; do
			[ $c = lz4 ] && [ $fmt = squashfs ] && continue
			comp=
			[ $c = lz4 ] && comp="--compress lz4"
			"$SD" pack $q --format $fmt $comp -o "$WORK/th-ref.$fmt" --store "$D" "$demo"
			rm -f "$NB/th.$fmt"
			expect_rc 0 "no thread can start: pack --jobs 4 runs on one ($fmt $c)" \
				no_lsan prlimit --nproc=1:1 setpriv --reuid=65534 --regid=65534 --clear-groups \
				"$WORK/storedisk" pack $q --format $fmt $comp --jobs 4 -o "$NB/th.$fmt" \
				--store "$D" "$demo"
			check "... the same bytes ($fmt $c)" cmp -s "$WORK/th-ref.$fmt" "$NB/th.$fmt"
		done
	done
else
	skip "setpriv/prlimit cannot run as nobody: no failing-thread test"
fi

finish
