#!/bin/sh
# SPDX-License-Identifier: MIT
# demo.sh — install what is missing, build, generate a demo store and run
# the main job on it: print the closure, pack it into a squashfs image,
# verify the image is self-contained.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" "$build" >/dev/null
sd="$build/src/storedisk"
demo=${DEMO_DIR:-/tmp/storedisk-demo}
root=$("$top/scripts/make-demo-store.sh" "$demo/root")
store="$demo/root/nix/store"
set -x
"$sd" closure --store "$store" "$root"
"$sd" pack -o "$demo/store.sqfs" --compress zstd --store "$store" "$root"
"$sd" verify "$demo/store.sqfs"
