#!/bin/bash
# tests/unit/e2e-needs-tools.sh [VM.SH]: under make test (E2E_NEED_TOOLS=1)
# tests/e2e/vm.sh fails without booting when siphelperctl or shp_replay
# is not built; the suite would skip the tests that need them and report
# 0 failed. Runs a scratch copy of vm.sh with a stub VM. Exits non-zero on
# the first miss.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
vmsh=${1:-$repo/tests/e2e/vm.sh}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w"/{tests/e2e,tests/lib,tests/vm,scripts}
cp "$vmsh" "$w/tests/e2e/vm.sh"
cp "$repo/tests/lib/counts.py" "$w/tests/lib/"
echo 'kernel_release() { echo "rel-$1"; }' >"$w/scripts/lib.sh"
# the stub VM: one passing test, and a trace that it booted
cat >"$w/tests/vm/run" <<EOF
#!/bin/bash
echo booted >>$w/trace
while getopts o:t: o; do [ "\$o" = o ] && out=\$OPTARG; done
echo '<testsuite><testcase name="t"/></testsuite>' >"\$out/junit.xml"
EOF
chmod +x "$w/tests/vm/run"
ctl=$w/build/user/tools/siphelperctl/siphelperctl
replay=$w/build/user/tests/hostile/shp_replay
fail() { echo "e2e-needs-tools: $*" >&2; exit 1; }

# check NEED EXPECT-RC EXPECT-LINE-REGEX BOOTS: one vm.sh run
check() {
	local rc=0 got boots
	rm -f "$w/trace"
	got=$(E2E_NEED_TOOLS=$1 bash "$w/tests/e2e/vm.sh" x 2>&1) || rc=$?
	[ "$rc" -eq "$2" ] || fail "exit $rc, not $2: $got"
	grep -qE "$3" <<<"$got" || fail "no '$3' in: $got"
	boots=0
	[ ! -e "$w/trace" ] || boots=$(wc -l <"$w/trace")
	[ "$boots" -eq "$4" ] || fail "booted $boots times, not $4: $got"
}
check 1 1 '^e2e-x: 0 passed, 1 failed \(siphelperctl or shp_replay' 0
# one of the two is not enough
install -D -m 755 /dev/null "$ctl"
check 1 1 '^e2e-x: 0 passed, 1 failed \(siphelperctl or shp_replay' 0
# outside make test the inner loop boots without them
check "" 0 '^e2e-x: 1 passed, 0 failed' 1
install -D -m 755 /dev/null "$replay"
check 1 0 '^e2e-x: 1 passed, 0 failed' 1
echo "e2e-needs-tools: ok"
