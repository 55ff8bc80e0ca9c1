#!/bin/bash
# bench/run.sh: what `make bench` runs. The core benchmark (host), the
# kernel benchmarks (bench/kernel/run.sh, three VM boots), then
# docs/performance.md rewritten from this run's figures. Results and logs
# in build/bench/. Environment: BENCH_KERNEL (default 6.1), and the sizes
# of bench/kernel/run.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
out=build/bench
kernel=${BENCH_KERNEL:-6.1}
rm -rf "$out"
mkdir -p "$out"
scripts/build-module.sh "$kernel" >/dev/null
echo "bench: core (Google Benchmark)" >&2
build/user/bench/siphelper_bench_core --benchmark_min_time=0.5 \
	--benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
	--benchmark_out="$out/core.json" --benchmark_out_format=json
echo "bench: kernel datapath, scale (VMs under TCG -icount) and locks on two CPUs" >&2
bench/kernel/run.sh "$out" "$kernel"
model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)
echo "$(nproc) CPU $model (shared with other jobs), $(uname -r) host," \
	"gcc $(gcc -dumpfullversion), $(qemu-system-x86_64 --version |
	head -n1 | sed 's/ emulator//')" >"$out/machine"
python3 bench/write_doc.py "$out" docs/performance.md
echo "bench: wrote docs/performance.md" >&2
