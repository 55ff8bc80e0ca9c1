#!/bin/bash
# tests/run-all.sh [quick]: every test layer of siphelper. Each layer prints
# "LAYER: N passed, N failed"; the last line is the total over all layers.
# Exits non-zero when anything failed. Two lanes, since the machine has two
# cores and a debug kernel's TCG guest keeps one busy: the debug kernel
# (its build when the cache has none, then what needs it) beside the stock
# kernels, whose guests mostly wait (a quarter of a core each), so that
# lane starts its four e2e guests at once (6.1 in two parts, 6.12, the
# in-tree half of compare) once the modules are built, and runs its other
# layers beside them (kunit among them); the debug kernel's e2e, in two
# parts, starts in the debug lane once the builds are done and in the
# stock lane as its guests end.
#
# Layers: unit (CTest+GoogleTest), style (checkpatch, sparse, the uapi
# header against its spec), modules (W=1 builds
# for 6.1, 6.12; modules-debug for the debug kernel), dkms (the router
# install path), deb (the Debian packages build, lintian-clean),
# deb-install (they install on a clean Debian root, DKMS builds for both
# stock kernels, the seed's NAT scenarios run through the packaged module
# in that root's kernel, the purge leaves nothing), harness (the VM
# harness proves itself), kunit (debug
# kernel), e2e on 6.1 with the DKMS-built module (e2e-6.1-1 and -2, whole
# files each, e2e_part) and on 6.12 (there under
# SHP_ROUTER_PROFILE=all: acct, timestamps, events, labels, zones, GRO,
# SYNPROXY), compare (the
# NAT scenarios against the in-tree nf_nat_sip on 6.12 under the same
# profile, beside e2e-6.12's own results for siphelper, report-only:
# writes build/compare/comparison.md), fuzz (60 s smoke), and the debug
# kernel's e2e in two guests that share one queue of test files
# (DEBUG_PARTS), under the router profile as well, test_hostile.py with
# 20 000 datagrams.
# `quick`: unit, modules for 6.1 and e2e on 6.1 only, without
# test_hostile.py, test_faults.py and test_peers.py, in four VMs at once.
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
# The e2e layers fail instead of skipping when siphelperctl or shp_replay
# is not built (tests/e2e/vm.sh): the unit layer builds them first.
export E2E_NEED_TOOLS=1

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
	if [ "$f" -ne 0 ]; then
		# the summary names what failed: CI keeps only its last lines
		sed 's/\x1b\[[0-9;]*m//g' "$logs/$name.log" |
			grep -E '^(FAILED|ERROR) |^vm: (FAIL|timed|qemu|the command)|^not ok' | head -n 10 |
			cut -c1-200 | sed 's/^/    /' \
			>>"$results/$(printf %02d $order)-$name"
	fi
	order=$((order + 1))
	echo "$line"
}

# wait_file PATH: until another lane has left the marker file PATH.
wait_file() {
	while [ ! -e "$1" ]; do sleep 2; done
}

# Builds of the module for each kernel of the matrix, W=1, warning-free.
# modules_layer NAME KERNEL...
modules_layer() {
	local p=0 f=0 k name=$1
	shift
	for k in "$@"; do
		if scripts/build-module.sh "$k"; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
	echo "$name: $p passed, $f failed"
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

# The Debian packages build, and lintian has no error or warning.
deb_layer() {
	if scripts/deb.sh; then
		echo "deb: 1 passed, 0 failed"
	else
		echo "deb: 0 passed, 1 failed"
		return 1
	fi
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
	# the uapi header is what the family's spec gives
	if scripts/ynl-gen.sh --check >/dev/null; then
		p=$((p + 1))
	else
		f=$((f + 1))
	fi
	# make check: sparse over the module for every kernel
	for k in 6.1 6.12 debug; do
		if SHP_SPARSE=1 scripts/build-module.sh "$k" >/dev/null; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
	echo "style: $p passed, $f failed"
	[ $f -eq 0 ]
}

# The debug kernel's e2e: two guests, one VM boot each, that take whole
# test files from one queue (tests/e2e/file_queue.py), so that they end
# together however fast the host is: the debug lane boots the first when
# the builds are done, the stock lane the second when all its guests but
# e2e-6.12 are done (or none, when the first took every file). More
# guests at once do not go faster: under TCG a guest's timers, polls and
# threads cost CPU for as long as it runs, so a starved guest costs more
# in all (with three debug parts at once a make test kept the cores busy
# for 3 128 core-seconds, with two for 2 662; docs/testing.md). A part
# is claimed by renaming its file, which is atomic. The files go heaviest
# first: test_hostile.py (with 20 000 hostile datagrams here),
# test_faults.py and test_peers.py, then E2E_BY_TIME's order. (Before
# the queue, test_hostile.py last in its part made the run longer:
# test_faults.py, first in its place, took twice as long beside the stock
# guests; docs/testing.md.) Every part runs under the router profile:
# KASAN and lockdep see the conntrack extensions routers add.
DEBUG_PARTS="e2e-debug-1 e2e-debug-2"
DEBUG_FIRST="hostile faults peers"

queue_debug_parts() {
	local q=$logs/queue files=$logs/debug-files i=0 part f
	rm -rf "$q" "$files"
	mkdir -p "$q" "$files"
	for part in $DEBUG_PARTS; do
		: >"$q/$(printf %02d $i)-$part"
		i=$((i + 1))
	done
	i=0
	for f in $(printf 'tests/e2e/test_%s.py ' $DEBUG_FIRST) \
		$(e2e_part 1 1 "/test_(${DEBUG_FIRST// /|})\.py$"); do
		: >"$files/$(printf %02d $i)-${f##*/}"
		i=$((i + 1))
	done
}

# What the debug parts left: a result line when a file was not run to
# its end by either of them.
debug_files_left() {
	local left
	left=$(ls "$logs/debug-files" 2>/dev/null | grep -v '\.done$' |
		tr '\n' ' ')
	[ -z "$left" ] ||
		echo "e2e-debug: 0 passed, 1 failed (files no part ran to its end: $left)" \
			>"$results/59-e2e-debug-left"
}

# The parts of e2e on 6.1 in make test.
E61_PARTS=2

# The e2e files, heaviest first (their times on 6.1, docs/testing.md);
# a file not named here comes last.
E2E_BY_TIME="control stale faults hostile peers trunk call_table security
	assign tcp_split ha monitor calls module nft nat policy router_conf
	register large_skb nonat6 call_policy listening_port tcp nat6 unload
	synproxy"

# e2e_part N I [SKIP-REGEX]: part I (1..N) of the e2e files, whole files
# dealt heaviest first in a snake (1..N, N..1, 1..N, ...), so that the N
# parts take about the same time and every file is in one of them.
e2e_part() {
	local n=$1 i=$2 skip=${3:-^$} f k=0 slot all=()
	for f in $E2E_BY_TIME; do
		[ -e "tests/e2e/test_$f.py" ] && all+=("tests/e2e/test_$f.py")
	done
	for f in tests/e2e/test_*.py; do
		f=${f#tests/e2e/test_}
		grep -qw "${f%.py}" <<<"$E2E_BY_TIME" || all+=("tests/e2e/test_$f")
	done
	for f in "${all[@]}"; do
		grep -qE "$skip" <<<"$f" && continue
		slot=$((k % (2 * n)))
		[ $slot -lt "$n" ] || slot=$((2 * n - 1 - slot))
		[ $((slot + 1)) -eq "$i" ] && printf '%s ' "$f"
		k=$((k + 1))
	done
}

# Run queued debug parts until none is left, once the debug lane has
# built the debug kernel or failed to (a cold build takes longer than the
# stock guests; a part run without the kernel fails and is counted).
take_debug_parts() {
	local q=$logs/queue f name
	wait_file "$logs/debug-kernel.done"
	for f in "$q"/*; do
		# claimed by another lane (now, or before this loop began)
		case $f in *.taken) continue ;; esac
		mv "$f" "$f.taken" 2>/dev/null || continue
		name=${f##*/}
		order=$((50 + 10#${name%%-*}))
		name=${name#*-}
		if ! ls "$logs/debug-files" | grep -q '\.py$'; then
			layer "$name" echo "$name: 0 passed, 0 failed" \
				"(the other part took every file)"
			continue
		fi
		E2E_LAYER=$name HOSTILE_PACKETS=20000 SHP_ROUTER_PROFILE=all \
			E2E_QUEUE=$logs/debug-files \
			E2E_ARGS="$(ls tests/e2e/test_*.py | tr '\n' ' ')" \
			layer "$name" tests/e2e/vm.sh debug
	done
}

start=$(date +%s)
# busy and idle core-seconds of the run (/proc/stat, in USER_HZ): the
# work a run did, which varies less from host to host than its duration
cpu_times() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat
}
read -r busy0 idle0 < <(cpu_times)
setup_fail=0
if [ "$mode" = quick ]; then
	# The inner loop: 6.1 only, the suite without its long reliability
	# and real-peer files (make test runs them), in four VMs at once (a
	# stock guest keeps a quarter of a core busy).
	layer unit tests/unit/run.sh
	layer modules modules_layer modules 6.1
	qlanes=()
	for i in 1 2 3 4; do
		E2E_LAYER=e2e-6.1-$i E2E_ARGS="$(e2e_part 4 $i \
			'/test_(hostile|faults|peers)\.py$')" \
			layer e2e-6.1-$i tests/e2e/vm.sh 6.1 &
		qlanes+=($!)
		order=$((order + 1))
	done
	wait "${qlanes[@]}"
else
	queue_debug_parts
	rm -f "$logs/builds.done" "$logs/debug-kernel.done"
	# Lane 1: the debug kernel (a cold build takes ~20 min), what needs
	# it, then debug parts. Lane 2 (this shell): the stock kernels, then
	# debug parts. A TCG guest keeps one host core busy.
	(
		if scripts/build-debug-kernel.sh >/dev/null; then
			order=3
			layer modules-debug modules_layer modules-debug debug
			# what a debug guest needs: the kernel and the modules
			# (siphelper.ko, siphelper_kunit.ko) built for it
			touch "$logs/debug-kernel.done"
			order=2
			layer style style_layer
			# no debug guest beside the other lane's compiles: a
			# starved guest reports soft lockups
			wait_file "$logs/builds.done"
			take_debug_parts
		else
			echo "debug-kernel: 0 passed, 1 failed" \
				>"$results/01-debug-kernel"
			touch "$logs/debug-kernel.done"
		fi
	) &
	lane=$!
	order=0
	layer unit tests/unit/run.sh
	order=4
	layer modules modules_layer modules 6.1 6.12
	order=5
	layer dkms dkms_layer
	# The stock kernels' guests wait more than they compute (a quarter of
	# a core each): four at once, beside the debug lane's guest, as soon
	# as their modules are built; the lane's other layers run meanwhile.
	# (6.1 in three parts made five: the contention stretched every
	# guest, and the debug guests' CPU grew by 450 core-seconds;
	# docs/testing.md.) Each guest leaves $logs/done.NAME when it ends.
	rm -f "$logs"/done.*
	guests=$((E61_PARTS + 2))
	order=12
	for i in $(seq "$E61_PARTS"); do
		{ E2E_LAYER=e2e-6.1-$i E2E_ARGS="$(e2e_part "$E61_PARTS" "$i")" \
			layer e2e-6.1-$i tests/e2e/vm.sh 6.1 "$(dkms_ko)"
		  touch "$logs/done.e2e-6.1-$i"; } &
	done
	order=14
	# 6.12 runs every scenario on a router with the conntrack settings
	# routers run (docs/testing.md, "Router configurations"); it is
	# compare's siphelper half too
	{ SHP_ROUTER_PROFILE=all layer e2e-6.12 tests/e2e/vm.sh 6.12
	  touch "$logs/done.e2e-6.12"; } &
	{ tests/e2e/compare.sh --intree 6.12 >"$logs/compare-intree.log" 2>&1
	  touch "$logs/done.compare-intree"; } &
	# The second debug part starts when all stock guests but one (the
	# longest, e2e-6.12) are done, whatever this lane is running then
	# (the two take files from one queue: they end together); compare's
	# table when both of its halves are there.
	(
		parts=0 reported=
		while :; do
			n=$(ls "$logs"/done.* 2>/dev/null | wc -l)
			if [ $parts -eq 0 ] && [ "$n" -ge $((guests - 1)) ]; then
				take_debug_parts &
				parts=1
			fi
			if [ -z "$reported" ] &&
				[ -e "$logs/done.e2e-6.12" ] &&
				[ -e "$logs/done.compare-intree" ]; then
				order=15
				layer compare tests/e2e/compare.sh --report 6.12 \
					build/e2e/6.12/junit.xml
				reported=yes
			fi
			[ "$n" -lt "$guests" ] || break
			sleep 2
		done
		wait
	) &
	order=6
	layer deb deb_layer
	touch "$logs/builds.done"
	order=7
	layer deb-install tests/packaging/install-test.sh
	order=11
	layer harness tests/vm/selftest/run.sh 6.1
	order=16
	layer fuzz fuzz/smoke.sh 60
	# kunit in this lane, not before the debug lane's first part: that
	# part is the run's critical path (docs/testing.md)
	wait_file "$logs/debug-kernel.done"
	order=10
	layer kunit kunit/run.sh
	wait
	debug_files_left
fi

total_pass=0 total_fail=$setup_fail
for r in "$results"/*; do
	line=$(head -n1 "$r")
	total_pass=$((total_pass + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
	total_fail=$((total_fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
done
echo
read -r busy1 idle1 < <(cpu_times)
hz=$(getconf CLK_TCK)
echo "Summary ($(($(date +%s) - start)) s, the cores busy for" \
	"$(((busy1 - busy0) / hz)) s and idle for $(((idle1 - idle0) / hz)) s;" \
	"logs in build/logs/):"
cat "$results"/* | sed 's/^/  /'
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
