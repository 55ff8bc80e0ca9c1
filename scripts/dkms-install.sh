#!/bin/bash
# Install the module sources into /usr/src/siphelper-<version> and register
# them with DKMS (replacing an earlier registration of the same version).
# DKMS then builds for each kernel: dkms build -k <release>.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ver=$(cat "$repo/VERSION")
dest=/usr/src/siphelper-$ver
if [ -n "$(dkms status -m siphelper -v "$ver" 2>/dev/null)" ]; then
	dkms remove siphelper/"$ver" --all >/dev/null
fi
rm -rf "$dest"
mkdir -p "$dest/tests"
for part in Kbuild kmod uapi kunit; do
	[ -e "$repo/$part" ] && cp -r "$repo/$part" "$dest/"
done
cp -r "$repo/tests/vectors" "$dest/tests/"
find "$dest" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
	-o -name CMakeLists.txt -o -name '*.py' \) -delete
sed "s/@VERSION@/$ver/" "$repo/dkms.conf" >"$dest/dkms.conf"
dkms add siphelper/"$ver" >/dev/null
echo "$dest"
