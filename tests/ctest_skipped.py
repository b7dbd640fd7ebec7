#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lists the tests a ctest run did not run, from its JUnit report (ctest --output-junit):
one line per test, "NAME: REASON", where the reason is the test's last "SKIP..." output line
(a test that exits 77, SKIP_RETURN_CODE) or ctest's own message (e.g. an executable that
was not found). Used by tests/run.sh after each ctest call.

Usage: ctest_skipped.py JUNIT.xml. Exit status 0 (listed or not), 2 if the report is missing
or unreadable."""

import sys
import xml.etree.ElementTree as ET


def main():
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[-2], file=sys.stderr)
        return 2
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print("ctest_skipped: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 2
    for case in root.iter("testcase"):
        if case.get("status") != "notrun":
            continue
        why = [line for line in (case.findtext("system-out") or "").splitlines()
               if line.startswith("SKIP")]
        skipped = case.find("skipped")
        if why:
            reason = why[-1]
        elif skipped is not None and skipped.get("message"):
            reason = skipped.get("message")
        else:
            reason = "not run"
        print("%s: %s" % (case.get("name"), reason))
    return 0


if __name__ == "__main__":
    sys.exit(main())
