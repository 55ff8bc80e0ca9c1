#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""counts.py [--may-be-empty] LAYER FILE...: print "LAYER: N passed, N
failed" from JUnit XML files (pytest, ctest). A missing file counts as one
failure, and so does one that holds no test unless --may-be-empty (a
guest that found its queue empty, tests/e2e/file_queue.py)."""
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
may_be_empty = args[:1] == ["--may-be-empty"]
layer, files = args[may_be_empty], args[may_be_empty + 1:]
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
    if n == 0 and not may_be_empty:
        print(f"{layer}: {f} holds no test", file=sys.stderr)
        failed += 1
line = f"{layer}: {passed} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
