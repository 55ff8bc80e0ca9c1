#!/bin/bash
# fuzz/run.sh [SECONDS]: build the libFuzzer target (clang, ASan+UBSan) in
# build/fuzz and run it for SECONDS (default 60) on the seed corpus plus a
# persistent work corpus. Exits non-zero on a crash or property violation;
# the reproducer is left in build/fuzz/artifacts/.
set -euo pipefail
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bdir=$top/build/fuzz
jobs=${FUZZ_BUILD_JOBS:-2}

CC=clang cmake -S "$here" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>"$bdir.cmake.log" 2>&1 || { cat "$bdir.cmake.log"; exit 1; }
cmake --build "$bdir" -j"$jobs" >"$bdir.build.log" 2>&1 ||
	{ cat "$bdir.build.log"; exit 1; }

mkdir -p "$bdir/corpus" "$bdir/artifacts"
exec "$bdir/siphelper_fuzz_core" "$bdir/corpus" "$bdir/seeds" \
	-dict="$here/sip.dict" -max_total_time="$secs" -max_len=16384 \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$bdir/artifacts/"
