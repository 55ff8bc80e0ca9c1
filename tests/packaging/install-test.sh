#!/bin/bash
# tests/packaging/install-test.sh: siphelper's Debian packages (make deb)
# installed on a clean Debian 12 system, not on this host:
#   1. a Debian 12 root made by debootstrap with the stock 6.1 and 6.12
#      kernels of the matrix and their headers (cached as a tarball in
#      $CACHE/debroot; each run unpacks a fresh copy), and the packages
#      apt will want for ours downloaded, so that the run needs no network;
#   2. apt installs siphelper-dkms and siphelperctl in it: DKMS must have
#      built and installed siphelper.ko for both kernels, the tool run, the
#      conffile and the enabled unit be there;
#   3. a VM boots that root's 6.1 kernel with that root's modules, loads
#      the packaged module and the packaged siphelperctl, and runs the
#      seed's NAT scenarios (tests/e2e/test_nat.py: the REGISTER, INVITE
#      with RTP, ...) through it;
#   4. apt purges both (and what they pulled in): no file of theirs, and
#      no file DKMS built for them, is left (build/deb-install/files.diff
#      has whatever else changed).
# Prints "deb-install: N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. scripts/lib.sh
out=$repo/build/deb-install
root=$out/root
pass=0 fail=0
check() {	# check WHAT CMD...: one counted check
	local what=$1
	shift
	if "$@" >>"$out/checks.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok: $what" >>"$out/checks.log"
	else
		fail=$((fail + 1))
		echo "FAILED: $what" | tee -a "$out/checks.log" >&2
	fi
}
finish() {
	echo "deb-install: $pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
}

mounted=()
unmount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
	mounted=()
}
trap unmount_all EXIT
in_root() {	# in_root DIR CMD...: run CMD chrooted into DIR
	local dir=$1
	shift
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
mount_root() {	# the file systems apt, dpkg and DKMS need
	local dir=$1 m
	for m in proc sys dev dev/pts; do
		mkdir -p "$dir/$m"
		mount --bind "/$m" "$dir/$m"
		mounted+=("$dir/$m")
	done
}

rel61=$(kernel_release 6.1)
rel612=$(kernel_release 6.12)
kernels="linux-image-$rel61 linux-headers-$rel61 linux-image-$rel612 linux-headers-$rel612"
# what apt installs for our packages: downloaded into the base, not installed
wanted="dkms libmnl0 libnftnl11"

# 1. The base root, made once per kernel pair.
base=$CACHE/debroot/bookworm-$rel61-$rel612.tar
if [ ! -f "$base" ]; then
	echo "deb-install: debootstrap of the Debian 12 base (once)" >&2
	tmp=$CACHE/debroot/tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources \
		2>/dev/null | head -n1)
	debootstrap --variant=minbase bookworm "$tmp" \
		"${mirror:-http://deb.debian.org/debian}" >"$CACHE/debroot/debootstrap.log" 2>&1 ||
		die "debootstrap failed: $CACHE/debroot/debootstrap.log"
	# the host's sources: the kernels of the matrix may be in updates or
	# security
	rm -f "$tmp/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/" 2>/dev/null ||
		cp /etc/apt/sources.list "$tmp/etc/apt/"
	mount_root "$tmp"
	{
		in_root "$tmp" apt-get update -qq &&
		in_root "$tmp" apt-get install -y -qq --no-install-recommends \
			$kernels kmod &&
		in_root "$tmp" apt-get install -y -qq --no-install-recommends \
			--download-only $wanted
	} >"$CACHE/debroot/base.log" 2>&1 || {
		unmount_all
		die "installing the kernels into the base failed: $CACHE/debroot/base.log"
	}
	unmount_all
	tar -C "$tmp" -cf "$base.new" . && mv "$base.new" "$base"
	rm -rf "$tmp"
fi

rm -rf "$out"
mkdir -p "$root"
: >"$out/checks.log"
tar -C "$root" -xf "$base"
mount_root "$root"
# the files of the clean system, to compare with after the purge
listing() {
	(cd "$1" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \
		-o -path ./tmp -o -path ./var/log -o -path ./var/cache \
		-o -path ./var/lib/apt -o -path ./var/lib/dpkg \) -prune -o -print |
		sort)
}
listing "$root" >"$out/files.before"

# 2. Install.
debs=$(ls build/deb/siphelper-dkms_*_all.deb build/deb/siphelperctl_*_amd64.deb 2>/dev/null)
[ "$(echo "$debs" | grep -c .)" -eq 2 ] || die "no packages: run make deb"
mkdir -p "$root/tmp/debs"
cp $debs "$root/tmp/debs/"
# One compile job (DKMS takes parallel_jobs from the environment): make
# test runs this beside a debug guest, which compiles on every core
# starve into soft lockup reports.
check "apt installs both packages" in_root "$root" sh -c \
	'parallel_jobs=1 apt-get install -y --no-install-recommends /tmp/debs/*.deb'
ver=$(cat VERSION)
for rel in "$rel61" "$rel612"; do
	check "dkms status: installed for $rel" sh -c \
		"chroot '$root' dkms status siphelper/$ver -k $rel | grep -q ': installed'"
	check "siphelper.ko for $rel" sh -c \
		"ls '$root'/lib/modules/$rel/updates/dkms/siphelper.ko*"
	check "modinfo of the $rel module" sh -c \
		"chroot '$root' modinfo -k $rel siphelper | grep -q '^version: *$ver'"
done
check "siphelperctl runs" in_root "$root" siphelperctl --version
check "/etc/siphelper.conf is a conffile" sh -c \
	"chroot '$root' dpkg-query -W -f='\${Conffiles}' siphelperctl | grep -q /etc/siphelper.conf"
check "siphelper.service enabled" test -L \
	"$root/etc/systemd/system/multi-user.target.wants/siphelper.service"
check "man page" test -f "$root/usr/share/man/man8/siphelperctl.8.gz"
check "bash completion" test -f \
	"$root/usr/share/bash-completion/completions/siphelperctl"

# 3. That root's kernel and module in a VM, the packaged tool beside.
ko=$(ls "$root"/lib/modules/$rel61/updates/dkms/siphelper.ko* 2>/dev/null | head -n1)
ko=${ko#$root}
check "the seed's NAT scenarios through the packaged module on $rel61" \
	env SHP_KERNEL_ROOT="$root" tests/vm/run -t 1800 -o "$out/vm" "$rel61" -- \
	"SIPHELPERCTL=$root/usr/sbin/siphelperctl tests/e2e/run $ko tests/e2e/test_nat.py"
[ -f "$out/vm/junit.xml" ] && python3 tests/lib/counts.py deb-install-e2e \
	"$out/vm/junit.xml" >>"$out/checks.log"

# 4. Purge: nothing of ours left, nor what DKMS built.
check "apt purges both" in_root "$root" apt-get purge -y --autoremove \
	siphelper-dkms siphelperctl
listing "$root" >"$out/files.after"
# Every file of both packages and every file DKMS made for them has
# "siphelper" in its path. What else differs (DKMS's own signing key, an
# empty directory systemd's helper made) is DKMS's and systemd's, kept
# for the log.
check "no file left with siphelper in its path" sh -c \
	"! grep -i siphelper '$out/files.after'"
diff "$out/files.before" "$out/files.after" >"$out/files.diff" || true
unmount_all
finish
