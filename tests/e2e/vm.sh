#!/bin/bash
# tests/e2e/vm.sh KERNEL [KO]: the end-to-end suite in a VM of KERNEL, with
# the module built for it (default build/kmod/<release>/src/siphelper.ko).
# Prints "e2e-KERNEL: N passed, N failed"; a kernel splat is one more failure.
# E2E_ARGS: extra pytest arguments (e.g. "-k tcp" or "test_nat.py") for the
# inner loop.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/lib.sh"
kernel=$1
rel=$(kernel_release "$kernel")
ko=${2:-$repo/build/kmod/$rel/src/siphelper.ko}
out=$repo/build/e2e/$kernel
rm -rf "$out"
mkdir -p "$out"
ctl=$repo/build/user/tools/siphelperctl/siphelperctl
env=
[ -x "$ctl" ] && env="SIPHELPERCTL=$ctl"
"$repo/tests/vm/run" -t 5400 -o "$out" "$kernel" -- \
	"$env tests/e2e/run $ko ${E2E_ARGS:-}" >"$out/run.log" 2>&1
rc=$?
grep -E "passed|failed|FAILED|Error|^vm:" "$out/run.log" | tail -n 25
python3 "$repo/tests/lib/counts.py" "e2e-$kernel" "$out/junit.xml" |
	{ read -r layer p _ f _ rest
	  # A VM-level failure (splat, timeout) with green tests is one more.
	  [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ] && f=1
	  echo "$layer $p passed, $f failed${rest:+ $rest}"; }
[ $rc -eq 0 ]
