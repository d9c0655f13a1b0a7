# SPDX-License-Identifier: MIT
# lib.sh — shared set-up of the real-Nix tests (sourced after
# tests/cli/lib.sh): scripts/nix-setup.sh prepares Debian's nix-bin offline
# in $WORK/nix-conf and the environment points Nix at it.  Where Nix cannot
# be installed or used, the whole test is skipped with the reason (skip_all:
# TAP "1..0 # SKIP <reason>", a meson SKIP); a failing set-up is a failure.
export LC_ALL=C

NIXCONF=$WORK/nix-conf
sh "$SRCDIR/scripts/nix-setup.sh" "$NIXCONF" >"$WORK/setup.log" 2>&1
rc=$?
if [ "$rc" -eq 77 ]; then
	skip_all "real-Nix test: $(grep '^nix-setup:' "$WORK/setup.log" | tail -1 | sed 's/^nix-setup: //')"
elif [ "$rc" -ne 0 ]; then
	sed 's/^/    setup: /' "$WORK/setup.log" | tail -20
	fail "scripts/nix-setup.sh exited $rc"
	finish
	exit 1
fi
export NIX_CONF_DIR="$NIXCONF" NIX_USER_CONF_FILES="$NIXCONF/nix.conf" NIX_REMOTE=
diag "$(tail -1 "$WORK/setup.log")"
