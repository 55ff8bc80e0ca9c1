#!/bin/bash
# scripts/deps.sh [build|test]: install what siphelper needs, with apt.
#   build  what `make`, `make install` and `make dkms-install` need: the
#          toolchain, cmake, libmnl, libnftnl, kmod, dkms (and the headers
#          of KVER when the archive has them and they are missing).
#   test   (default) that, plus what the tests, demo and benchmarks need
#          (QEMU, sipp, kamailio, tshark, scapy, clang, the kernel source),
#          the headers of the stock kernels of the test matrix, and those
#          kernels unpacked into the cache.
# Idempotent; prints nothing when all is present. Never installs a kernel
# image into the host or changes which kernel it boots: a headers package
# that depends on its image (6.12's) gets a stub package providing it
# (headers_stub below).
#
# The matrix is resolved from the archive at run time: the 6.1 kernel that
# linux-image-amd64 depends on, and the 6.12 kernel that linux-image-6.12-amd64
# depends on. Nothing here names a versioned package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mode=${1:-test}

BUILD_PKGS=(
	build-essential cmake pkg-config git bc bison flex libelf-dev libssl-dev
	kmod dkms libmnl-dev libnftnl-dev
)
TEST_PKGS=(
	cpio rsync xz-utils zstd busybox-static qemu-system-x86
	nftables conntrack iproute2 procps util-linux ethtool keepalived conntrackd
	python3 python3-scapy python3-pytest python3-yaml python3-jsonschema
	sip-tester tshark sngrep kamailio
	sparse clang libclang-rt-14-dev libgtest-dev libgmock-dev googletest
	libbenchmark-dev linux-source-6.12 debootstrap
)
# make deb: Debian's packaging tools (make test builds the packages too)
DEB_PKGS=(
	debhelper dh-dkms lintian fakeroot
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

# The daemons the tests run in their own namespaces: installed, never
# started or enabled on the host (their packages would do both).
TEST_DAEMONS=(kamailio keepalived conntrackd)

apt_install() {
	[ $# -eq 0 ] && return
	apt_update
	echo "deps: installing $*" >&2
	# invoke-rc.d asks policy-rc.d: 101 = start no service now
	local policy=/usr/sbin/policy-rc.d own=
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy
		chmod 755 $policy
		own=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >&2 || { [ -z "$own" ] ||
		rm -f $policy; return 1; }
	[ -z "$own" ] || rm -f $policy
	local p
	for p in "$@"; do
		if [[ " ${TEST_DAEMONS[*]} " == *" $p "* ]] &&
		   command -v systemctl >/dev/null; then
			systemctl disable --quiet "$p" 2>/dev/null || true
		fi
	done
}

# A bare machine may have no package lists at all.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
	apt_update
fi

# headers_stub REL: when linux-headers-REL depends on its image (6.12's
# do, 6.1's do not) and no image is installed, the path to a stub .deb
# that provides the image's -unsigned alternative at the headers' version:
# the headers install for building modules, no kernel goes into /boot.
headers_stub() {
	local rel=$1 ver dir name
	apt-cache depends "linux-headers-$rel" 2>/dev/null |
		grep -q "Depends: linux-image-$rel\$" || return 0
	[ -z "$(missing "linux-image-$rel")" ] && return 0
	[ -z "$(missing "linux-image-$rel-unsigned")" ] && return 0
	ver=$(apt-cache show "linux-headers-$rel" | sed -n 's/^Version: //p' |
		head -n1)
	name=siphelper-headers-only-$rel
	dir=$(mktemp -d)
	mkdir -p "$dir/pkg/DEBIAN"
	cat >"$dir/pkg/DEBIAN/control" <<-EOC
		Package: $name
		Version: $ver
		Architecture: all
		Maintainer: siphelper developers <root@localhost>
		Provides: linux-image-$rel-unsigned (= $ver)
		Description: headers of $rel without its kernel image
		 Installed by siphelper's make deps so that linux-headers-$rel
		 can be installed to build modules for a kernel this host does
		 not run, without installing that kernel into /boot.
	EOC
	dpkg-deb -b -Zxz "$dir/pkg" "$dir/$name.deb" >/dev/null
	echo "$dir/$name.deb"
}

if [ "$mode" = build ]; then
	mapfile -t need < <(missing "${BUILD_PKGS[@]}")
	apt_install "${need[@]}"
	# the headers of the kernel to build for, when the archive has them
	if [ -n "${KVER:-}" ] && [ ! -d "/lib/modules/$KVER/build" ] &&
	   apt-cache show "linux-headers-$KVER" >/dev/null 2>&1; then
		apt_install $(headers_stub "$KVER") "linux-headers-$KVER"
	fi
	exit 0
fi
if [ "$mode" = deb ]; then
	mapfile -t need < <(missing "${BUILD_PKGS[@]}" "${DEB_PKGS[@]}")
	apt_install "${need[@]}"
	exit 0
fi
[ "$mode" = test ] || die "usage: scripts/deps.sh [build|test|deb]"

mapfile -t need < <(missing "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" \
	"${DEB_PKGS[@]}")
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
for rel in "${matrix[@]}"; do
	[ -z "$(missing "linux-headers-$rel")" ] && continue
	apt_install $(headers_stub "$rel") "linux-headers-$rel"
done

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
