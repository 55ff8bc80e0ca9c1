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

# kernel_release NAME: map a matrix name to a kernel release.
#   6.1, 6.12   the stock Debian kernels of the matrix (scripts/deps.sh)
#   debug       the debug kernel (scripts/build-debug-kernel.sh)
#   <release>   itself
kernel_release() {
	case "$1" in
	6.1 | 6.12)
		[ -f "$CACHE/matrix" ] || die "no kernel matrix: run 'make deps'"
		grep -m1 "^$1[.-]" "$CACHE/matrix" ||
			die "kernel $1 is not in $CACHE/matrix"
		;;
	debug)
		local f
		f=$(ls "$CACHE"/debug/*/kernel.release 2>/dev/null | head -n1)
		[ -n "$f" ] || die "no debug kernel: run scripts/build-debug-kernel.sh"
		cat "$f"
		;;
	*) echo "$1" ;;
	esac
}

# kernel_root REL: the directory holding boot/ and lib/modules/ of REL.
# SHP_KERNEL_ROOT, when it has REL, comes first: the package install test
# boots the kernel and modules of the Debian root it installed into.
kernel_root() {
	local d
	if [ -n "${SHP_KERNEL_ROOT:-}" ] &&
	   [ -d "$SHP_KERNEL_ROOT/lib/modules/$1" ]; then
		echo "$SHP_KERNEL_ROOT"
		return
	fi
	if [ -d "$KCACHE/$1/lib/modules/$1" ]; then
		echo "$KCACHE/$1"
		return
	fi
	for d in "$CACHE"/debug/*/root; do
		if [ -d "$d/lib/modules/$1" ]; then
			echo "$d"
			return
		fi
	done
	die "kernel $1 is not in the cache: run 'make deps'"
}

# kernel_image REL: its bootable image.
kernel_image() {
	local root
	root=$(kernel_root "$1")
	if [ -f "$root/boot/vmlinuz-$1" ]; then
		echo "$root/boot/vmlinuz-$1"
	else
		echo "$(dirname "$root")/build/arch/x86/boot/bzImage"
	fi
}

# kernel_kdir REL: the kbuild directory to build modules against.
kernel_kdir() {
	local root
	if [ -d "/lib/modules/$1/build" ]; then
		echo "/lib/modules/$1/build"
		return
	fi
	root=$(kernel_root "$1")
	[ -d "$(dirname "$root")/build" ] || die "no kbuild tree for $1"
	echo "$(dirname "$root")/build"
}
