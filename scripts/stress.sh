#!/bin/bash
# scripts/stress.sh [KERNEL]: the long hostile-SIP run of `make stress`
# (docs/reliability.md). Builds the module for KERNEL (default: debug, the
# KASAN/lockdep/kmemleak kernel) and the userspace tools, then runs
# tests/e2e/test_hostile.py in a VM with STRESS_PACKETS datagrams (default
# 1 000 000) instead of the short 20 000, plus the security tests and
# test_faults.py at full counts (1000 calls, 1000 flips), and the
# stale-entry scenarios (test_stale.py) with the field's timers (REGISTER
# every 60 s, keepalive every 20 s, a 5 min outage), and the PBX trunk
# (test_trunk.py) with 1000 concurrent calls on one flow. Every
# datagram that arrives is checked against the core (shp_replay), the
# counters must account for each one, and any splat fails the run.
# pytest runs verbose (-vv over tests/e2e/run's -q): console.log names
# each test as it ends; the failures' details come at the end, in run.log.
# Results: build/stress/<kernel>/ (run.log, hostile-*.json, dmesg,
# kmemleak) and a summary in build/stress/<kernel>/report.txt, which
# scripts/stress_doc.py puts into docs/reliability.md (the kernel's block
# of "Last make stress runs").
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh
kernel=${1:-debug}
packets=${STRESS_PACKETS:-1000000}
rel=$(kernel_release "$kernel")
out=$repo/build/stress/$kernel

scripts/build-module.sh "$kernel" >/dev/null || die "module build failed"
cmake -S . -B build/user -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
	cmake --build build/user -j"$(nproc)" >/dev/null ||
	die "userspace build failed"
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
# 1 000 000 datagrams under TCG with KASAN take hours: allow 12 h. The
# VM's host CPU time is kept beside the wall time: on a shared machine it
# is the figure that compares runs (one TCG thread per VM).
TIMEFORMAT='%R s wall, %U s user + %S s system host CPU'
{ time tests/vm/run -t 43200 -o "$out" "$kernel" -- \
	"HOSTILE_PACKETS=$packets" "FAULT_CALLS=1000" "FAULT_FLIPS=1000" \
	"STALE_TIMERS=full" "TRUNK_CALLS=1000" \
	"SIPHELPERCTL=$repo/build/user/tools/siphelperctl/siphelperctl" \
	tests/e2e/run "build/kmod/$rel/src/siphelper.ko" \
	-vv -k "'hostile or security or faults or stale or trunk'" >"$out/run.log" 2>&1; } \
	2>"$out/time"
rc=$?
{
	echo "stress on $kernel ($rel): $packets datagrams requested," \
		"$(($(date +%s) - start)) s, exit $rc"
	echo "VM: $(cat "$out/time")"
	for f in "$out"/hostile-*.json; do
		[ -e "$f" ] && { echo "$(basename "$f" .json):"; cat "$f"; echo; }
	done
	[ -e "$out/faults.txt" ] && { echo "faults:"; cat "$out/faults.txt"; }
	grep -E "passed|failed" "$out/run.log" | tail -n 3
} | tee "$out/report.txt"
scripts/stress_doc.py "$out" docs/reliability.md &&
	echo "wrote the $kernel block of docs/reliability.md"
[ $rc -eq 0 ]
