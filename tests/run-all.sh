#!/bin/bash
# tests/run-all.sh [quick]: every test layer of siphelper. Each layer prints
# "LAYER: N passed, N failed"; the last line is the total over all layers.
# Exits non-zero when anything failed. The VM layers run in two lanes (the
# debug kernel's e2e beside the rest) since the machine has two cores.
#
# Layers: unit (CTest+GoogleTest), style (checkpatch), modules (W=1 builds
# for 6.1, 6.12, debug), dkms (the router install path), harness (the VM
# harness proves itself), kunit (debug kernel), e2e on 6.1 with the
# DKMS-built module, on 6.12 and on the debug kernel (its hostile-SIP run
# and faults-under-load runs as the separate layer reliability-debug),
# compare (the NAT
# scenarios against siphelper and the in-tree nf_nat_sip on 6.12,
# report-only: rewrites docs/comparison.md), fuzz (60 s smoke).
# `quick`: unit, modules for 6.1 and e2e on 6.1 only.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. scripts/lib.sh
mode=${1:-full}
logs=$repo/build/logs
mkdir -p "$logs"
results=$logs/results
rm -rf "$results"
mkdir -p "$results"
order=0

# layer NAME CMD...: run a layer, keep its log, take its counts line. The
# line also goes to $results/NAME, so that layers run in a background lane
# count the same way.
layer() {
	local name=$1 start line p f
	shift
	start=$(date +%s)
	echo "== $name" >&2
	"$@" >"$logs/$name.log" 2>&1
	local rc=$?
	line=$(grep -E "^[a-z0-9._-]+: [0-9]+ passed, [0-9]+ failed" \
		"$logs/$name.log" | tail -n1)
	if [ -z "$line" ]; then
		line="$name: 0 passed, 1 failed (no result line)"
	fi
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		line=$(echo "$line" | sed -E 's/ 0 failed/ 1 failed/')" (exit $rc)"
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		tail -n 40 "$logs/$name.log" >&2
	fi
	line="$line  [$(($(date +%s) - start)) s]"
	echo "$line" >"$results/$(printf %02d $order)-$name"
	order=$((order + 1))
	echo "$line"
}

# Builds of the module for each kernel of the matrix, W=1, warning-free.
modules_layer() {
	local p=0 f=0 k
	for k in "$@"; do
		if scripts/build-module.sh "$k"; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
	echo "modules: $p passed, $f failed"
	[ $f -eq 0 ]
}

# The router install path: sources into /usr/src, dkms build per kernel.
dkms_layer() {
	local p=0 f=0 rel ver
	ver=$(cat VERSION)
	if scripts/dkms-install.sh; then p=$((p + 1)); else f=$((f + 1)); fi
	for rel in $(cat "$CACHE/matrix"); do
		if dkms build -k "$rel" siphelper/"$ver"; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
	echo "dkms: $p passed, $f failed"
	[ $f -eq 0 ]
}

# e2e on the stock 6.1 kernel loads the DKMS-built module.
dkms_ko() {
	local rel
	rel=$(kernel_release 6.1)
	ls /var/lib/dkms/siphelper/"$(cat VERSION)"/"$rel"/*/module/siphelper.ko* \
		2>/dev/null | head -n1 | grep . || echo /no-dkms-built-module
}

style_layer() {
	local cp p=0 f=0 file
	cp=$(ls "$CACHE"/debug/*/src/scripts/checkpatch.pl 2>/dev/null | head -n1)
	[ -n "$cp" ] || { echo "style: 0 passed, 1 failed (no checkpatch)"; return 1; }
	for file in kmod/*.[ch] kmod/core/*.[ch] kmod/compat/probes/*.c \
		kunit/*.c uapi/linux/*.h; do
		[ -e "$file" ] || continue
		if perl "$cp" --no-tree --quiet --show-types -f "$file"; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
	echo "style: $p passed, $f failed"
	[ $f -eq 0 ]
}

start=$(date +%s)
setup_fail=0
if [ "$mode" = quick ]; then
	layer unit tests/unit/run.sh
	layer modules modules_layer 6.1
	layer e2e-6.1 tests/e2e/vm.sh 6.1
else
	layer unit tests/unit/run.sh
	echo "== debug kernel (cached after the first build)" >&2
	scripts/build-debug-kernel.sh >/dev/null || setup_fail=1
	layer style style_layer
	layer modules modules_layer 6.1 6.12 debug
	layer dkms dkms_layer
	# Two lanes on two cores: the debug kernel's e2e run (the longest
	# layer, KASAN+lockdep under TCG) beside everything else. Its hostile
	# and faults runs (test_hostile.py with 20 000 datagrams,
	# test_faults.py) are a layer of their own in the shorter lane, in a
	# second debug VM, to even out the lanes.
	order=50
	E2E_ARGS="--ignore=tests/e2e/test_hostile.py --ignore=tests/e2e/test_faults.py" \
		layer e2e-debug tests/e2e/vm.sh debug &
	lane=$!
	order=10
	layer harness tests/vm/selftest/run.sh 6.1
	layer kunit kunit/run.sh
	layer e2e-6.1 tests/e2e/vm.sh 6.1 "$(dkms_ko)"
	layer e2e-6.12 tests/e2e/vm.sh 6.12
	E2E_LAYER=reliability-debug HOSTILE_PACKETS=20000 \
		E2E_ARGS="tests/e2e/test_hostile.py tests/e2e/test_faults.py" \
		layer reliability-debug tests/e2e/vm.sh debug
	layer compare tests/e2e/compare.sh 6.12 docs/comparison.md
	layer fuzz fuzz/smoke.sh 60
	wait $lane
fi

total_pass=0 total_fail=$setup_fail
for r in "$results"/*; do
	line=$(cat "$r")
	total_pass=$((total_pass + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
	total_fail=$((total_fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
done
echo
echo "Summary ($(($(date +%s) - start)) s; logs in build/logs/):"
cat "$results"/* | sed 's/^/  /'
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
