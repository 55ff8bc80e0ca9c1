#!/bin/bash
# kunit/run.sh: run the KUnit suites of siphelper_kunit.ko in the debug
# kernel and parse the KTAP strictly with the kernel's own kunit.py.
# Prints "kunit: N passed, N failed"; exit 1 on any failure, crash or
# missing suite.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/lib.sh"

rel=$(kernel_release debug)
ko=$repo/build/kmod/$rel/src/siphelper_kunit.ko
[ -f "$ko" ] || die "$ko is not built: run scripts/build-module.sh debug"
src=$(dirname "$(kernel_kdir "$rel")")/src
out=$repo/build/kunit
rm -rf "$out"
mkdir -p "$out"

# Only the KTAP the module prints: the kernel's own (empty) boot-time run
# comes earlier in the log.
"$repo/tests/vm/run" -o "$out/vm" debug -- \
	"n=\$(dmesg | wc -l); insmod $ko && dmesg | tail -n +\$((n + 1)) >/vm/kunit.log" ||
	{ echo "kunit: 0 passed, 1 failed (the VM run failed)"; exit 1; }

set +e
python3 "$src/tools/testing/kunit/kunit.py" parse --json="$out/kunit.json" \
	"$out/vm/kunit.log" >"$out/parse.txt" 2>&1
prc=$?
set -e
cat "$out/parse.txt"
python3 - "$out/kunit.json" "$prc" "$repo/kunit" <<'PY'
import json, re, sys, glob
doc = json.load(open(sys.argv[1]))
prc = int(sys.argv[2])
passed = failed = 0
seen = set()
def walk(cases):
    global passed, failed
    for c in cases:
        if c.get("status") == "PASS":
            passed += 1
        elif c.get("status") not in ("SKIP",):
            failed += 1
for s in doc.get("test_cases", []) if "test_cases" in doc else []:
    pass
for suite in doc.get("sub_groups", []):
    seen.add(suite["name"])
    walk(suite.get("test_cases", []))
# Every suite declared in kunit/*.c must have run.
want = set()
for f in glob.glob(sys.argv[3] + "/*.c"):
    want |= set(re.findall(r'\.name\s*=\s*"([a-z0-9_]+)"',
                           open(f).read()))
want = {w for w in want if w.startswith("siphelper")}
missing = want - seen
if missing:
    print("kunit: missing suites:", ", ".join(sorted(missing)))
    failed += len(missing)
if prc != 0 and failed == 0:
    failed = 1
if passed == 0 and failed == 0:
    failed = 1
print(f"kunit: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
