#!/bin/bash
# fuzz/run.sh [SECONDS]: build the libFuzzer target (clang, ASan+UBSan) in
# build/fuzz and run it for SECONDS (default 60) on the seed corpus plus a
# persistent work corpus. Exits non-zero on a crash or property violation;
# the reproducer is left in build/fuzz/artifacts/.
#
# FUZZ_JOBS=N (default 1) runs N processes sharing the work corpus;
# FUZZ_RUNS=N stops once they have executed N inputs in all (each runs
# its share; SECONDS still bounds the run). The total is printed as
# "fuzz: N executions in S s".
set -euo pipefail
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bdir=$top/build/fuzz
jobs=${FUZZ_JOBS:-1}
runs=${FUZZ_RUNS:--1}
build_jobs=${FUZZ_BUILD_JOBS:-2}

CC=clang cmake -S "$here" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>"$bdir.cmake.log" 2>&1 || { cat "$bdir.cmake.log"; exit 1; }
cmake --build "$bdir" -j"$build_jobs" >"$bdir.build.log" 2>&1 ||
	{ cat "$bdir.build.log"; exit 1; }

mkdir -p "$bdir/corpus" "$bdir/artifacts"
share=$runs
[ "$runs" -gt 0 ] && share=$(( (runs + jobs - 1) / jobs ))
start=$(date +%s)
pids=()
for ((j = 0; j < jobs; j++)); do
	log=$bdir/job$j.log
	"$bdir/siphelper_fuzz_core" "$bdir/corpus" "$bdir/seeds" \
		-dict="$here/sip.dict" -max_total_time="$secs" -runs="$share" \
		-max_len=16384 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$bdir/artifacts/" \
		>"$log" 2>&1 &
	pids+=($!)
done
status=0
for ((j = 0; j < jobs; j++)); do
	if ! wait "${pids[$j]}"; then
		status=1
		echo "fuzz: job $j failed, its log: $bdir/job$j.log"
		tail -n 40 "$bdir/job$j.log"
	fi
done
total=0
for ((j = 0; j < jobs; j++)); do
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bdir/job$j.log")
	total=$((total + ${n:-0}))
done
[ "$jobs" -eq 1 ] && [ "$status" -eq 0 ] && tail -n 8 "$bdir/job0.log"
echo "fuzz: $total executions in $(( $(date +%s) - start )) s, $jobs job(s)"
exit $status
