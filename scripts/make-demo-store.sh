#!/bin/sh
# SPDX-License-Identifier: MIT
# make-demo-store.sh DIR — generate a small demo store under DIR/nix/store
# whose files mention /nix/store/... (the logical store dir), with real
# references between paths: a chain, a diamond, a cycle, a symlink, a bare
# hash reference, and one path that nothing references.
# Prints the root store path (logical) on stdout.
set -eu
dir=${1:?usage: make-demo-store.sh DIR}
store="$dir/nix/store"
logical=/nix/store
rm -rf "$dir"
mkdir -p "$store"

# A deterministic 32-character hash in Nix's base-32 alphabet.
hash() {
	printf '%s' "$1" | sha256sum | cut -c1-32 | tr '0-9a-f' '0123456789abcdfg'
}
p() { echo "$(hash "$1")-$1"; }

libc=$(p demo-libc-2.40)
zlib=$(p demo-zlib-1.3)
ssl=$(p demo-openssl-3.0)
cyca=$(p demo-tool-1.0)
cycb=$(p demo-tool-1.0-man)
app=$(p demo-app-1.0)
unused=$(p demo-unused-0.1)

mkdir -p "$store/$libc/lib"
printf 'ELF\0fake libc\0' > "$store/$libc/lib/libc.so.6"

mkdir -p "$store/$zlib/lib"
printf 'ELF\0RUNPATH=%s/%s/lib\0' "$logical" "$libc" > "$store/$zlib/lib/libz.so.1"

mkdir -p "$store/$ssl/lib" "$store/$ssl/etc"
printf 'ELF\0RUNPATH=%s/%s/lib:%s/%s/lib\0' "$logical" "$libc" "$logical" "$zlib" \
	> "$store/$ssl/lib/libssl.so.3"
printf 'openssldir = %s/%s/etc\n' "$logical" "$ssl" > "$store/$ssl/etc/openssl.cnf"

# Two outputs that reference each other (a cycle).
mkdir -p "$store/$cyca/bin" "$store/$cycb/share/man"
printf '#!/bin/sh\n# manual: %s/%s/share/man\nexec true\n' "$logical" "$cycb" \
	> "$store/$cyca/bin/tool"
chmod 755 "$store/$cyca/bin/tool"
printf 'tool(1) lives in %s/%s/bin\n' "$logical" "$cyca" > "$store/$cycb/share/man/tool.1"

mkdir -p "$store/$app/bin" "$store/$app/share"
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s/%s/lib:%s/%s/lib\nexec %s/%s/bin/tool "$@"\n' \
	"$logical" "$ssl" "$logical" "$zlib" "$logical" "$cyca" > "$store/$app/bin/app"
chmod 755 "$store/$app/bin/app"
ln -s "$logical/$libc/lib/libc.so.6" "$store/$app/share/libc-link"
# A bare hash reference (no store prefix), as Nix's scanner finds them.
printf 'build-id %s\n' "$(hash demo-libc-2.40)" > "$store/$app/share/build-id"

mkdir -p "$store/$unused"
echo "not part of any closure" > "$store/$unused/README"

echo "$logical/$app"
