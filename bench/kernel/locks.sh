#!/bin/bash
# bench/kernel/locks.sh OUTDIR: inside a 2-CPU VM running a lockdep kernel
# (run.sh: the bench-only lock-statistics kernel, else the debug kernel),
# the SIP mix through the router from two senders at once, pinned to CPU0
# and CPU1 (veth delivers in the sender's CPU, so the router's netfilter
# hooks run on both CPUs concurrently), in three configurations in turn:
# conntrack + NAT only, + the in-tree nf_conntrack_sip/nf_nat_sip, +
# siphelper. For each it keeps /proc/lock_stat (reset before, read after:
# acquisitions, contentions and cross-CPU bounces per lock class; only
# with CONFIG_LOCK_STAT) and /proc/lockdep after (every lock class the
# kernel has seen, with its irq/softirq usage bits), and the packets sent.
# bench/write_doc.py reads them (via bench/kernel/locks.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1 phones=${LOCK_PHONES:-500} rounds=${LOCK_ROUNDS:-2}
mkdir -p "$out"
topology
cat /proc/lockdep >"$out/lockdep.boot"
# sender CPU BASEPORT: the SIP mix from PHONES phones, pinned to CPU.
sender() {
	taskset -c "$1" ip netns exec $PHONE "$FLOOD" -d $SERVER_IP \
		-S /run/netns/$SERVER -n "$phones" -b "$2" -r "$rounds" -w 1
}
for cfg in nat intree shp; do
	# Counted: the senders' warm-up round (new conntracks, expectations)
	# and ROUNDS rounds on them.
	router $cfg
	[ -w /proc/lock_stat ] && echo 0 >/proc/lock_stat
	sender 0 20000 >"$out/$cfg.cpu0" & sender 1 30000 >"$out/$cfg.cpu1" & wait
	[ -r /proc/lock_stat ] && cat /proc/lock_stat >"$out/$cfg.lock_stat"
	cat /proc/lockdep >"$out/$cfg.lockdep"
	cat /proc/lockdep_stats >"$out/$cfg.lockdep_stats"
	ns $ROUTER conntrack -C >"$out/$cfg.conntracks"
	ns $ROUTER conntrack -S >"$out/$cfg.ct_stats" 2>/dev/null || true
	echo "$cfg: $(cat "$out/$cfg.cpu0") | $(cat "$out/$cfg.cpu1")"
done
cat /proc/lockdep_chains >"$out/lockdep_chains"
router fwd
uname -r >"$out/kernel"
