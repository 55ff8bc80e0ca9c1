#!/bin/bash
# tests/e2e/compare.sh KERNEL [OUT.md]: the NAT scenario files (every
# tests/e2e/test_*.py but those about siphelper's own module, control
# plane, auto-assign hooks, monitor, nft mode and hostile/security runs)
# against siphelper and against the in-tree nf_conntrack_sip + nf_nat_sip
# (SIPHELPER_ALG=intree), one pytest run each in ONE VM boot, both on a
# router with the conntrack settings routers run (SHP_ROUTER_PROFILE=all),
# and the table scenario x helper in OUT.md (default
# build/compare/comparison.md: `make test` leaves the tree clean; `make
# compare` writes docs/comparison.md).
#
# `make test` already runs every file against siphelper on 6.12 under the
# same profile (e2e-6.12), so it runs only the in-tree half here and takes
# the siphelper column from that run's JUnit file:
#   compare.sh --intree KERNEL          the in-tree half's VM boot only
#   compare.sh --report KERNEL JUNIT [OUT.md]
#                                       the table: JUNIT for siphelper, the
#                                       --intree run's for the in-tree
#                                       helper, rows the in-tree run's
#
# Report-only: prints "compare: N passed, 0 failed" (N scenarios) whenever
# both runs produced results, whatever the helpers did; fails when the
# comparison itself could not be made, or when the VM boot splatted or
# timed out.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. scripts/lib.sh
mode=both
case "${1:-}" in
--intree) mode=intree; shift ;;
--report) mode=report; shift ;;
esac
usage="usage: tests/e2e/compare.sh [--intree | --report] KERNEL [JUNIT] [OUT.md]"
kernel=${1:?$usage}
own=
if [ $mode = report ]; then
	own=${2:?$usage}
	shift
fi
md=${2:-$repo/build/compare/comparison.md}
rel=$(kernel_release "$kernel")
out=$repo/build/compare/$kernel

if [ $mode != report ]; then
	ko=$repo/build/kmod/$rel/src/siphelper.ko
	[ -f "$ko" ] || scripts/build-module.sh "$kernel" >/dev/null ||
		{ echo "compare: 0 passed, 1 failed (no module for $kernel)"; exit 1; }
	rm -rf "$out"
	mkdir -p "$out"
	files=$(ls tests/e2e/test_*.py |
		grep -vE '/test_(assign|control|faults|module|monitor|nft|hostile|security)\.py$' |
		tr '\n' ' ')
	algs="siphelper intree"
	[ $mode = both ] || algs=intree
	# Each pytest run keeps going whatever happens; the guest command ends
	# 0 so that only a VM-level problem (splat, timeout) shows in the exit
	# status.
	guest="for alg in $algs; do
		SIPHELPER_KO=$ko SIPHELPER_ALG=\$alg SHP_ROUTER_PROFILE=all \
			python3 -m pytest -p no:cacheprovider -q -ra \
			-m 'not siphelper_only' \
			--junitxml=/vm/junit-\$alg.xml $files >/vm/\$alg.log 2>&1
		echo \"pytest \$alg: exit \$?\"
	done; true"
	start=$(date +%s)
	"$repo/tests/vm/run" -t 3600 -o "$out" "$kernel" -- "$guest" \
		>"$out/run.log" 2>&1
	rc=$?
	vm="one boot, $(($(date +%s) - start)) s, clean"
	[ $rc -eq 0 ] || vm="one boot, exit $rc: a kernel splat or a timeout"
	echo "$vm" >"$out/vm-status"
	grep -E '^pytest ' "$out/run.log"
	if [ $mode = intree ]; then
		echo "compare-intree: VM $vm"
		exit $rc
	fi
	own=$out/junit-siphelper.xml
fi
vm=$(cat "$out/vm-status" 2>/dev/null || echo "no in-tree run")
[ $mode = both ] || vm="siphelper: ${own#$repo/}; in-tree: $vm"
line=$(python3 tests/e2e/comparison.py "$md" "$rel" "$vm" "$own" \
	"$out/junit-intree.xml")
rc=$?
echo "$line"
# a kernel splat or a timeout in the in-tree boot fails the layer
case $vm in
*clean) ;;
*) echo "${line/ 0 failed/ 1 failed} ($vm)"; rc=1 ;;
esac
exit $rc
