#!/bin/bash
# scripts/build-module.sh KERNEL
# Build siphelper.ko (and siphelper_kunit.ko where the kernel has KUnit) for
# KERNEL (6.1, 6.12, debug or a release) with W=1, in a private copy of the
# sources under build/kmod/<release>/ so kernels never share objects.
# Any compiler warning fails the build. Prints the build directory.
# SHP_SPARSE=1: run sparse over every file as well (make check), in its own
# copy (build/kmod-sparse/), where any sparse warning fails it too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$here/lib.sh"

rel=$(kernel_release "${1:?usage: build-module.sh KERNEL}")
kdir=$(kernel_kdir "$rel")
dir=$repo/build/kmod${SHP_SPARSE:+-sparse}/$rel
check=
if [ -n "${SHP_SPARSE:-}" ]; then
	command -v sparse >/dev/null || die "sparse is missing: run 'make deps'"
	check=C=2
fi
mkdir -p "$dir"
# By content (-c), without source times: a changed file gets a new mtime in
# the copy, so kbuild rebuilds it even if it was edited during a build.
rsync -rlpc --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
	--exclude '*.mod*' --exclude compat/shp_autoconf.h \
	--include '/Kbuild' --include '/VERSION' --include '/kmod/***' --include '/uapi/***' \
	--include '/kunit/***' --include '/tests/' --include '/tests/vectors/***' \
	--exclude '*' "$repo/" "$dir/src/"
mkdir -p "$dir/src/uapi"
"$repo/kmod/compat/probe.sh" "$kdir" "$dir/src/compat"
log=$dir/build.log
if ! make -C "$kdir" M="$dir/src" W=1 $check modules >"$log" 2>&1; then
	cat "$log" >&2
	die "module build failed for $rel"
fi
if grep -E 'warning:|error:' "$log" >&2; then
	die "module build for $rel has warnings (W=1${check:+, sparse})"
fi
echo "$dir/src"
