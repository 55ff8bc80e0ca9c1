#!/bin/bash
# tests/unit/install-check.sh: `make install` into a temporary DESTDIR puts
# every file in place (unit with the right path, /etc examples), keeps an
# edited /etc/siphelper.conf, and `make uninstall` removes the rest.
# Run by CTest; the build itself is not redone (-o user).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "install-check: $*" >&2; exit 1; }
inst() { make -s -C "$repo" -o user -o deps "$1" DESTDIR="$d" PREFIX=/usr \
	>/dev/null; }

inst install
for f in usr/sbin/siphelperctl usr/share/man/man8/siphelperctl.8 \
	usr/share/bash-completion/completions/siphelperctl \
	usr/lib/systemd/system/siphelper.service etc/siphelper.conf \
	etc/modprobe.d/siphelper.conf; do
	[ -f "$d/$f" ] || fail "$f not installed"
done
[ -x "$d/usr/sbin/siphelperctl" ] || fail "siphelperctl not executable"
"$d/usr/sbin/siphelperctl" --version | grep -q '^siphelperctl ' ||
	fail "installed siphelperctl does not run"
grep -qx 'ExecStart=/usr/sbin/siphelperctl apply -f /etc/siphelper.conf' \
	"$d/usr/lib/systemd/system/siphelper.service" ||
	fail "unit does not run /usr/sbin/siphelperctl apply"
! grep -q @ "$d/usr/lib/systemd/system/siphelper.service" ||
	fail "unit has an unsubstituted @VAR@"
cmp -s "$repo/etc/siphelper.conf" "$d/etc/siphelper.conf" ||
	fail "example conf differs"

echo "ports 5070" >"$d/etc/siphelper.conf"
inst install
[ "$(cat "$d/etc/siphelper.conf")" = "ports 5070" ] ||
	fail "make install overwrote an existing /etc/siphelper.conf"

inst uninstall
left=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/modprobe.d/siphelper.conf ./etc/siphelper.conf " ] ||
	fail "after uninstall: $left"
echo "install-check: ok"
