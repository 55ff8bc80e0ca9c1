#!/bin/bash
# bench/kernel/build-lockstat-kernel.sh: build the bench-only lock-statistics
# kernel (tinyconfig + tests/vm/debug.config + bench/kernel/lockstat.config:
# lockdep and CONFIG_LOCK_STAT, no KASAN) from Debian's linux-source-6.12
# into $CACHE/lockstat/KEY, apart from the debug kernel's cache (which this
# never touches). Cached by a hash of (source version, fragments, this
# script); prints the kernel release on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/scripts/lib.sh"
frags=("$repo/tests/vm/debug.config" "$here/lockstat.config")

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( (echo "$srcver"; cat "${frags[@]}" "$0") | sha256sum | cut -c1-16)
top=$CACHE/lockstat/$key
out=$top/build
if [ -f "$top/.done" ]; then
	cat "$top/kernel.release"
	exit 0
fi
rm -rf "$CACHE/lockstat"
mkdir -p "$top"
echo "lockstat-kernel: unpacking linux-source $srcver" >&2
tar -C "$top" -xf /usr/src/linux-source-6.12.tar.xz
mv "$top"/linux-source-6.12 "$top/src"
src=$top/src
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"${frags[@]}" >/dev/null
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >&2
for opt in CONFIG_LOCK_STAT=y CONFIG_PROVE_LOCKING=y CONFIG_NF_CONNTRACK=m; do
	grep -qxF "$opt" "$out/.config" || die "lockstat kernel lost $opt"
done
echo "lockstat-kernel: building with $(nproc) jobs" >&2
start=$(date +%s)
make -s -C "$src" O="$out" ARCH=x86_64 -j"$(nproc)" bzImage modules >&2
make -s -C "$src" O="$out" ARCH=x86_64 INSTALL_MOD_PATH="$top/root" \
	modules_install >&2
echo "lockstat-kernel: built in $(($(date +%s) - start)) s" >&2
cat "$out/include/config/kernel.release" >"$top/kernel.release"
touch "$top/.done"
cat "$top/kernel.release"
