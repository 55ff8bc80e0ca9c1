#!/bin/bash
# Install everything siphelper needs, with apt, and unpack the stock kernel
# test matrix into the cache. Idempotent; prints nothing when all is present.
#
# The matrix is resolved from the archive at run time: the 6.1 kernel that
# linux-image-amd64 depends on, and the 6.12 kernel that linux-image-6.12-amd64
# depends on. Nothing here names a versioned package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PKGS=(
	build-essential cmake pkg-config git bc bison flex libelf-dev libssl-dev
	cpio rsync xz-utils zstd kmod dkms busybox-static qemu-system-x86
	libmnl-dev libnftnl-dev nftables conntrack iproute2 procps util-linux
	ethtool
	python3 python3-scapy python3-pytest sip-tester tshark kamailio
	clang libclang-rt-14-dev libgtest-dev libgmock-dev googletest
	libbenchmark-dev linux-source-6.12
)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return
	echo "deps: apt-get update" >&2
	apt-get update -qq >&2
	apt_updated=1
}

apt_install() {
	[ $# -eq 0 ] && return
	apt_update
	echo "deps: installing $*" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >&2
}

# A bare machine may have no package lists at all.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
	apt_update
fi

mapfile -t need < <(missing "${PKGS[@]}")
apt_install "${need[@]}"

# Resolve the matrix (flavour names such as 6.1.0-56-amd64).
matrix=()
for meta in linux-image-amd64 linux-image-6.12-amd64; do
	rel=$(resolve_kernel "$meta")
	if [ -z "$rel" ]; then
		apt_update
		rel=$(resolve_kernel "$meta")
	fi
	[ -n "$rel" ] || die "cannot resolve the kernel behind $meta"
	matrix+=("$rel")
done

# Headers installed with apt: /lib/modules/<ver>/build, the DKMS path.
hdrs=()
for rel in "${matrix[@]}"; do
	hdrs+=("linux-headers-$rel")
done
mapfile -t need < <(missing "${hdrs[@]}")
apt_install "${need[@]}"

# Images unpacked into the cache, never installed into /boot.
for rel in "${matrix[@]}"; do
	dest="$KCACHE/$rel"
	[ -f "$dest/.unpacked" ] && continue
	echo "deps: unpacking linux-image-$rel into $dest" >&2
	apt_update
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "linux-image-$rel" >&2)
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$tmp"/linux-image-"$rel"_*.deb "$dest"
	rm -rf "$tmp"
	depmod -b "$dest" "$rel"
	touch "$dest/.unpacked"
done

printf '%s\n' "${matrix[@]}" >"$CACHE/matrix.new"
mv "$CACHE/matrix.new" "$CACHE/matrix"
