#!/bin/bash
# bench/kernel/locks.sh OUTDIR: inside a 2-CPU VM (run.sh: the stock 6.12
# kernel; the debug kernel's tinyconfig has no ACPI and boots one CPU),
# the SIP mix through the router from two senders at once, pinned to CPU0
# and CPU1 (a veth delivers in the sender's CPU, so the router's netfilter
# hooks run on both CPUs concurrently), in three configurations in turn:
# conntrack + NAT only, + the in-tree nf_conntrack_sip/nf_nat_sip, +
# siphelper. Every spinlock/rwlock acquisition is counted by kprobe events
# on the out-of-line lock functions with histogram triggers: global locks
# (kernel or module data) by lock symbol and call stack, and by lock
# symbol and CPU; locks inside objects (per conntrack, per socket, per
# CPU) by call stack. Keeps the histograms per configuration, the packets
# sent, /proc/lockdep when the kernel has lockdep (run.sh LOCKDEP=1: the
# debug kernel, one CPU, lockdep's classes and their softirq usage only).
# bench/lockstat.py reads them for bench/write_doc.py.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 phones=${LOCK_PHONES:-500} rounds=${LOCK_ROUNDS:-2}
mkdir -p "$out"
nproc >"$out/cpus"
echo "$rounds" >"$out/rounds"
uname -r >"$out/kernel"
topology
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T 2>/dev/null || true
# Kernel text/data >= this address; heap, per-CPU and stacks below.
GLOBAL=0xffffffff80000000
fns=()
# No kprobe events (the debug kernel): lockdep's view only.
[ -w $T/kprobe_events ] || T=
[ -z "$T" ] || for f in _raw_spin_lock _raw_spin_lock_bh _raw_spin_lock_irq \
	_raw_spin_lock_irqsave _raw_spin_trylock _raw_spin_trylock_bh \
	_raw_read_lock _raw_read_lock_bh _raw_read_lock_irqsave \
	_raw_write_lock _raw_write_lock_bh _raw_write_lock_irqsave; do
	grep -qx "$f" $T/available_filter_functions && fns+=("$f")
done
for f in "${fns[@]}"; do
	echo "p:shplk/$f $f lock=%di:x64" >>$T/kprobe_events
done
echo "${fns[*]}" >"$out/probed"
TRIG=("hist:keys=lock.sym,common_stacktrace:size=32768 if lock >= $GLOBAL"
	"hist:keys=lock.sym,cpu:size=4096 if lock >= $GLOBAL"
	"hist:keys=common_stacktrace:size=32768 if lock < $GLOBAL")
hist() {	# hist on|off|save PREFIX
	local f t i
	for f in "${fns[@]}"; do
		i=0
		for t in "${TRIG[@]}"; do
			case $1 in
			on) echo "$t" >>$T/events/shplk/$f/trigger ;;
			off) echo "!$t" >>$T/events/shplk/$f/trigger ;;
			save) cat $T/events/shplk/$f/hist >"$2.$i.$f" 2>/dev/null ||
				true ;;
			esac
			i=$((i + 1))
		done
	done
}
sender() {	# sender CPU BASEPORT: the SIP mix from PHONES phones on CPU
	taskset -c "$1" ip netns exec $PHONE "$FLOOD" -d $SERVER_IP \
		-S /run/netns/$SERVER -n "$phones" -b "$2" -r "$rounds" -w 1
}
for cfg in nat intree shp; do
	router $cfg
	# Counted: the senders' first round (new conntracks, expectations)
	# and ROUNDS rounds on them; sender setup (sockets) is before the
	# triggers see any SIP, but counted too (the same in each config).
	[ -z "$T" ] || { hist on; echo 1 >$T/events/shplk/enable; }
	if [ "$(nproc)" -ge 2 ]; then
		sender 0 20000 >"$out/$cfg.cpu0" & sender 1 30000 >"$out/$cfg.cpu1" & wait
	else
		sender 0 20000 >"$out/$cfg.cpu0"
		: >"$out/$cfg.cpu1"
	fi
	if [ -n "$T" ]; then
		echo 0 >$T/events/shplk/enable
		mkdir -p "$out/$cfg"
		hist save "$out/$cfg/hist"
		hist off
	fi
	[ -r /proc/lockdep ] && cat /proc/lockdep >"$out/$cfg.lockdep"
	ns $ROUTER conntrack -S >"$out/$cfg.ct_stats" 2>/dev/null || true
	echo "$cfg: $(cat "$out/$cfg.cpu0") | $(cat "$out/$cfg.cpu1")"
done
[ -z "$T" ] || echo >$T/kprobe_events
router fwd
