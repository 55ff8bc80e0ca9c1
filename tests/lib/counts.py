#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""counts.py LAYER FILE...: print "LAYER: N passed, N failed" from JUnit XML
files (pytest, ctest). A missing or empty file counts as one failure."""
import sys
import xml.etree.ElementTree as ET

layer, files = sys.argv[1], sys.argv[2:]
passed = failed = skipped = 0
for f in files:
    try:
        root = ET.parse(f).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"{layer}: cannot read {f}: {e}", file=sys.stderr)
        failed += 1
        continue
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    n = 0
    for s in suites:
        for case in s.iter("testcase"):
            n += 1
            kinds = {c.tag for c in case}
            if kinds & {"failure", "error"}:
                failed += 1
            elif "skipped" in kinds:
                skipped += 1
            else:
                passed += 1
    if n == 0:
        print(f"{layer}: {f} holds no test", file=sys.stderr)
        failed += 1
line = f"{layer}: {passed} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
