#!/bin/sh
# SPDX-License-Identifier: MIT
# nix-setup.sh CONFDIR — make real Nix usable here, offline, for the Nix
# oracle test (tests/nix/test-nix.sh).
#
# Installs Debian's nix-bin (Nix 2.8) when nix-store is missing, then writes
# CONFDIR/nix.conf for single-user use by root with no network:
#
#   sandbox = false            (Debian's Nix sandbox does not work here)
#   substituters =             (never download, build everything locally)
#   build-users-group =        (root builds as itself, no nixbld users)
#   experimental-features = nix-command
#
# Point Nix at it with NIX_CONF_DIR=CONFDIR (then /etc/nix/nix.conf is not
# read).  The store is the default one, /nix/store with its database in
# /nix/var/nix/db: an existing store is used as it is, never deleted.
# Idempotent: a second run installs nothing and rewrites the same file.
#
# Exit codes: 0 ready; 77 Nix cannot be used here (the reason is printed on
# stderr: not root, nix-bin not installable, Nix does not work); 2 usage.
set -u

say() { echo "nix-setup: $*" >&2; }
unusable() {
	say "$*"
	exit 77
}

[ $# -eq 1 ] || {
	echo "usage: nix-setup.sh CONFDIR" >&2
	exit 2
}
confdir=$1

[ "$(id -u)" -eq 0 ] || unusable "needs root for a single-user store in /nix"

if ! command -v nix-store >/dev/null 2>&1 || ! command -v nix-build >/dev/null 2>&1; then
	command -v apt-get >/dev/null 2>&1 || unusable "nix-bin is not installed and there is no apt-get"
	say "installing nix-bin"
	export DEBIAN_FRONTEND=noninteractive
	# The package may be installable from the local cache even when the
	# index cannot be refreshed (offline): try the install either way.
	apt-get update >&2 || say "apt-get update failed; trying the install anyway"
	apt-get install -y --no-install-recommends nix-bin >&2 ||
		unusable "apt-get install nix-bin failed"
	command -v nix-store >/dev/null 2>&1 || unusable "nix-bin installed but nix-store is not on PATH"
fi

mkdir -p "$confdir" || unusable "cannot create $confdir"
cat >"$confdir/nix.conf.tmp" <<'EOF'
# Written by storedisk's scripts/nix-setup.sh: single-user root, offline.
sandbox = false
substituters =
build-users-group =
experimental-features = nix-command
EOF
mv "$confdir/nix.conf.tmp" "$confdir/nix.conf"

export NIX_CONF_DIR="$confdir"
export NIX_USER_CONF_FILES="$confdir/nix.conf"
export NIX_REMOTE=
mkdir -p /nix/store /nix/var/nix/db || unusable "cannot create /nix"

# Create the database on first use and prove a trivial build works offline.
nix-store --init >&2 || unusable "nix-store --init failed"
out=$(nix-build --no-out-link -E 'derivation {
	name = "storedisk-nix-setup-probe";
	system = builtins.currentSystem;
	builder = "/bin/sh";
	args = [ "-c" "echo ok > $out" ];
}' 2>"$confdir/probe.log") || {
	sed 's/^/nix-setup:   /' "$confdir/probe.log" >&2
	unusable "a trivial nix-build failed"
}
[ "$(cat "$out")" = ok ] || unusable "the probe build wrote the wrong output"
say "ready: Nix $(nix-store --version | sed 's/.* //'), NIX_CONF_DIR=$confdir"
