#!/bin/bash
# Build the debug test kernel (KUnit, KASAN, lockdep, kmemleak, UBSAN) from
# Debian's linux-source-6.12 with tinyconfig + tests/vm/debug.config.
# Cached by a hash of (source package version, fragment, this script); prints
# the build directory (usable as KDIR for out-of-tree modules) on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
frag=$here/../tests/vm/debug.config

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( (echo "$srcver"; cat "$frag" "$0") | sha256sum | cut -c1-16)
top=$CACHE/debug/$key
out=$top/build
if [ -f "$top/.done" ]; then
	echo "$out"
	exit 0
fi

# Only one debug kernel is kept: drop builds of older keys.
rm -rf "$CACHE/debug"
mkdir -p "$top"
echo "debug-kernel: unpacking linux-source $srcver" >&2
tar -C "$top" -xf /usr/src/linux-source-6.12.tar.xz
mv "$top"/linux-source-6.12 "$top/src"
src=$top/src

jobs=$(nproc)
echo "debug-kernel: configuring" >&2
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >&2

# Refuse a config that silently lost an option of the fragment.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || {
		echo "debug-kernel: fragment option lost: $line" >&2
		bad=1
	} ;;
	esac
done <"$frag"
[ "$bad" -eq 0 ] || die "debug kernel config is incomplete"

echo "debug-kernel: building with $jobs jobs (takes ~10 min)" >&2
start=$(date +%s)
make -s -C "$src" O="$out" ARCH=x86_64 -j"$jobs" bzImage modules >&2
make -s -C "$src" O="$out" ARCH=x86_64 INSTALL_MOD_PATH="$top/root" \
	modules_install >&2
echo "debug-kernel: built in $(( $(date +%s) - start )) s" >&2
kver=$(cat "$out/include/config/kernel.release")
echo "$kver" >"$top/kernel.release"
touch "$top/.done"
echo "$out"
