#!/bin/sh
# SPDX-License-Identifier: MIT
# build.sh [BUILDDIR [MESON-OPTION...]] — configure (once) and compile
# storedisk.  The options (-Dwerror=true, --buildtype=release, ...) go to
# `meson setup` the first time and to `meson configure` when BUILDDIR is
# already set up, so a re-used directory builds as asked (the compiler of
# a directory is the one it was set up with: CC at the first run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
[ $# -eq 0 ] || shift
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" "$@"
elif [ $# -gt 0 ]; then
	meson configure "$build" "$@"
fi
meson compile -C "$build"
