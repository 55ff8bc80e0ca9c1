# Shared shell helpers for scripts/ and tests/vm/. Source, do not run.
# shellcheck shell=bash

CACHE=${SIPHELPER_CACHE:-/var/cache/siphelper}
KCACHE=$CACHE/kernels
mkdir -p "$KCACHE"

die() {
	echo "error: $*" >&2
	exit 1
}

# resolve_kernel META: the kernel release a meta package depends on,
# e.g. linux-image-amd64 -> 6.1.0-56-amd64.
resolve_kernel() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -n1
}
