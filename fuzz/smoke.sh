#!/bin/bash
# fuzz/smoke.sh SECONDS: the short fuzz run of `make test`.
# Prints "fuzz: 1 passed, 0 failed" when SECONDS of fuzzing found nothing.
set -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
# one process: the other layers of make test run beside it
if FUZZ_JOBS=1 FUZZ_RUNS=-1 "$here/run.sh" "${1:-60}" 2>&1 | tail -n 15; then
	echo "fuzz: 1 passed, 0 failed"
else
	echo "fuzz: 0 passed, 1 failed (reproducer in build/fuzz/artifacts/)"
	exit 1
fi
