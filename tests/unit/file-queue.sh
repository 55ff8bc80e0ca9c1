#!/bin/bash
# tests/unit/file-queue.sh: two pytest sessions share one queue of test
# files (tests/e2e/file_queue.py, as the debug kernel's parts do): every
# test runs exactly once, in one of them, each file whole in one session,
# module fixtures are set up once per file, and every entry ends .done.
# A file the queue names that a session did not collect stays taken (the
# host's check fails it). Exits non-zero on the first miss.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/suite" "$w/q"
cp "$repo/tests/e2e/file_queue.py" "$w/suite/"
cat >"$w/suite/conftest.py" <<'EOF'
import pytest

import file_queue


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    return file_queue.runtestloop(session)
EOF
for f in a b c d e f; do
	cat >"$w/suite/test_$f.py" <<EOF
import os
import time

import pytest


@pytest.fixture(scope="module")
def net():
    with open("$w/setups", "a") as log:
        log.write("$f\n")
    yield


@pytest.mark.parametrize("i", range(4))
def test_it(net, i):
    time.sleep(0.05)
EOF
done
i=0
for f in c a f b e d ghost; do
	: >"$w/q/$(printf %02d $i)-test_$f.py"
	i=$((i + 1))
done
fail() { echo "file-queue: $*" >&2; exit 1; }
run() {	# run TAKER: one session over every file, from the queue
	(cd "$w/suite" && SHP_QUEUE="$w/q" SHP_QUEUE_TAKER=$1 \
		PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 /usr/bin/python3 -m pytest \
		-p no:cacheprovider -q --junitxml="$w/$1.xml" test_*.py \
		>"$w/$1.log" 2>&1)
}
run one &
run two &
wait %1 || fail "session one failed: $(cat "$w/one.log")"
wait %2 || fail "session two failed: $(cat "$w/two.log")"
# every test once, over both sessions
ran=$(cat "$w"/one.xml "$w"/two.xml | grep -o 'name="test_it\[[0-9]\]" time' |
	wc -l)
[ "$ran" -eq 24 ] || fail "$ran tests ran, not 24"
count() { grep -o "classname=\"test_$1\"" "${@:2}" | wc -l; }
for f in a b c d e f; do
	n=$(count "$f" "$w"/one.xml "$w"/two.xml)
	[ "$n" -eq 4 ] || fail "test_$f.py: $n tests ran, not 4"
	# each file whole in one session
	[ "$(count "$f" "$w/one.xml")" -eq 0 ] ||
	[ "$(count "$f" "$w/two.xml")" -eq 0 ] ||
		fail "test_$f.py ran in both sessions"
done
[ "$(sort "$w/setups" | uniq -c | awk '$1 != 1' | wc -l)" -eq 0 ] ||
	fail "a module fixture was set up more than once: $(sort "$w/setups")"
left=$(ls "$w/q" | grep -v '\.\(one\|two\)\.done$' || true)
[ "$left" = "$(ls "$w/q" | grep ghost)" ] ||
	fail "entries not done: $left"
grep -q '^06-test_ghost.py.\(one\|two\)$' <<<"$left" ||
	fail "the file no session has is not left taken: $left"
echo "file-queue: ok"
