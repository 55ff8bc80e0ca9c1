#!/bin/bash
# bench/kernel/run.sh OUTDIR [KERNEL]: the kernel benchmarks in four VM boots:
# three under TCG with -icount (guest time = guest instructions, whatever
# else the host runs): datapath.sh, scale.sh and trunk.sh on 1 CPU; then
# locks.sh on 2 CPUs in the stock 6.12 kernel (LOCK_KERNEL), lock
# acquisitions counted by ftrace.
# Needs the module for KERNEL (default 6.1) and build/user/bench/sipflood.
# Writes OUTDIR/datapath.tsv, OUTDIR/scale.tsv, OUTDIR/trunk.tsv and
# OUTDIR/locks/ and prints the first three.
# Environment: PHONES ROUNDS REPS (datapath.sh), REGS CALLS (scale.sh),
# TRUNK_SIZES TRUNK_PROBE (trunk.sh), LOCK_PHONES LOCK_ROUNDS (locks.sh),
# LOCK_KERNEL, LOCKDEP.
# To iterate on the datapath only: run its tests/vm/run line below by
# hand, e.g. with PARTS=plain (datapath.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/lib.sh"
out=$(mkdir -p "$1" && cd "$1" && pwd)
kernel=${2:-6.1}
rel=$(kernel_release "$kernel")
ko=$repo/build/kmod/$rel/src/siphelper.ko
[ -f "$ko" ] || die "no $ko: run scripts/build-module.sh $kernel"
[ -x "$repo/build/user/bench/sipflood" ] || die "no sipflood: run make user"
cd "$repo"
env="KO=$ko PHONES=${PHONES:-1000} ROUNDS=${ROUNDS:-4} REPS=${REPS:-1}"
env+=" PARTS='${PARTS:-sip plain}'"
env+=" REGS=${REGS:-100000} CALLS=${CALLS:-10000}"
# shift=0: one guest instruction = 1 ns of guest time.
tests/vm/run -i 0 -c 1 -t 3000 -o "$out/vm-datapath" "$kernel" -- \
	"$env bench/kernel/datapath.sh /vm/datapath.tsv" \
	>"$out/datapath.log" 2>&1 || { tail -n 30 "$out/datapath.log"; exit 1; }
tests/vm/run -i 0 -c 1 -m 3072 -t 3000 -o "$out/vm-scale" "$kernel" -- \
	"$env bench/kernel/scale.sh /vm/scale.tsv" \
	>"$out/scale.log" 2>&1 || { tail -n 30 "$out/scale.log"; exit 1; }
tests/vm/run -i 0 -c 1 -m 3072 -t 3000 -o "$out/vm-trunk" "$kernel" -- \
	"$env TRUNK_SIZES='${TRUNK_SIZES:-1 100 1000}' bench/kernel/trunk.sh /vm/trunk.tsv" \
	>"$out/trunk.log" 2>&1 || { tail -n 30 "$out/trunk.log"; exit 1; }
# Two CPUs: every lock acquisition counted by ftrace (locks.sh) in the
# stock 6.12 kernel (plain TCG: SMP guests do not boot with -icount here;
# nothing is timed).
lrel=$(kernel_release "${LOCK_KERNEL:-6.12}")
lko=$(scripts/build-module.sh "$lrel")/siphelper.ko
tests/vm/run -c 2 -t 3000 -o "$out/vm-locks" "$lrel" -- \
	"KO=$lko LOCK_PHONES=${LOCK_PHONES:-300} LOCK_ROUNDS=${LOCK_ROUNDS:-2} bench/kernel/locks.sh /vm/locks" \
	>"$out/locks.log" 2>&1 || { tail -n 30 "$out/locks.log"; exit 1; }
rm -rf "$out/locks"
cp -r "$out/vm-locks/locks" "$out/locks"
# LOCKDEP=1: the same in the debug kernel (one CPU there), for lockdep's
# classes and their usage; slow (~30 min on a busy host).
if [ "${LOCKDEP:-0}" = 1 ]; then
	dko=$(scripts/build-module.sh debug)/siphelper.ko
	tests/vm/run -c 1 -t 5400 -o "$out/vm-lockdep" debug -- \
		"KO=$dko LOCK_PHONES=200 LOCK_ROUNDS=2 bench/kernel/locks.sh /vm/locks" \
		>"$out/lockdep.log" 2>&1 || { tail -n 30 "$out/lockdep.log"; exit 1; }
	rm -rf "$out/locks-lockdep"
	cp -r "$out/vm-lockdep/locks" "$out/locks-lockdep"
fi
cp "$out/vm-datapath/datapath.tsv" "$out/"
cp "$out/vm-scale/scale.tsv" "$out/"
cp "$out/vm-trunk/trunk.tsv" "$out/"
echo "$rel" >"$out/kernel"
printf '%-10s %-8s %14s %10s %6s\n' traffic config ns/packet helper-cts expect
awk '{ printf "%-10s %-8s %14s %10s %6s\n", $1, $2, $3, $4, $5 }' \
	"$out/datapath.tsv"
column -t "$out/scale.tsv"
column -t "$out/trunk.tsv"
