#!/bin/bash
# tests/vm/selftest/run.sh [KERNEL]: prove the VM harness itself.
#  - a command's exit status comes back through the VM;
#  - a module that WARNs is caught by the splat detector.
# Prints "harness: N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
. "$repo/scripts/lib.sh"
kernel=${1:-6.1}
rel=$(kernel_release "$kernel")
dir=$repo/build/selftest/$rel
pass=0 fail=0
ok() { echo "harness: ok - $1"; pass=$((pass + 1)); }
nok() { echo "harness: FAIL - $1"; fail=$((fail + 1)); }

mkdir -p "$dir"
cp "$here/Kbuild" "$here/shp_warn_test.c" "$dir/"
if make -C "$(kernel_kdir "$rel")" M="$dir" modules >"$dir/build.log" 2>&1; then
	ok "warn module builds"
else
	cat "$dir/build.log"
	nok "warn module builds"
fi

"$repo/tests/vm/run" "$kernel" -- 'exit 3' 2>"$dir/exit.log"
rc=$?
[ $rc -eq 3 ] && ok "exit status 3 comes back" || nok "exit status: got $rc, want 3"

"$repo/tests/vm/run" "$kernel" -- "insmod $dir/shp_warn_test.ko" 2>"$dir/warn.log"
rc=$?
if [ $rc -ne 0 ] && grep -q "kernel splat" "$dir/warn.log" &&
	grep -q "WARNING:" "$dir/warn.log"; then
	ok "a WARN fails the run"
else
	tail -5 "$dir/warn.log"
	nok "a WARN fails the run (rc $rc)"
fi

echo "harness: $pass passed, $fail failed"
[ $fail -eq 0 ]
