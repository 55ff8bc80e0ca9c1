#!/bin/bash
# bench/kernel/run.sh OUTDIR [KERNEL]: the kernel benchmarks in two VM boots
# under TCG with -icount (guest time = guest instructions, whatever else
# the host runs): datapath.sh and scale.sh on 1 CPU; then smp.sh on 2 CPUs
# without -icount (SMP guests do not boot with it here). Needs the
# module for KERNEL (default 6.1) and build/user/bench/sipflood. Writes
# OUTDIR/datapath.tsv and OUTDIR/scale.tsv and prints them.
# Environment: PHONES ROUNDS REPS (datapath.sh), REGS CALLS (scale.sh).
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
env+=" REGS=${REGS:-20000} CALLS=${CALLS:-10000}"
# shift=0: one guest instruction = 1 ns of guest time.
tests/vm/run -i 0 -c 1 -t 3000 -o "$out/vm-datapath" "$kernel" -- \
	"$env bench/kernel/datapath.sh /vm/datapath.tsv" \
	>"$out/datapath.log" 2>&1 || { tail -n 30 "$out/datapath.log"; exit 1; }
tests/vm/run -i 0 -c 1 -m 3072 -t 3000 -o "$out/vm-scale" "$kernel" -- \
	"$env bench/kernel/scale.sh /vm/scale.tsv" \
	>"$out/scale.log" 2>&1 || { tail -n 30 "$out/scale.log"; exit 1; }
# Two CPUs: plain TCG (SMP guests do not boot with -icount here).
tests/vm/run -c 2 -t 3000 -o "$out/vm-smp" "$kernel" -- \
	"$env bench/kernel/smp.sh /vm/smp.tsv" \
	>"$out/smp.log" 2>&1 || { tail -n 30 "$out/smp.log"; exit 1; }
cp "$out/vm-datapath/datapath.tsv" "$out/"
cat "$out/vm-scale/scale.tsv" "$out/vm-smp/smp.tsv" >"$out/scale.tsv"
echo "$rel" >"$out/kernel"
printf '%-10s %-8s %14s %10s %6s\n' traffic config ns/packet helper-cts expect
awk '{ printf "%-10s %-8s %14s %10s %6s\n", $1, $2, $3, $4, $5 }' \
	"$out/datapath.tsv"
column -t "$out/scale.tsv"
