#!/bin/sh
# SPDX-License-Identifier: MIT
# cross-build.sh s390x|arm64 DIR [MESON-OPTION...] — build storedisk for
# Debian s390x (the big-endian host) or arm64 on an amd64 Debian 12 machine,
# and leave DIR/storedisk, a wrapper that runs the cross-built binary under
# qemu-user with the same arguments as the native one (exit status passed
# through).
#
# Steps, each said on stderr as it runs:
#  1. host tools: crossbuild-essential-ARCH, qemu-user-static, meson,
#     ninja, pkg-config, python3 — apt-get installs the missing ones (as
#     scripts/install-deps.sh does), after `dpkg --add-architecture ARCH`
#     and `apt-get update` when ARCH is not yet known to dpkg/apt.
#  2. the sysroot: the -dev packages of scripts/debian-packages.txt that
#     storedisk links (its first block), libc6-dev, and their dependency
#     closure (`apt-cache depends --recurse`), fetched as ARCH .debs with
#     `apt-get download` and unpacked with `dpkg-deb -x` (the ARCH -dev
#     packages do not co-install with amd64's through dpkg when the archive
#     has other versions for the two), absolute symlinks rewritten as
#     relative.  Cached in $SD_CROSS_CACHE/storedisk-sysroot-ARCH (default
#     /var/tmp), keyed by the exact .deb files apt would fetch (names,
#     versions, SHA-256), so a change of the list or of the archive re-makes
#     it.
#  3. meson setup (scripts/cross/ARCH.ini, release, -Dtests=disabled:
#     Criterion has no s390x build; the MESON-OPTIONs, e.g. -Dwerror=true,
#     go to `meson setup` the first time and to `meson configure` when
#     DIR/build exists, as in scripts/build.sh) and ninja in DIR/build;
#     then a check that every shared library the binary needs, transitively,
#     is in the sysroot (a missing .so fails here, loudly), and that the
#     guest init (src/guest) is a static ARCH executable.
#  4. DIR/storedisk (the wrapper) and DIR/versions.txt: the versions of the
#     compression libraries in the sysroot and on the host.
# Exit 0 built; 2 usage; 3 the host tools of step 1 cannot be installed;
# 1 any other failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:?usage: cross-build.sh s390x|arm64 DIR [MESON-OPTION...]}
dir=${2:?usage: cross-build.sh s390x|arm64 DIR [MESON-OPTION...]}
case $arch in
s390x) triplet=s390x-linux-gnu qemu=qemu-s390x-static ;;
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static ;;
*)
	echo "cross-build: unknown architecture '$arch' (s390x or arm64)" >&2
	exit 2
	;;
esac
say() { echo "cross-build[$arch]: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

sudo_cmd=
[ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
export DEBIAN_FRONTEND=noninteractive

# 1. Host tools.  Exit 3 when they cannot be installed (no network, no
# root, no such package): the one failure scripts/test.sh lets the cross
# tests skip on; every later failure is ours (exit 1).
no_tools() {
	say "$1"
	exit 3
}
t0=$(now)
updated=
apt_update() {
	if [ -z "$updated" ]; then
		say "apt-get update"
		$sudo_cmd apt-get update -q || no_tools "apt-get update failed"
		updated=1
	fi
}
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	say "dpkg --add-architecture $arch (the sysroot's packages come from apt)"
	$sudo_cmd dpkg --add-architecture "$arch" || no_tools "dpkg --add-architecture $arch failed"
	apt_update
fi
# No package index for ARCH yet (added by hand, or lists cleaned).
if ! ls /var/lib/apt/lists/*_binary-"$arch"_Packages* >/dev/null 2>&1; then
	apt_update
fi
tools="crossbuild-essential-$arch qemu-user-static meson ninja-build pkg-config python3 file"
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f '${Package} ${Status}\n' $tools 2>/dev/null |
	awk '/ install ok installed$/ { print $1 }')
missing=
for p in $tools; do
	printf '%s\n' "$installed" | grep -qx "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt_update
	say "apt-get install:$missing"
	# shellcheck disable=SC2086
	$sudo_cmd apt-get install -y -q --no-install-recommends $missing ||
		no_tools "apt-get install$missing failed"
fi
say "host tools ready ($(since "$t0"))"

# 2. The sysroot.
t0=$(now)
cache=${SD_CROSS_CACHE:-/var/tmp}/storedisk-sysroot-$arch
sysroot=$cache/root
# The -dev packages of the first block of debian-packages.txt (what the
# build needs), and the target's C library.
devs=$(sed '/^# tests/q' "$top/scripts/debian-packages.txt" | grep -v '^#' | grep -- '-dev$')
roots="libc6-dev $devs"
# Resolving the closure takes apt several seconds: its result is kept
# with the state it came from (the root list and apt's package indexes),
# and resolved again only when that changes (apt-get update, a new list).
state=$(
	echo "$arch $roots"
	ls -l --time-style=+%s /var/lib/apt/lists/*_Packages* 2>/dev/null || true
)
state=$(printf '%s\n' "$state" | sha256sum | cut -c1-64)
if [ -f "$cache/resolved" ] && [ "$(head -1 "$cache/resolved")" = "$state" ]; then
	uris=$(tail -n +2 "$cache/resolved")
else
	# The closure on ARCH: the packages apt names with :ARCH (those of
	# another architecture, e.g. gcc-12-base, are the host's own tools
	# or arch:all data the build does not need; <virtual> ones are
	# provided by a real package in the list).
	# shellcheck disable=SC2046,SC2086
	pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $(printf "%s:$arch " $roots) |
		grep -v '^ ' | grep ":$arch\$" | sort -u)
	# The exact files apt would fetch: URL, file name, size, SHA-256.
	# shellcheck disable=SC2086
	uris=$(cd /tmp && apt-get download --print-uris $pkgs)
	[ -n "$uris" ] || {
		say "apt-get download --print-uris gave nothing for: $pkgs"
		exit 1
	}
	mkdir -p "$cache"
	printf '%s\n%s\n' "$state" "$uris" >"$cache/resolved"
fi
npkgs=$(printf '%s\n' "$uris" | wc -l)
# The sysroot's key: those files.
key=$(printf '%s\n' "$uris" | awk '{ print $2, $3, $4 }' | sort | sha256sum | cut -c1-64)
if [ -f "$cache/key" ] && [ "$(cat "$cache/key")" = "$key" ] && [ -f "$cache/packages" ]; then
	say "sysroot $sysroot is up to date ($npkgs packages)"
else
	# apt-get download takes package names: those of the .deb files
	# (NAME_VERSION_ARCH.deb), with :ARCH.
	pkgs=$(printf '%s\n' "$uris" | awk '{ split($2, f, "_"); print f[1] ":'"$arch"'" }')
	say "making the sysroot $sysroot from $npkgs $arch packages:"
	printf '%s\n' "$pkgs" | tr '\n' ' ' | fold -s -w 76 | sed 's/^/    /' >&2
	echo >&2
	rm -rf "$sysroot" "$cache/debs" "$cache/packages" "$cache/key"
	mkdir -p "$cache/debs" "$sysroot"
	# apt fetches as its sandbox user where it can write
	[ "$(id -u)" -ne 0 ] || ! id _apt >/dev/null 2>&1 || chown _apt "$cache/debs"
	# shellcheck disable=SC2086
	(cd "$cache/debs" && apt-get download -q $pkgs) >&2
	for deb in "$cache/debs"/*.deb; do
		dpkg-deb -x "$deb" "$sysroot"
		echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" >>"$cache/packages"
	done
	# Absolute symlinks (e.g. liblzma.so -> /lib/TRIPLET/liblzma.so.5.4.1)
	# would point into the host: make them relative, inside the sysroot.
	find "$sysroot" -type l | while read -r link; do
		target=$(readlink "$link")
		case $target in
		/*)
			rel=$(realpath -m -s --relative-to="$(dirname "$link")" "$sysroot$target")
			ln -sfn "$rel" "$link"
			;;
		esac
	done
	# The .pc files say prefix=/usr: pkg-config adds the sysroot
	# (PKG_CONFIG_SYSROOT_DIR, meson's sys_root); one that names
	# another absolute directory would leak the host's into the build.
	bad=$(grep -l '^[a-z_]*dir=/' "$sysroot"/usr/lib/"$triplet"/pkgconfig/*.pc \
		"$sysroot"/usr/share/pkgconfig/*.pc 2>/dev/null |
		xargs -r grep -L '^prefix=/usr$' || true)
	if [ -n "$bad" ]; then
		say "pkg-config files with an unexpected prefix: $bad"
		exit 1
	fi
	rm -rf "$cache/debs"
	echo "$key" >"$cache/key"
fi
say "sysroot ready ($(since "$t0"))"

# 3. Build.
t0=$(now)
build=$dir/build
printf "# SPDX-License-Identifier: MIT\n# written by scripts/cross-build.sh\n[constants]\nsysroot = '%s'\n" \
	"$sysroot" >"$dir/sysroot.ini"
if [ ! -f "$build/build.ninja" ]; then
	say "meson setup $build"
	meson setup "$build" "$top" --cross-file "$dir/sysroot.ini" \
		--cross-file "$top/scripts/cross/$arch.ini" \
		--buildtype=release -Dtests=disabled "$@" >&2
elif [ $# -gt 0 ]; then
	say "meson configure $build $*"
	meson configure "$build" "$@" >&2
fi
say "ninja -C $build"
ninja -C "$build" >&2
bin=$build/src/storedisk
init=$build/src/guest/sd-guest-init
say "built ($(since "$t0"))"

# Every shared library the binary needs, transitively, must be in the
# sysroot's library directories: qemu-user would otherwise find no
# library at run time (or, worse, one of the host's).
libdirs="$sysroot/lib/$triplet $sysroot/usr/lib/$triplet"
needed() { "$triplet-readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
seen=" "
queue=$(needed "$bin")
while [ -n "$queue" ]; do
	next=
	for so in $queue; do
		case $seen in *" $so "*) continue ;; esac
		seen="$seen$so "
		found=
		for d in $libdirs; do
			if [ -e "$d/$so" ]; then
				found=$d/$so
				break
			fi
		done
		if [ -z "$found" ]; then
			say "MISSING: $so (needed by storedisk) is in no sysroot library directory ($libdirs)"
			exit 1
		fi
		next="$next $(needed "$found")"
	done
	queue=$next
done
say "all $(echo "$seen" | wc -w) shared libraries found in the sysroot"
case $(file -b "$init") in
*"statically linked"*) say "guest init: $(file -b "$init" | cut -d, -f1-2), static" ;;
*)
	say "guest init $init is not a static executable: $(file -b "$init")"
	exit 1
	;;
esac

# 4. The wrapper and the versions.
cat >"$dir/storedisk" <<EOF
#!/bin/sh
# storedisk built for $arch by scripts/cross-build.sh, run under qemu-user.
# -L: the target's dynamic loader and libraries come from the sysroot; note
# that qemu-user then looks up every absolute path the program uses in the
# sysroot first (a file there shadows the host's), so keep test data out of
# the directories the sysroot has (/usr, /lib, /etc, ...).
exec $qemu -L '$sysroot' '$bin' "\$@"
EOF
chmod 755 "$dir/storedisk"
{
	echo "library sysroot-$arch host-$(dpkg --print-architecture)"
	for p in libsquashfs1 liblz4-1 libzstd1 liblzma5 zlib1g libarchive13 libssl3 libxxhash0 libsqlite3-0 libc6; do
		echo "$p $(awk -v p="$p" '$1 == p { print $2 }' "$cache/packages") $(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo none)"
	done
} >"$dir/versions.txt"
say "wrote $dir/storedisk and $dir/versions.txt:"
column -t "$dir/versions.txt" | sed 's/^/    /' >&2
"$dir/storedisk" --version >&2
