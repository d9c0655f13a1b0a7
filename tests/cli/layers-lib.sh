# SPDX-License-Identifier: MIT
# layers-lib.sh — the demo store the layered-image tests share (sourced
# after lib.sh): $S the store, $B its root demo-app (it refers to A's paths
# and to new ones), $A demo-openssl (openssl -> zlib -> libc), $M an image
# time, and $WORK/clA the basenames of A's closure, sorted.
root=$(demo_store "$WORK/s")
S=$WORK/s/nix/store
B=$root
A=/nix/store/$(ls "$S" | grep demo-openssl)
M=1234567
"$SD" closure --store "$S" "$A" | sed 's|.*/||' | sort >"$WORK/clA"
