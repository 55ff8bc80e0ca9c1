#!/bin/bash
# tests/e2e/vm.sh KERNEL [KO]: the end-to-end suite in a VM of KERNEL, with
# the module built for it (default build/kmod/<release>/src/siphelper.ko).
# Prints "e2e-KERNEL: N passed, N failed"; a kernel splat is one more failure.
# E2E_ARGS: extra pytest arguments for the inner loop (e.g. "-k tcp"; test
# files first: "tests/e2e/test_nat.py" runs only that file). E2E_LAYER:
# the layer's name (default e2e-KERNEL); its results go to
# build/e2e/E2E_LAYER instead of build/e2e/KERNEL, so two runs of one
# kernel can go side by side. HOSTILE_PACKETS is passed to test_hostile.py,
# FAULT_CALLS and FAULT_FLIPS to test_faults.py, STALE_TIMERS to
# test_stale.py, TRUNK_CALLS to test_trunk.py. SHP_ROUTER_PROFILE ("all"
# or a list of topology.PROFILE_PARTS) runs every scenario on a router with
# those conntrack settings. E2E_NEED_TOOLS (make test sets it): fail, not
# boot, when siphelperctl or shp_replay is not built. E2E_QUEUE: a
# directory of test files to take from, shared with guests booted beside
# this one (tests/e2e/file_queue.py): of the files E2E_ARGS names, this
# guest runs those it takes, and none when the others took them all.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/lib.sh"
kernel=$1
rel=$(kernel_release "$kernel")
ko=${2:-$repo/build/kmod/$rel/src/siphelper.ko}
layer=${E2E_LAYER:-e2e-$kernel}
out=$repo/build/e2e/${E2E_LAYER:-$kernel}
rm -rf "$out"
mkdir -p "$out"
ctl=$repo/build/user/tools/siphelperctl/siphelperctl
replay=$repo/build/user/tests/hostile/shp_replay
# Without them the suite skips what needs them and still reports 0
# failed; make test (E2E_NEED_TOOLS=1) builds them first and counts a
# miss as a failure instead of booting.
if [ -n "${E2E_NEED_TOOLS:-}" ] && ! [ -x "$ctl" -a -x "$replay" ]; then
	echo "$layer: 0 passed, 1 failed (siphelperctl or shp_replay not built: make user)"
	exit 1
fi
env= vmopt=() countopt=()
[ -x "$ctl" ] && env="SIPHELPERCTL=$ctl"
if [ -n "${E2E_QUEUE:-}" ]; then
	vmopt=(-s "$E2E_QUEUE")
	env="$env SHP_QUEUE=/shared SHP_QUEUE_TAKER=$layer"
	countopt=(--may-be-empty)
fi
for v in HOSTILE_PACKETS FAULT_CALLS FAULT_FLIPS SHP_ROUTER_PROFILE STALE_TIMERS \
	TRUNK_CALLS; do
	[ -n "${!v:-}" ] && env="$env $v=${!v}"
done
# Byte-compile the suite's modules for the guest's python3 (the host's
# /usr/bin/python3 is the same one, over 9p): the guest runs with
# PYTHONDONTWRITEBYTECODE and would compile them at every boot.
/usr/bin/python3 -m compileall -q "$repo/tests/e2e" "$repo/tests/lib" \
	>/dev/null 2>&1 || true
"$repo/tests/vm/run" -t 5400 -o "$out" "${vmopt[@]}" "$kernel" -- \
	"$env tests/e2e/run $ko ${E2E_ARGS:-}" >"$out/run.log" 2>&1
rc=$?
grep -E "passed|failed|FAILED|Error|^vm:" "$out/run.log" | tail -n 25
python3 "$repo/tests/lib/counts.py" "${countopt[@]}" "$layer" "$out/junit.xml" |
	{ read -r layer p _ f _ rest
	  # A VM-level failure (splat, timeout) with green tests is one more.
	  [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ] && f=1
	  echo "$layer $p passed, $f failed${rest:+ $rest}"; }
[ $rc -eq 0 ]
