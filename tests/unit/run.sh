#!/bin/bash
# tests/unit/run.sh: build all userspace code (CMake) and run CTest.
# Prints "unit: N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
b=$repo/build/user
mkdir -p "$repo/build"
if ! { cmake -S "$repo" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$b.cmake.log" 2>&1 &&
	cmake --build "$b" -j"$(nproc)" >"$b.build.log" 2>&1; }; then
	cat "$b.cmake.log" "$b.build.log" 2>/dev/null | tail -40
	echo "unit: 0 passed, 1 failed (build)"
	exit 1
fi
ctest --test-dir "$b" --output-on-failure --output-junit "$b/ctest.xml" \
	>"$b.ctest.log" 2>&1
rc=$?
tail -n 3 "$b.ctest.log"
[ $rc -eq 0 ] || grep -E "Failed|\*\*\*" "$b.ctest.log" | head -20
python3 "$repo/tests/lib/counts.py" unit "$b/ctest.xml"
