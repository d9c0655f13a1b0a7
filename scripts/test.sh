#!/bin/sh
# test.sh — install what is missing, build, and run every test
# (Criterion unit tests and the shell tests of the CLI) with meson.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" "$build"
set +e
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?
set -e
# One plain closing line from meson's own log.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)
    counts[r["result"]] = counts.get(r["result"], 0) + 1
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print("tests: %d passed, %d failed, %d skipped" % (counts["OK"] + counts["EXPECTEDFAIL"], failed, counts["SKIP"]))
PY
exit $rc
