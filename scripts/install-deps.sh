#!/bin/sh
# SPDX-License-Identifier: MIT
# install-deps.sh — install what storedisk needs from Debian's archive,
# only if something is missing (so repeated runs are fast and offline-safe).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^#' "$here/debian-packages.txt" | tr '\n' ' ')
missing=
for p in $pkgs; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# CI machines are fresh: always refresh and install there.
if [ -n "$missing" ] || [ "${CI:-}" = true ]; then
	[ -n "$missing" ] || missing=" $pkgs"
	echo "install-deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	sudo_cmd=
	[ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
	$sudo_cmd apt-get update
	# shellcheck disable=SC2086
	$sudo_cmd apt-get install -y --no-install-recommends $missing
fi
