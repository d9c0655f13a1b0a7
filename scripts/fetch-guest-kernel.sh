#!/bin/sh
# SPDX-License-Identifier: MIT
# fetch-guest-kernel.sh [ARCH] [DIR] — a kernel for `storedisk vmcheck
# --arch ARCH`: Debian's kernel for ARCH (x86_64, aarch64 or s390x, or
# Debian's amd64, arm64; default: the host's; the SD_GUEST_ARCH environment
# variable when no argument names one) — the metapackage
# linux-image-cloud-DEBARCH (linux-image-s390x: s390x has no cloud
# flavour) and the one linux-image-* package it depends on — fetched with
# `apt-get download`
# and unpacked with `dpkg-deb -x` under DIR/root, never installed (default
# DIR: /var/tmp/storedisk-kernel for amd64, /var/tmp/storedisk-kernel-DEBARCH
# for the others).  A foreign architecture is first added to dpkg
# (`dpkg --add-architecture`, then `apt-get update`; as root, or through
# sudo when it needs no password) when it is not there yet.
# Prints two lines: the kernel (DIR/root/boot/vmlinuz-RELEASE) and its
# modules directory (DIR/root/lib/modules/RELEASE), for
#   storedisk vmcheck IMAGE --arch ARCH --kernel LINE1 --modules LINE2 -- PROGRAM
# Idempotent: a second run finds the unpacked kernel and prints the same
# lines at once, without the network.  Exit 1 when the kernel cannot be
# had (no apt-get, no network, no such package, a foreign architecture
# dpkg lacks and we may not add); 2 for an architecture not known here.
set -eu
arch=${SD_GUEST_ARCH:-}
case ${1:-} in
x86_64 | amd64 | aarch64 | arm64 | s390x)
	arch=$1
	shift
	;;
esac
if [ -z "$arch" ]; then
	arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
fi
case $arch in
x86_64 | amd64) debarch=amd64 meta=linux-image-cloud-amd64 ;;
aarch64 | arm64) debarch=arm64 meta=linux-image-cloud-arm64 ;;
s390x) debarch=s390x meta=linux-image-s390x ;;
*)
	echo "fetch-guest-kernel: no Debian kernel known for architecture '$arch' (x86_64, aarch64 or s390x)" >&2
	exit 2
	;;
esac
if [ "$debarch" = amd64 ]; then
	dir=${1:-/var/tmp/storedisk-kernel}
else
	dir=${1:-/var/tmp/storedisk-kernel-$debarch}
fi
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
# A foreign architecture: dpkg must know it for apt to fetch its packages.
native=$(dpkg --print-architecture)
if [ "$debarch" != "$native" ] &&
	! dpkg --print-foreign-architectures | grep -qx "$debarch"; then
	sudo_cmd=
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
			echo "fetch-guest-kernel: dpkg lacks the $debarch architecture: run as root, or first: dpkg --add-architecture $debarch && apt-get update" >&2
			exit 1
		fi
		sudo_cmd="sudo -n"
	fi
	echo "fetch-guest-kernel: adding the $debarch architecture to dpkg" >&2
	$sudo_cmd dpkg --add-architecture "$debarch"
	$sudo_cmd apt-get update >/dev/null 2>&1 || true
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

download "$meta:$debarch"
metadeb=$(ls "$meta"_*.deb)
# Depends: "linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)" — the one
# linux-image-* among them.
image=$(dpkg-deb -f "$metadeb" Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -1)
if [ -z "$image" ]; then
	echo "fetch-guest-kernel: $metadeb depends on no linux-image-* package" >&2
	exit 1
fi
download "$image:$debarch"

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
