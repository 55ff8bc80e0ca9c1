#!/bin/bash
# scripts/dkms-source.sh DEST: the module's sources as DKMS builds them,
# with dkms.conf for this VERSION, into DEST (normally
# /usr/src/siphelper-<version>). Used by make dkms-install and by the
# siphelper-dkms package (debian/rules), so both ship the same files.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
ver=$(cat "$repo/VERSION")
rm -rf "$dest"
mkdir -p "$dest/tests"
for part in Kbuild VERSION kmod uapi kunit; do
	[ -e "$repo/$part" ] && cp -r "$repo/$part" "$dest/"
done
cp -r "$repo/tests/vectors" "$dest/tests/"
# only what Kbuild reads: no build products, no userspace build or tests
find "$dest" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
	-o -name CMakeLists.txt -o -name '*.py' -o -name '*.yaml' \
	-o -name '*.a' -o -name 'Module.symvers' -o -name 'modules.order' \) \
	-delete
sed "s/#MODULE_VERSION#/$ver/" "$repo/dkms.conf" >"$dest/dkms.conf"
