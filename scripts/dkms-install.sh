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
"$repo/scripts/dkms-source.sh" "$dest"
dkms add siphelper/"$ver" >/dev/null
echo "$dest"
