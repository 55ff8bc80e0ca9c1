#!/bin/bash
# tests/unit/run-all-schedule.sh [RUN-ALL]: tests/run-all.sh's lanes with
# every layer replaced by a stub that sleeps and leaves a trace, in a
# scratch copy of the tree. Checks what the schedule promises: no debug
# part starts before the debug lane's kernel is there (a cold build
# outlasts the stock guests), no debug guest (part or kunit) before the
# modules built for that kernel, no guest before the userspace build (the
# e2e suite skips what needs siphelperctl or shp_replay when they are not
# there), compare's table comes after both of its halves, the debug parts
# take every test file once from their queue, heaviest first, and every
# layer reports. Once with a cold debug kernel (its build outlasts the
# stock guests), once with a warm one (the unit layer outlasts the debug
# kernel's modules); then once with a file a debug part took and did not
# finish, which must fail the run by name. Exits non-zero on the first
# miss.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runall=${1:-$repo/tests/run-all.sh}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w"/{tests/e2e,tests/unit,tests/packaging,tests/vm/selftest} \
	"$w"/{scripts,fuzz,kunit,bin,cache/debug/k/src/scripts}
cp "$runall" "$w/tests/run-all.sh"
echo 0.0.0 >"$w/VERSION"
echo "r1 r2" >"$w/cache/matrix"
echo 'exit 0;' >"$w/cache/debug/k/src/scripts/checkpatch.pl"
cat >"$w/scripts/lib.sh" <<EOF
CACHE=$w/cache
kernel_release() { echo "rel-\$1"; }
EOF
for f in hostile faults peers nat stale ha trunk tcp; do
	touch "$w/tests/e2e/test_$f.py"
done
# stub PATH SECONDS NAME: a layer that sleeps and prints its result
stub() {
	cat >"$w/$1" <<EOF
#!/bin/bash
echo "start $3 \$*" >>$w/trace
sleep $2
echo "end $3 \$*" >>$w/trace
echo "$3: 1 passed, 0 failed"
EOF
	chmod +x "$w/$1"
}
# the debug kernel's modules take a while after it (sparse builds do not)
cat >"$w/scripts/build-module.sh" <<EOF
#!/bin/bash
[ -n "\${SHP_SPARSE:-}" ] && exit 0
echo "start module \$1" >>$w/trace
[ "\$1" = debug ] && sleep 2
echo "end module \$1" >>$w/trace
exit 0
EOF
chmod +x "$w/scripts/build-module.sh"
stub scripts/dkms-install.sh 0 dkms-install
stub scripts/ynl-gen.sh 0 ynl
stub scripts/deb.sh 0 deb
stub tests/packaging/install-test.sh 0 deb-install
stub tests/vm/selftest/run.sh 0 harness
stub fuzz/smoke.sh 0 fuzz
stub kunit/run.sh 0 kunit
stub bin/dkms 0 dkms
# a guest with a queue takes its files as file_queue.py does (but the
# file STUB_UNDONE, which it leaves taken, as a guest that died would)
cat >"$w/tests/e2e/vm.sh" <<EOF
#!/bin/bash
echo "start vm \$1" >>$w/trace
sleep 1
if [ -n "\${E2E_QUEUE:-}" ]; then
	for e in \$(ls "\$E2E_QUEUE" | grep '\\.py\$'); do
		mv "\$E2E_QUEUE/\$e" "\$E2E_QUEUE/\$e.x" 2>/dev/null || continue
		echo "take \$E2E_LAYER \$e" >>$w/trace
		sleep 0.2
		[ "\$e" = "\${STUB_UNDONE:-}" ] ||
			mv "\$E2E_QUEUE/\$e.x" "\$E2E_QUEUE/\$e.x.done"
	done
fi
echo "end vm \$1" >>$w/trace
echo "\${E2E_LAYER:-e2e-\$1}: 1 passed, 0 failed"
EOF
cat >"$w/tests/e2e/compare.sh" <<EOF
#!/bin/bash
echo "start compare \$1" >>$w/trace
[ "\$1" = --report ] || sleep 1
echo "end compare \$1" >>$w/trace
echo "compare: 1 passed, 0 failed"
EOF
chmod +x "$w/tests/e2e/"*.sh

at() { grep -nxF "$1" "$w/trace" | head -n1 | cut -d: -f1; }

# schedule DEBUG-KERNEL-SECONDS UNIT-SECONDS: one run, and its checks
schedule() {
	rm -f "$w/trace"
	stub scripts/build-debug-kernel.sh "$1" debug-kernel
	stub tests/unit/run.sh "$2" unit
	PATH=$w/bin:$PATH timeout 120 bash "$w/tests/run-all.sh" >"$w/out" 2>&1 ||
		{ cat "$w/out"; echo "run-all failed"; exit 1; }
	first_guest=$(grep -nE "^start (vm|compare|kunit)" "$w/trace" | head -n1 |
		cut -d: -f1)
	[ -n "$first_guest" ] && [ "$first_guest" -gt "$(at "end unit ")" ] ||
		{ cat "$w/trace"; echo "a guest started before the userspace build"; exit 1; }
	first_debug=$(grep -n "^start vm debug" "$w/trace" | head -n1 | cut -d: -f1)
	[ -n "$first_debug" ] && [ "$first_debug" -gt "$(at "end debug-kernel ")" ] ||
		{ cat "$w/trace"; echo "a debug part started before the debug kernel"; exit 1; }
	first_kunit=$(at "start kunit ")
	[ -n "$first_kunit" ] && [ "$first_debug" -gt "$(at "end module debug")" ] &&
		[ "$first_kunit" -gt "$(at "end module debug")" ] ||
		{ cat "$w/trace"; echo "a debug guest started before its modules"; exit 1; }
	report=$(at "start compare --report")
	[ -n "$report" ] && [ "$report" -gt "$(at "end compare --intree")" ] &&
		[ "$report" -gt "$(at "end vm 6.12")" ] ||
		{ cat "$w/trace"; echo "compare's table before both halves"; exit 1; }
	# the summary's core-seconds cover the whole run: busy + idle is the
	# run's duration times the cores (less rounding)
	read -r secs busy idle < <(sed -nE \
		's/^Summary \(([0-9]+) s, the cores busy for ([0-9]+) s and idle for ([0-9]+) s.*/\1 \2 \3/p' \
		"$w/out") || true	# no such line: the check below says so
	[ -n "${secs:-}" ] && [ $((busy + idle)) -ge $(($(nproc) * (secs - 2))) ] ||
		{ cat "$w/out"; echo "the summary's core-seconds miss part of the run"; exit 1; }
	# the debug parts took every file, once, heaviest first
	for f in "$w"/tests/e2e/test_*.py; do
		[ "$(grep -c "^take .* [0-9]*-${f##*/}$" "$w/trace")" -eq 1 ] ||
			{ cat "$w/trace"; echo "${f##*/} not taken once"; exit 1; }
	done
	[ "$(grep "^take " "$w/trace" | head -n3 | awk "{ print \$3 }" | cut -d- -f2 | tr '\n' ' ')" = \
		"test_hostile.py test_faults.py test_peers.py " ] ||
		{ cat "$w/trace"; echo "the debug parts' heaviest files not first"; exit 1; }
	for l in unit style modules-debug modules dkms deb deb-install kunit harness \
		e2e-6.1-1 e2e-6.1-2 e2e-6.12 compare fuzz e2e-debug-1 e2e-debug-2; do
		grep -q "^  $l: 1 passed\|^  $l: [0-9]* passed" "$w/out" ||
			{ cat "$w/out"; echo "no result for $l"; exit 1; }
	done
}
schedule 4 0	# cold: the debug kernel's build outlasts the stock guests
schedule 0 3	# warm: the unit layer outlasts the debug kernel's modules
# a file no debug part ran to its end fails the run, by name
rm -f "$w/trace"
STUB_UNDONE=03-test_stale.py PATH=$w/bin:$PATH timeout 120 \
	bash "$w/tests/run-all.sh" >"$w/out" 2>&1 &&
	{ cat "$w/out"; echo "run-all passed with a file not run"; exit 1; }
grep -q "^  e2e-debug: 0 passed, 1 failed (files no part ran to its end: 03-test_stale.py.x " \
	"$w/out" || { cat "$w/out"; echo "no failure for the file not run"; exit 1; }
echo "run-all schedule: ok"
