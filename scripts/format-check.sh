#!/bin/sh
# SPDX-License-Identifier: MIT
# format-check.sh [--fix] — check every C source and header against
# .clang-format (the house style) with one clang-format process, and that
# every tracked file has its SPDX line; exit 1 naming the files and lines
# that differ.  --fix rewrites the C files in place.
# `ninja -C build format-check` runs it; meson's own clang-format-check
# target checks the same, one file at a time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v clang-format >/dev/null || {
	echo "format-check: clang-format is missing (apt-get install clang-format)" >&2
	exit 2
}
files=$(find src closure formats tests -name '*.c' -o -name '*.h' | LC_ALL=C sort)
if [ "${1:-}" = --fix ]; then
	# shellcheck disable=SC2086
	exec clang-format -i --style=file:.clang-format $files
fi
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror --style=file:.clang-format $files; then
	echo "format-check: the files above differ from .clang-format (scripts/format-check.sh --fix rewrites them)" >&2
	exit 1
fi
# Every tracked file carries an SPDX line (in its first three lines, or
# its last for Markdown), but those .reuse/dep5 covers (no comment syntax).
spdx="SPDX lines not checked (no git checkout)"
if command -v git >/dev/null && [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
	spdx="every tracked file has its SPDX line"
	missing=$(git ls-files | grep -Ev '^(tests/fuzz/corpus/|bench/results/|LICENSE$|\.reuse/dep5$)|\.img$' |
		while read -r f; do
			{ head -3 "$f"; tail -1 "$f"; } | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
		done)
	if [ -n "$missing" ]; then
		echo "format-check: no SPDX-License-Identifier line in:" $missing >&2
		exit 1
	fi
fi
echo "format-check: $(echo "$files" | wc -l) C files match .clang-format; $spdx" >&2
