#!/bin/sh
# build.sh [BUILDDIR] — configure (once) and compile storedisk.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top"
fi
meson compile -C "$build"
