#!/bin/sh
# SPDX-License-Identifier: MIT
# fetch-guest-kernel.sh [DIR] — a kernel for `storedisk vmcheck`: Debian's
# cloud kernel (linux-image-cloud-amd64 and the one linux-image-* package
# it depends on), fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` under DIR/root (default DIR: /var/tmp/storedisk-kernel).
# Prints two lines: the kernel (DIR/root/boot/vmlinuz-RELEASE) and its
# modules directory (DIR/root/lib/modules/RELEASE), for
#   storedisk vmcheck IMAGE --kernel LINE1 --modules LINE2 -- PROGRAM
# Idempotent: a second run finds the unpacked kernel and prints the same
# lines at once, without the network.  Exit 1 when the kernel cannot be
# had (no apt-get, no network, no such package).
set -eu
dir=${1:-/var/tmp/storedisk-kernel}
root=$dir/root

# The kernel and modules under ROOT, printed; false when not there.
found() {
	for k in "$1"/boot/vmlinuz-*; do
		[ -f "$k" ] || continue
		rel=${k##*/vmlinuz-}
		[ -d "$1/lib/modules/$rel/kernel" ] || continue
		echo "$k"
		echo "$1/lib/modules/$rel"
		return 0
	done
	return 1
}

if found "$root"; then
	exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
	echo "fetch-guest-kernel: needs apt-get and dpkg-deb (Debian)" >&2
	exit 1
fi
mkdir -p "$dir"
debs=$(mktemp -d "$dir/debs.XXXXXX")
trap 'rm -rf "$debs" "$dir/root.new"' EXIT
cd "$debs"
# apt drops to its _apt user to download: let it write here.
chmod 777 "$debs"

# download PACKAGE: one .deb into the current directory; refresh the
# package lists once when apt does not know it yet.
download() {
	if ! apt-get download "$1" >/dev/null 2>"$debs/apt.err"; then
		echo "fetch-guest-kernel: updating the package lists" >&2
		apt-get update >/dev/null 2>&1 || true
		if ! apt-get download "$1" >/dev/null 2>"$debs/apt.err"; then
			echo "fetch-guest-kernel: apt-get download $1 failed:" >&2
			cat "$debs/apt.err" >&2
			exit 1
		fi
	fi
}

download linux-image-cloud-amd64
meta=$(ls linux-image-cloud-amd64_*.deb)
# Depends: "linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)" — the one
# linux-image-* among them.
image=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -1)
if [ -z "$image" ]; then
	echo "fetch-guest-kernel: $meta depends on no linux-image-* package" >&2
	exit 1
fi
download "$image"

rm -rf "$dir/root.new"
mkdir -p "$dir/root.new"
for d in ./*.deb; do
	dpkg-deb -x "$d" "$dir/root.new"
done
if ! found "$dir/root.new" >/dev/null; then
	echo "fetch-guest-kernel: $image holds no boot/vmlinuz-* with its modules" >&2
	exit 1
fi
rm -rf "$root"
mv "$dir/root.new" "$root"
found "$root"
