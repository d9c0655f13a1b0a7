#!/bin/sh
# SPDX-License-Identifier: MIT
# test.sh [MESON-TEST-ARGUMENT...] — install what is missing, then build and
# test storedisk in each configuration CI gates on, every one in its own
# build directory (set up once, re-used when present):
#
#   asan     build-asan/     gcc -fsanitize=address,undefined, the whole suite, the corruption
#                            -fno-sanitize-recover             sweep at 1,000 cases per format
#                                                              and compressor; any sanitizer
#                                                              report fails the build
#   gcc      build/          gcc, -Werror                      builds everything; the sweep suite
#                                                              (100 cases) and the checks that
#                                                              cannot run under sanitizers
#                                                              (suite 'unsanitized'); the sources
#                                                              against .clang-format
#                                                              (scripts/format-check.sh)
#   clang    build-clang/    clang, -Werror                    builds everything; the core,
#                                                              closure, app and fuzz-replay suites
#   release  build-release/  gcc --buildtype=release (-O3,     unit and fuzz-replay suites; the cross
#                                                              suite against storedisk
#                                                              cross-built for s390x and
#                                                              arm64 (scripts/cross-build.sh,
#                                                              build-cross-ARCH/, run under
#                                                              qemu-user)
#
# The shell and real-Nix suites drive the code through the CLI; they run
# once, in the sanitizer build, where they find the most.  The unit suites
# run under the sanitizers and at -O3; the gcc and clang builds compile
# them with -Werror and run what the 30 minutes of CI leave room for.  BUILDS="gcc asan"
# runs some of the builds (default: all four, in the order above); the
# arguments go to every `meson test` and replace the build's own choice of
# suites (`BUILDS=gcc scripts/test.sh --suite cli` runs the shell suite in
# the gcc build).  Every check
# reports through TAP; the closing line counts them across the builds.
# Exit status 0 only when every build compiled and passed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
builds=${BUILDS:-asan gcc clang release}
"$top/scripts/install-deps.sh"
# The guest kernel for vmcheck's tests and the unit tests that read a real
# bzImage and modules: fetched once (cached), named to every test.  When it
# cannot be had, those tests skip and say why.
if [ -z "${SD_GUEST_KERNEL:-}" ]; then
	if kern=$("$top/scripts/fetch-guest-kernel.sh"); then
		SD_GUEST_KERNEL=$(echo "$kern" | sed -n 1p)
		SD_GUEST_MODULES=$(echo "$kern" | sed -n 2p)
		export SD_GUEST_KERNEL SD_GUEST_MODULES
	else
		echo "test.sh: no guest kernel (scripts/fetch-guest-kernel.sh failed): the tests that boot or read one skip" >&2
	fi
fi
# Likewise Debian's kernels for vmcheck --arch aarch64 and s390x
# (SD_GUEST_KERNEL_AARCH64, SD_GUEST_MODULES_AARCH64, ..._S390X).
for garch in aarch64 s390x; do
	up=$(echo "$garch" | tr "[:lower:]" "[:upper:]")
	eval "have=\${SD_GUEST_KERNEL_$up:-}"
	[ -z "$have" ] || continue
	# No QEMU for it (a machine set up by hand without the package
	# list's qemu-system-arm or -misc): its test skips anyway, the kernel
	# is not worth fetching.
	command -v "qemu-system-$garch" >/dev/null || continue
	if kern=$("$top/scripts/fetch-guest-kernel.sh" "$garch"); then
		eval "SD_GUEST_KERNEL_$up=\$(echo \"\$kern\" | sed -n 1p)"
		eval "SD_GUEST_MODULES_$up=\$(echo \"\$kern\" | sed -n 2p)"
		export "SD_GUEST_KERNEL_$up" "SD_GUEST_MODULES_$up"
	else
		echo "test.sh: no $garch guest kernel (scripts/fetch-guest-kernel.sh $garch failed): the $garch vmcheck tests skip" >&2
	fi
done

tally=
failed=0
for b in $builds; do
	cc=gcc
	testopts=
	unit="--suite core --suite closure --suite formats --suite app --suite fuzz"
	sweep=100
	procs=2
	case $b in
	gcc)
		dir=$top/build
		opts=-Dwerror=true
		testopts="--suite sweep --suite unsanitized" ;;
	clang)
		dir=$top/build-clang
		cc=clang
		opts=-Dwerror=true
		testopts="--suite core --suite closure --suite app --suite fuzz" ;;
	release)
		dir=$top/build-release
		opts="--buildtype=release -Db_ndebug=if-release -Dwerror=true"
		testopts="$unit --suite cross" ;;
	asan)
		dir=$top/build-asan
		# UBSan aborts at its first report instead of carrying on.
		opts="-Db_sanitize=address,undefined -Dc_args=-fno-sanitize-recover=all"
		sweep=1000
		# Instrumented code runs a few times slower: so may the tests.
		# A third test process fills the cores while shell tests wait
		# on mounts, sync and Python.
		procs=3
		testopts="--timeout-multiplier 3 --no-suite cross" ;;
	*)
		echo "test.sh: unknown build '$b' in BUILDS (gcc, clang, release, asan)" >&2
		exit 2 ;;
	esac
	echo "test.sh: === $b build in $dir" >&2
	b_start=$(date +%s)
	logs=$dir/meson-logs
	rm -f "$logs/testlog.json" "$logs/testlog.junit.xml"
	# shellcheck disable=SC2086
	if ! CC=$cc "$top/scripts/build.sh" "$dir" $opts; then
		echo "test.sh: $b: the build failed" >&2
		tally="$tally $b:build-failed:$dir"
		failed=1
		continue
	fi
	if [ "$b" = release ]; then
		# The cross-built storedisk for tests/cross (suite 'cross'):
		# named to the tests by SD_CROSS_<ARCH>, or the reason it is
		# missing — _SKIP when its toolchain cannot be installed
		# (cross-build.sh's exit 3), _ERROR for any other failure,
		# which fails the test.
		for xarch in s390x arm64; do
			up=$(echo "$xarch" | tr '[:lower:]' '[:upper:]')
			xdir=$top/build-cross-$xarch
			mkdir -p "$logs"
			xlog=$logs/cross-build-$xarch.log
			x_start=$(date +%s)
			set +e
			"$top/scripts/cross-build.sh" "$xarch" "$xdir" -Dwerror=true >"$xlog" 2>&1
			xrc=$?
			set -e
			echo "test.sh: cross build $xarch: exit $xrc in $(($(date +%s) - x_start)) s (log: $xlog)" >&2
			case $xrc in
			0) export "SD_CROSS_$up=$xdir/storedisk" ;;
			3) export "SD_CROSS_${up}_SKIP=$(tail -1 "$xlog")" ;;
			*)
				tail -20 "$xlog" >&2
				export "SD_CROSS_${up}_ERROR=exit $xrc: $(tail -1 "$xlog")" ;;
			esac
		done
	fi
	style=ok
	if [ "$b" = gcc ] && ! "$top/scripts/format-check.sh"; then
		style=differs
	fi
	rm -rf "$logs/sanitizer"
	set +e
	# shellcheck disable=SC2086
	(
		if [ "$b" = asan ]; then
			# Explicit sanitizer settings, exported to every test and
			# to the storedisk processes the shell tests start: the
			# first report ends the process with a code of its own,
			# and every report is also written under
			# meson-logs/sanitizer, so that one in a command a test
			# only expects to fail still fails the build (below).
			mkdir -p "$logs/sanitizer"
			export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:print_summary=1:log_path=$logs/sanitizer/asan"
			export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=87:print_stacktrace=1:print_summary=1:log_path=$logs/sanitizer/ubsan"
		fi
		export SD_SWEEP_CORRUPTIONS=$sweep
		# Arguments replace the build's own choice of suites.
		if [ $# -gt 0 ]; then
			testopts=
			[ "$b" = asan ] && testopts="--timeout-multiplier 3"
		fi
		exec meson test -C "$dir" --print-errorlogs --num-processes "$procs" $testopts "$@"
	)
	rc=$?
	set -e
	status=ok
	[ "$rc" -eq 0 ] || status=tests-failed
	if [ -d "$logs/sanitizer" ] && [ -n "$(ls -A "$logs/sanitizer")" ]; then
		echo "test.sh: $b: sanitizer reports (all in $logs/sanitizer):" >&2
		for f in "$logs/sanitizer"/*; do
			echo "--- $f" >&2
			head -40 "$f" >&2
		done
		status=sanitizer-reports
	fi
	[ "$style" = ok ] || status=style-differs
	[ "$status" = ok ] || failed=1
	tally="$tally $b:$status:$dir"
	# CI has 30 minutes for all of it: say what each build took.
	echo "test.sh: === $b build: $status in $(($(date +%s) - b_start)) s" >&2
done

# The closing line: every check of every build, from meson's logs.
# shellcheck disable=SC2086
python3 "$top/scripts/test-tally.py" $tally || failed=1
exit "$failed"
