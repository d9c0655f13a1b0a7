#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test-tally.py NAME:STATUS:BUILDDIR... — the closing lines of scripts/test.sh.

Counts every check of every build from meson's own logs.  testlog.json
has one line per meson test (its overall result) but not the TAP results
inside it; testlog.junit.xml has those: a test that reported TAP results
is a <testsuite name="storedisk.TEST"> with one <testcase> per result, any
other test one <testcase name="TEST"> in <testsuite name="storedisk">.
A meson test counts as its TAP results; one that failed as a whole
(crash, sanitizer exit, timeout, bad TAP) with no failed result among
them counts one failure more; one without results counts once by its own
result.  STATUS is test.sh's verdict on the build: ok, tests-failed,
sanitizer-reports or style-differs (each counted as one failure more) or
build-failed (one failure, no logs).  Every failed check is named under
its build's line (at most 30 a build), so that the last lines of a CI log
say what failed.  Exit status 1 when anything failed.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

BAD = {"FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS", "INTERRUPT"}


def result_kind(result):
    if result in BAD:
        return "failed"
    if result == "SKIP":
        return "skipped"
    return "passed"  # OK, EXPECTEDFAIL


def tally_build(logs):
    """Counts of one build's last `meson test`, its number of tests, and
    the names of its failures ("TEST: CHECK", or "TEST (RESULT)")."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failures = []
    tests = []
    with open(os.path.join(logs, "testlog.json")) as f:
        for line in f:
            r = json.loads(line)
            tests.append((r["name"], r["result"]))
    subtests = {}
    root = ET.parse(os.path.join(logs, "testlog.junit.xml")).getroot()
    for suite in root.iter("testsuite"):
        project, _, test = suite.get("name", "").partition(".")
        if not test:
            continue
        c = {"passed": 0, "failed": 0, "skipped": 0}
        for case in suite.iter("testcase"):
            if case.find("skipped") is not None:
                c["skipped"] += 1
            elif case.find("failure") is not None or case.find("error") is not None:
                c["failed"] += 1
                failures.append("%s: %s" % (test, case.get("name", "?")))
            else:
                c["passed"] += 1
        subtests[test] = c
    for name, result in tests:
        c = subtests.get(name)
        if c is None:
            counts[result_kind(result)] += 1
            if result in BAD:
                failures.append("%s (%s)" % (name, result))
            continue
        for k in counts:
            counts[k] += c[k]
        if result in BAD and c["failed"] == 0:
            counts["failed"] += 1
            failures.append("%s (%s)" % (name, result))
    return counts, len(tests), failures


def main(args):
    total = {"passed": 0, "failed": 0, "skipped": 0}
    per_build = []
    for arg in args:
        name, status, builddir = arg.split(":", 2)
        if status == "build-failed":
            print("%s: the build failed" % name)
            total["failed"] += 1
            per_build.append((name, 0))
            continue
        logs = os.path.join(builddir, "meson-logs")
        try:
            counts, ntests, failures = tally_build(logs)
        except (OSError, ValueError, ET.ParseError) as e:
            print("%s: no usable test log (%s)" % (name, e))
            total["failed"] += 1
            per_build.append((name, 0))
            continue
        notes = {"sanitizer-reports": ", sanitizer reports",
                 "style-differs": ", sources differ from .clang-format"}
        if status in notes:
            counts["failed"] += 1
        note = notes.get(status, "")
        print("%s: %d passed, %d failed, %d skipped (%d meson tests%s)"
              % (name, counts["passed"], counts["failed"], counts["skipped"],
                 ntests, note))
        for f in failures[:30]:
            print("  failed: %s" % f)
        if len(failures) > 30:
            print("  ... and %d more" % (len(failures) - 30))
        for k in total:
            total[k] += counts[k]
        per_build.append((name, ntests))
    sizes = {n for _, n in per_build}
    if len(per_build) == 1:
        shape = "%d meson tests" % per_build[0][1]
    elif len(sizes) == 1:
        shape = "%d meson tests each" % sizes.pop()
    else:
        shape = ", ".join("%s %d meson tests" % b for b in per_build)
    print("tests: %d passed, %d failed, %d skipped (%d build%s, %s)"
          % (total["passed"], total["failed"], total["skipped"],
             len(per_build), "" if len(per_build) == 1 else "s", shape))
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
