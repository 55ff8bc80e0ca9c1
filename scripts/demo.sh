#!/bin/bash
# make demo: build the module for the stock 6.1 kernel, boot it in a VM,
# show siphelper registered next to the in-tree SIP helper, then the seed's
# story: the phone behind NAT registers and calls, each message before and
# after the ALG side by side, the pinholes, and RTP both ways.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
echo "demo: building siphelper.ko for the stock 6.1 kernel" >&2
dir=$(scripts/build-module.sh 6.1)
echo "demo: booting a VM (software emulation may take ~30 s)" >&2
tests/vm/run -o build/demo 6.1 -- "scripts/demo-guest.sh $dir/siphelper.ko" 2>&1 |
	sed -n '/^=== /,$p' | grep -v '^\[ *[0-9.]*\] sysrq'
