#!/bin/bash
# scripts/ynl-gen.sh [--check]: write uapi/linux/siphelper.h from the
# family's spec, uapi/siphelper.yaml, with the kernel's own generator
# (tools/net/ynl/ynl-gen-c.py of linux-source-6.12, which also validates
# the spec against Documentation/netlink/genetlink-c.yaml).
# --check: write nothing; fail if the committed header is not what the
# spec gives (the style layer of make test runs this).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${SIPHELPER_CACHE:-/var/cache/siphelper}
spec=$top/uapi/siphelper.yaml
header=$top/uapi/linux/siphelper.h

# The generator and the schema: the debug kernel's tree, else the few
# files it needs from the source package, kept in the cache.
src=$(ls -d "$cache"/debug/*/src 2>/dev/null | head -n1 || true)
if [ -z "$src" ] || [ ! -e "$src/tools/net/ynl/ynl-gen-c.py" ]; then
	src=$cache/ynl/linux-source-6.12
	if [ ! -e "$src/tools/net/ynl/ynl-gen-c.py" ]; then
		tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n1)
		mkdir -p "$cache/ynl"
		tar -xf "$tarball" -C "$cache/ynl" --wildcards \
			'linux-source-6.12/tools/net/ynl/*' \
			'linux-source-6.12/Documentation/netlink/genetlink-c.yaml'
	fi
fi

# ynl-gen-c.py finds the schema next to the spec's directory and names
# the spec by its path below a MAINTAINERS file: give it that layout.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/uapi"
touch "$work/MAINTAINERS"
cp "$src/Documentation/netlink/genetlink-c.yaml" "$work/"
cp "$spec" "$work/uapi/"
(cd "$src" && /usr/bin/python3 tools/net/ynl/ynl-gen-c.py --mode uapi \
	--header --spec "$work/uapi/siphelper.yaml" -o "$work/siphelper.h")

if [ "${1:-}" = --check ]; then
	if ! diff -u "$header" "$work/siphelper.h"; then
		echo "uapi/linux/siphelper.h is not what uapi/siphelper.yaml" \
			"gives: run scripts/ynl-gen.sh" >&2
		exit 1
	fi
	echo "uapi/linux/siphelper.h matches uapi/siphelper.yaml"
else
	cp "$work/siphelper.h" "$header"
fi
