#!/bin/bash
# tests/e2e/compare.sh KERNEL [OUT.md]: the NAT scenario files (every
# tests/e2e/test_*.py but those about siphelper's own module, control
# plane, auto-assign hooks, monitor, nft mode and hostile/security runs)
# against siphelper and against the in-tree nf_conntrack_sip + nf_nat_sip
# (SIPHELPER_ALG=intree), one pytest run each in ONE VM boot, and the table
# scenario x helper in OUT.md (default build/compare/comparison.md: `make
# test` leaves the tree clean; `make compare` writes docs/comparison.md).
# Report-only: prints "compare: N passed, 0 failed" (N scenarios) whenever
# both runs produced results, whatever the helpers did; fails only when the
# comparison itself could not be made.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. scripts/lib.sh
kernel=${1:?usage: tests/e2e/compare.sh KERNEL [OUT.md]}
md=${2:-$repo/build/compare/comparison.md}
rel=$(kernel_release "$kernel")
ko=$repo/build/kmod/$rel/src/siphelper.ko
[ -f "$ko" ] || scripts/build-module.sh "$kernel" >/dev/null ||
	{ echo "compare: 0 passed, 1 failed (no module for $kernel)"; exit 1; }
out=$repo/build/compare/$kernel
rm -rf "$out"
mkdir -p "$out"
files=$(ls tests/e2e/test_*.py | grep -vE '/test_(assign|control|faults|module|monitor|nft|hostile|security)\.py$' |
	tr '\n' ' ')
# Each pytest run keeps going whatever happens; the guest command ends 0 so
# that only a VM-level problem (splat, timeout) shows in the exit status.
guest="for alg in siphelper intree; do
	SIPHELPER_KO=$ko SIPHELPER_ALG=\$alg python3 -m pytest \
		-p no:cacheprovider -q -ra -m 'not siphelper_only' \
		--junitxml=/vm/junit-\$alg.xml $files >/vm/\$alg.log 2>&1
	echo \"pytest \$alg: exit \$?\"
done; true"
start=$(date +%s)
"$repo/tests/vm/run" -t 3600 -o "$out" "$kernel" -- "$guest" \
	>"$out/run.log" 2>&1
rc=$?
vm="one boot, $(($(date +%s) - start)) s, clean"
[ $rc -eq 0 ] || vm="one boot, exit $rc: a kernel splat or a timeout"
grep -E '^pytest ' "$out/run.log"
python3 tests/e2e/comparison.py "$md" "$rel" "$vm" \
	"$out/junit-siphelper.xml" "$out/junit-intree.xml"
